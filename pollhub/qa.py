"""Audience Q&A: questions the room asks and upvotes, and the presenter's moderation. Pure, no I/O.

:class:`QandA` holds an event's questions, who upvoted each and the Q&A
settings; the :class:`~pollhub.book.PollBook` keeps one (``book.qa``) and
drives it from the protocol's Q&A commands with the book's ``now``, so the
same commands give the same questions on every node of a shared log.

A question's life::

    ask ──> waiting ──approve──> published ──answer──> answered
     │      (moderation on)         ▲  │
     └──────────────────────────────┘  └──dismiss──> dismissed (also from waiting or answered)
              (moderation off)

Participants see published and answered questions, and their own waiting
ones; presenters see every question. Nobody but a presenter's export ever
sees who asked or who upvoted (the voter ids stay in here).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from .errors import (
    BadMessage, BadQuestion, DuplicateQuestion, OwnQuestion, QAClosed, QuestionAnswered, TooManyQuestions,
    UnknownQuestion,
)
from .kinds import answer_key, normalize_answer
from .text import has_visible, is_text

MAX_QUESTION_TEXT = 280  # characters of a question, once its whitespace is collapsed
MAX_NAME_LENGTH = 40  # characters of the name a participant may sign with
MAX_QUESTIONS = 2000  # questions in one event (every welcome carries the visible ones)
QUESTION_WINDOW = 60.0  # seconds over which the two limits below count
QUESTIONS_PER_WINDOW = 10  # questions one voter may ask per window
# (the same text from the same voter within the window is a duplicate)

WAITING = "waiting"  # moderation is on and no presenter approved it yet
PUBLISHED = "published"
ANSWERED = "answered"
DISMISSED = "dismissed"
STATES = (WAITING, PUBLISHED, ANSWERED, DISMISSED)
PUBLIC = frozenset((PUBLISHED, ANSWERED))  # the states every participant sees

STAGE_POLL = "poll"  # the projector view shows the current poll
STAGE_QA = "qa"  # the projector view shows the questions
STAGE_LEADERBOARD = "leaderboard"  # the quiz's top places
STAGE_PODIUM = "podium"  # the quiz's top three
STAGES = (STAGE_POLL, STAGE_QA, STAGE_LEADERBOARD, STAGE_PODIUM)


class Question:
    """One question: its text, who asked (kept here, never sent), its state and its upvoters."""

    __slots__ = ("id", "voter", "name", "text", "state", "asked_at", "answered_at", "upvoters")

    def __init__(
        self,
        question_id: str,
        voter: str,
        name: Optional[str],
        text: str,
        state: str,
        asked_at: float,
        answered_at: Optional[float] = None,
        upvoters: Iterable[str] = (),
    ) -> None:
        self.id = question_id
        self.voter = voter
        self.name = name
        self.text = text
        self.state = state
        self.asked_at = asked_at
        self.answered_at = answered_at
        self.upvoters: Set[str] = set(upvoters)

    @property
    def upvotes(self) -> int:
        return len(self.upvoters)

    def visible_to(self, voter: Optional[str]) -> bool:
        """True when a participant with this voter id may see the question (presenters see every one)."""
        return self.state in PUBLIC or (self.state == WAITING and voter == self.voter)

    def to_json(self, voter: Optional[str] = None) -> Dict[str, Any]:
        """The question as the protocol sends it; with ``voter``, also whether it is theirs and they upvoted it."""
        data: Dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "name": self.name,
            "upvotes": len(self.upvoters),
            "state": self.state,
            "asked_at": round(self.asked_at, 3),
            "answered_at": None if self.answered_at is None else round(self.answered_at, 3),
        }
        if voter is not None:
            data["upvoted"] = voter in self.upvoters
            data["mine"] = voter == self.voter
        return data

    def state_json(self) -> Dict[str, Any]:
        """Everything, voter ids included, times unrounded: for snapshots."""
        return {
            **self.to_json(), "asked_at": self.asked_at, "answered_at": self.answered_at,
            "voter": self.voter, "upvoters": sorted(self.upvoters),
        }


def check_text(text: Any) -> str:
    """A question's text, normalised like a words answer; raises :class:`BadQuestion`."""
    if not isinstance(text, str) or not is_text(text, multiline=True):
        raise BadQuestion("a question is text, without control characters or lone surrogates")
    normal = normalize_answer(text)
    if not has_visible(normal):
        raise BadQuestion("a question cannot be empty")
    if len(normal) > MAX_QUESTION_TEXT:
        raise BadQuestion(f"a question is at most {MAX_QUESTION_TEXT} characters (this one has {len(normal)})")
    return normal


