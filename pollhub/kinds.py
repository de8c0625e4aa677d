"""Poll kinds as a table: one object per kind, holding everything that kind decides.

Each kind says which field a vote carries (``option``, ``options``,
``value`` or ``text``), whether the poll has options, which settings of its
own it takes and how they are checked and sent, how a choice becomes a
ballot (and is refused), how ballots are counted and taken back, and how its
results are laid out. :data:`KIND_TABLE` maps kind names to them;
:class:`pollhub.polls.PollState` asks its kind for all of it. Adding a kind
is one class here (and its view in the pages: see README.rst, "Adding a poll
kind").

A kind works on a poll's tally (``counts``, ``total`` and its own fields),
never on anything else; it has no I/O.
"""

from __future__ import annotations

import bisect
import heapq
import math
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .errors import BadMessage, InvalidVote
from .text import has_visible, is_text, strip_format

if TYPE_CHECKING:  # pragma: no cover
    from .polls import PollState, Settings

SINGLE = "single"  # each voter holds one option; voting again moves it
MULTIPLE = "multiple"  # each voter holds a selection of 1 to max_choices options
COUNTER = "counter"  # every vote counts
SCALE = "scale"  # each voter holds one whole number from min to max
WORDS = "words"  # each voter holds up to max_answers short answers (a word cloud)
OPEN = "open"  # each voter holds up to max_answers free-text answers, each with the time it came
RANKING = "ranking"  # each voter holds an order of 1 to max_ranked options, first to last (Borda count)
QUIZ = "quiz"  # each voter holds one answer (an option, or a set when several are correct), with its points

SCALE_DEFAULT = (1, 5)
SCALE_LIMIT = 100  # min and max lie within -SCALE_LIMIT..SCALE_LIMIT
MAX_SCALE_VALUES = 21  # e.g. 0..10 or -10..10
MAX_ANSWERS_DEFAULT = 3  # answers one voter may give in a words poll
MAX_ANSWERS_LIMIT = 10
MAX_ANSWER_LENGTH = 40  # characters, once normalised
WORDS_SHOWN = 50  # answers a words poll's results carry, the biggest first
OPEN_MAX_ANSWERS_DEFAULT = 1  # answers one voter may give in an open poll
MAX_OPEN_ANSWER_LENGTH = 280  # characters of an open poll's answer, once normalised
OPEN_SHOWN = 200  # answers an open poll's results carry on the wire, the newest first
MIN_RANKED = 2  # the least a ranking poll's max_ranked may be (one option is not an order)
STAMP = "\t"  # between an open answer's time and its text in a ballot (normalised text holds no tab)
QUIZ_TIME_LIMIT = (5, 300)  # seconds a quiz question may run
QUIZ_TIME_DEFAULT = 20
QUIZ_MOST_POINTS = 1000  # a correct answer at once
QUIZ_LEAST_POINTS = 500  # a correct answer at the last moment
#: Every kind's own settings, by their wire names.
SETTING_FIELDS = ("max_choices", "min", "max", "max_answers", "max_ranked", "correct", "time_limit")

Choice = Union[str, int, Sequence[str]]  # what a vote carries: an option, a value, a list
Ballot = Tuple[str, ...]  # a voter's vote as the poll keeps it: option ids, str(value) or answers


class Answer(NamedTuple):
    """One answer of an open poll as its results show it: the text and when it came (Unix seconds)."""

    text: str
    at: float


