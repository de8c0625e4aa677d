"""Polls and their counts: plain objects with no threads and no I/O.

:class:`PollState` is the mutable tally that only the hub thread touches;
:class:`Poll` is the immutable snapshot the hub hands out to other threads.
"""

from __future__ import annotations

import heapq
import re
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from .errors import BadMessage, InvalidVote, PollClosed, UnknownOption, VoteLocked
from .text import has_visible, is_text, strip_format

SINGLE = "single"  # each voter holds one option; voting again moves it
MULTIPLE = "multiple"  # each voter holds a selection of 1 to max_choices options
COUNTER = "counter"  # every vote counts
SCALE = "scale"  # each voter holds one whole number from min to max
WORDS = "words"  # each voter holds up to max_answers short answers (a word cloud)
KINDS = (SINGLE, MULTIPLE, COUNTER, SCALE, WORDS)
OPTION_KINDS = (SINGLE, MULTIPLE, COUNTER)  # the kinds whose votes name options
#: The field of a vote (and of its ``voted`` reply) that carries the choice, by kind.
CHOICE_FIELDS = {SINGLE: "option", MULTIPLE: "options", COUNTER: "option", SCALE: "value", WORDS: "text"}

# Who sees a poll's results ("results"). Presenters always do; a reveal shows them to everyone.
ALWAYS = "always"
AFTER_VOTE = "after_vote"  # a participant once their voter has voted (everyone once closed)
AFTER_CLOSE = "after_close"  # everyone once voting is closed
HIDDEN = "hidden"  # nobody but presenters until revealed
VISIBILITIES = (ALWAYS, AFTER_VOTE, AFTER_CLOSE, HIDDEN)

# Whether a voter may change their vote ("changes").
ALLOWED = "allowed"
LOCKED = "locked"  # the first vote stands
CHANGES = (ALLOWED, LOCKED)

MIN_OPTIONS = 2
MAX_OPTIONS = 32
MAX_QUESTION_LENGTH = 300
MAX_LABEL_LENGTH = 100
MAX_SLUG_LENGTH = 40
SCALE_DEFAULT = (1, 5)
SCALE_LIMIT = 100  # min and max lie within -SCALE_LIMIT..SCALE_LIMIT
MAX_SCALE_VALUES = 21  # e.g. 0..10 or -10..10
MAX_ANSWERS_DEFAULT = 3  # answers one voter may give in a words poll
MAX_ANSWERS_LIMIT = 10
MAX_ANSWER_LENGTH = 40  # characters, once whitespace is collapsed
WORDS_SHOWN = 50  # answers a words poll's results carry, the biggest first
#: Polls in one event. Every new connection gets a ``welcome`` holding every
#: poll (and the hub sends a poll's whole state again whenever it changes),
#: so the number of polls bounds that message: 2,000 polls made a 14.6 MB
#: welcome. At the limits above the biggest poll is a single, multiple or
#: counter poll with a 300 character question and 32 options of 100
#: character labels, every character 4 bytes in UTF-8 (CJK Extension B
#: letters, which also make 40 character option and poll ids of 160 bytes,
#: and the ids come again as the keys of the counts): 1.2 KB of question,
#: 32 x 580 B of options and 32 x 165 B of counts, about 25.3 KB encoded (a
#: words poll's 50 answers of 40 such characters are about 9.7 KB). 200
#: polls could then make a 5.1 MB welcome for every participant who joins,
#: 100 polls 2.5 MB; 75 keep it under 2 MB (1.9 MB). Ordinary polls (short
#: ASCII labels) are under 1 KB each, and 75 polls is more than a talk or a
#: workshop day needs. tests/test_polls.py measures the worst case.
MAX_POLLS = 75


