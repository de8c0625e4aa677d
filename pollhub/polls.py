"""Polls and their counts: plain objects with no threads and no I/O.

:class:`PollState` is the mutable tally that only the hub thread touches;
:class:`Poll` is the immutable snapshot the hub hands out to other threads.
What differs between kinds of poll lives in :mod:`pollhub.kinds`.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .errors import BadMessage, PollClosed, UnknownOption, VoteLocked
from .kinds import (  # the kinds' names and limits are pollhub.polls' too (see __all__)
    COUNTER,
    KIND_TABLE,
    MAX_ANSWER_LENGTH,
    MAX_ANSWERS_DEFAULT,
    MAX_ANSWERS_LIMIT,
    MAX_SCALE_VALUES,
    MAX_OPEN_ANSWER_LENGTH,
    MIN_RANKED,
    MULTIPLE,
    OPEN,
    OPEN_MAX_ANSWERS_DEFAULT,
    OPEN_SHOWN,
    QUIZ,
    QUIZ_TIME_DEFAULT,
    QUIZ_TIME_LIMIT,
    RANKING,
    SCALE,
    SCALE_DEFAULT,
    SCALE_LIMIT,
    SETTING_FIELDS,
    SINGLE,
    WORDS,
    WORDS_SHOWN,
    Answer,
    Ballot,
    Choice,
    Kind,
    answer_key,
    normalize_answer,
    option_ids,
)
from .text import has_visible, is_text

__all__ = [  # with what pollhub.kinds defines, which other modules take from here
    "ALLOWED", "ALWAYS", "AFTER_CLOSE", "AFTER_VOTE", "CHANGES", "CHOICE_FIELDS", "COUNTER", "HIDDEN", "KINDS",
    "KIND_TABLE", "LOCKED", "MAX_ANSWER_LENGTH", "MAX_ANSWERS_DEFAULT", "MAX_ANSWERS_LIMIT", "MAX_LABEL_LENGTH",
    "MAX_OPEN_ANSWER_LENGTH", "MAX_OPTIONS", "MAX_POLLS", "MAX_QUESTION_LENGTH", "MAX_SCALE_VALUES", "MIN_OPTIONS",
    "MIN_RANKED", "MULTIPLE", "ON_THE_WIRE", "OPEN", "OPEN_MAX_ANSWERS_DEFAULT", "OPEN_SHOWN", "OPTION_KINDS", "QUIZ",
    "QUIZ_TIME_DEFAULT", "QUIZ_TIME_LIMIT", "RANKING", "SCALE",
    "SCALE_DEFAULT", "SCALE_LIMIT", "SINGLE", "VISIBILITIES", "WORDS", "WORDS_SHOWN", "Answer", "Ballot", "Choice", "Kind", "Option", "Poll", "PollState", "Settings", "answer_key", "check_new_poll",
    "check_update", "normalize_answer", "poll_fields", "slugify", "unique_slug",
]

KINDS = tuple(KIND_TABLE)
OPTION_KINDS = tuple(name for name, kind in KIND_TABLE.items() if kind.takes_options)  # votes name options
#: The field of a vote (and of its ``voted`` reply) that carries the choice, by kind.
CHOICE_FIELDS = {name: kind.field for name, kind in KIND_TABLE.items()}

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

#: ``PollState.results(shown=ON_THE_WIRE)``: as many answers as the kind's results carry on the wire.
ON_THE_WIRE = -1
MIN_OPTIONS = 2
MAX_OPTIONS = 32
MAX_QUESTION_LENGTH = 300
MAX_LABEL_LENGTH = 100
MAX_SLUG_LENGTH = 40
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
#: An open poll is bigger: its 200 newest answers of 280 such characters
#: are 232 KB encoded (64 KB in ASCII), so 75 of them would make a 17 MB
#: welcome; that bound holds for the other kinds only. A ranking poll adds
#: its ``positions`` (an average place per option id) to what a multiple
#: poll sends: 31.2 KB at the same limits, so 75 of them make a 2.3 MB welcome.
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




@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Settings:
    """How a poll takes votes and who sees its results; fixed at creation but for ``results`` and ``changes``.

    ``max_choices`` applies to ``multiple`` polls, ``scale_min``/``scale_max``
    to ``scale`` polls, ``max_answers`` to ``words`` and ``open`` polls,
    ``max_ranked`` to ``ranking`` polls; they are None for the other kinds.
    On the wire they are ``max_choices``, ``min``, ``max``, ``max_answers``
    and ``max_ranked``.
    """

    kind: str = SINGLE
    max_choices: Optional[int] = None
    scale_min: Optional[int] = None
    scale_max: Optional[int] = None
    max_answers: Optional[int] = None
    correct: Optional[Tuple[str, ...]] = None
    time_limit: Optional[int] = None
    results: str = ALWAYS
    changes: str = ALLOWED
    max_ranked: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        """The wire fields: the kind's own settings, ``results`` and ``changes`` (not ``kind``)."""
        data = KIND_TABLE[self.kind].wire_settings(self)
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
            correct=None if data.get("correct") is None else tuple(data["correct"]),
            time_limit=data.get("time_limit"),
            results=data.get("results", ALWAYS),
            changes=data.get("changes", ALLOWED),
            max_ranked=data.get("max_ranked"),
        )