class Kind:
    """What one kind of poll decides. The defaults are those of a poll of options."""

    name: ClassVar[str]
    field: ClassVar[str] = "option"  # the vote field (and the ``voted`` reply's)
    takes_options: ClassVar[bool] = True
    settings_fields: ClassVar[Tuple[str, ...]] = ()  # its own settings' wire names
    every_vote_counts: ClassVar[bool] = False  # True: a vote adds, it does not replace the voter's last
    has_mean: ClassVar[bool] = False  # its results carry a ``mean``
    has_answers: ClassVar[bool] = False  # its results carry ``answers``, each with its time
    hides_answers: ClassVar[bool] = False  # a presenter may hide an answer (``hide_answer``)
    shown: ClassVar[Optional[int]] = None  # answers its results carry on the wire (None: no limit)
    has_positions: ClassVar[bool] = False  # its results carry ``positions`` (each option's average place)

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        """Its own settings from a new poll's wire ``fields``, as ``Settings`` keyword arguments; raises ``BadMessage``."""
        return {}

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        """Its own settings as the protocol's poll object has them."""
        return {}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        """``choice`` checked against ``poll``, as a ballot; raises ``UnknownOption`` or ``InvalidVote``."""
        if isinstance(choice, (list, tuple)) and len(choice) == 1:
            choice = choice[0]
        if not isinstance(choice, str):
            raise InvalidVote(f"a vote in a {self.name} poll names one option")
        return (poll.option_id(choice),)

    def stamped(self, poll: "PollState", ballot: Ballot, previous: Optional[Ballot], now: float) -> Ballot:
        """``ballot`` as ``poll`` keeps it, given the voter's ``previous`` ballot and the vote's time.

        Kinds that keep when each answer came put it in here; the others keep the ballot as it is.
        """
        return ballot

    def same(self, a: Ballot, b: Ballot) -> bool:
        """True when two ballots are the same vote."""
        return a == b

    def choice_json(self, ballot: Ballot) -> Choice:
        """A ballot as the protocol shows it."""
        return ballot[0]

    def restored(self, ballot: Ballot) -> Ballot:
        """A saved ballot as this version would have made it (empty: drop it)."""
        return ballot

    def empty_counts(self, poll: "PollState") -> Dict[str, int]:
        return {o.id: 0 for o in poll.options}

    def reindex(self, poll: "PollState") -> None:
        """Rebuild what the kind keeps beside ``counts`` and ``total`` from ``poll.ballots`` (after a restore)."""

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        counts = poll.counts
        for item in ballot:
            counts[item] += 1
        poll.total += len(ballot)

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        counts = poll.counts
        for item in ballot:
            counts[item] -= 1
        poll.total -= len(ballot)

    def results(self, poll: "PollState", shown: Optional[int]) -> Dict[str, Any]:
        """The protocol's result fields: ``counts``, ``total``, ``voters`` (and what the kind adds)."""
        return {"counts": dict(poll.counts), "total": poll.total, "voters": len(poll.ballots)}


class Single(Kind):
    name = SINGLE


class Counter(Kind):
    name = COUNTER
    every_vote_counts = True


class Multiple(Kind):
    name = MULTIPLE
    field = "options"
    settings_fields = ("max_choices",)

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        max_choices = fields.get("max_choices")
        return {"max_choices": len(labels) if max_choices is None else whole(max_choices, "max_choices", 1, len(labels))}

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        return {"max_choices": settings.max_choices}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        items = strings(choice, "a vote in a multiple-choice poll is a list of options")
        ids = tuple(dict.fromkeys(poll.option_id(item) for item in items))
        if len(ids) > poll.settings.max_choices:  # type: ignore[operator]  # set for every multiple poll
            raise InvalidVote(f"pick at most {poll.settings.max_choices} options in poll {poll.id!r}")
        return ids

    def same(self, a: Ballot, b: Ballot) -> bool:
        return set(a) == set(b)

    def choice_json(self, ballot: Ballot) -> Choice:
        return list(ballot)