def slugify(text: str, fallback: str = "option") -> str:
    """Lower-case ASCII-folded words joined by hyphens: ``"Ice cream!"`` -> ``"ice-cream"``."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    slug = re.sub(r"[\W_]+", "-", folded).strip("-")[:MAX_SLUG_LENGTH].strip("-")
    return slug or fallback


def unique_slug(text: str, taken: Iterable[str], fallback: str = "option") -> str:
    """``slugify(text)``, with ``-2``, ``-3``, ... appended while it is in ``taken``."""
    taken = set(taken)
    base = slugify(text, fallback)
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


Choice = Union[str, int, Sequence[str]]  # what a vote carries: an option, a value, a list
Ballot = Tuple[str, ...]  # a voter's vote as the poll keeps it: option ids, str(value) or answers


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Settings:
    """How a poll takes votes and who sees its results; fixed at creation but for ``results`` and ``changes``.

    ``max_choices`` applies to ``multiple`` polls, ``scale_min``/``scale_max``
    to ``scale`` polls, ``max_answers`` to ``words`` polls; they are None for
    the other kinds. On the wire they are ``max_choices``, ``min``, ``max``
    and ``max_answers``.
    """

    kind: str = SINGLE
    max_choices: Optional[int] = None
    scale_min: Optional[int] = None
    scale_max: Optional[int] = None
    max_answers: Optional[int] = None
    results: str = ALWAYS
    changes: str = ALLOWED

    def to_json(self) -> Dict[str, Any]:
        """The wire fields: the kind's own settings, ``results`` and ``changes`` (not ``kind``)."""
        data: Dict[str, Any] = {}
        if self.kind == MULTIPLE:
            data["max_choices"] = self.max_choices
        elif self.kind == SCALE:
            data["min"], data["max"] = self.scale_min, self.scale_max
        elif self.kind == WORDS:
            data["max_answers"] = self.max_answers
        data["results"] = self.results
        data["changes"] = self.changes
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Settings":
        """Settings from a poll object (or a saved row) holding ``kind`` and the wire fields."""
        return cls(
            kind=data.get("kind", SINGLE),
            max_choices=data.get("max_choices"),
            scale_min=data.get("min"),
            scale_max=data.get("max"),
            max_answers=data.get("max_answers"),
            results=data.get("results", ALWAYS),
            changes=data.get("changes", ALLOWED),
        )


@dataclass(frozen=True)
class Poll:
    """A snapshot of one poll, safe to keep and read from any thread.

    ``visible`` is False in a snapshot built from a message that carried no
    results (a participant's view of a poll whose results are not shown yet);
    then ``counts`` is empty and ``total``, ``voters`` and ``mean`` say nothing.
    ``closes_in`` is the countdown's seconds left when the snapshot was made.
    """

    id: str
    question: str
    options: Tuple[Option, ...]
    open: bool
    settings: Settings = Settings()
    counts: Mapping[str, int] = field(default_factory=dict)
    total: int = 0
    voters: int = 0
    mean: Optional[float] = None
    revealed: bool = False
    closes_in: Optional[float] = None
    resets: int = 0
    visible: bool = True

    @property
    def kind(self) -> str:
        return self.settings.kind

    def result_fields(self) -> Dict[str, Any]:
        """``counts``, ``total``, ``voters`` (and ``mean`` for scales) as the protocol has them; {} if not visible."""
        if not self.visible:
            return {}
        data: Dict[str, Any] = {"counts": dict(self.counts), "total": self.total, "voters": self.voters}
        if self.kind == SCALE:
            data["mean"] = self.mean
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Poll":
        """Build a snapshot from the protocol's poll object."""
        return cls(
            id=data["id"],
            question=data["question"],
            options=tuple(Option(o["id"], o["label"]) for o in data.get("options", ())),
            open=data["open"],
            settings=Settings.from_json(data),
            counts=dict(data.get("counts", {})),
            total=data.get("total", 0),
            voters=data.get("voters", 0),
            mean=data.get("mean"),
            revealed=data.get("revealed", False),
            closes_in=data.get("closes_in"),
            resets=data.get("resets", 0),
            visible=data.get("visible", "counts" in data),
        )