def check_name(name: Any) -> Optional[str]:
    """The name a question is signed with, or None (anonymous) for None or blank; raises :class:`BadQuestion`."""
    if name is None:
        return None
    if not isinstance(name, str) or not is_text(name, multiline=True):
        raise BadQuestion("a name is text, without control characters or lone surrogates")
    normal = normalize_answer(name)
    if not has_visible(normal):
        return None
    if len(normal) > MAX_NAME_LENGTH:
        raise BadQuestion(f"a name is at most {MAX_NAME_LENGTH} characters")
    return normal


class QandA:
    """An event's questions and Q&A settings, with the rules. Not thread-safe: the hub thread drives it.

    Each method that changes something returns the questions it changed
    (the book sends them); they raise the typed errors of
    :mod:`pollhub.errors` and change nothing when they refuse.
    """

    def __init__(
        self,
        questions: Iterable[Question] = (),
        *,
        moderation: bool = False,
        is_open: bool = True,
        highlight: Optional[str] = None,
        stage: str = STAGE_POLL,
    ) -> None:
        self.questions: Dict[str, Question] = {q.id: q for q in questions}
        self.moderation = moderation
        self.open = is_open
        self.highlight = highlight if highlight in self.questions else None
        self.stage = stage if stage in STAGES else STAGE_POLL
        # Indexes of what is in the questions, for the limits and for a voter's marks
        # (a hello and a welcome need them, and must not scan every question):
        self._asked: Dict[str, List[Question]] = {}  # voter -> their questions, in order
        self._upvoted: Dict[str, Set[str]] = {}  # voter -> the ids of the questions they upvote
        for question in self.questions.values():
            self._asked.setdefault(question.voter, []).append(question)
            for upvoter in question.upvoters:
                self._upvoted.setdefault(upvoter, set()).add(question.id)

    # Participants ------------------------------------------------------------------

    def ask(self, voter: str, text: str, name: Optional[str], now: float) -> Question:
        """A new question from ``voter``: waiting if moderation is on, else published.

        ``text`` and ``name`` are checked and normalised here (see
        :func:`check_text`, :func:`check_name`). Raises :class:`QAClosed`,
        :class:`BadQuestion`, :class:`TooManyQuestions` or
        :class:`DuplicateQuestion`.
        """
        if not self.open:
            raise QAClosed("questions are closed for now (upvotes go on)")
        text, name = check_text(text), check_name(name)
        if len(self.questions) >= MAX_QUESTIONS:
            raise QAClosed(f"this event holds its limit of {MAX_QUESTIONS} questions")
        recent = [q for q in self._asked.get(voter, ()) if q.asked_at > now - QUESTION_WINDOW]
        key = answer_key(text)
        if any(answer_key(q.text) == key for q in recent):
            raise DuplicateQuestion("you asked that a moment ago")
        if len(recent) >= QUESTIONS_PER_WINDOW:
            raise TooManyQuestions(
                f"at most {QUESTIONS_PER_WINDOW} questions a minute: wait a little before asking again"
            )
        question_id = f"q{len(self.questions) + 1}"  # questions are never deleted: ids are never reused
        question = Question(question_id, voter, name, text, WAITING if self.moderation else PUBLISHED, now)
        self.questions[question_id] = question
        self._asked.setdefault(voter, []).append(question)
        return question

    def upvote(self, voter: str, question_id: str, upvoted: bool) -> Tuple[Question, bool]:
        """Add (``upvoted``) or take back ``voter``'s upvote; returns ``(question, changed)``.

        Only published questions take new upvotes; one may be taken back
        from any question the voter sees. Raises :class:`UnknownQuestion`,
        :class:`OwnQuestion` or :class:`QuestionAnswered`.
        """
        question = self.questions.get(question_id)
        if question is None or not question.visible_to(voter):
            raise UnknownQuestion(f"there is no question {question_id!r}")
        if upvoted == (voter in question.upvoters):
            return question, False
        if upvoted:
            if question.voter == voter:
                raise OwnQuestion("you cannot upvote your own question")
            if question.state != PUBLISHED:
                raise QuestionAnswered(f"question {question_id!r} was {question.state}: it takes no more upvotes")
            question.upvoters.add(voter)
            self._upvoted.setdefault(voter, set()).add(question.id)
        else:
            question.upvoters.discard(voter)
            self._upvoted[voter].discard(question.id)
        return question, True

    # Presenters ----------------------------------------------------------------------

    def find(self, question_id: Optional[str]) -> Question:
        """A question by id; raises :class:`UnknownQuestion`."""
        question = self.questions.get(question_id) if question_id is not None else None
        if question is None:
            raise UnknownQuestion(f"there is no question {question_id!r}")
        return question

    def set_state(self, question_id: str, state: str, now: float) -> Tuple[Question, bool]:
        """Approve (``published``), dismiss or answer a question; returns ``(question, changed)``.

        Answering or dismissing the highlighted question ends the highlight.
        Approving an answered or dismissed question brings it back as
        published. Raises :class:`UnknownQuestion`.
        """
        question = self.find(question_id)
        if question.state == state:
            return question, False
        question.state = state
        question.answered_at = now if state == ANSWERED else None
        if state != PUBLISHED and self.highlight == question.id:
            self.highlight = None
        return question, True

    def highlight_question(self, question_id: Optional[str]) -> Optional[Question]:
        """Put a question on the stage (None: none); a waiting one is approved. Returns it if its state changed.

        Raises :class:`UnknownQuestion`, or :class:`BadMessage` for an answered or dismissed question.
        """
        if question_id is None:
            self.highlight = None
            return None
        question = self.find(question_id)
        if question.state in (ANSWERED, DISMISSED):
            raise BadMessage(f"question {question_id!r} was {question.state}: approve it again to highlight it")
        changed = question.state == WAITING
        question.state = PUBLISHED
        self.highlight = question.id
        return question if changed else None

    def settings(
        self, moderation: Optional[bool] = None, is_open: Optional[bool] = None, stage: Optional[str] = None
    ) -> None:
        """Change the settings given (None keeps one). Questions waiting stay waiting when moderation ends."""
        if moderation is not None:
            self.moderation = moderation
        if is_open is not None:
            self.open = is_open
        if stage is not None:
            if stage not in STAGES:
                raise BadMessage(f"'stage' must be one of {', '.join(STAGES)}")
            self.stage = stage

    # Reading ---------------------------------------------------------------------------

    def settings_json(self) -> Dict[str, Any]:
        return {"moderation": self.moderation, "open": self.open, "highlight": self.highlight, "stage": self.stage}

    def welcome(self, voter: Optional[str]) -> Dict[str, Any]:
        """The ``qa`` object of a ``welcome``: for a participant with ``voter``, or a presenter (None)."""
        if voter is None:
            questions = [q.to_json() for q in self.questions.values()]
        else:
            questions = [q.to_json(voter) for q in self.questions.values() if q.visible_to(voter)]
        return {**self.settings_json(), "questions": questions}

    def marks(self, voter: str) -> Dict[str, List[str]]:
        """The ids of the questions ``voter`` asked (``mine``) and upvoted, for the ``hello`` reply."""
        upvoted = self._upvoted.get(voter)
        return {
            "mine": [q.id for q in self._asked.get(voter, ())],
            "upvoted": [q.id for q in self.questions.values() if q.id in upvoted and q.visible_to(voter)] if upvoted else [],
        }

    def asked_by(self, voter: str) -> List[Question]:
        """The questions ``voter`` asked, in order."""
        return list(self._asked.get(voter, ()))

    def involves(self, voter: str) -> bool:
        """True when ``voter`` asked or upvotes a question (their welcome differs from an onlooker's)."""
        return voter in self._asked or bool(self._upvoted.get(voter))

    # The whole state -------------------------------------------------------------------

    def snapshot(self) -> Dict[str, Any]:
        return {**self.settings_json(), "questions": [q.state_json() for q in self.questions.values()]}

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> "QandA":
        """The Q&A a :meth:`snapshot` describes; raises ``KeyError``, ``TypeError`` or ``ValueError`` for bad data."""
        questions = data.get("questions", ())
        rows = [
            (
                str(q["id"]), str(q["voter"]), q["name"], str(q["text"]), q["state"], float(q["asked_at"]),
                None if q["answered_at"] is None else float(q["answered_at"]),
            )
            for q in questions
        ]
        upvotes = [(str(q["id"]), str(voter)) for q in questions for voter in q["upvoters"]]
        return cls.restore_rows(data, rows, upvotes)

    @classmethod
    def restore_rows(
        cls,
        settings: Mapping[str, Any],
        questions: Iterable[Tuple[str, str, Optional[str], str, str, float, Optional[float]]],
        upvotes: Iterable[Tuple[str, str]],
    ) -> "QandA":
        """The Q&A as a store keeps it: settings as :meth:`settings_json` gives them, questions as rows
        ``(id, voter, name, text, state, asked_at, answered_at)`` in asking order, upvotes as ``(question, voter)``.
        """
        upvoters: Dict[str, Set[str]] = {}
        for question_id, voter in upvotes:
            upvoters.setdefault(question_id, set()).add(voter)
        rows = [
            Question(qid, voter, name, text, _state(state), asked_at, answered_at, upvoters.get(qid, ()))
            for qid, voter, name, text, state, asked_at, answered_at in questions
        ]
        return cls(
            rows,
            moderation=bool(settings.get("moderation", False)),
            is_open=bool(settings.get("open", True)),
            highlight=settings.get("highlight"),
            stage=str(settings.get("stage", STAGE_POLL)),
        )


def _state(value: Any) -> str:
    if value not in STATES:
        raise ValueError(f"not a question state: {value!r}")
    return str(value)