class Scale(Kind):
    name = SCALE
    field = "value"
    takes_options = False
    settings_fields = ("min", "max")
    has_mean = True

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        low, high = fields.get("min"), fields.get("max")
        low = SCALE_DEFAULT[0] if low is None else whole(low, "min", -SCALE_LIMIT, SCALE_LIMIT)
        high = SCALE_DEFAULT[1] if high is None else whole(high, "max", -SCALE_LIMIT, SCALE_LIMIT)
        if not 2 <= high - low + 1 <= MAX_SCALE_VALUES:
            raise BadMessage(f"a scale needs min below max and at most {MAX_SCALE_VALUES} values")
        return {"scale_min": low, "scale_max": high}

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        return {"min": settings.scale_min, "max": settings.scale_max}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        low, high = poll.settings.scale_min, poll.settings.scale_max
        value: Any = choice
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                value = None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:  # type: ignore[operator]  # set for every scale
            raise InvalidVote(f"a vote in poll {poll.id!r} is a whole number from {low} to {high}")
        return (str(value),)

    def choice_json(self, ballot: Ballot) -> Choice:
        return int(ballot[0])

    def empty_counts(self, poll: "PollState") -> Dict[str, int]:
        low, high = poll.settings.scale_min, poll.settings.scale_max
        return {str(v): 0 for v in range(low, high + 1)}  # type: ignore[arg-type, operator]  # set for every scale

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        super().add(poll, ballot)
        poll.value_sum += int(ballot[0])

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        super().remove(poll, ballot)
        poll.value_sum -= int(ballot[0])

    def results(self, poll: "PollState", shown: Optional[int]) -> Dict[str, Any]:
        data = super().results(poll, shown)
        voters = data["voters"]
        data["mean"] = round(poll.value_sum / voters, 2) if voters else None
        return data


class Words(Kind):
    name = WORDS
    field = "text"
    takes_options = False
    settings_fields = ("max_answers",)
    hides_answers = True
    shown = WORDS_SHOWN

    default_answers: ClassVar[int] = MAX_ANSWERS_DEFAULT

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        max_answers = fields.get("max_answers")
        if max_answers is not None:
            max_answers = whole(max_answers, "max_answers", 1, MAX_ANSWERS_LIMIT)
        return {"max_answers": self.default_answers if max_answers is None else max_answers}

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        return {"max_answers": settings.max_answers}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        return checked_answers(poll, choice, MAX_ANSWER_LENGTH)

    def same(self, a: Ballot, b: Ballot) -> bool:
        return {answer_key(t) for t in a} == {answer_key(t) for t in b}

    def choice_json(self, ballot: Ballot) -> Choice:
        return list(ballot)

    def restored(self, ballot: Ballot) -> Ballot:
        answers: Dict[str, str] = {}
        for item in ballot:
            text = normalize_answer(item)
            if has_visible(text):
                answers.setdefault(answer_key(text), text)
        return tuple(answers.values())

    def empty_counts(self, poll: "PollState") -> Dict[str, int]:
        return {}  # answer key -> count, in the order answers were first given

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        counts, spellings = poll.counts, poll.spellings
        for text in ballot:
            key = answer_key(text)
            counts[key] = counts.get(key, 0) + 1
            spellings.setdefault(key, text)
        poll.total += len(ballot)

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        counts, spellings = poll.counts, poll.spellings
        for text in ballot:
            key = answer_key(text)
            counts[key] -= 1
            if not counts[key]:
                del counts[key], spellings[key]
        poll.total -= len(ballot)

    def results(self, poll: "PollState", shown: Optional[int]) -> Dict[str, Any]:
        """The ``shown`` most frequent answers (None: all), ties in the order first given, hidden ones left out."""
        answers = [(key, n) for key, n in poll.counts.items() if key not in poll.hidden]
        if shown is None:
            biggest = sorted(answers, key=lambda item: -item[1])
        else:
            biggest = heapq.nlargest(shown, answers, key=lambda item: item[1])
        return {
            "counts": {poll.spellings[key]: n for key, n in biggest},
            "total": sum(n for _, n in answers),
            "voters": len(poll.ballots),
        }