def poll_fields(
    kind: str = SINGLE,
    max_choices: Optional[int] = None,
    scale: Optional[Tuple[int, int]] = None,
    max_answers: Optional[int] = None,
    results: str = ALWAYS,
    changes: str = ALLOWED,
) -> Dict[str, Any]:
    """The wire fields of a new poll from the keyword arguments of ``create_poll`` (Hub and PollClient)."""
    fields: Dict[str, Any] = {"kind": kind, "results": results, "changes": changes}
    if max_choices is not None:
        fields["max_choices"] = max_choices
    if scale is not None:
        fields["min"], fields["max"] = scale
    if max_answers is not None:
        fields["max_answers"] = max_answers
    return fields


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadMessage(f"{name} must be a whole number from {low} to {high}")
    return value


def _only_for(fields: Mapping[str, Any], names: Sequence[str], kind: str) -> None:
    for name in names:
        if fields.get(name) is not None:
            raise BadMessage(f"{name!r} does not apply to {kind} polls")


def check_new_poll(question: Any, labels: Any, fields: Mapping[str, Any]) -> Tuple[str, List[str], Settings]:
    """Validate a new poll: its question, option labels and wire fields (``kind``, ``max_choices``, ...).

    Returns the cleaned question, labels and :class:`Settings`; raises
    :class:`BadMessage` saying what is wrong.
    """
    question = _clean_text(question, "a poll needs a question", "the question")
    if len(question) > MAX_QUESTION_LENGTH:
        raise BadMessage(f"the question is longer than {MAX_QUESTION_LENGTH} characters")
    kind = fields.get("kind")
    if kind is None:
        kind = SINGLE
    elif not isinstance(kind, str) or kind not in KINDS:
        raise BadMessage(f"kind must be one of {', '.join(KINDS)}")
    cleaned = _check_labels(labels, kind)
    settings = Settings(kind, results=ALWAYS, changes=ALLOWED)
    settings = check_update(settings, fields.get("results"), fields.get("changes"))
    _only_for(fields, [n for n in ("max_choices", "min", "max", "max_answers") if n not in _KIND_FIELDS[kind]], kind)
    if kind == MULTIPLE:
        max_choices = fields.get("max_choices")
        max_choices = len(cleaned) if max_choices is None else _whole(max_choices, "max_choices", 1, len(cleaned))
        settings = replace(settings, max_choices=max_choices)
    elif kind == SCALE:
        low, high = fields.get("min"), fields.get("max")
        low = SCALE_DEFAULT[0] if low is None else _whole(low, "min", -SCALE_LIMIT, SCALE_LIMIT)
        high = SCALE_DEFAULT[1] if high is None else _whole(high, "max", -SCALE_LIMIT, SCALE_LIMIT)
        if not 2 <= high - low + 1 <= MAX_SCALE_VALUES:
            raise BadMessage(f"a scale needs min below max and at most {MAX_SCALE_VALUES} values")
        settings = replace(settings, scale_min=low, scale_max=high)
    elif kind == WORDS:
        max_answers = fields.get("max_answers")
        max_answers = MAX_ANSWERS_DEFAULT if max_answers is None else _whole(max_answers, "max_answers", 1, MAX_ANSWERS_LIMIT)
        settings = replace(settings, max_answers=max_answers)
    return question, cleaned, settings


_KIND_FIELDS = {SINGLE: (), COUNTER: (), MULTIPLE: ("max_choices",), SCALE: ("min", "max"), WORDS: ("max_answers",)}


def _clean_text(value: Any, missing: str, name: str) -> str:
    """A question or label with its whitespace collapsed; raises :class:`BadMessage`.

    Tab, newline and carriage return count as spaces; any other control
    character or a lone surrogate is refused, and so is text with nothing
    visible in it (only spaces or format characters). Format characters
    themselves (joiners, bidirectional marks) are kept: scripts and emoji
    need them, and only a presenter writes questions and labels.
    """
    if not isinstance(value, str):
        raise BadMessage(missing)
    if not is_text(value, multiline=True):
        raise BadMessage(f"{name} holds a control character or a lone surrogate")
    if not has_visible(value):
        raise BadMessage(missing)
    return " ".join(value.split())