@dataclass(frozen=True)
class Poll:
    """A snapshot of one poll, safe to keep and read from any thread.

    ``visible`` is False in a snapshot built from a message that carried no
    results (a participant's view of a poll whose results are not shown yet);
    then ``counts`` is empty and ``total``, ``voters`` and ``mean`` say nothing.
    ``closes_in`` is the countdown's seconds left when the snapshot was made.
    ``answers`` are an ``open`` poll's answers, newest first (empty for the other kinds).
    ``positions`` are a ``ranking`` poll's average places by option id (None:
    nobody ranked it; empty for the other kinds), and its ``counts`` the scores.
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
    answers: Tuple[Answer, ...] = ()
    positions: Mapping[str, Optional[float]] = field(default_factory=dict)
    answer_revealed: bool = False

    @property
    def kind(self) -> str:
        return self.settings.kind

    def result_fields(self) -> Dict[str, Any]:
        """``counts``, ``total``, ``voters`` (``mean`` for scales, ``answers`` for open polls,
        ``positions`` for rankings) as the protocol has them.

        {} if not visible.
        """
        if not self.visible:
            return {}
        data: Dict[str, Any] = {"counts": dict(self.counts), "total": self.total, "voters": self.voters}
        rules = KIND_TABLE[self.kind]
        if rules.has_mean:
            data["mean"] = self.mean
        if rules.has_answers:
            data["answers"] = [{"text": answer.text, "at": answer.at} for answer in self.answers]
        if rules.has_positions:
            data["positions"] = dict(self.positions)
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
            answers=tuple(Answer(a["text"], a["at"]) for a in data.get("answers", ())),
            positions=dict(data.get("positions", {})),
            answer_revealed=data.get("answer_revealed", False),
        )


def poll_fields(
    kind: str = SINGLE,
    max_choices: Optional[int] = None,
    scale: Optional[Tuple[int, int]] = None,
    max_answers: Optional[int] = None,
    results: Optional[str] = None,
    changes: Optional[str] = None,
    correct: Optional[Sequence[str]] = None,
    time_limit: Optional[int] = None,
    max_ranked: Optional[int] = None,
) -> Dict[str, Any]:
    """The wire fields of a new poll from the keyword arguments of ``create_poll`` (Hub and PollClient).

    ``results`` and ``changes`` None leave the kind's defaults (``always`` and
    ``allowed``, but a quiz's ``after_close`` and ``locked``).
    """
    fields: Dict[str, Any] = {"kind": kind, "results": results, "changes": changes}
    if correct is not None:
        fields["correct"] = [correct] if isinstance(correct, str) else list(correct)
    if time_limit is not None:
        fields["time_limit"] = time_limit
    if max_choices is not None:
        fields["max_choices"] = max_choices
    if scale is not None:
        fields["min"], fields["max"] = scale
    if max_answers is not None:
        fields["max_answers"] = max_answers
    if max_ranked is not None:
        fields["max_ranked"] = max_ranked
    return fields


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
    rules = KIND_TABLE[kind]
    cleaned = _check_labels(labels, rules)
    settings = Settings(kind, results=ALWAYS, changes=ALLOWED)
    settings = check_update(settings, fields.get("results"), fields.get("changes"))
    _only_for(fields, [name for name in SETTING_FIELDS if name not in rules.settings_fields], kind)
    return question, cleaned, replace(settings, **rules.settings(fields, cleaned))


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


def _check_labels(labels: Any, kind: Kind) -> List[str]:
    if not kind.takes_options:
        if labels is not None and (isinstance(labels, str) or not isinstance(labels, Sequence) or labels):
            raise BadMessage(f"{kind.name} polls take no options")
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
        self.hidden: Set[str] = set()  # answer keys a presenter hid (words and open polls)
        self.answer_revealed = 0  # quiz: 0 until a presenter reveals the answer, then that reveal's number (1, 2, ...)
        self._set_options([Option(option_id, label) for option_id, label in zip(option_ids(labels), labels)])
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
        answer_revealed: int = 0,
    ) -> "PollState":
        """A poll as it was saved: options as ``(id, label, count)``, ballots as ``{voter: ballot}``.

        Counts are recounted from the ballots, but for ``counter`` polls
        (where every vote counts, not only each voter's last) they are the
        saved ones. Hidden answer keys and words answers saved by an older
        version are normalised as answers are now.
        """
        poll = cls(poll_id, question, [], settings)
        poll.open, poll.revealed, poll.closes_at, poll.resets = is_open, revealed, closes_at, resets
        poll.answer_revealed = answer_revealed
        poll.hidden = {answer_key(key) for key in hidden}
        rules = poll.rules
        restored = ((voter, rules.restored(ballot)) for voter, ballot in ballots.items())
        ballots = {voter: ballot for voter, ballot in restored if ballot}
        poll._set_options([Option(option_id, label) for option_id, label, _ in options])
        poll._clear()
        if rules.every_vote_counts:
            poll.counts = {option_id: count for option_id, _, count in options}
            poll.total = sum(poll.counts.values())
            poll.ballots = dict(ballots)
        else:
            for voter, ballot in ballots.items():
                rules.add(poll, ballot)
                poll.ballots[voter] = ballot
        return poll

    @property
    def kind(self) -> str:
        return self.settings.kind

    @property
    def rules(self) -> Kind:
        """What this poll's kind decides (see :mod:`pollhub.kinds`)."""
        return KIND_TABLE[self.settings.kind]

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

    def option_id(self, key: str) -> str:
        """:meth:`find_option`, raising :class:`UnknownOption` when there is none."""
        found = self.find_option(key)
        if found is None:
            raise UnknownOption(f"poll {self.id!r} has no option {key!r}")
        return found

    # Voting ------------------------------------------------------------------------

    def vote(self, voter: str, choice: Choice, now: float = 0.0) -> Tuple[Ballot, bool]:
        """Record ``voter``'s vote, given at ``now``, and return ``(ballot, changed)``.

        ``choice`` is what the vote message carried: an option id or label, a
        list of them (``multiple``), a whole number (``scale``, also as a
        string), one or more answers (``words``, ``open``) or a list of
        options, first to last (``ranking``). ``now`` is the
        book's time of the vote (Unix seconds; nothing here reads a clock):
        an ``open`` poll keeps it with each new answer, the other kinds do
        not use it. A voter's new vote
        replaces their previous one, but in a ``counter`` poll, where every
        vote counts. Voting the same again changes nothing. Raises
        :class:`UnknownOption`, :class:`InvalidVote`, :class:`PollClosed` or,
        when the poll's changes are locked and the voter voted before,
        :class:`VoteLocked`.
        """
        rules = self.rules
        ballot = rules.ballot(self, choice)
        if not self.open or (self.closes_at is not None and now >= self.closes_at > 0):
            # (a vote applied after the countdown's end, before the close that follows it, is too late)
            raise PollClosed(f"voting on poll {self.id!r} is closed")
        previous = self.ballots.get(voter)
        ballot = rules.stamped(self, ballot, previous, now)
        if previous is not None:
            same = rules.same(previous, ballot)
            if self.settings.changes == LOCKED:
                if same:
                    return previous, False
                raise VoteLocked(f"votes in poll {self.id!r} cannot be changed: your first vote stands")
            if not rules.every_vote_counts:
                if same:
                    return previous, False
                rules.remove(self, previous)
        rules.add(self, ballot)
        self.ballots[voter] = ballot
        return ballot, True

    def choice_json(self, ballot: Ballot) -> Choice:
        """A ballot as the protocol shows it: an option id, a list, a number or a list of answers."""
        return self.rules.choice_json(ballot)

    def reset(self) -> None:
        """Forget every vote (hidden answers stay hidden) and count the reset."""
        self._clear()
        self.resets += 1

    def _clear(self) -> None:
        self.counts: Dict[str, int] = self.rules.empty_counts(self)
        self.spellings: Dict[str, str] = {}  # words: answer key -> the first spelling seen
        self.timeline: List[Tuple[float, str]] = []  # open: every answer as (when, text), oldest first
        self.value_sum = 0  # scale: the sum of the values held
        self.ranked: Dict[str, int] = {}  # ranking: option id -> how many voters ranked it
        self.total = 0
        self.ballots.clear()

    def hide(self, text: str) -> bool:
        """Leave a words or open answer out of the results from now on; False if it already was.

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

    def results(self, shown: Optional[int] = ON_THE_WIRE) -> Dict[str, Any]:
        """The protocol's result fields: ``counts``, ``total``, ``voters`` (``mean`` for scales, ``answers`` for open polls,
        ``positions`` for rankings, whose ``counts`` are the options' Borda scores).

        A words poll's counts are its ``shown`` most frequent answers (None:
        all; by default :data:`WORDS_SHOWN`), the most frequent first, ties
        in the order they were first given, hidden answers left out. An open
        poll's ``answers`` are its ``shown`` newest (None: all; by default
        :data:`OPEN_SHOWN`), hidden ones left out, and its counts are empty.
        """
        return self.rules.results(self, self.rules.shown if shown == ON_THE_WIRE else shown)

    def closes_in(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds until the countdown closes the poll, or None without one."""
        if self.closes_at is None:
            return None
        return round(max(0.0, self.closes_at - (time.time() if now is None else now)), 1)

    def to_json(self, visible: bool = True, now: Optional[float] = None, presenter: bool = True) -> Dict[str, Any]:
        """The protocol's poll object; with ``visible`` False, without its results.

        ``now`` is the time ``closes_in`` counts from (default: the clock). A
        quiz question's ``correct`` options are left out unless it is for a
        ``presenter`` or the answer was revealed.
        """
        data: Dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "kind": self.kind,
            "open": self.open,
            "options": [{"id": o.id, "label": o.label} for o in self.options],
        }
        data.update(self.settings.to_json())
        if self.kind == QUIZ:
            data["answer_revealed"] = self.answer_revealed > 0
            if not (presenter or self.answer_revealed):
                del data["correct"]
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
            answers=tuple(Answer(a["text"], a["at"]) for a in results.get("answers", ())),
            positions=dict(results.get("positions", {})),
            answer_revealed=self.answer_revealed > 0,
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
            "answer_revealed": self.answer_revealed,
            "ballots": [[voter, list(ballot)] for voter, ballot in self.ballots.items()],
            "counts": [[key, n] for key, n in self.counts.items()],
            "spellings": [[key, text] for key, text in self.spellings.items()],
            "sum": self.value_sum,
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
        poll.answer_revealed = int(data.get("answer_revealed", 0))
        poll.ballots = {voter: tuple(ballot) for voter, ballot in data["ballots"]}
        poll.counts = {key: int(n) for key, n in data["counts"]}
        poll.spellings = {key: text for key, text in data["spellings"]}
        poll.value_sum = int(data["sum"])
        poll.total = int(data["total"])
        poll.rules.reindex(poll)
        return poll