class Open(Words):
    """Open-ended answers: each voter gives up to ``max_answers`` answers (1 by default) of 1 to 280 characters.

    Answers are normalised and compared like words answers (duplicates
    within one ballot collapse, the first spelling kept) and hidden the same
    way, but they are not counted: the results list them, newest first,
    each with the time it came (``now`` of the vote that first gave it).

    A ballot keeps that time in each of its strings, as ``"<time><TAB><text>"``
    with the time a Python float's ``repr`` (Unix seconds, exact): a
    normalised answer never holds a tab or a newline, so the ballot goes
    through the store (its strings joined by newlines), a book's snapshot
    and a shared log unchanged, and a restored poll shows the same times.
    A voter who changes their answers keeps the time of every answer they
    give again with the same text; the other answers get the new vote's time.

    The poll keeps every answer in ``timeline`` as ``(at, text)``, oldest
    first (a vote inserts and removes by bisection), and in ``counts`` how
    many answers each :func:`answer_key` has (for ``total`` once some are
    hidden; the wire's ``counts`` stay empty): the newest answers cost their
    number, not the poll's, however many answers it holds.
    """

    name = OPEN
    has_answers = True
    shown = OPEN_SHOWN
    default_answers = OPEN_MAX_ANSWERS_DEFAULT

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        return checked_answers(poll, choice, MAX_OPEN_ANSWER_LENGTH)

    def stamped(self, poll: "PollState", ballot: Ballot, previous: Optional[Ballot], now: float) -> Ballot:
        kept = {answer.text: answer.at for answer in map(unstamp, previous or ())}
        return tuple(stamp(text, kept.get(text, now)) for text in ballot)

    def same(self, a: Ballot, b: Ballot) -> bool:
        return {unstamp(item).text for item in a} == {unstamp(item).text for item in b}

    def choice_json(self, ballot: Ballot) -> Choice:
        return [unstamp(item).text for item in ballot]

    def restored(self, ballot: Ballot) -> Ballot:
        answers: Dict[str, str] = {}
        for item in ballot:
            try:
                answer = unstamp(item)
            except ValueError:
                continue  # not a ballot this kind made: drop the answer, keep the others
            text = normalize_answer(answer.text)
            if has_visible(text):
                answers.setdefault(answer_key(text), stamp(text, answer.at))
        return tuple(answers.values())

    def reindex(self, poll: "PollState") -> None:
        poll.timeline = sorted(split_stamp(item) for ballot in poll.ballots.values() for item in ballot)

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        counts, timeline = poll.counts, poll.timeline
        for item in ballot:
            answer = split_stamp(item)
            bisect.insort(timeline, answer)
            key = answer_key(answer[1])
            counts[key] = counts.get(key, 0) + 1
        poll.total += len(ballot)

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        counts, timeline = poll.counts, poll.timeline
        for item in ballot:
            answer = split_stamp(item)
            del timeline[bisect.bisect_left(timeline, answer)]
            key = answer_key(answer[1])
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
        poll.total -= len(ballot)

    def results(self, poll: "PollState", shown: Optional[int]) -> Dict[str, Any]:
        """The ``shown`` newest answers (None: all) as ``answers``, hidden ones left out; ``counts`` is {}.

        ``total`` counts the answers not hidden. Answers that came at the
        same time are ordered by their text, the greater first, so every
        book shows the same order whatever order its ballots are in.
        """
        hidden = poll.hidden
        newest: List[Dict[str, Any]] = []
        if shown != 0:
            for at, text in reversed(poll.timeline):
                if hidden and answer_key(text) in hidden:
                    continue
                newest.append({"text": text, "at": at})
                if len(newest) == shown:
                    break
        total = poll.total - sum(poll.counts.get(key, 0) for key in hidden)
        return {"counts": {}, "total": total, "voters": len(poll.ballots), "answers": newest}