def _check_labels(labels: Any, kind: str) -> List[str]:
    if kind not in OPTION_KINDS:
        if labels is not None and (isinstance(labels, str) or not isinstance(labels, Sequence) or labels):
            raise BadMessage(f"{kind} polls take no options")
        return []
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise BadMessage("options must be a list of labels")
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise BadMessage(f"a poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options")
    cleaned = []
    for label in labels:
        label = _clean_text(label, "every option needs a label", "an option label")
        if len(label) > MAX_LABEL_LENGTH:
            raise BadMessage(f"option labels are at most {MAX_LABEL_LENGTH} characters")
        cleaned.append(label)
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise BadMessage("two options have the same label")
    return cleaned


def check_update(settings: Settings, results: Any = None, changes: Any = None) -> Settings:
    """``settings`` with a new ``results`` and/or ``changes`` (None keeps one); raises :class:`BadMessage`."""
    if results is not None:
        if results not in VISIBILITIES:
            raise BadMessage(f"results must be one of {', '.join(VISIBILITIES)}")
        settings = replace(settings, results=results)
    if changes is not None:
        if changes not in CHANGES:
            raise BadMessage(f"changes must be one of {', '.join(CHANGES)}")
        settings = replace(settings, changes=changes)
    return settings


def normalize_answer(text: str) -> str:
    """A words answer as it is counted and shown.

    Format characters (category Cf: zero-width spaces and joiners, the soft
    hyphen, bidirectional controls) are removed, the text is put in Unicode
    NFKC form (full-width ``"Ｓｐａｍ"`` -> ``"Spam"``, ``"ﬁ"`` -> ``"fi"``)
    and its whitespace is collapsed (``"  New\tYork "`` -> ``"New York"``).
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


class PollState:
    """One poll's question, options, settings and tally. Not thread-safe: the hub thread owns it.

    Every kind keeps one ballot per voter (``ballots``); ``counts``, ``total``
    and, for scales, the sum of values follow it incrementally, so a vote
    costs the same however many voters there are.
    """

    def __init__(self, poll_id: str, question: str, labels: Sequence[str], settings: Settings = Settings()) -> None:
        self.id = poll_id
        self.question = question
        self.settings = settings
        self.open = True
        self.revealed = False  # the presenter revealed the results to everyone
        self.closes_at: Optional[float] = None  # time.time() when a countdown closes the poll
        self.hidden: Set[str] = set()  # answer keys a presenter hid (words polls)
        options: List[Option] = []
        for label in labels:
            options.append(Option(unique_slug(label, (o.id for o in options)), label))
        self._set_options(options)
        self.ballots: Dict[str, Ballot] = {}
        self.resets = 0  # how many times the votes were forgotten: a page can tell its vote is gone
        self._clear()

    @classmethod
    def restore(
        cls,
        poll_id: str,
        question: str,
        settings: Settings,
        options: Sequence[Tuple[str, str, int]],
        ballots: Mapping[str, Ballot],
        *,
        is_open: bool = True,
        revealed: bool = False,
        closes_at: Optional[float] = None,
        hidden: Iterable[str] = (),
        resets: int = 0,
    ) -> "PollState":
        """A poll as it was saved: options as ``(id, label, count)``, ballots as ``{voter: ballot}``.

        Counts are recounted from the ballots, but for ``counter`` polls
        (where every vote counts, not only each voter's last) they are the
        saved ones. Hidden answer keys and words answers saved by an older
        version are normalised as answers are now.
        """
        poll = cls(poll_id, question, [], settings)
        poll.open, poll.revealed, poll.closes_at, poll.resets = is_open, revealed, closes_at, resets
        poll.hidden = {answer_key(key) for key in hidden}
        if poll.kind == WORDS:
            renormalized = ((voter, _renormalized(ballot)) for voter, ballot in ballots.items())
            ballots = {voter: ballot for voter, ballot in renormalized if ballot}
        poll._set_options([Option(option_id, label) for option_id, label, _ in options])
        poll._clear()
        if poll.kind == COUNTER:
            poll.counts = {option_id: count for option_id, _, count in options}
            poll.total = sum(poll.counts.values())
            poll.ballots = dict(ballots)
        else:
            for voter, ballot in ballots.items():
                poll._add(ballot)
                poll.ballots[voter] = ballot
        return poll

    @property
    def kind(self) -> str:
        return self.settings.kind

    def _set_options(self, options: Sequence[Option]) -> None:
        self.options: Tuple[Option, ...] = tuple(options)
        self._ids = frozenset(option.id for option in self.options)
        self._by_key: Dict[str, str] = {}
        for option in self.options:
            self._by_key[option.id.casefold()] = option.id
        for option in self.options:
            self._by_key.setdefault(option.label.casefold(), option.id)

    def find_option(self, key: str) -> Optional[str]:
        """The id of the option whose id is ``key``, or whose id or label is ``key`` ignoring case."""
        if key in self._ids:
            return key
        return self._by_key.get(key.strip().casefold())

    # Voting ------------------------------------------------------------------------

    def vote(self, voter: str, choice: Choice) -> Tuple[Ballot, bool]:
        """Record ``voter``'s vote and return ``(ballot, changed)``.

        ``choice`` is what the vote message carried: an option id or label, a
        list of them (``multiple``), a whole number (``scale``, also as a
        string) or one or more answers (``words``). A voter's new vote
        replaces their previous one, but in a ``counter`` poll, where every
        vote counts. Voting the same again changes nothing. Raises
        :class:`UnknownOption`, :class:`InvalidVote`, :class:`PollClosed` or,
        when the poll's changes are locked and the voter voted before,
        :class:`VoteLocked`.
        """
        ballot = self.ballot(choice)
        if not self.open:
            raise PollClosed(f"voting on poll {self.id!r} is closed")
        previous = self.ballots.get(voter)
        if previous is not None:
            same = self._same(previous, ballot)
            if self.settings.changes == LOCKED:
                if same:
                    return previous, False
                raise VoteLocked(f"votes in poll {self.id!r} cannot be changed: your first vote stands")
            if self.kind != COUNTER:
                if same:
                    return previous, False
                self._remove(previous)
        self._add(ballot)
        self.ballots[voter] = ballot
        return ballot, True

    def ballot(self, choice: Choice) -> Ballot:
        """Check ``choice`` against this poll's kind and settings and return it as a ballot."""
        kind = self.kind
        if kind in (SINGLE, COUNTER):
            if isinstance(choice, (list, tuple)) and len(choice) == 1:
                choice = choice[0]
            if not isinstance(choice, str):
                raise InvalidVote(f"a vote in a {kind} poll names one option")
            return (self._option(choice),)
        if kind == MULTIPLE:
            items = _strings(choice, "a vote in a multiple-choice poll is a list of options")
            ids = tuple(dict.fromkeys(self._option(item) for item in items))
            if len(ids) > self.settings.max_choices:  # type: ignore[operator]
                raise InvalidVote(f"pick at most {self.settings.max_choices} options in poll {self.id!r}")
            return ids
        if kind == SCALE:
            return (str(self._value(choice)),)
        answers: Dict[str, str] = {}
        for item in _strings(choice, "a vote in a words poll is one or more answers"):
            if not is_text(item, multiline=True):
                raise InvalidVote("an answer cannot hold control characters or lone surrogates")
            text = normalize_answer(item)
            if not has_visible(text):
                raise InvalidVote("an answer needs a letter, digit or symbol: it cannot be empty or invisible")
            if len(text) > MAX_ANSWER_LENGTH:
                raise InvalidVote(f"answers are at most {MAX_ANSWER_LENGTH} characters")
            answers.setdefault(answer_key(text), text)
        if len(answers) > self.settings.max_answers:  # type: ignore[operator]
            raise InvalidVote(f"give at most {self.settings.max_answers} answers in poll {self.id!r}")
        return tuple(answers.values())

    def _option(self, key: str) -> str:
        found = self.find_option(key)
        if found is None:
            raise UnknownOption(f"poll {self.id!r} has no option {key!r}")
        return found

    def _value(self, choice: Choice) -> int:
        low, high = self.settings.scale_min, self.settings.scale_max
        value: Any = choice
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                value = None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:  # type: ignore[operator]
            raise InvalidVote(f"a vote in poll {self.id!r} is a whole number from {low} to {high}")
        return value

    def _same(self, a: Ballot, b: Ballot) -> bool:
        if self.kind == WORDS:
            return {answer_key(t) for t in a} == {answer_key(t) for t in b}
        return a == b if self.kind != MULTIPLE else set(a) == set(b)

    def choice_json(self, ballot: Ballot) -> Choice:
        """A ballot as the protocol shows it: an option id, a list, a number or a list of answers."""
        if self.kind in (SINGLE, COUNTER):
            return ballot[0]
        if self.kind == SCALE:
            return int(ballot[0])
        return list(ballot)

    def _add(self, ballot: Ballot) -> None:
        counts = self.counts
        if self.kind == WORDS:
            for text in ballot:
                key = answer_key(text)
                counts[key] = counts.get(key, 0) + 1
                self._spellings.setdefault(key, text)
        else:
            for item in ballot:
                counts[item] += 1
            if self.kind == SCALE:
                self._sum += int(ballot[0])
        self.total += len(ballot)

    def _remove(self, ballot: Ballot) -> None:
        counts = self.counts
        for item in ballot:
            key = answer_key(item) if self.kind == WORDS else item
            counts[key] -= 1
            if self.kind == WORDS and not counts[key]:
                del counts[key], self._spellings[key]
        if self.kind == SCALE:
            self._sum -= int(ballot[0])
        self.total -= len(ballot)

    def reset(self) -> None:
        """Forget every vote (hidden answers stay hidden) and count the reset."""
        self._clear()
        self.resets += 1

    def _clear(self) -> None:
        if self.kind in OPTION_KINDS:
            self.counts: Dict[str, int] = {o.id: 0 for o in self.options}
        elif self.kind == SCALE:
            low, high = self.settings.scale_min, self.settings.scale_max
            self.counts = {str(v): 0 for v in range(low, high + 1)}  # type: ignore[arg-type, operator]
        else:
            self.counts = {}
        self._spellings: Dict[str, str] = {}  # words: answer key -> the first spelling seen
        self._sum = 0
        self.total = 0
        self.ballots.clear()

    def hide(self, text: str) -> bool:
        """Leave a words answer out of the results from now on; False if it already was.

        Every answer with the same :func:`answer_key` is hidden: ``"Spam"``
        hides ``"SPAM"``, ``"Sp\u200bam"`` and full-width ``"Ｓｐａｍ"`` too.
        Raises :class:`BadMessage` for text holding a control character or
        a lone surrogate; text with nothing visible hides nothing (False).
        """
        if not is_text(text, multiline=True):
            raise BadMessage("'text' holds a control character or a lone surrogate")
        key = answer_key(text)
        if not has_visible(key) or key in self.hidden:
            return False
        self.hidden.add(key)
        return True

    # Who sees what -----------------------------------------------------------------

    @property
    def results_public(self) -> bool:
        """True when every client may see the results."""
        mode = self.settings.results
        return self.revealed or mode == ALWAYS or (not self.open and mode != HIDDEN)

    def visible_to(self, voter: str) -> bool:
        """True when a participant voting as ``voter`` may see the results."""
        return self.results_public or (self.settings.results == AFTER_VOTE and voter in self.ballots)

    # Output ------------------------------------------------------------------------

    def results(self, shown: Optional[int] = WORDS_SHOWN) -> Dict[str, Any]:
        """The protocol's result fields: ``counts``, ``total``, ``voters`` (and ``mean`` for scales).

        A words poll's counts are its ``shown`` most frequent answers (None:
        all), the most frequent first, ties in the order they were first given,
        hidden answers left out.
        """
        voters = len(self.ballots)
        if self.kind == WORDS:
            answers = [(key, n) for key, n in self.counts.items() if key not in self.hidden]
            if shown is None:
                biggest = sorted(answers, key=lambda item: -item[1])
            else:
                biggest = heapq.nlargest(shown, answers, key=lambda item: item[1])
            data = {"counts": {self._spellings[key]: n for key, n in biggest}, "total": sum(n for _, n in answers)}
        else:
            data = {"counts": dict(self.counts), "total": self.total}
        data["voters"] = voters
        if self.kind == SCALE:
            data["mean"] = round(self._sum / voters, 2) if voters else None
        return data

    def closes_in(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds until the countdown closes the poll, or None without one."""
        if self.closes_at is None:
            return None
        return round(max(0.0, self.closes_at - (time.time() if now is None else now)), 1)

    def to_json(self, visible: bool = True, now: Optional[float] = None) -> Dict[str, Any]:
        """The protocol's poll object; with ``visible`` False, without its results.

        ``now`` is the time ``closes_in`` counts from (default: the clock).
        """
        data: Dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "kind": self.kind,
            "open": self.open,
            "options": [{"id": o.id, "label": o.label} for o in self.options],
        }
        data.update(self.settings.to_json())
        data["revealed"] = self.revealed
        data["closes_in"] = self.closes_in(now)
        data["resets"] = self.resets
        data["visible"] = visible
        if visible:
            data.update(self.results())
        return data

    def snapshot(self, now: Optional[float] = None) -> Poll:
        """An immutable :class:`Poll`; ``now`` is the time ``closes_in`` counts from (default: the clock)."""
        results = self.results()
        return Poll(
            self.id,
            self.question,
            self.options,
            self.open,
            self.settings,
            results["counts"],
            results["total"],
            results["voters"],
            results.get("mean"),
            self.revealed,
            self.closes_in(now),
            self.resets,
        )

    # The whole state, exactly ------------------------------------------------------

    def state(self) -> Dict[str, Any]:
        """Everything this poll holds, as JSON-serialisable data: :meth:`from_state` rebuilds it exactly.

        Unlike what the database keeps, this includes the order of the counts
        and the first spelling of each words answer, which decide how ties
        and answers are shown: a poll rebuilt from it behaves the same from
        then on.
        """
        return {
            "id": self.id,
            "question": self.question,
            "settings": {"kind": self.kind, **self.settings.to_json()},
            "options": [[o.id, o.label] for o in self.options],
            "open": self.open,
            "revealed": self.revealed,
            "closes_at": self.closes_at,
            "hidden": sorted(self.hidden),
            "resets": self.resets,
            "ballots": [[voter, list(ballot)] for voter, ballot in self.ballots.items()],
            "counts": [[key, n] for key, n in self.counts.items()],
            "spellings": [[key, text] for key, text in self._spellings.items()],
            "sum": self._sum,
            "total": self.total,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> "PollState":
        """The poll :meth:`state` described. Raises ``KeyError`` or ``ValueError`` for data it did not make."""
        poll = cls(data["id"], data["question"], [], Settings.from_json(data["settings"]))
        poll._set_options([Option(option_id, label) for option_id, label in data["options"]])
        poll.open, poll.revealed, poll.closes_at = bool(data["open"]), bool(data["revealed"]), data["closes_at"]
        poll.hidden = set(data["hidden"])
        poll.resets = int(data["resets"])
        poll.ballots = {voter: tuple(ballot) for voter, ballot in data["ballots"]}
        poll.counts = {key: int(n) for key, n in data["counts"]}
        poll._spellings = {key: text for key, text in data["spellings"]}
        poll._sum = int(data["sum"])
        poll.total = int(data["total"])
        return poll


def _renormalized(ballot: Ballot) -> Ballot:
    """A saved words ballot as :meth:`PollState.ballot` would make it now: one answer per key, none empty."""
    answers: Dict[str, str] = {}
    for item in ballot:
        text = normalize_answer(item)
        if has_visible(text):
            answers.setdefault(answer_key(text), text)
    return tuple(answers.values())


def _strings(choice: Choice, message: str) -> List[str]:
    items = [choice] if isinstance(choice, str) else choice
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(i, str) for i in items):
        raise InvalidVote(message)
    return list(items)
