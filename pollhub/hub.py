"""The hub: one thread owns every poll and count, fed by one inbound queue.

This is the hub of gorilla/websocket's chat example with OS threads in place
of goroutines and a ``queue.Queue`` in place of its channels::

    read thread of client 1 ─┐                        ┌─> client 1 .send() ─> its write thread
    read thread of client 2 ─┼─> inbound queue ─> hub ┼─> client 2 .send() ─> its write thread
    Hub's Python API ────────┘   (register,    thread └─> Subscription queues (Python)
                                  unregister, votes,
                                  admin commands)

Every rule (what a vote or a presenter's command does to the polls) lives in
:class:`pollhub.book.PollBook`, which has no I/O; this module is the thread
around it: the inbound queue, batching, one commit per batch, and fan-out.
The hub thread takes one event, then every event already waiting (up to
``MAX_BATCH``), applies them in order to the book, and only then emits what they produced:
first welcomes and poll changes in the order they happened, then one
``results`` message per poll whose counts changed, then the replies to the
clients that asked (``voted``, ``ok``, ``error``), so that a client holds the
new counts by the time its vote is acknowledged. A burst of votes costs one
broadcast, not one per vote, and each broadcast is encoded once: the same bytes
go to every client.

Results are not always for everyone: a poll can keep them from participants
until they vote, until voting closes, or until a presenter reveals them. Who
may see a poll's results is decided when a batch is sent, from the state the
batch left: participants who may not get the poll without its counts and no
``results`` at all; presenters (and Python subscriptions) always get them.
While no events come, the hub thread waits for the next countdown to end (a
poll opened with ``close_after``) and closes that poll itself.

With a database, each batch is committed before its replies go out, so a
``voted`` or an ``ok`` means "on disk". A commit that fails (a full disk)
turns those replies into ``unavailable`` errors; its changes are kept and
written by the next commit that succeeds, tried again every
``RETRY_INTERVAL`` even while no events come.

With a shared log (``Hub(redis=URL, event=NAME)``, see :mod:`pollhub.cluster`)
a client's command is not applied at once: the hub thread appends the batch's
commands to the event's log, and applies them, with every other node's, when
the log's reader thread puts them back into the inbound queue; the client is
answered then, with what the log decided.

Nothing but the hub thread reads or writes polls, counts or the client set, so
none of it needs a lock. Every public method of :class:`Hub` is thread-safe.
A bug in one stage of a batch (one event, one poll's results, one client's
send) is logged and costs that item, never the hub thread; if the thread
ever ends anyway, :attr:`Hub.running` is False and every API call fails at
once with ``Unavailable``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
from typing import (
    Any, Callable, Collection, Dict, Iterator, List, Optional, Sequence, Set, Tuple, TypeVar, Union, cast
)

from . import protocol, qa, quiz, text
from .book import Effects, Entry, Expire, PollBook
from .changes import Changes
from .cluster import DEFAULT_EVENT, SharedLog, Sharing
from .errors import InternalError, Unavailable, error_from_reply
from .export import export_document
from .metrics import Counter, Gauge, Histogram, Registry
from .polls import AFTER_VOTE, QUIZ, SINGLE, Choice, Poll, PollState, check_new_poll, poll_fields
from .protocol import (
    SERVER_VOTER_PREFIX,
    VOTE_FIELDS,
    Ask,
    Command,
    CreatePoll,
    HideAnswer,
    Hello,
    Highlight,
    Message,
    OpenPoll,
    OrderPolls,
    PollAction,
    QuestionAction,
    RenameNickname,
    ResetQuiz,
    SetNickname,
    Step,
    UpdatePoll,
    Upvote,
    Vote,
    check_close_after,
)
from .qa import ANSWERED, DISMISSED, PUBLIC, PUBLISHED, WAITING, Question
from .storage import Store

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 1000  # events applied before one round of broadcasts
MAX_INBOUND = 100_000  # inbound queue size; a full queue blocks the read threads (back-pressure)
SUBMIT_POLL = 0.5  # seconds between checks that the hub still runs while the inbound queue is full
CALL_TIMEOUT = 10.0  # seconds a Python API call waits for the hub thread
STOP_TIMEOUT = 5.0  # seconds stop() waits for the hub thread
RETRY_INTERVAL = 1.0  # seconds between attempts to save after a commit failed (a full disk, say)
API_VOTER = SERVER_VOTER_PREFIX + "python"  # the voter of the Python API's admin calls
VOTE_REJECTIONS = (  # metric labels
    "unknown_poll", "unknown_option", "invalid_vote", "poll_closed", "vote_locked", "rate_limited"
)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Client:
    """What the hub needs of a client: an identity and a ``send`` that never blocks.

    ``voter`` and ``admin`` are read when the client registers and when it
    submits a command, in the submitting thread, so a change applies to the
    commands submitted after it. The hub thread keeps its own record of each
    client's voter and presenter flag, updated when it applies a ``hello``,
    and never reads these attributes itself.
    """

    voter: str = ""
    admin: bool = False

    def send(self, message: Message) -> None:
        """Queue ``message`` for delivery. Called by the hub thread; must not block."""
        raise NotImplementedError


class Subscription(Client):
    """Updates from the hub for Python code: every message a connection would get.

    Iterate over it, or call :meth:`get`, to receive the protocol's messages as
    dicts (``welcome`` first, then ``results``, ``poll``, ``current``, ...).
    Unbounded: a subscriber that never reads keeps every message.
    """

    admin = True

    def __init__(self, hub: "Hub") -> None:
        self._hub = hub
        self._queue: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self.closed = False

    def send(self, message: Message) -> None:
        self._queue.put(json.loads(message.payload))  # a copy of its own, as a connection gets

    def get(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """The next message; raises ``queue.Empty`` after ``timeout`` seconds."""
        item = self._queue.get(timeout=timeout)
        if item is None:
            self._queue.put(None)  # keep ending any other reader
            raise queue.Empty
        return item

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        """Every message until :meth:`close` or the hub stops."""
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.put(None)
                return
            yield item

    def close(self) -> None:
        """Stop receiving updates; an iteration in progress ends."""
        if not self.closed:
            self.closed = True
            self._hub._unregister_quietly(self)
            self.end()

    def end(self) -> None:
        """End every iteration over this subscription (the hub calls it when it stops)."""
        self._queue.put(None)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Caller(Client):
    """A Python API call waiting for the hub thread's one reply."""

    admin = True

    def __init__(self, voter: str) -> None:
        self.voter = voter
        self._done = threading.Event()
        self.reply: Optional[Dict[str, Any]] = None

    def send(self, message: Message) -> None:
        self.reply = message.data
        self._done.set()

    def wait(self, timeout: float) -> Dict[str, Any]:
        if not self._done.wait(timeout):
            raise Unavailable(f"the hub did not answer within {timeout} seconds")
        assert self.reply is not None
        if self.reply["type"] == "error":
            raise error_from_reply(self.reply)
        return self.reply