class Ranking(Kind):
    """A ranking: each voter orders the options, all of them or their top ``max_ranked``, first to last.

    A ballot is the option ids in the voter's order. The options are scored
    by the Borda count: with ``n`` options, the option a voter puts in place
    ``p`` (0 for first) gets ``n - 1 - p`` points, and an option a voter did
    not rank gets none from them. ``counts`` holds each option's score (so a
    client that only reads ``counts`` shows the ranking), ``total`` their
    sum, and the results add ``positions``: each option's average place,
    1-based, among the voters who ranked it (None if nobody did).

    Beside ``counts`` the poll keeps ``ranked``: how many voters ranked each
    option. An option's points from one voter are ``n - place`` (``place``
    1-based), so its average place is ``n - score / ranked``: both follow
    each vote, which costs its ballot's length however many voters there are.
    """

    name = RANKING
    field = "options"
    settings_fields = ("max_ranked",)
    has_positions = True

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        """``max_ranked``: 2 to the number of options (None: all of them); raises ``BadMessage``."""
        max_ranked = fields.get("max_ranked")
        if max_ranked is None:
            return {"max_ranked": len(labels)}
        return {"max_ranked": whole(max_ranked, "max_ranked", MIN_RANKED, len(labels))}

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        return {"max_ranked": settings.max_ranked}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        """The options in order, each an id or a label (any case); raises ``InvalidVote`` or ``UnknownOption``.

        A ranking names 1 to ``max_ranked`` options, each once.
        """
        items = strings(choice, f"a vote in ranking poll {poll.id!r} is a list of options, first to last")
        ids = tuple(poll.option_id(item) for item in items)
        if len(set(ids)) != len(ids):
            raise InvalidVote(f"rank each option once in poll {poll.id!r}")
        most = poll.settings.max_ranked or len(poll.options)
        if len(ids) > most:
            raise InvalidVote(f"rank at most {most} options in poll {poll.id!r}")
        return ids

    def choice_json(self, ballot: Ballot) -> Choice:
        return list(ballot)

    def restored(self, ballot: Ballot) -> Ballot:
        return tuple(dict.fromkeys(ballot))  # a saved ballot names each option once, as a vote does

    def reindex(self, poll: "PollState") -> None:
        poll.ranked = {o.id: 0 for o in poll.options}
        for ballot in poll.ballots.values():
            for option_id in ballot:
                poll.ranked[option_id] += 1

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        self._count(poll, ballot, 1)

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        self._count(poll, ballot, -1)

    def _count(self, poll: "PollState", ballot: Ballot, sign: int) -> None:
        counts, ranked = poll.counts, poll.ranked
        last = len(poll.options) - 1
        for place, option_id in enumerate(ballot):
            points = last - place
            counts[option_id] += sign * points
            ranked[option_id] = ranked.get(option_id, 0) + sign
            poll.total += sign * points

    def results(self, poll: "PollState", shown: Optional[int]) -> Dict[str, Any]:
        """``counts`` (scores), ``total``, ``voters`` and ``positions`` (average places, 2 decimals, or None)."""
        data = super().results(poll, shown)
        n = len(poll.options)
        data["positions"] = {
            option_id: round(n - score / poll.ranked[option_id], 2) if poll.ranked.get(option_id) else None
            for option_id, score in poll.counts.items()
        }
        return data


