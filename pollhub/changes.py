"""What a batch of commands changed, as the store must save it: pure, no I/O.

:class:`~pollhub.book.PollBook` records its changes here as it applies
commands; :meth:`pollhub.storage.Store.save` writes them in one transaction.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from .polls import Ballot, PollState, Settings

if TYPE_CHECKING:  # pragma: no cover
    from .qa import Question


class Changes:
    """What one batch of the hub changed; the hub thread fills it.

    Operations are kept in order. Ballots are kept apart, the last one per
    voter and poll, and written after the operations: a voter who votes fifty
    times in a batch costs one row. A reset or a delete drops the poll's
    ballots gathered before it. Upvotes of questions are kept the same way:
    the last word per question and voter (True: upvoted, False: taken back).
    """

    def __init__(self) -> None:
        self.ops: List[Tuple[Any, ...]] = []
        self.ballots: Dict[Tuple[str, str], Ballot] = {}
        self.upvotes: Dict[Tuple[str, str], bool] = {}

    def created(self, poll: PollState) -> None:
        options = [(o.id, o.label) for o in poll.options]
        self.ops.append(("create", poll.id, poll.question, poll.kind, settings_json(poll.settings), options))

    def ballot(self, poll_id: str, voter: str, ballot: Ballot) -> None:
        self.ballots[poll_id, voter] = ballot

    def opened(self, poll_id: str, is_open: bool, closes_at: Optional[float]) -> None:
        self.ops.append(("open", poll_id, is_open, closes_at))

    def settings(self, poll_id: str, settings: Settings, revealed: bool) -> None:
        self.ops.append(("settings", poll_id, settings_json(settings), revealed))

    def hidden(self, poll_id: str, answer_key: str) -> None:
        self.ops.append(("hide", poll_id, answer_key))

    def reset(self, poll_id: str) -> None:
        self._drop_ballots(poll_id)
        self.ops.append(("reset", poll_id))

    def deleted(self, poll_id: str) -> None:
        self._drop_ballots(poll_id)
        self.ops.append(("delete", poll_id))

    def current(self, poll_id: Optional[str]) -> None:
        self.ops.append(("current", poll_id))

    def order(self, poll_ids: Sequence[str]) -> None:
        self.ops.append(("order", list(poll_ids)))

    # Audience Q&A (see pollhub.qa) ---------------------------------------------------

    def question(self, question: "Question") -> None:
        """A new question, as it was asked."""
        q = question
        self.ops.append(("question", q.id, q.voter, q.name, q.text, q.state, q.asked_at))

    def question_state(self, question: "Question") -> None:
        """A question approved, dismissed or answered."""
        self.ops.append(("question_state", question.id, question.state, question.answered_at))

    def upvote(self, question_id: str, voter: str, upvoted: bool) -> None:
        self.upvotes[question_id, voter] = upvoted

    def qa_settings(self, moderation: bool, is_open: bool, highlight: Optional[str], stage: str) -> None:
        self.ops.append(("qa_settings", moderation, is_open, highlight, stage))

    # Quizzes (see pollhub.quiz) ------------------------------------------------------

    def nickname(self, voter: str, nickname: str) -> None:
        """A participant's nickname, new or changed."""
        self.ops.append(("nickname", voter, nickname))

    def quiz_reveal(self, poll_id: str, order: int) -> None:
        """A quiz question's answer revealed as the ``order``-th (0: taken back by a reset)."""
        self.ops.append(("quiz_reveal", poll_id, order))

    def _drop_ballots(self, poll_id: str) -> None:
        self.ballots = {key: ballot for key, ballot in self.ballots.items() if key[0] != poll_id}

    def __bool__(self) -> bool:
        return bool(self.ops or self.ballots or self.upvotes)

    def clear(self) -> None:
        self.ops.clear()
        self.ballots.clear()
        self.upvotes.clear()


def settings_json(settings: Settings) -> str:
    """A poll's settings as the compact JSON text the database keeps."""
    return json.dumps(settings.to_json(), separators=(",", ":"))