class _Register:
    __slots__ = ("client", "voter", "admin")

    def __init__(self, client: Client) -> None:
        self.client = client
        self.voter = client.voter  # read here, in the registering thread: the hub never reads a client's attributes
        self.admin = client.admin


class _Unregister(_Register):
    __slots__ = ()


class _Seers:
    """Who a message about one poll's results goes to, decided when the batch is sent.

    Clients that may see the poll's results get the message; the others get
    ``redacted`` (the same without results), or nothing if it is None.
    Presenters get ``presenters`` instead when it is not None (a quiz
    question with its correct options). With ``only``, just that client,
    under the same rules.
    """

    __slots__ = ("poll_id", "redacted", "only", "presenters")

    def __init__(
        self,
        poll_id: str,
        redacted: Optional[Message] = None,
        only: Optional[Client] = None,
        presenters: Optional[Message] = None,
    ) -> None:
        self.poll_id = poll_id
        self.redacted = redacted
        self.only = only
        self.presenters = presenters


class _Request:
    __slots__ = ("client", "command", "voter", "admin")

    def __init__(self, client: Client, command: Command) -> None:
        self.client = client
        self.command = command
        self.voter = client.voter  # as it is now, not when the hub thread gets to it
        self.admin = client.admin


class _Call:
    """Run ``fn`` in the hub thread and hand its result to ``caller``."""

    __slots__ = ("fn", "caller")

    def __init__(self, fn: Callable[[], Any], caller: "_Result") -> None:
        self.fn = fn
        self.caller = caller


class _Result:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: Optional[BaseException] = None


class _Entries:
    """Entries of the shared log, in order, from the reader thread: ``(stream id, Entry or None)``."""

    __slots__ = ("entries",)

    def __init__(self, entries: List[Tuple[str, Optional[Entry]]]) -> None:
        self.entries = entries


class _Restart:
    """Start again from a snapshot: this node missed entries that were trimmed."""

    __slots__ = ("book", "position")

    def __init__(self, book: PollBook, position: str) -> None:
        self.book = book
        self.position = position


_STOP = object()

#: Replies that say a change is on disk, and what a client is told instead when it is not.
_SAVED_REPLIES = {
    "voted": Unavailable("your vote was counted but could not be saved yet; please vote again"),
    "ok": Unavailable("done, but it could not be saved yet: the database cannot be written; please try again"),
    "asked": Unavailable("your question was taken but could not be saved yet; please ask again"),
    "upvoted": Unavailable("your upvote was counted but could not be saved yet; please try again"),
}


def _question_message(question: Question) -> Message:
    """A question's state as everyone who may see it gets it (a slow client keeps only the newest)."""
    return Message(protocol.question(question.to_json()), key=protocol.question_key(question.id))


def _unsaved(message: Message) -> Message:
    """``message``, unless it says something was saved: then an ``unavailable`` error with its ref."""
    error = _SAVED_REPLIES.get(message.type)
    if error is None:
        return message
    return Message(protocol.error(error, message.data.get("ref")))
Event = Union[_Register, _Request, _Call, _Entries, _Restart, object]


class HubMetrics:
    """What the hub counts, for ``/metrics``."""

    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = registry = Registry()
        self.votes_accepted = registry.add(Counter("pollhub_votes_accepted_total", "Votes counted."))
        self.votes_rejected = registry.add(
            Counter("pollhub_votes_rejected_total", "Votes refused, by reason.", "reason", VOTE_REJECTIONS)
        )
        self.questions = registry.add(Counter("pollhub_questions_asked_total", "Questions this node's clients asked."))
        self.upvotes = registry.add(Counter("pollhub_upvotes_total", "Upvotes this node's clients gave or took back."))
        self.broadcasts = registry.add(Counter("pollhub_broadcasts_total", "Messages broadcast to every client."))
        self.messages = registry.add(Counter("pollhub_messages_sent_total", "Messages the hub handed to clients."))
        registry.add(Gauge("pollhub_hub_queue_depth", "Events waiting in the hub's inbound queue.", queue_depth))
        self.batch_size = registry.add(
            Histogram("pollhub_hub_batch_size", "Events the hub thread applied together.", BATCH_BUCKETS)
        )
        self.commit_seconds = registry.add(
            Histogram("pollhub_db_commit_seconds", "Seconds to commit one batch to the database.", COMMIT_BUCKETS)
        )