class Quiz(Kind):
    """A quiz question: options of which ``correct`` are right, a time limit, one locked answer with points.

    A voter answers with one option (``"option"``), or a set of them when
    more than one is correct (``"options"``); the answer is right only when
    it is exactly the correct set. Its points are decided when the answer is
    applied, from the book's time and the question's deadline
    (``poll.closes_at``): see :func:`quiz_points`. A ballot keeps them with
    the answer's time in its first string, ``"<time><TAB><points>"``
    (:func:`stamp`), followed by the option ids, so the store, a snapshot and
    a shared log carry them unchanged. Which options are correct reaches a
    participant only once a presenter reveals it (``PollState.to_json``).
    """

    name = QUIZ
    field = "options"
    settings_fields = ("correct", "time_limit")

    def settings(self, fields: Mapping[str, Any], labels: Sequence[str]) -> Dict[str, Any]:
        given = fields.get("correct")
        items = [given] if isinstance(given, str) else given
        if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
            raise BadMessage("a quiz question needs 'correct': the id or label of each correct option (at least one)")
        ids = option_ids(labels)
        by_key = {label.casefold(): option_id for option_id, label in zip(ids, labels)}
        by_key.update((option_id.casefold(), option_id) for option_id in ids)  # ids first, as votes find them
        correct: List[str] = []
        for item in items:
            found = by_key.get(item.strip().casefold())
            if found is None:
                raise BadMessage(f"'correct' names {item[:40]!r}, which is not an option of the question")
            if found not in correct:
                correct.append(found)
        limit = fields.get("time_limit")
        limit = QUIZ_TIME_DEFAULT if limit is None else whole(limit, "time_limit", *QUIZ_TIME_LIMIT)
        settings: Dict[str, Any] = {"correct": tuple(correct), "time_limit": limit, "changes": "locked"}
        if fields.get("results") is None:
            settings["results"] = "after_close"  # no counts while the question runs, unless the presenter says so
        return settings

    def wire_settings(self, settings: "Settings") -> Dict[str, Any]:
        correct = settings.correct or ()
        return {"correct": list(correct), "time_limit": settings.time_limit, "multiple": len(correct) > 1}

    def ballot(self, poll: "PollState", choice: Choice) -> Ballot:
        items = strings(choice, "an answer to a quiz question names an option")
        ids = tuple(dict.fromkeys(poll.option_id(item) for item in items))
        if len(ids) > 1 and len(poll.settings.correct or ()) < 2:
            raise InvalidVote(f"pick one option in quiz question {poll.id!r}")
        return ids

    def stamped(self, poll: "PollState", ballot: Ballot, previous: Optional[Ballot], now: float) -> Ballot:
        if previous is not None and self.same(previous, ballot):
            return previous
        right = set(ballot) == set(poll.settings.correct or ())
        points = quiz_points(poll.closes_at, poll.settings.time_limit or QUIZ_TIME_DEFAULT, now) if right else 0
        return (stamp(str(points), now),) + ballot

    def same(self, a: Ballot, b: Ballot) -> bool:
        return set(answer_options(a)) == set(answer_options(b))

    def choice_json(self, ballot: Ballot) -> Choice:
        return list(answer_options(ballot))

    def restored(self, ballot: Ballot) -> Ballot:
        try:
            quiz_answer(ballot)
        except (ValueError, IndexError):
            return ()  # not a ballot this kind made: drop it
        return ballot

    def add(self, poll: "PollState", ballot: Ballot) -> None:
        super().add(poll, answer_options(ballot))

    def remove(self, poll: "PollState", ballot: Ballot) -> None:
        super().remove(poll, answer_options(ballot))


#: Every kind by name, in the order the pages offer them.
KIND_TABLE: Dict[str, Kind] = {
    kind.name: kind for kind in (Single(), Multiple(), Counter(), Scale(), Words(), Open(), Ranking(), Quiz())
}


# Helpers of the kinds ------------------------------------------------------------------


def whole(value: Any, name: str, low: int, high: int) -> int:
    """``value`` if it is a whole number from ``low`` to ``high``; raises ``BadMessage`` naming the setting."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadMessage(f"{name} must be a whole number from {low} to {high}")
    return value


def strings(choice: Choice, message: str) -> List[str]:
    """One string or a non-empty list of them, as a list; raises ``InvalidVote`` with ``message``."""
    items = [choice] if isinstance(choice, str) else choice
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(i, str) for i in items):
        raise InvalidVote(message)
    return list(items)


def checked_answers(poll: "PollState", choice: Choice, longest: int) -> Ballot:
    """The answers of a words or open vote, normalised, duplicates (by :func:`answer_key`) collapsed.

    Raises ``InvalidVote`` for something that is not one or more answers, an
    answer with a control character, nothing visible or more than
    ``longest`` characters once normalised, or more answers than the poll's
    ``max_answers``.
    """
    answers: Dict[str, str] = {}
    for item in strings(choice, f"a vote in a {poll.kind} poll is one or more answers"):
        if not is_text(item, multiline=True):
            raise InvalidVote("an answer cannot hold control characters or lone surrogates")
        text = normalize_answer(item)
        if not has_visible(text):
            raise InvalidVote("an answer needs a letter, digit or symbol: it cannot be empty or invisible")
        if len(text) > longest:
            raise InvalidVote(f"answers are at most {longest} characters")
        answers.setdefault(answer_key(text), text)
    if len(answers) > poll.settings.max_answers:  # type: ignore[operator]  # set for every words and open poll
        raise InvalidVote(f"give at most {poll.settings.max_answers} answers in poll {poll.id!r}")
    return tuple(answers.values())


def stamp(text: str, at: float) -> str:
    """An open poll's answer as its ballot keeps it: ``"<repr(at)><TAB><text>"``."""
    return f"{float(at)!r}{STAMP}{text}"


