"""Polls and their counts: plain objects with no threads and no I/O.

:class:`PollState` is the mutable tally that only the hub thread touches;
:class:`Poll` is the immutable snapshot the hub hands out to other threads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .errors import BadMessage, PollClosed, UnknownOption

SINGLE = "single"  # each voter holds at most one choice; voting again moves it
COUNTER = "counter"  # every vote counts
KINDS = (SINGLE, COUNTER)

MIN_OPTIONS = 2
MAX_OPTIONS = 32
MAX_QUESTION_LENGTH = 300
MAX_LABEL_LENGTH = 100
MAX_SLUG_LENGTH = 40


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
class Poll:
    """A snapshot of one poll, safe to keep and read from any thread."""

    id: str
    question: str
    options: Tuple[Option, ...]
    kind: str
    open: bool
    counts: Mapping[str, int] = field(default_factory=dict)
    total: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Poll":
        """Build a snapshot from the protocol's poll object."""
        return cls(
            id=data["id"],
            question=data["question"],
            options=tuple(Option(o["id"], o["label"]) for o in data["options"]),
            kind=data["kind"],
            open=data["open"],
            counts=dict(data["counts"]),
            total=data["total"],
        )


def check_new_poll(question: Any, labels: Any, kind: Any) -> Tuple[str, List[str], str]:
    """Validate what :meth:`PollState.create` needs; raise :class:`BadMessage` if wrong."""
    if not isinstance(question, str) or not question.strip():
        raise BadMessage("a poll needs a question")
    question = " ".join(question.split())
    if len(question) > MAX_QUESTION_LENGTH:
        raise BadMessage(f"the question is longer than {MAX_QUESTION_LENGTH} characters")
    if kind not in KINDS:
        raise BadMessage(f"kind must be one of {', '.join(KINDS)}")
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise BadMessage("options must be a list of labels")
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise BadMessage(f"a poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options")
    cleaned = []
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise BadMessage("every option needs a label")
        label = " ".join(label.split())
        if len(label) > MAX_LABEL_LENGTH:
            raise BadMessage(f"option labels are at most {MAX_LABEL_LENGTH} characters")
        cleaned.append(label)
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise BadMessage("two options have the same label")
    return question, cleaned, kind


class PollState:
    """One poll's question, options and tally. Not thread-safe: the hub thread owns it."""

    def __init__(self, poll_id: str, question: str, labels: Sequence[str], kind: str = SINGLE) -> None:
        self.id = poll_id
        self.question = question
        self.kind = kind
        self.open = True
        options: List[Option] = []
        for label in labels:
            options.append(Option(unique_slug(label, (o.id for o in options)), label))
        self._set_options(options)
        self.total = 0
        self.choices: Dict[str, str] = {}  # voter -> option id (single polls)

    @classmethod
    def restore(
        cls,
        poll_id: str,
        question: str,
        kind: str,
        is_open: bool,
        options: Sequence[Tuple[str, str, int]],
        total: int,
        choices: Mapping[str, str],
    ) -> "PollState":
        """A poll as it was saved: options as ``(id, label, count)``, choices as ``{voter: option id}``."""
        poll = cls(poll_id, question, [], kind)
        poll.open = is_open
        poll._set_options([Option(option_id, label) for option_id, label, _ in options])
        poll.counts = {option_id: count for option_id, _, count in options}
        poll.total = total
        poll.choices = dict(choices)
        return poll

    def _set_options(self, options: Sequence[Option]) -> None:
        self.options: Tuple[Option, ...] = tuple(options)
        self._by_key: Dict[str, str] = {}
        for option in self.options:
            self._by_key[option.id.casefold()] = option.id
        for option in self.options:
            self._by_key.setdefault(option.label.casefold(), option.id)
        self.counts: Dict[str, int] = {o.id: 0 for o in self.options}

    def find_option(self, key: str) -> Optional[str]:
        """The id of the option whose id is ``key``, or whose id or label is ``key`` ignoring case."""
        if key in self.counts:
            return key
        return self._by_key.get(key.strip().casefold())

    def vote(self, voter: str, option_id: str) -> Tuple[str, bool]:
        """Count a vote for an option (by id or label) and return ``(option id, changed)``.

        In a ``single`` poll a voter's new choice replaces the old one; voting
        again for the same option changes nothing. Raises
        :class:`UnknownOption` or :class:`PollClosed`.
        """
        found = self.find_option(option_id)
        if found is None:
            raise UnknownOption(f"poll {self.id!r} has no option {option_id!r}")
        if not self.open:
            raise PollClosed(f"voting on poll {self.id!r} is closed")
        if self.kind == COUNTER:
            self.counts[found] += 1
            self.total += 1
            return found, True
        previous = self.choices.get(voter)
        if previous == found:
            return found, False
        if previous is None:
            self.total += 1
        else:
            self.counts[previous] -= 1
        self.counts[found] += 1
        self.choices[voter] = found
        return found, True

    def reset(self) -> None:
        """Forget every vote."""
        self.counts = {o.id: 0 for o in self.options}
        self.total = 0
        self.choices.clear()

    def to_json(self) -> Dict[str, Any]:
        """The protocol's poll object."""
        return {
            "id": self.id,
            "question": self.question,
            "options": [{"id": o.id, "label": o.label} for o in self.options],
            "kind": self.kind,
            "open": self.open,
            "counts": dict(self.counts),
            "total": self.total,
        }

    def snapshot(self) -> Poll:
        return Poll(self.id, self.question, self.options, self.kind, self.open, dict(self.counts), self.total)