class Hub:
    """The polls, their counts and the clients to tell, owned by one thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with Hub() as hub:
            poll = hub.create_poll("Lunch?", ["Pizza", "Salad"])
            hub.vote(poll.id, "pizza", voter="ann")
            hub.results(poll.id)  # {'pizza': 1, 'salad': 0}

    ``Hub()`` keeps everything in memory. ``Hub(db=PATH)`` keeps it in an
    SQLite database too (see :mod:`pollhub.storage`): :meth:`start` restores
    what was committed (raising :class:`~pollhub.storage.StorageError` for a
    file it cannot use), each batch of events is committed before its replies
    go out, so an acknowledged vote survives a crash.
    """

    def __init__(
        self,
        db: "Optional[Union[str, os.PathLike[str]]]" = None,
        *,
        redis: Optional[str] = None,
        event: str = DEFAULT_EVENT,
        durability: str = "always",
    ) -> None:
        if db is not None and redis is not None:
            raise ValueError("a hub keeps its event in a database or in Redis, not both")
        self.db_path = db
        #: This node's id: in ``/metrics`` and ``/healthz``, and on every command it appends to a shared log.
        self.node = secrets.token_hex(4)
        self.redis_url = redis
        self.event = event
        self.durability = durability
        self._store: Optional[Store] = None
        self._saved = True  # False after a commit failed, until one succeeds (see _commit)
        self._inbox: "queue.Queue[Event]" = queue.Queue(MAX_INBOUND)
        self.metrics = HubMetrics(self._inbox.qsize)
        self._thread: Optional[threading.Thread] = None
        self._running = False
        # Owned by the hub thread:
        self._limits: Dict[str, Any] = {}  # what advertise() added to the welcome's limits
        self._book = PollBook()  # the polls and every rule
        self._clients: Dict[Client, str] = {}  # each client and its voter, as of its last hello
        self._admins: Set[Client] = set()  # presenters: they see every result and the presence count
        self._presence_changed = False
        self._outbox: List[Tuple[Union[None, Client, _Seers], Message]] = []  # None: every client
        self._replies: List[Tuple[Client, Message, str]] = []  # with the voter who asked
        # What this batch changed. Its store changes are also those of earlier
        # batches whose commit failed, kept until a commit writes them.
        self._effects = Effects()
        self._unsaved_counts: Dict[str, None] = {}  # polls whose counts are not on disk yet
        # Welcomes built since the state last changed, by which polls' results
        # the newcomer may see and whose view of the Q&A it gets (None: a
        # presenter's, "": an onlooker's, else a voter's own): a burst of
        # connections encodes one welcome.
        self._welcomes: Dict[Tuple[Tuple[bool, ...], Optional[str]], Message] = {}
        # With a shared log (Redis): this node's side of it (owned by the hub thread), its log in .log.
        self._sharing: "Optional[Sharing[_Request]]" = None

    # Lifecycle ---------------------------------------------------------------------

    def start(self) -> "Hub":
        """Restore the saved state if there is a database, then start the hub thread.

        Returns the hub. Raises :class:`~pollhub.storage.StorageError` for a
        database it cannot use.
        """
        if self._thread is not None:
            raise RuntimeError("the hub is already started")
        if self.redis_url is not None:
            self._start_log(self.redis_url)
        elif self.db_path is not None:
            self._store = Store(self.db_path)
            try:
                polls, current, used_ids, qa_state, players = self._store.load()
            except BaseException:
                self._store.close()  # and its lock: this process may try again
                self._store = None
                raise
            self._book = PollBook(polls, current, used_ids, limits=self._limits, qa=qa_state, quiz=players)
        self._running = True
        self._thread = threading.Thread(target=self._run, name="pollhub-hub", daemon=True)
        self._thread.start()
        if self._sharing is not None:
            self._sharing.log.start_reading(self._sharing.position, self._deliver, self._restart)
        return self

    def _start_log(self, url: str) -> None:
        """Join the event in Redis: check it, then load the snapshot and every entry after it."""
        log = SharedLog(url, self.event, self.node, self.durability)
        try:
            log.check()
            self._book, position = log.load()
        except BaseException:
            log.stop()
            raise
        self._book.limits.update(self._limits)
        self._sharing = Sharing(log, position)
        logger.info("node %s joined event %r at log position %s", self.node, self.event, position)

    def _deliver(self, entries: List[Tuple[str, Optional[Entry]]]) -> None:
        self._put(_Entries(entries))  # the reader thread: blocks while the inbound queue is full

    def _restart(self, book: PollBook, position: str) -> None:
        self._put(_Restart(book, position))

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the hub thread after the events already queued; idempotent."""
        thread = self._thread
        if thread is None or not self._running:
            return
        self._running = False
        self._inbox.put(_STOP)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("the hub thread did not stop within %.1f seconds", timeout)
        if self._sharing is not None:
            self._sharing.log.stop()

    @property
    def saving(self) -> bool:
        """False while changes cannot be kept: the last commit failed, or Redis is out of reach."""
        return self._saved and (self._sharing is None or self._sharing.log.healthy)

    @property
    def running(self) -> bool:
        """True while the hub thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "Hub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Used by connections -----------------------------------------------------------

    def register(self, client: Client) -> None:
        """Add a client: it gets a ``welcome`` and then every broadcast."""
        self._put(_Register(client))

    def unregister(self, client: Client) -> None:
        """Remove a client; its votes stay counted."""
        self._put(_Unregister(client))

    def submit(self, client: Client, command: Command) -> None:
        """Queue a parsed protocol command; its one reply goes to ``client.send``."""
        self._put(_Request(client, command))

    def _unregister_quietly(self, client: Client) -> None:
        try:
            self.unregister(client)
        except Unavailable:
            pass

    def _put(self, event: Event) -> None:
        while self._running:
            try:
                self._inbox.put(event, timeout=SUBMIT_POLL)
                return
            except queue.Full:
                continue
        raise Unavailable("the hub is not running")

    # Python API --------------------------------------------------------------------

    def create_poll(
        self,
        question: str,
        options: Sequence[str] = (),
        kind: str = SINGLE,
        *,
        max_choices: Optional[int] = None,
        scale: Optional[Tuple[int, int]] = None,
        max_answers: Optional[int] = None,
        results: Optional[str] = None,
        changes: Optional[str] = None,
        correct: Optional[Sequence[str]] = None,
        time_limit: Optional[int] = None,
        max_ranked: Optional[int] = None,
    ) -> Poll:
        """Create a poll, open but for a quiz question; it becomes current if there is none.

        Raises ``BadMessage`` or ``TooManyPolls``.

        ``kind`` is ``single``, ``multiple`` (each voter picks up to
        ``max_choices`` options, all by default), ``counter``, ``scale``
        (``scale=(min, max)``, 1 to 5 by default; no options), ``words``
        (up to ``max_answers`` answers per voter, 3 by default; no options)
        or ``open`` (up to ``max_answers`` answers of up to 280 characters per
        voter, 1 by default; no options; the poll's ``answers`` list them,
        newest first, each with its time), ``ranking`` (each voter orders up
        to ``max_ranked`` options, all by default), or ``quiz`` (a question with
        ``correct`` options, ids or labels, and a ``time_limit`` of 5 to 300
        seconds, 20 by default: it starts closed, and :meth:`open_poll` runs
        it for that long).
        ``results`` says who sees the results (``always``, the default but
        for quizzes, ``after_vote``, ``after_close``, ``hidden``) and
        ``changes`` whether a voter may change their vote (``allowed``, the
        default, or ``locked``, which a quiz always is).
        """
        fields = poll_fields(kind, max_choices, scale, max_answers, results, changes, correct, time_limit, max_ranked)
        question, labels, settings = check_new_poll(question, options, fields)
        reply = self._request(CreatePoll(question, tuple(labels), settings))
        return self.poll(reply["poll"])

    def vote(self, poll_id: Optional[str], choice: Choice, voter: Optional[str] = None) -> Choice:
        """Count a vote once the hub thread has applied it; returns the choice as counted.

        ``poll_id`` None means the current poll. ``choice`` is an option's id
        or label, a list of them for ``multiple`` polls, a whole number for
        ``scale`` polls, one answer or a list of answers for ``words`` and ``open`` polls.
        Without a ``voter`` each call is a new anonymous voter (a random id
        starting with ``~``). Raises ``UnknownPoll``, ``UnknownOption``,
        ``InvalidVote``, ``PollClosed``, ``VoteLocked``, or ``BadMessage`` for
        a voter id that the protocol would refuse.
        """
        reply = self._request(Vote(choice, poll_id), voter=self._voter(voter))
        return cast(Choice, next(reply[name] for name in VOTE_FIELDS if name in reply))

    def open_poll(self, poll_id: str, close_after: Optional[float] = None) -> None:
        """Open a poll for voting; with ``close_after``, close it after that many seconds.

        Raises ``UnknownPoll``, or ``BadMessage`` for a ``close_after`` out of range.
        """
        self._request(OpenPoll(poll_id, check_close_after(close_after)))

    def close_poll(self, poll_id: str) -> None:
        """Close a poll for voting (ending any countdown); its counts stay. Raises ``UnknownPoll``."""
        self._request(PollAction("close", poll_id))

    def reset_poll(self, poll_id: str) -> None:
        """Forget every vote of a poll. Raises ``UnknownPoll``."""
        self._request(PollAction("reset", poll_id))

    def delete_poll(self, poll_id: str) -> None:
        """Delete a poll; if it was current, there is no current poll. Raises ``UnknownPoll``."""
        self._request(PollAction("delete", poll_id))

    def set_current(self, poll_id: str) -> None:
        """Make a poll the current one. Raises ``UnknownPoll``."""
        self._request(PollAction("set_current", poll_id))

    def update_poll(self, poll_id: str, results: Optional[str] = None, changes: Optional[str] = None) -> None:
        """Change who sees a poll's results (which also takes back a reveal) and whether votes can change.

        Raises ``UnknownPoll`` or ``BadMessage``.
        """
        self._request(UpdatePoll(poll_id, results, changes))

    def reveal_poll(self, poll_id: str) -> None:
        """Show a poll's results to everyone now, whatever its ``results`` setting. Raises ``UnknownPoll``."""
        self._request(PollAction("reveal", poll_id))

    def hide_answer(self, poll_id: str, text: str) -> None:
        """Leave an answer of a ``words`` or ``open`` poll out of its results from now on.

        Raises ``UnknownPoll``, or ``BadMessage`` if the poll is not a words or open poll.
        """
        self._request(HideAnswer(poll_id, text))

    def order_polls(self, poll_ids: Sequence[str]) -> None:
        """Put the polls in a new order: ``poll_ids`` lists every poll's id once. Raises ``BadMessage``."""
        self._request(OrderPolls(tuple(poll_ids)))

    def next_poll(self) -> Optional[str]:
        """Make the next poll in the order current (the first if none is); returns the current poll's id."""
        return cast(Optional[str], self._request(Step(1))["poll"])

    def previous_poll(self) -> Optional[str]:
        """Make the previous poll in the order current (the last if none is); returns the current poll's id."""
        return cast(Optional[str], self._request(Step(-1))["poll"])

    # Audience Q&A (the rules are in pollhub.qa) ---------------------------------------

    def ask(self, text: str, name: Optional[str] = None, voter: Optional[str] = None) -> Dict[str, Any]:
        """Ask a question for the audience Q&A; returns it as its asker sees it (``id``, ``state``, ...).

        Without a ``voter``, a new anonymous voter asks. Raises
        ``BadQuestion``, ``DuplicateQuestion``, ``TooManyQuestions``,
        ``QAClosed``, or ``BadMessage`` for a voter id the protocol refuses.
        """
        command = Ask(qa.check_text(text), qa.check_name(name))
        return cast(Dict[str, Any], self._request(command, voter=self._voter(voter))["question"])

    def upvote(self, question_id: str, voter: Optional[str] = None) -> int:
        """Upvote a published question as ``voter`` (a new anonymous one without); returns its upvotes.

        Upvoting again changes nothing. Raises ``UnknownQuestion``, ``OwnQuestion`` or ``QuestionAnswered``.
        """
        return cast(int, self._request(Upvote(question_id, True), voter=self._voter(voter))["upvotes"])

    def unvote(self, question_id: str, voter: str) -> int:
        """Take back ``voter``'s upvote of a question; returns its upvotes. Raises ``UnknownQuestion``."""
        return cast(int, self._request(Upvote(question_id, False), voter=self._voter(voter))["upvotes"])

    def approve_question(self, question_id: str) -> None:
        """Publish a question (one waiting for moderation, or one answered or dismissed). Raises ``UnknownQuestion``."""
        self._request(QuestionAction(PUBLISHED, question_id))

    def dismiss_question(self, question_id: str) -> None:
        """Hide a question from participants (it stays in the export). Raises ``UnknownQuestion``."""
        self._request(QuestionAction(DISMISSED, question_id))

    def answer_question(self, question_id: str) -> None:
        """Mark a question answered (participants see it apart). Raises ``UnknownQuestion``."""
        self._request(QuestionAction(ANSWERED, question_id))

    def highlight_question(self, question_id: Optional[str]) -> None:
        """Put a question on the stage (approving it if it waits), or none with None.

        Raises ``UnknownQuestion``, or ``BadMessage`` for an answered or dismissed question.
        """
        self._request(Highlight(question_id))

    def qa_settings(
        self, moderation: Optional[bool] = None, open: Optional[bool] = None, stage: Optional[str] = None
    ) -> Dict[str, Any]:
        """Change the Q&A settings given and return them all (``moderation``, ``open``, ``highlight``, ``stage``).

        ``moderation`` True keeps new questions waiting for a presenter's
        approval; ``open`` False takes no new questions (upvotes go on);
        ``stage`` is what the projector view shows, ``poll`` or ``qa``.
        With no argument, only returns them. Raises ``BadMessage``.
        """
        if not (moderation is None and open is None and stage is None):
            self._request(protocol.check_qa_settings(moderation, open, stage))
        return self._call(self._book.qa.settings_json)

    def questions(self) -> List[Dict[str, Any]]:
        """Every question as presenters see it (waiting and dismissed ones too), in the order asked."""
        return self._call(lambda: [question.to_json() for question in self._book.qa.questions.values()])

    @staticmethod
    def _voter(voter: Optional[str]) -> str:
        """A voter id for the Python API: ``voter`` checked, or a new anonymous one."""
        return SERVER_VOTER_PREFIX + secrets.token_hex(16) if voter is None else protocol.check_voter(voter)

    # Quizzes (nicknames and the leaderboard are in pollhub.quiz) ----------------------------

    def set_nickname(self, nickname: str, voter: str) -> str:
        """Give ``voter`` the nickname it plays quizzes under; returns it normalised.

        Raises ``BadNickname``, or ``NicknameTaken`` (its ``details["suggestion"]`` is free).
        """
        command = SetNickname(quiz.check_nickname(nickname))
        return cast(str, self._request(command, voter=self._voter(voter))["nickname"])

    def rename_nickname(self, nickname: str, new: str) -> str:
        """A presenter's change of a participant's nickname; returns the new one. Raises ``BadNickname`` or ``NicknameTaken``."""
        return cast(str, self._request(RenameNickname(nickname, quiz.check_nickname(new)))["nickname"])

    def reveal_answer(self, poll_id: str) -> None:
        """Show a closed quiz question's correct options to everyone; its points join the leaderboard.

        Raises ``UnknownPoll``, or ``BadMessage`` for a poll that is not a quiz question or still runs.
        """
        self._request(PollAction("reveal_answer", poll_id))

    def reset_quiz(self) -> None:
        """Forget every quiz question's answers and reveals (nicknames stay): the quiz can run again."""
        self._request(ResetQuiz())

    def leaderboard(self) -> List[Dict[str, Any]]:
        """Everyone with a nickname, ranked: ``{"rank", "nickname", "score"}``, equal scores sharing a rank."""
        return self._call(
            lambda: [
                {"rank": s.rank, "nickname": s.nickname, "score": s.total}
                for s in self._book.quiz.standings(self._book.polls.values())
            ]
        )

    # Reading -------------------------------------------------------------------------

    def results(self, poll_id: Optional[str] = None) -> Dict[str, int]:
        """``{option id: count}`` for a poll (the current one by default)."""
        return dict(self.poll(poll_id).counts)

    def poll(self, poll_id: Optional[str] = None) -> Poll:
        """A snapshot of a poll (the current one by default). Raises ``UnknownPoll``."""
        return self._call(lambda: self._book.find(poll_id).snapshot(time.time()))

    def polls(self) -> List[Poll]:
        """Snapshots of every poll, in the presenter's order (creation order unless reordered)."""
        return self._call(lambda: [p.snapshot(time.time()) for p in self._book.polls.values()])

    def export(self) -> Dict[str, Any]:
        """The results export of every poll (:func:`pollhub.export.export_document`), built in the hub thread.

        Complete results, every words answer included; raises ``Unavailable`` when the hub does not answer.
        """
        return self._call(self._export)

    def _export(self) -> Dict[str, Any]:
        book = self._book
        return export_document(book.polls.values(), book.current, time.time(), book.qa.questions.values(), book.quiz)

    @property
    def current(self) -> Optional[str]:
        """The id of the current poll, or None."""
        return self._call(lambda: self._book.current)

    def client_count(self) -> int:
        """How many clients (connections and subscriptions) are registered."""
        return self._call(lambda: len(self._clients))

    def participant_count(self) -> int:
        """How many registered clients are participants (not presenters or subscriptions)."""
        return self._call(lambda: len(self._clients) - len(self._admins))

    def advertise(self, **limits: Any) -> None:
        """Add server limits (``vote_rate=20``, say) to the ``limits`` every ``welcome`` carries.

        For the pages' forms and hints: a server sets what it enforces.
        """
        self._limits.update(limits)
        if self.running:
            self._call(lambda: self._book.limits.update(limits))
        else:
            self._book.limits.update(limits)

    def subscribe(self) -> Subscription:
        """Receive every broadcast as a dict, starting with a ``welcome``."""
        subscription = Subscription(self)
        self.register(subscription)
        return subscription

    def _request(self, command: Command, voter: str = API_VOTER) -> Dict[str, Any]:
        caller = _Caller(voter)
        self.submit(caller, command)
        return caller.wait(CALL_TIMEOUT)

    def _call(self, fn: Callable[[], T]) -> T:
        result = _Result()
        self._put(_Call(fn, result))
        if not result.done.wait(CALL_TIMEOUT):
            raise Unavailable(f"the hub did not answer within {CALL_TIMEOUT} seconds")
        if result.error is not None:
            raise result.error
        return cast(T, result.value)

    # The hub thread ----------------------------------------------------------------

    def _run(self) -> None:
        """The hub thread: take a batch, apply it, commit it, send what it produced; until stop()."""
        stopping = False
        try:
            while not stopping:
                batch = self._next_batch()
                for event in batch:
                    if event is _STOP:
                        stopping = True
                    else:
                        self._apply_safely(event)
                if self._sharing is not None:
                    self._guarded("appending to the shared log", self._share)
                elif self._book.deadlines:
                    self._guarded("closing polls whose countdown ended", self._close_expired)
                if batch:
                    self.metrics.batch_size.observe(len(batch))
                self._flush()
                self._welcomes.clear()  # they carry this batch's seq and countdowns
        except BaseException:  # only a bug in the loop itself gets here: say so, loudly, and stop
            logger.critical("the hub thread stopped on an unexpected error", exc_info=True)
        finally:
            self._running = False  # API calls and read threads fail fast from now on
            self._guarded("answering the events still queued", self._fail_pending)
            if self._store is not None:
                self._guarded("closing the database", self._store.close)
            logger.debug("hub thread stopped")

    def _next_batch(self) -> List[Event]:
        """The next event (waiting until a countdown ends or a save is due), then every event already queued."""
        timeout = self._until_deadline() if self._sharing is None else self._sharing.until_due(self._book)
        if not self._saved:
            timeout = RETRY_INTERVAL if timeout is None else min(timeout, RETRY_INTERVAL)
        inbox = self._inbox
        try:
            batch = [inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(batch) < MAX_BATCH:
            try:
                batch.append(inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _guarded(self, stage: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Run one stage of a batch; a bug in it is logged, and the hub thread goes on. False if it raised."""
        try:
            fn(*args)
            return True
        except Exception:
            logger.exception("hub: unexpected error %s", stage)
            return False

    def _apply_safely(self, event: Event) -> None:
        try:
            self._apply(event)
        except Exception:  # a bug must not take the hub thread down with it
            logger.exception("hub: unexpected error applying %s", text.escape(repr(event)))
            if isinstance(event, _Request):
                internal = InternalError("internal error: the server's log says more")
                self._reply(event, protocol.error(internal, event.command.ref))

    def _reply(self, request: _Request, data: Dict[str, Any]) -> None:
        self._replies.append((request.client, Message(data), request.voter))

    def _apply(self, event: Event) -> None:
        if self._welcomes and not isinstance(event, _Register):  # (nor _Unregister): anything else may change a poll
            self._welcomes.clear()
        if isinstance(event, _Request) and self._sharing is not None and not isinstance(event.command, Hello):
            self._sharing.add(event)  # applied when the log gives it back, like every node's
        elif isinstance(event, _Entries):
            self._apply_entries(event.entries)
        elif isinstance(event, _Restart):
            self._restart_from(event.book, event.position)
        elif isinstance(event, _Request):
            command, now = event.command, time.time()
            reply, effects = self._book.apply(command, voter=event.voter, admin=event.admin, now=now, effects=self._effects)
            self._count_vote(command, reply)
            if isinstance(command, Hello) and reply["type"] == "hello":
                self._hello(event, now)
            if effects.broadcasts:
                self._queue_broadcasts()
            self._reply(event, reply)
        elif isinstance(event, _Unregister):
            self._clients.pop(event.client, None)
            self._admins.discard(event.client)
            self._presence_changed = True
        elif isinstance(event, _Register):
            self._clients[event.client] = event.voter
            if event.admin:
                self._admins.add(event.client)
            self._presence_changed = True
            self._outbox.append((event.client, self._welcome(event.client)))
        elif isinstance(event, _Call):
            try:
                event.caller.value = event.fn()
            except Exception as exc:
                event.caller.error = exc
            event.caller.done.set()

    def _count_vote(self, command: Command, reply: Dict[str, Any]) -> None:
        """``/metrics``: a vote this node's client sent, counted or refused (by reason); a question; an upvote."""
        if isinstance(command, Vote):
            if reply["type"] == "error":
                self.metrics.votes_rejected.inc(label=reply["code"])
            else:
                self.metrics.votes_accepted.inc()
        elif reply["type"] == "asked":
            self.metrics.questions.inc()
        elif reply["type"] == "upvoted":
            self.metrics.upvotes.inc()

    def _queue_broadcasts(self) -> None:
        """Queue the messages the book's last commands produced, in order, encoded once each."""
        for poll_id, data, redacted, presenters in self._effects.broadcasts:
            if poll_id is None:
                self._outbox.append((None, Message(data)))
            else:  # a poll's full state: results queued before it must not jump over it
                seal = protocol.results_key(poll_id)
                audience = _Seers(
                    poll_id,
                    Message(redacted, seal=seal) if redacted is not None else None,
                    presenters=Message(presenters, seal=seal) if presenters is not None else None,
                )
                self._outbox.append((audience, Message(data, seal=seal)))
        self._effects.broadcasts.clear()

    def _welcome(self, client: Client) -> Message:
        """The ``welcome`` for ``client``: every poll, with results where it may see them, and the Q&A."""
        sees = tuple(self._sees(client, poll) for poll in self._book.polls.values())
        view: Optional[str] = None
        if client not in self._admins:
            voter = self._clients.get(client, "")
            view = voter if self._book.qa.involves(voter) else ""
        message = self._welcomes.get((sees, view))
        if message is None:
            welcome = self._book.welcome(sees, time.time(), voter=view)
            message = self._welcomes[sees, view] = Message(welcome)
        return message

    def _hello(self, request: _Request, now: float) -> None:
        """After a hello: the client's new voter and presenter flag, and the results it may now see."""
        client, voter = request.client, request.voter
        if client in self._clients:
            self._clients[client] = voter
        promoted = request.admin and client not in self._admins
        if promoted:
            self._admins.add(client)
            self._presence_changed = True
        for poll in self._book.polls.values():
            hidden_answer = poll.kind == QUIZ and not poll.answer_revealed  # its correct options: presenters only
            if promoted and (hidden_answer or not poll.results_public):
                full = Message(protocol.poll(poll.to_json(True, now)), seal=protocol.results_key(poll.id))
                self._outbox.append((client, full))
            elif not request.admin and not poll.results_public and poll.visible_to(voter):
                full = Message(protocol.poll(poll.to_json(True, now, presenter=False)), seal=protocol.results_key(poll.id))
                self._outbox.append((_Seers(poll.id, only=client), full))
        # The questions it may now see that a participant's welcome left out:
        # every one for a new presenter, its own waiting ones for a voter.
        qa = self._book.qa
        if promoted:
            hidden = [q for q in qa.questions.values() if q.state not in PUBLIC]
        else:
            hidden = [q for q in qa.asked_by(voter) if q.state == WAITING] if not request.admin else []
        self._outbox.extend((client, _question_message(question)) for question in hidden)

    def _until_deadline(self) -> Optional[float]:
        """Seconds until the next countdown ends (None: no countdown runs)."""
        deadline = self._book.next_deadline()
        return None if deadline is None else max(0.0, deadline - time.time())

    def _close_expired(self) -> None:
        self._welcomes.clear()
        for poll_id in self._book.close_expired(time.time(), self._effects):
            logger.info("poll %s: countdown over, voting closed", text.escape(poll_id))
        self._queue_broadcasts()

    # With a shared log ---------------------------------------------------------------

    def _share(self) -> None:
        """After a batch: append its commands (and countdown closes), heartbeat, snapshot; answer what failed."""
        assert self._sharing is not None
        refused, presence = self._sharing.after_batch(self._book, len(self._clients) - len(self._admins))
        for request, error in refused:
            self._reply(request, protocol.error(error, request.command.ref))
        self._presence_changed |= presence

    def _apply_entries(self, entries: List[Tuple[str, Optional[Entry]]]) -> None:
        """Apply entries of the shared log in order; answer this node's own clients' commands."""
        assert self._sharing is not None
        for position, entry in entries:
            request = self._sharing.claim(position, entry)
            if entry is None:
                continue
            if request is not None:
                entry = entry._replace(command=request.command)  # the same, with its sender's ref
            reply = self._book.apply_entry(entry, self._effects)
            if self._effects.broadcasts:
                self._queue_broadcasts()
            if request is not None and reply is not None:
                self._count_vote(request.command, reply)
                self._reply(request, reply)
            if isinstance(entry.command, Expire) and reply is not None and reply.get("poll"):
                logger.info("poll %s: countdown over, voting closed", text.escape(entry.command.poll))

    def _restart_from(self, book: PollBook, position: str) -> None:
        """Take a snapshot's state (this node missed trimmed entries): everyone gets a new welcome."""
        assert self._sharing is not None
        book.limits.update(self._limits)
        self._book = book
        self._sharing.restart(position)
        self._effects = Effects()
        self._outbox.clear()
        self._welcomes.clear()
        for client in self._clients:
            self._outbox.append((client, self._welcome(client)))

    def _sees(self, client: Client, poll: Optional[PollState]) -> bool:
        """True when ``client`` may see ``poll``'s results (presenters always may)."""
        return client in self._admins or (poll is not None and poll.visible_to(self._clients.get(client, "")))

    def _commit(self) -> bool:
        """Commit what is not saved yet, if there is a database; False if that failed.

        After a failure the changes are kept, merged with the next batches'
        and retried with them (and every ``RETRY_INTERVAL`` while nothing
        else happens), after :meth:`Store.recover`; so a ballot that could
        not be saved stays unsaved in the hub's eyes until a commit writes it.
        """
        store = self._store
        if store is None:
            self._effects.store.clear()  # nothing keeps them: without this, memory grew with every ballot
            return True
        unsaved = self._effects.store
        self._unsaved_counts.update(self._effects.results)
        if not (unsaved or self._unsaved_counts):
            return True
        if not self._saved:
            store.recover()
        started = time.perf_counter()
        polls = [self._book.polls[poll_id] for poll_id in self._unsaved_counts if poll_id in self._book.polls]
        try:
            store.save(unsaved, polls)
        except (sqlite3.OperationalError, OSError) as exc:  # a full, read-only or vanished disk: retried
            if self._saved:
                logger.error("could not save to %s: %s; retrying every %g s", store.path, exc, RETRY_INTERVAL)
            self._saved = False
            return False
        except Exception as exc:  # something in the batch the database refuses: never retry it as a whole
            logger.error("could not save to %s: %s; saving item by item", store.path, exc)
            self._save_item_by_item(store, polls)
            return False
        finally:
            self.metrics.commit_seconds.observe(time.perf_counter() - started)
        if not self._saved:
            logger.warning("saving to %s again", store.path)
        self._saved = True
        unsaved.clear()
        self._unsaved_counts.clear()
        return True

    def _save_item_by_item(self, store: Store, polls: List[PollState]) -> None:
        """Save each change of a batch that failed as a whole on its own, dropping those the database refuses.

        One bad item must not keep the others off the disk batch after batch.
        The batch's replies still say it was not saved (the caller returns
        False): a voter who votes again is then answered from the disk. If
        the disk itself fails meanwhile, what is left waits for the retry.
        """
        unsaved = self._effects.store
        pending: List[Tuple[str, Any]] = [("op", op) for op in unsaved.ops]
        pending += [("ballot", b) for b in unsaved.ballots.items()]
        pending += [("upvote", u) for u in unsaved.upvotes.items()]
        pending.append(("counts", None))
        for index, (what, item) in enumerate(pending):
            changes = Changes()
            if what == "op":
                changes.ops.append(item)
            elif what == "ballot":
                changes.ballots[item[0]] = item[1]
            elif what == "upvote":
                changes.upvotes[item[0]] = item[1]
            try:
                store.save(changes, polls if what == "counts" else [])
            except (sqlite3.OperationalError, OSError) as exc:
                logger.error("could not save to %s: %s; retrying every %g s", store.path, exc, RETRY_INTERVAL)
                self._saved = False
                left = pending[index:]
                unsaved.ops = [op for kind, op in left if kind == "op"]
                unsaved.ballots = dict(b for kind, b in left if kind == "ballot")
                unsaved.upvotes = dict(u for kind, u in left if kind == "upvote")
                return
            except Exception as exc:
                logger.error("dropped a change the database refuses (%s): %s", exc, text.escape(repr(item)))
        unsaved.clear()
        self._unsaved_counts.clear()

    def _flush(self) -> None:
        """Commit the batch, then send what it produced: changes, results, replies.

        One results message goes out per poll whose counts changed. If the
        commit failed, ``voted`` and ``ok`` replies become ``unavailable``
        errors: those two mean "saved". Each stage is guarded: a bug in one
        poll's results or one client's send costs that item, not the batch.
        """
        try:
            saved = self._commit()
        except Exception:
            logger.exception("hub: unexpected error committing")
            saved = False
        self._guarded("building results", self._queue_results)
        self._guarded("building question changes", self._queue_questions)
        self._guarded("building the quiz's changes", self._queue_quiz)
        self._guarded("building the presence count", self._queue_presence)
        outbox, self._outbox = self._outbox, []
        replies, self._replies = self._replies, []
        if not saved:
            replies = [(client, _unsaved(message), voter) for client, message, voter in replies]
        outbox.extend((client, message) for client, message, _ in replies)
        broken: List[Client] = []
        for audience, message in outbox:
            try:
                if isinstance(audience, _Seers):
                    self._send_to_seers(audience, message, broken)
                elif audience is None:
                    self.metrics.broadcasts.inc()
                    self._send(self._clients, message, broken)
                else:
                    self._send((audience,), message, broken)
            except Exception:
                logger.exception("hub: unexpected error sending %s", text.escape(repr(message)))
        for client in broken:
            self._clients.pop(client, None)
        self._admins.difference_update(broken)

    def _queue_results(self) -> None:
        """One ``results`` message for each poll whose counts changed in this batch."""
        for poll_id, results in self._book.results(self._effects):
            self._outbox.append((_Seers(poll_id), Message(results, key=protocol.results_key(poll_id))))

    def _queue_questions(self) -> None:
        """One ``question`` message for each question that changed in this batch, to whoever may see it.

        Published and answered questions go to everyone: in one ``questions``
        message when there are several (a client gets one frame per batch,
        not one per question), else as a ``question``. A waiting one goes to
        presenters and the clients of the voter who asked it; a dismissed
        one to presenters, while participants are told to drop it. Then the
        Q&A settings, if they changed.
        """
        questions, settings = self._book.qa_changes(self._effects)
        public = [question for question in questions if question.state in PUBLIC]
        if len(public) == 1:
            self._outbox.append((None, _question_message(public[0])))
        elif public:
            self._outbox.append((None, Message(protocol.questions([q.to_json() for q in public]))))
        for question in questions:
            if question.state in PUBLIC:
                continue
            message = _question_message(question)
            removed = Message(protocol.question_removed(question.id), key=protocol.question_key(question.id))
            for client, voter in self._clients.items():
                if client in self._admins or (question.state == WAITING and voter == question.voter):
                    self._outbox.append((client, message))
                elif question.state == DISMISSED:
                    self._outbox.append((client, removed))
        if settings is not None:
            self._outbox.append((None, Message(settings)))

    def _queue_quiz(self) -> None:
        """The quiz's leaderboard when it changed; after a reveal, each participant's own score; renames."""
        board, scores, renamed = self._book.quiz_changes(self._effects)
        if board is not None:
            self._outbox.append((None, Message(board, key="leaderboard")))
        if scores:
            made: Dict[str, Message] = {}  # one encoding per voter, however many connections it has
            for client, voter in self._clients.items():
                if voter in scores and client not in self._admins:
                    message = made.get(voter)
                    if message is None:
                        message = made[voter] = Message(scores[voter])
                    self._outbox.append((client, message))
        for voter, nickname in renamed:
            told = Message(protocol.nickname(nickname, renamed=True))
            self._outbox.extend((client, told) for client, owner in self._clients.items() if owner == voter)

    def _queue_presence(self) -> None:
        """The number of participants, to presenters, when it changed."""
        if self._presence_changed and self._admins:
            elsewhere = 0 if self._sharing is None else self._sharing.elsewhere
            participants = len(self._clients) - len(self._admins) + elsewhere
            presence = Message(protocol.presence(participants), key="presence")
            self._outbox.extend((admin, presence) for admin in self._admins)
        self._presence_changed = False

    def _send_to_seers(self, audience: _Seers, message: Message, broken: List[Client]) -> None:
        poll = self._book.polls.get(audience.poll_id)
        voters = self._clients
        clients: Collection[Client] = voters.keys() if audience.only is None else {audience.only} & voters.keys()
        if audience.only is None:
            self.metrics.broadcasts.inc()
        admins = self._admins
        if audience.presenters is not None:  # presenters get their own version; the rules below are for the others
            self._send([client for client in clients if client in admins], audience.presenters, broken)
            clients = [client for client in clients if client not in admins]
        if poll is not None and poll.results_public:
            self._send(clients, message, broken)
            return
        # Not public: presenters see it, and for after_vote polls, whoever voted.
        voted = poll.ballots if poll is not None and poll.settings.results == AFTER_VOTE else {}
        seers: List[Client] = []
        others: List[Client] = []
        for client in clients:
            (seers if client in admins or voters[client] in voted else others).append(client)
        self._send(seers, message, broken)
        if audience.redacted is not None:
            self._send(others, audience.redacted, broken)

    def _send(self, clients: Collection[Client], message: Message, broken: List[Client]) -> None:
        """``message`` to each of ``clients``: the hot loop of every broadcast."""
        self.metrics.messages.inc(len(clients))
        for client in clients:
            try:
                client.send(message)
            except Exception:  # a broken client must not take the hub thread down
                logger.exception("hub: dropping client %r, its send() failed", client)
                broken.append(client)

    def _fail_pending(self) -> None:
        """After the hub thread's last batch: answer whatever is still queued."""
        stopped = Unavailable("the hub has stopped")
        waiting = self._sharing.drain() if self._sharing is not None else []
        for request in waiting:
            self._guarded("answering a request", request.client.send, Message(protocol.error(stopped, request.command.ref)))
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, _Request):
                self._guarded("answering a request", event.client.send, Message(protocol.error(stopped, event.command.ref)))
            elif isinstance(event, _Call):
                event.caller.error = stopped
                event.caller.done.set()
        for client in list(self._clients):
            if isinstance(client, Subscription):
                client.end()