def split_stamp(item: str) -> Tuple[float, str]:
    """``(at, text)`` from what :func:`stamp` made; raises ``ValueError`` for a string it did not make."""
    at, sep, text = item.partition(STAMP)
    seconds = float(at) if sep else math.nan
    if not math.isfinite(seconds):
        raise ValueError(f"not an open poll's answer with its time: {item[:40]!r}")
    return seconds, text


def unstamp(item: str) -> Answer:
    """The :class:`Answer` a :func:`stamp` made; raises ``ValueError`` for a string it did not make."""
    at, text = split_stamp(item)
    return Answer(text, at)


def quiz_points(closes_at: Optional[float], time_limit: int, now: float) -> int:
    """The points of a correct quiz answer applied at ``now``, for a question that closes at ``closes_at``.

    ``QUIZ_MOST_POINTS`` (1,000) at once, falling in proportion to the time
    left to ``QUIZ_LEAST_POINTS`` (500) at the last moment:
    ``round(500 + 500 * remaining / time_limit)`` with ``remaining`` held to
    0..``time_limit``. Python's ``round`` (half to even), the same on every node.
    """
    remaining = 0.0 if closes_at is None else max(0.0, min(float(time_limit), closes_at - now))
    span = QUIZ_MOST_POINTS - QUIZ_LEAST_POINTS
    return int(round(QUIZ_LEAST_POINTS + span * remaining / time_limit))


def quiz_answer(ballot: Ballot) -> Tuple[float, int, Tuple[str, ...]]:
    """``(time, points, option ids)`` of a quiz ballot; raises ``ValueError`` or ``IndexError`` for another."""
    at, points = split_stamp(ballot[0])
    return at, int(points), tuple(ballot[1:])


def answer_options(ballot: Ballot) -> Tuple[str, ...]:
    """The option ids a quiz ballot answered."""
    return tuple(ballot[1:])


def option_ids(labels: Sequence[str]) -> List[str]:
    """The ids a poll gives options with these labels, in order: slugs, ``-2``, ``-3``... where two are alike.

    ``PollState`` names its options with it, and a quiz question's settings
    find its correct options with it before the poll exists.
    """
    from .polls import unique_slug  # polls imports this module: at call time, not import time

    ids: List[str] = []
    for label in labels:
        ids.append(unique_slug(label, ids))
    return ids


def normalize_answer(text: str) -> str:
    """A words answer as it is counted and shown.

    Format characters (category Cf: zero-width spaces and joiners, the soft
    hyphen, bidirectional controls) are removed, the text is put in Unicode
    NFKC form (full-width ``"Ｓｐａｍ"`` -> ``"Spam"``, ``"ﬁ"`` -> ``"fi"``)
    and its whitespace is collapsed (``"  New\\tYork "`` -> ``"New York"``).
    Letters of other scripts that merely look alike (Cyrillic ``"а"``, Latin
    ``"a"``) stay distinct. Never raises.
    """
    if not text.isascii():  # ASCII text has no format characters and is already NFKC
        text = strip_format(unicodedata.normalize("NFKC", strip_format(text)))
    return " ".join(text.split())


def answer_key(text: str) -> str:
    """What two answers are compared (and hidden) by: the normalised answer, case-folded.

    ``answer_key(answer_key(text)) == answer_key(text)``, so a key saved by an
    older version (which only collapsed whitespace and case-folded) still
    finds the answers it hid once it is passed through here again.
    """
    text = normalize_answer(text)
    if text.isascii():
        return text.lower()  # the same as casefold() for ASCII, and cheaper
    return normalize_answer(unicodedata.normalize("NFKC", text.casefold()).casefold())
