"""The PollBook: every poll of an event and every rule that decides a command, with no I/O.

The book holds the polls (in the presenter's order), their ballots and
counts, the current poll, countdown deadlines, reveals, hidden answers,
the results' sequence number and the audience Q&A (``book.qa``, a
:class:`~pollhub.qa.QandA`). :meth:`PollBook.apply` takes one protocol
command with who sent it (``voter``, ``admin``) and the time (``now``), and
returns the reply for the sender and the :class:`Effects`: which polls'
results and which questions changed, which messages every client must get, and what the store
must save. Nothing here reads a clock, starts a thread or touches a socket
or a file: the hub thread (:mod:`pollhub.hub`) drives the book and does the
I/O, the way :mod:`pollhub.frames` parses frames that a connection reads.

So the book is deterministic: from the same state, the same commands with
the same ``voter``, ``admin`` and ``now`` give the same replies, effects and
state, on any machine. :meth:`PollBook.snapshot` captures that state as
JSON-serialisable data (versioned) and :meth:`PollBook.restore` rebuilds a
book that goes on exactly like the original.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union

from . import protocol
from .changes import Changes
from .errors import BadMessage, BadNickname, Forbidden, NicknameRequired, PollhubError, TooManyPolls, UnknownPoll
from .polls import (
    ALWAYS, LOCKED, MAX_POLLS, QUIZ, QUIZ_TIME_DEFAULT, Choice, PollState, answer_key, check_update, unique_slug
)
from .protocol import (
    Ask,
    Command,
    CreatePoll,
    HideAnswer,
    Hello,
    Highlight,
    OpenPoll,
    OrderPolls,
    PollAction,
    QASettings,
    QuestionAction,
    RenameNickname,
    ResetQuiz,
    SetNickname,
    Step,
    UpdatePoll,
    Upvote,
    Vote,
)
from .qa import QandA, Question
from .quiz import Players

SNAPSHOT_VERSION = 4  # 2 added "applied", 3 the Q&A ("qa"), 4 quizzes ("quiz"); older snapshots are still read


class Expire(NamedTuple):
    """Close ``poll`` if its countdown is still the one that ends at ``closes_at``: a shared log's countdown close.

    Any node may append one when it sees the deadline pass, so several may
    land: the first closes the poll, the others find no such countdown and
    change nothing.
    """

    poll: str
    closes_at: float


class Entry(NamedTuple):
    """One command of a shared log, with who sent it and when the log took it.

    ``origin`` and ``number`` identify the entry: the node that appended it,
    and that node's count of entries. ``now`` is the log's time for it (not
    a node's clock), so that every book applies it at the same time.
    """

    origin: str
    number: int
    voter: str
    admin: bool
    command: "Union[Command, Expire]"
    now: float

#: One message every client must get: ``(poll_id, data, redacted, presenters)``.
#: For a poll's full state, ``poll_id`` names it, ``redacted`` is the same
#: state without results, for the clients that may not see them, and
#: ``presenters`` (when not None) what presenters get instead of ``data``: a
#: quiz question with its correct options before they are revealed.
#: Otherwise the three are None and ``data`` goes to everyone as it is.
Broadcast = Tuple[Optional[str], Dict[str, Any], Optional[Dict[str, Any]], Optional[Dict[str, Any]]]


class Effects:
    """What applying commands changed: results to send, messages to broadcast, changes to save.

    The hub passes one to :meth:`PollBook.apply` for a whole batch, so a
    burst of votes adds to one set of results rather than making one each.
    """

    __slots__ = ("results", "questions", "qa_settings", "revealed", "leaderboard", "renamed", "broadcasts", "store")

    def __init__(self) -> None:
        self.results: Dict[str, None] = {}  # polls whose results changed, in order
        self.questions: Dict[str, None] = {}  # questions that changed (asked, upvoted, moderated), in order
        self.qa_settings = False  # whether the Q&A settings changed
        self.revealed: Optional[str] = None  # the quiz question whose answer was just revealed: scores to send
        self.leaderboard = False  # whether the quiz's leaderboard changed
        self.renamed: List[Tuple[str, str]] = []  # (voter, nickname) a presenter gave
        self.broadcasts: List[Broadcast] = []
        self.store = Changes()


class PollBook:
    """The state of one event and its rules. Not thread-safe: one thread drives it (the hub's).

    ``polls`` and ``current`` may be read (not changed) by that thread, for
    fan-out: who may see which results is the hub's concern, decided from
    the polls' :meth:`~pollhub.polls.PollState.visible_to`.
    """

    def __init__(
        self,
        polls: Iterable[PollState] = (),
        current: Optional[str] = None,
        used_ids: Iterable[str] = (),
        seq: int = 0,
        limits: Optional[Mapping[str, Any]] = None,
        applied: Optional[Mapping[str, int]] = None,
        qa: Optional[QandA] = None,
        quiz: Optional[Players] = None,
    ) -> None:
        #: What ``welcome`` tells clients of the limits: the protocol's, and
        #: what the server adds (its vote rate). Configuration, not state: not
        #: in the snapshot.
        self.limits: Dict[str, Any] = {**protocol.LIMITS, **(limits or {})}
        self.polls: Dict[str, PollState] = {poll.id: poll for poll in polls}
        self.current = current
        self.used_ids: Set[str] = set(used_ids) | set(self.polls)
        self.seq = seq  # commands applied that changed some poll's results
        self.applied: Dict[str, int] = dict(applied or {})  # log entry origin -> the highest number applied
        self.qa = QandA() if qa is None else qa  # the audience's questions (see pollhub.qa)
        self.quiz = Players() if quiz is None else quiz  # nicknames and the leaderboard (see pollhub.quiz)
        self._changed_results = False  # whether the command being applied changed some results
        # poll id -> when its countdown closes it (the clock of the ``now`` arguments)
        self.deadlines: Dict[str, float] = {
            poll.id: poll.closes_at for poll in self.polls.values() if poll.open and poll.closes_at is not None
        }

    # Applying commands -------------------------------------------------------------

    def apply(
        self, command: Command, *, voter: str, admin: bool, now: float, effects: Optional[Effects] = None
    ) -> Tuple[Dict[str, Any], Effects]:
        """Apply ``command`` sent by ``voter`` (a presenter if ``admin``) at time ``now``.

        Returns the reply for the sender (``voted``, ``ok``, ``hello`` or
        ``error``, carrying the command's ``ref``) and the effects, added to
        ``effects`` if one is given. A refused command changes nothing and
        its reply is an ``error``; nothing else is ever raised for a
        protocol command.
        """
        if effects is None:
            effects = Effects()
        self._changed_results = False
        try:
            reply = self._apply(command, voter, admin, now, effects)
        except PollhubError as exc:
            reply = protocol.error(exc, command.ref)
        if self._changed_results:
            self.seq += 1
        return reply, effects

    def apply_entry(self, entry: "Entry", effects: Effects) -> Optional[Dict[str, Any]]:
        """Apply one entry of a log that several books share (see :mod:`pollhub.cluster`).

        Returns the reply for the command's sender, or None when the entry's
        id was applied before: an append that a client library retried after
        a lost answer lands twice, and only its first copy counts. Entry ids
        are ``(origin, number)`` with numbers rising per origin, so the book
        keeps the highest number applied per origin (in the snapshot too).
        """
        if entry.number <= self.applied.get(entry.origin, 0):
            return None
        self.applied[entry.origin] = entry.number
        command = entry.command
        if isinstance(command, Expire):
            if self.deadlines.get(command.poll) != command.closes_at:
                return protocol.ok(None)  # that countdown ended already, or was stopped: the first close won
            self._changed_results = False
            self._close(self.polls[command.poll], entry.now, effects)
            if self._changed_results:
                self.seq += 1
            return protocol.ok(command.poll)
        return self.apply(command, voter=entry.voter, admin=entry.admin, now=entry.now, effects=effects)[0]

    def _apply(self, command: Command, voter: str, admin: bool, now: float, effects: Effects) -> Dict[str, Any]:
        if isinstance(command, Vote):
            poll = self.find(command.poll)
            if poll.kind == QUIZ and voter not in self.quiz.nicknames:
                raise NicknameRequired("pick a nickname first: a quiz's answers go on its leaderboard")
            ballot, changed = poll.vote(voter, command.choice, now)
            if changed:
                self._results_changed(poll.id, effects)
                effects.store.ballot(poll.id, voter, ballot)
            return protocol.voted(poll.id, poll.kind, poll.choice_json(ballot), command.ref)
        if isinstance(command, Hello):
            reply = protocol.hello_reply(voter, admin, self.choices(voter), command.ref)
            reply["qa"] = self.qa.marks(voter)
            reply["nickname"] = self.quiz.nicknames.get(voter)
            reply["score"] = self.quiz.me(voter, list(self.polls.values()))
            return reply
        if isinstance(command, SetNickname):
            nickname, changed = self.quiz.set(voter, command.nickname)
            if changed:
                effects.store.nickname(voter, nickname)
                self._leaderboard_changed(effects)
            return protocol.nickname(nickname, ref=command.ref)
        if isinstance(command, Ask):
            question = self.qa.ask(voter, command.text, command.name, now)
            effects.store.question(question)
            effects.questions[question.id] = None
            return protocol.asked(question.to_json(voter), command.ref)
        if isinstance(command, Upvote):
            question, changed = self.qa.upvote(voter, command.question, command.upvoted)
            if changed:
                effects.store.upvote(question.id, voter, command.upvoted)
                effects.questions[question.id] = None
            return protocol.upvoted(question.id, voter in question.upvoters, question.upvotes, command.ref)
        if not admin:
            raise Forbidden("admin messages need a hello with the admin token first")
        if isinstance(command, (QuestionAction, Highlight, QASettings)):
            return protocol.ok_question(self._moderate(command, now, effects), command.ref)
        if isinstance(command, RenameNickname):
            return protocol.nickname(self._rename(command.nickname, command.to, effects), ref=command.ref)
        if isinstance(command, ResetQuiz):
            self._reset_quiz(now, effects)
            return protocol.ok(None, command.ref)
        if isinstance(command, CreatePoll):
            return protocol.ok(self._create(command, now, effects).id, command.ref)
        if isinstance(command, OrderPolls):
            self._order(command.polls, effects)
            return protocol.ok(None, command.ref)
        if isinstance(command, Step):
            return protocol.ok(self._step(command.by, effects), command.ref)
        poll = self.find(command.poll)
        if isinstance(command, PollAction):
            self._poll_action(command.action, poll, now, effects)
        elif isinstance(command, OpenPoll):
            self._open(poll, command.close_after, now, effects)
        elif isinstance(command, UpdatePoll):
            if poll.kind == QUIZ and command.changes not in (None, LOCKED):
                raise BadMessage(f"quiz question {poll.id!r} takes one answer per participant: its changes stay locked")
            poll.settings = check_update(poll.settings, command.results, command.changes)
            if command.results is not None:
                poll.revealed = False
            self._settings_changed(poll, now, effects)
        elif isinstance(command, HideAnswer):
            if not poll.rules.hides_answers:
                raise BadMessage(f"poll {poll.id!r} has no answers to hide: only words and open polls do")
            if poll.hide(command.text):
                effects.store.hidden(poll.id, answer_key(command.text))
                self._results_changed(poll.id, effects)
        return protocol.ok(poll.id, command.ref)

    def _moderate(self, command: "Union[QuestionAction, Highlight, QASettings]", now: float, effects: Effects) -> Optional[str]:
        """A presenter's Q&A command; returns the id of the question it concerns (None for settings)."""
        qa = self.qa
        before = qa.settings_json()
        changed: Optional[Question] = None
        question_id: Optional[str] = None
        if isinstance(command, QuestionAction):
            question, moved = qa.set_state(command.question, command.state, now)
            changed, question_id = (question if moved else None), question.id
        elif isinstance(command, Highlight):
            changed, question_id = qa.highlight_question(command.question), command.question
        else:
            qa.settings(command.moderation, command.open, command.stage)
        if changed is not None:
            effects.store.question_state(changed)
            effects.questions[changed.id] = None
        if qa.settings_json() != before:
            effects.store.qa_settings(qa.moderation, qa.open, qa.highlight, qa.stage)
            effects.qa_settings = True
        return question_id

    def close_expired(self, now: float, effects: Effects) -> List[str]:
        """Close every poll whose countdown ended by ``now``; returns their ids."""
        closed = [poll_id for poll_id, closes_at in self.deadlines.items() if closes_at <= now]
        self._changed_results = False
        for poll_id in closed:
            self._close(self.polls[poll_id], now, effects)
        if self._changed_results:
            self.seq += 1
        return closed

    def expired(self, now: float) -> List["Expire"]:
        """The countdowns that ended by ``now``, as the commands that close their polls (for a shared log)."""
        return [Expire(poll_id, closes_at) for poll_id, closes_at in self.deadlines.items() if closes_at <= now]

    def results(self, effects: Effects) -> List[Tuple[str, Dict[str, Any]]]:
        """One ``results`` message per poll whose results changed in ``effects``, with the current ``seq``.

        Empties ``effects.results``. ``seq`` counts the commands that changed
        some poll's results, so it depends on the commands alone, never on
        how they were batched: every book that applied the same commands
        sends the same counts with the same ``seq``.
        """
        changed, effects.results = effects.results, {}
        return [
            (poll_id, protocol.results(poll_id, self.polls[poll_id].results(), self.seq))
            for poll_id in changed
            if poll_id in self.polls
        ]

    # Reading -----------------------------------------------------------------------

    def find(self, poll_id: Optional[str]) -> PollState:
        """A poll by id (None: the current poll). Raises ``UnknownPoll``."""
        if poll_id is None:
            if self.current is None:
                raise UnknownPoll("there is no current poll")
            poll_id = self.current
        try:
            return self.polls[poll_id]
        except KeyError:
            raise UnknownPoll(f"there is no poll {poll_id!r}") from None

    def choices(self, voter: str) -> Dict[str, Choice]:
        """``voter``'s choice in every poll it voted in, as the ``voted`` reply gives it."""
        return {p.id: p.choice_json(p.ballots[voter]) for p in self.polls.values() if voter in p.ballots}

    def next_deadline(self) -> Optional[float]:
        """When the next countdown ends (None: none runs)."""
        return min(self.deadlines.values()) if self.deadlines else None

    def welcome(self, sees: Sequence[bool], now: float, voter: Optional[str] = None) -> Dict[str, Any]:
        """The ``welcome`` for a client that may see the results of the polls where ``sees`` is True.

        Its ``qa`` holds the questions participant ``voter`` may see, marked
        with theirs and their upvotes; with ``voter`` None, every question
        (a presenter's).
        """
        presenter = voter is None
        polls = [poll.to_json(seen, now, presenter) for poll, seen in zip(self.polls.values(), sees)]
        welcome = protocol.welcome(self.current, polls, self.limits)
        welcome["seq"] = self.seq
        welcome["qa"] = self.qa.welcome(voter)
        welcome["quiz"] = self.quiz.leaderboard(list(self.polls.values()))
        return welcome

    def qa_changes(self, effects: Effects) -> Tuple[List[Question], Optional[Dict[str, Any]]]:
        """The questions that changed in ``effects``, and the ``qa`` settings message if they changed.

        Empties both from ``effects``. Like results, a question upvoted a
        hundred times in one batch is one change. The settings come after
        the questions: a highlight names a question its clients hold.
        """
        changed, effects.questions = effects.questions, {}
        questions = [self.qa.questions[question_id] for question_id in changed if question_id in self.qa.questions]
        settings = protocol.qa_settings(self.qa.settings_json()) if effects.qa_settings else None
        effects.qa_settings = False
        return questions, settings

    # The whole state ---------------------------------------------------------------

    def snapshot(self) -> Dict[str, Any]:
        """The whole state as JSON-serialisable data; :meth:`restore` rebuilds the book exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "polls": [poll.state() for poll in self.polls.values()],
            "current": self.current,
            "used_ids": sorted(self.used_ids),
            "seq": self.seq,
            "applied": dict(sorted(self.applied.items())),
            "qa": self.qa.snapshot(),
            "quiz": self.quiz.snapshot(),
        }

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> "PollBook":
        """The book a :meth:`snapshot` describes. Raises ``ValueError`` for another version or bad data."""
        if data.get("version") not in range(1, SNAPSHOT_VERSION + 1):
            raise ValueError(f"a PollBook snapshot of version {data.get('version')!r}; this one reads 1 to {SNAPSHOT_VERSION}")
        try:
            polls = [PollState.from_state(poll) for poll in data["polls"]]
            applied = {str(origin): int(number) for origin, number in data.get("applied", {}).items()}
            qa = QandA.restore(data.get("qa", {}))
            quiz = Players.restore(data.get("quiz", {}))
            return cls(polls, data["current"], data["used_ids"], int(data["seq"]), applied=applied, qa=qa, quiz=quiz)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a PollBook snapshot: {exc!r}") from None

    # The rules ---------------------------------------------------------------------

    def _create(self, command: CreatePoll, now: float, effects: Effects) -> PollState:
        if len(self.polls) >= MAX_POLLS:
            raise TooManyPolls(f"an event holds at most {MAX_POLLS} polls: delete one first")
        poll_id = unique_slug(command.question, self.used_ids, fallback="poll")
        poll = PollState(poll_id, command.question, command.options, command.settings)
        if poll.kind == QUIZ:
            poll.open = False  # a quiz question runs when a presenter opens it: that starts its timer
        self.polls[poll_id] = poll
        self.used_ids.add(poll_id)
        effects.store.created(poll)
        if not poll.open:
            effects.store.opened(poll.id, False, None)
        self._broadcast_poll(poll, now, effects)
        if self.current is None:
            self._set_current(poll_id, effects)
        return poll

    def _results_changed(self, poll_id: str, effects: Effects) -> None:
        effects.results[poll_id] = None
        self._changed_results = True

    def _set_current(self, poll_id: Optional[str], effects: Effects) -> None:
        self.current = poll_id
        effects.store.current(poll_id)
        effects.broadcasts.append((None, protocol.current(poll_id), None, None))

    def _poll_action(self, action: str, poll: PollState, now: float, effects: Effects) -> None:
        if action == "set_current":
            self._set_current(poll.id, effects)
        elif action == "delete":
            if poll.answer_revealed:
                self._leaderboard_changed(effects)
            del self.polls[poll.id]
            self.deadlines.pop(poll.id, None)
            effects.results.pop(poll.id, None)
            effects.store.deleted(poll.id)
            effects.broadcasts.append((None, protocol.deleted(poll.id), None, None))
            if self.current == poll.id:
                self._set_current(None, effects)
        elif action == "close":
            self._close(poll, now, effects)
        elif action == "reveal":
            poll.revealed = True
            self._settings_changed(poll, now, effects)
        elif action == "reveal_answer":
            self._reveal_answer(poll, now, effects)
        elif action == "reset":
            if poll.answer_revealed:
                self._unreveal(poll, effects)
            poll.reset()
            effects.store.reset(poll.id)
            self._results_changed(poll.id, effects)
            self._broadcast_poll(poll, now, effects)

    def _open(self, poll: PollState, close_after: Optional[float], now: float, effects: Effects) -> None:
        if poll.kind == QUIZ:
            if poll.ballots or poll.answer_revealed or poll.open:
                raise BadMessage(f"quiz question {poll.id!r} ran already: reset it (or the quiz) to run it again")
            close_after = float(poll.settings.time_limit or QUIZ_TIME_DEFAULT)
        poll.open = True
        poll.closes_at = None if close_after is None else now + close_after
        if poll.closes_at is None:
            self.deadlines.pop(poll.id, None)
        else:
            self.deadlines[poll.id] = poll.closes_at
        effects.store.opened(poll.id, True, poll.closes_at)
        self._open_changed(poll, now, effects)

    def _close(self, poll: PollState, now: float, effects: Effects) -> None:
        poll.open = False
        poll.closes_at = None
        self.deadlines.pop(poll.id, None)
        effects.store.opened(poll.id, False, None)
        self._open_changed(poll, now, effects)

    def _open_changed(self, poll: PollState, now: float, effects: Effects) -> None:
        self._broadcast_poll(poll, now, effects)
        if poll.settings.results != ALWAYS:  # closing shows after_vote and after_close results
            self._results_changed(poll.id, effects)

    def _settings_changed(self, poll: PollState, now: float, effects: Effects) -> None:
        """After a reveal or an update: save, tell everyone, and send the results to whoever may now see them."""
        effects.store.settings(poll.id, poll.settings, poll.revealed)
        self._broadcast_poll(poll, now, effects)
        self._results_changed(poll.id, effects)

    def _order(self, poll_ids: Sequence[str], effects: Effects) -> None:
        if len(set(poll_ids)) != len(poll_ids) or set(poll_ids) != set(self.polls):
            raise BadMessage("'polls' must list every poll id once")
        self.polls = {poll_id: self.polls[poll_id] for poll_id in poll_ids}
        effects.store.order(poll_ids)
        effects.broadcasts.append((None, protocol.order(list(poll_ids)), None, None))

    def _step(self, by: int, effects: Effects) -> Optional[str]:
        order = list(self.polls)
        if not order:
            raise UnknownPoll("there are no polls")
        if self.current is None:
            target = order[0] if by > 0 else order[-1]
        else:
            target = order[max(0, min(len(order) - 1, order.index(self.current) + by))]
        if target != self.current:
            self._set_current(target, effects)
        return target

    # Quizzes ---------------------------------------------------------------------------

    def _reveal_answer(self, poll: PollState, now: float, effects: Effects) -> None:
        """Show a closed quiz question's correct options to everyone; its points join the leaderboard."""
        if poll.kind != QUIZ:
            raise BadMessage(f"poll {poll.id!r} is not a quiz question: it has no answer to reveal")
        if poll.open:
            raise BadMessage(f"quiz question {poll.id!r} is still running: reveal its answer once it closed")
        if poll.answer_revealed:
            return
        poll.answer_revealed = 1 + max(p.answer_revealed for p in self.polls.values())
        effects.store.quiz_reveal(poll.id, poll.answer_revealed)
        self._broadcast_poll(poll, now, effects)
        effects.revealed = poll.id
        self._leaderboard_changed(effects)

    def _unreveal(self, poll: PollState, effects: Effects) -> None:
        poll.answer_revealed = 0
        effects.store.quiz_reveal(poll.id, 0)
        self._leaderboard_changed(effects)

    def _reset_quiz(self, now: float, effects: Effects) -> None:
        """Every quiz question back to not run: no answers, closed, not revealed. Nicknames stay."""
        for poll in self.polls.values():
            if poll.kind != QUIZ:
                continue
            if poll.answer_revealed:
                self._unreveal(poll, effects)
            poll.reset()
            effects.store.reset(poll.id)
            self._results_changed(poll.id, effects)
            if poll.open:
                self._close(poll, now, effects)
            else:
                self._broadcast_poll(poll, now, effects)
        self._leaderboard_changed(effects)

    def _leaderboard_changed(self, effects: Effects) -> None:
        self.quiz.forget_standings()  # they are computed again when next asked for
        effects.leaderboard = True

    def _rename(self, nickname: str, new: str, effects: Effects) -> str:
        """A presenter's rename of the participant whose nickname is ``nickname``; returns the new one."""
        voter = self.quiz.owner(nickname)
        if voter is None:
            raise BadNickname(f"no participant has the nickname {nickname[:40]!r}")
        new, changed = self.quiz.set(voter, new)
        if changed:
            effects.store.nickname(voter, new)
            effects.renamed.append((voter, new))
            self._leaderboard_changed(effects)
        return new

    def quiz_changes(self, effects: Effects) -> Tuple[Optional[Dict[str, Any]], Dict[str, Dict[str, Any]], List[Tuple[str, str]]]:
        """What a batch changed in the quiz, for the hub to send; empties it from ``effects``.

        Returns the ``leaderboard`` message if it changed, each participant's
        ``score`` message (by voter) if an answer was revealed, and the
        nicknames presenters gave as ``(voter, nickname)``.
        """
        polls = list(self.polls.values())
        board = None
        if effects.leaderboard:
            board = protocol.leaderboard(effects.revealed, self.quiz.leaderboard(polls))
        scores: Dict[str, Dict[str, Any]] = {}
        revealed = self.polls.get(effects.revealed) if effects.revealed is not None else None
        if revealed is not None and revealed.answer_revealed:
            scores = self.quiz.scores(revealed, polls)
        renamed, effects.renamed = effects.renamed, []
        effects.leaderboard, effects.revealed = False, None
        return board, scores, renamed

    def _broadcast_poll(self, poll: PollState, now: float, effects: Effects) -> None:
        """A poll's full state, the same without results for those who may not see them, and presenters' own."""
        hides_answer = poll.kind == QUIZ and not poll.answer_revealed
        effects.broadcasts.append(
            (
                poll.id,
                protocol.poll(poll.to_json(True, now, presenter=False)),
                protocol.poll(poll.to_json(False, now, presenter=False)),
                protocol.poll(poll.to_json(True, now)) if hides_answer else None,
            )
        )
