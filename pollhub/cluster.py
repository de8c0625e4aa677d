"""Several pollhub nodes, one event: a shared, ordered, durable log of commands in Redis.

Every node is a whole pollhub (its hub thread, its connections' read and
write threads, its one inbound queue). What they share is the event's log,
a Redis Stream: a node's hub thread appends the commands of each batch
(``XADD``, one pipeline per batch), and a reader thread per node reads the
stream (``XREAD BLOCK``) into that node's inbound queue. Every hub applies
the same entries in the same order to its :class:`~pollhub.book.PollBook`,
at the time Redis gave each entry (its stream id), so every node holds the
same polls, counts and ``seq``; the PollBook's determinism is what makes
this work, and every rule stays in Python, in the book.

A node answers its own client (``voted``, ``ok``, ``error``) when it applies
that client's entry: the answer says what the log decided. With Redis run
with ``appendonly yes`` and ``appendfsync always``, an entry is on disk
before Redis answers the ``XADD``, so an acknowledged vote survives a crash
of any node and of Redis. Entries carry an id (the node and its count of
entries) that the book applies once: a client library that retries an
append after a lost answer may land it twice.

Keys, with one hash tag per event so that an event lives in one Redis
Cluster slot:

``pollhub:{EVENT}:log``
    the stream of commands
``pollhub:{EVENT}:snapshot``
    a hash: ``position`` (the id of the last entry the snapshot holds),
    ``book`` (:meth:`PollBook.snapshot` as JSON) and ``trimmed`` (every
    entry before it is gone); written every ``SNAPSHOT_EVERY`` entries,
    newer snapshots only, and the stream is trimmed behind the previous one
``pollhub:{EVENT}:nodes`` and ``pollhub:{EVENT}:node:ID``
    each node's participant count, refreshed every ``HEARTBEAT_INTERVAL``
    and expiring after ``NODE_TTL``: the presenter's count is their sum
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from typing import Any, Callable, Dict, Generic, List, Optional, Protocol, Sequence, Tuple, Type, TypeVar, Union

from .book import Effects, Entry, Expire, PollBook
from .errors import PollhubError, Unavailable
from .polls import Settings
from .protocol import (
    SERVER_VOTER_PREFIX,
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

logger = logging.getLogger(__name__)

DEFAULT_EVENT = "default"
DURABILITIES = ("always", "none")  # --redis-durability: refuse a Redis that may lose acknowledged writes, or accept it
EVENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")

READ_BLOCK = 0.5  # seconds one XREAD waits for new entries
READ_COUNT = 1000  # entries one XREAD returns at most
CATCH_UP_COUNT = 10_000  # entries read at once while a starting node catches up
SOCKET_TIMEOUT = 2.0  # seconds a Redis command may take before the connection counts as broken
CONNECT_TIMEOUT = 1.0  # seconds to connect to Redis
RECONNECT_MIN = 0.1  # seconds before the first attempt to reconnect, doubled after each failure...
RECONNECT_MAX = 2.0  # ...up to this (each wait with jitter: a random half to all of it)
GAP_CHECK_INTERVAL = 5.0  # seconds between checks that nothing this node had not read was trimmed
HEARTBEAT_INTERVAL = 2.0  # seconds between a node's reports of its participant count
NODE_TTL = 6.0  # seconds after its last report that a node no longer counts (a dead node drops out)
SNAPSHOT_EVERY = 10_000  # entries between snapshots...
SNAPSHOT_INTERVAL = 1.0  # ...and at least this many seconds...
SNAPSHOT_COST_FACTOR = 10  # ...and at least this many times as long as writing the last one took
SNAPSHOT_LOCK = 30.0  # seconds one node has to write a snapshot before another may
CONFIRM_TIMEOUT = 10.0  # seconds an appended command may take to come back from the log before "unavailable"
EXPIRE_RETRY = 2.0  # seconds before a node appends a countdown's close again if it has not come back
SHARED_VOTER = SERVER_VOTER_PREFIX + "node"  # the sender of the commands a node appends itself (countdown closes)

_ZERO = "0-0"

# Newer snapshots only; then trim the stream behind the snapshot it replaces,
# so a node a little behind still finds its next entries. Stream ids compared
# as numbers (milliseconds, then sequence).
_SAVE_SNAPSHOT = """
local function id(text)
  local ms, seq = string.match(text, "^(%d+)-(%d+)$")
  return tonumber(ms), tonumber(seq)
end
local old = redis.call("HGET", KEYS[1], "position")
if old then
  local old_ms, old_seq = id(old)
  local new_ms, new_seq = id(ARGV[1])
  if new_ms < old_ms or (new_ms == old_ms and new_seq <= old_seq) then
    return 0
  end
end
redis.call("HSET", KEYS[1], "position", ARGV[1], "book", ARGV[2])
if old then
  redis.call("XTRIM", KEYS[2], "MINID", old)
  redis.call("HSET", KEYS[1], "trimmed", old)
end
return 1
"""


class ClusterError(PollhubError):
    """Redis cannot hold this event: unreachable at start, not durable enough, or a bad URL or event name."""

    code = "unavailable"


def check_event(name: str) -> str:
    """An event name: 1 to 64 letters, digits, ``_``, ``.`` or ``-``. Raises ``ClusterError``."""
    if not isinstance(name, str) or not EVENT_NAME.fullmatch(name):
        raise ClusterError(f"an event name is 1 to 64 letters, digits, '_', '.' or '-', not {name!r}")
    return name


def redact(url: str) -> str:
    """``url`` with its password (``redis://user:PASSWORD@host``) replaced by ``***``."""
    return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)


def stream_id(text: str) -> Tuple[int, int]:
    """A stream id (``"1700000000000-3"``) as numbers that compare in stream order."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


# Commands in the log -----------------------------------------------------------------

_COMMANDS = {
    cls.__name__: cls
    for cls in (
        Vote, CreatePoll, PollAction, OpenPoll, UpdatePoll, HideAnswer, OrderPolls, Step,
        Ask, Upvote, QuestionAction, Highlight, QASettings, SetNickname, RenameNickname, ResetQuiz,
    )
}


def encode_command(command: Union[Command, Expire]) -> str:
    """A command as the log keeps it: its type and fields as JSON, without the sender's ``ref``."""
    if isinstance(command, Hello):
        raise ValueError("a hello changes nothing: it is never in the log")
    if isinstance(command, Expire):
        return json.dumps(["Expire", [command.poll, command.closes_at]], separators=(",", ":"))
    fields: List[Any] = list(command[:-1])  # every command ends with its ref
    if isinstance(command, CreatePoll):
        fields = [command.question, list(command.options), {"kind": command.settings.kind, **command.settings.to_json()}]
    return json.dumps([type(command).__name__, fields], separators=(",", ":"), ensure_ascii=False)


def decode_command(text: str) -> Union[Command, Expire]:
    """The command :func:`encode_command` wrote. Raises ``ValueError`` for anything else."""
    try:
        name, fields = json.loads(text)
        if name == "Expire":
            return Expire(str(fields[0]), float(fields[1]))
        if name == "CreatePoll":
            return CreatePoll(str(fields[0]), tuple(fields[1]), Settings.from_json(fields[2]))
        if name == "OrderPolls":
            return OrderPolls(tuple(fields[0]))
        return _COMMANDS[name](*fields)
    except (TypeError, KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a command of the log: {exc!r}") from None


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogatepass")


def decode_entry(entry_id: bytes, fields: Dict[bytes, bytes]) -> Tuple[str, Optional[Entry]]:
    """A stream entry as ``(id, Entry)``; the Entry is None (and logged) if it cannot be read."""
    position = _text(entry_id)
    try:
        entry = Entry(
            origin=_text(fields[b"o"]),
            number=int(fields[b"n"]),
            voter=_text(fields[b"v"]),
            admin=fields[b"a"] == b"1",
            command=decode_command(_text(fields[b"c"])),
            now=stream_id(position)[0] / 1000,
        )
    except (KeyError, ValueError) as exc:  # written by something else: every node skips it alike
        logger.error("skipping log entry %s that is not a pollhub command: %s", position, exc)
        return position, None
    return position, entry


def _entry_fields(origin: str, number: int, voter: str, admin: bool, command: Union[Command, Expire]) -> Dict[str, Any]:
    return {
        "o": origin,
        "n": number,
        "v": voter.encode("utf-8", "surrogatepass"),
        "a": "1" if admin else "0",
        "c": encode_command(command).encode("utf-8", "surrogatepass"),
    }


#: What a node appends: ``(number, voter, admin, command)``.
Outgoing = Tuple[int, str, bool, Union[Command, Expire]]
#: What the reader hands the hub: entries with their stream ids (an Entry is None where one cannot be read)...
Delivery = Callable[[List[Tuple[str, Optional[Entry]]]], None]
#: ...or, when entries it had not read were trimmed, the newest snapshot and its position to start again from.
Restart = Callable[[PollBook, str], None]


class SharedLog:
    """One event's log in Redis, as one node uses it.

    The hub thread calls :meth:`append`, :meth:`heartbeat` and
    :meth:`save_snapshot` (one connection, its own); the reader thread,
    started by :meth:`start_reading`, reads on another and hands entries to
    the hub's inbound queue. :attr:`healthy` is False while either cannot
    reach Redis. ``stop()`` ends the reader thread and takes this node out
    of the participant count.
    """

    def __init__(self, url: str, event: str = DEFAULT_EVENT, node: str = "", durability: str = "always") -> None:
        try:
            import redis
        except ImportError:
            raise ClusterError("--redis needs the redis package: pip install 'pollhub[redis]'") from None
        if durability not in DURABILITIES:
            raise ClusterError(f"durability is one of {', '.join(DURABILITIES)}, not {durability!r}")
        self.url = url
        self.shown_url = redact(url)  # for messages and logs: never the password
        self.event = check_event(event)
        self.node = node
        self.durability = durability
        prefix = f"pollhub:{{{event}}}:"
        self.log_key = prefix + "log"
        self.snapshot_key = prefix + "snapshot"
        self.nodes_key = prefix + "nodes"
        self.node_prefix = prefix + "node:"
        self.lock_key = prefix + "snapshot-lock"
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._writer: Any = self._connect(redis)  # redis-py may retry its commands: appends carry ids for that
        self._reader_client: Any = self._connect(redis, retry=Retry(NoBackoff(), 0))  # the read loop reconnects itself
        self._save_snapshot = self._writer.register_script(_SAVE_SNAPSHOT)
        self._errors: Tuple[Type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)
        self.writer_ok = True
        self.reader_ok = True
        self._reader: Optional[threading.Thread] = None
        self._stopping = threading.Event()  # set by stop(), from an ordinary thread (never a signal handler)

    def _connect(self, redis: Any, **options: Any) -> Any:
        try:
            return redis.Redis.from_url(  # RESP2: the replies' shapes are the same in every redis-py from 5 on
                self.url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT, protocol=2, **options
            )
        except ValueError as exc:
            raise ClusterError(f"not a Redis URL: {exc}") from None

    @property
    def healthy(self) -> bool:
        """True while both this node's connections reach Redis."""
        return self.writer_ok and self.reader_ok

    # At start ----------------------------------------------------------------------

    def check(self) -> None:
        """Reach Redis and check that it keeps what it acknowledges. Raises ``ClusterError``."""
        import redis

        try:
            self._writer.ping()
        except self._errors as exc:
            raise ClusterError(f"cannot reach Redis at {self.shown_url}: {exc}") from None
        except redis.RedisError as exc:
            raise ClusterError(f"Redis at {self.shown_url} refused: {exc}") from None
        if self.durability == "none":
            return
        try:
            config = self._writer.config_get("append*")
        except redis.RedisError as exc:
            raise ClusterError(
                f"cannot read the configuration of Redis at {self.shown_url} ({exc}) to check that it is durable;"
                " pass --redis-durability none to run without that check"
            ) from None
        config = {_text(k) if isinstance(k, bytes) else str(k): _text(v) if isinstance(v, bytes) else str(v) for k, v in config.items()}
        appendonly, appendfsync = config.get("appendonly", ""), config.get("appendfsync", "")
        if appendonly != "yes" or appendfsync != "always":
            raise ClusterError(
                f"Redis at {self.shown_url} may lose votes it acknowledged (appendonly {appendonly}, appendfsync {appendfsync}):"
                " run it with 'appendonly yes' and 'appendfsync always' (in redis.conf, or CONFIG SET),"
                " or pass --redis-durability none to accept losing the last second of votes in a crash"
            )

    def load(self) -> Tuple[PollBook, str]:
        """The event as the log holds it: the newest snapshot and every entry after it, applied.

        Returns the book and the id of the last entry it holds. Raises
        ``ClusterError`` if Redis cannot be read or holds what this version
        cannot read.
        """
        try:
            book, position = self._snapshot(self._writer)
            while True:
                batch = self._writer.xrange(self.log_key, min="(" + position, count=CATCH_UP_COUNT)
                if not batch:
                    return book, position
                entries = [decode_entry(entry_id, fields) for entry_id, fields in batch]
                apply_entries(book, entries)
                position = entries[-1][0]
        except self._errors as exc:
            raise ClusterError(f"cannot read the event from Redis at {self.shown_url}: {exc}") from None

    def _snapshot(self, client: Any) -> Tuple[PollBook, str]:
        position, data = client.hmget(self.snapshot_key, ["position", "book"])
        if position is None or data is None:
            return PollBook(), _ZERO
        try:
            return PollBook.restore(json.loads(data)), _text(position)
        except ValueError as exc:
            raise ClusterError(f"the event's snapshot in Redis cannot be read: {exc}") from None

    # The hub thread ----------------------------------------------------------------

    def append(self, commands: Sequence[Outgoing]) -> bool:
        """Append ``commands`` in order, in one round trip; False (logged) if Redis did not take them.

        True means Redis acknowledged every one (and, run durably, wrote it
        to disk). False: some or none may have landed; the reader applies
        whatever did, and the book applies each once.
        """
        try:
            pipe = self._writer.pipeline(transaction=False)
            for number, voter, admin, command in commands:
                pipe.xadd(self.log_key, _entry_fields(self.node, number, voter, admin, command))
            pipe.execute()
        except self._errors as exc:
            if self.writer_ok:
                logger.warning("cannot append to the event's log in Redis at %s: %s", self.shown_url, exc)
            self.writer_ok = False
            return False
        if not self.writer_ok:
            logger.warning("appending to the event's log in Redis again")
        self.writer_ok = True
        return True

    def heartbeat(self, participants: int) -> Optional[Dict[str, int]]:
        """Report this node's participant count; returns every live node's (this one's included).

        Raises nothing: with Redis out of reach it returns None (the hub keeps the counts it had).
        """
        try:
            pipe = self._writer.pipeline(transaction=False)
            pipe.set(self.node_prefix + self.node, participants, px=int(NODE_TTL * 1000))
            pipe.sadd(self.nodes_key, self.node)
            pipe.smembers(self.nodes_key)
            nodes = sorted(_text(n) for n in pipe.execute()[2])
            counts = self._writer.mget([self.node_prefix + n for n in nodes]) if nodes else []
            dead = [n for n, count in zip(nodes, counts) if count is None]
            if dead:
                self._writer.srem(self.nodes_key, *dead)
            return {n: int(count) for n, count in zip(nodes, counts) if count is not None}
        except self._errors as exc:
            logger.debug("heartbeat failed: %s", exc)
            return None

    def save_snapshot(self, book: PollBook, position: str) -> bool:
        """Write ``book`` (which holds every entry up to ``position``) unless a newer snapshot is there.

        One node at a time writes (a lock in Redis); the others skip. Trims
        the stream behind the snapshot this one replaces. True if written.
        """
        try:
            if not self._writer.set(self.lock_key, self.node, nx=True, px=int(SNAPSHOT_LOCK * 1000)):
                return False
            try:
                data = json.dumps(book.snapshot(), separators=(",", ":"), ensure_ascii=False)
                written = self._save_snapshot(keys=[self.snapshot_key, self.log_key], args=[position, data.encode("utf-8", "surrogatepass")])
            finally:
                self._writer.delete(self.lock_key)
        except self._errors as exc:
            logger.warning("could not write a snapshot of the event to Redis: %s", exc)
            return False
        if written:
            logger.info("snapshot of the event written at %s", position)
        return bool(written)

    # The reader thread -------------------------------------------------------------

    def start_reading(self, position: str, deliver: Delivery, restart: Restart) -> None:
        """Start the reader thread: entries after ``position`` go to ``deliver``, in order.

        If entries this node has not read were trimmed (it was away longer
        than the stream keeps them), it loads the newest snapshot and calls
        ``restart`` with it instead, then goes on after it.
        """
        self._reader = threading.Thread(
            target=self._read_loop, args=(position, deliver, restart), name="pollhub-log-reader", daemon=True
        )
        self._reader.start()

    def _read_loop(self, position: str, deliver: Delivery, restart: Restart) -> None:
        """The reader thread: XREAD BLOCK in a loop; on a broken connection, reconnect with backoff."""
        wait = RECONNECT_MIN
        next_check = 0.0
        while not self._stopping.is_set():
            try:
                if not self.reader_ok or time.monotonic() >= next_check:
                    position = self._check_gap(position, restart)
                    next_check = time.monotonic() + GAP_CHECK_INTERVAL
                    if not self.reader_ok:
                        logger.warning("reading the event's log from Redis again, after %s", position)
                        self.reader_ok = True
                        self.writer_ok = True  # the hub's next append says otherwise if it must
                    wait = RECONNECT_MIN
                response = self._reader_client.xread(
                    {self.log_key: position}, count=READ_COUNT, block=int(READ_BLOCK * 1000)
                )
                batch = response[0][1] if response else []  # empty too when what woke it was trimmed at once
                if batch:
                    entries = [decode_entry(entry_id, fields) for entry_id, fields in batch]
                    deliver(entries)
                    position = entries[-1][0]
            except self._errors as exc:
                if self._stopping.is_set():
                    break
                if self.reader_ok:
                    logger.warning("lost the event's log in Redis at %s: %s; reconnecting", self.shown_url, exc)
                self.reader_ok = False
                self._stopping.wait(random.uniform(wait / 2, wait))
                wait = min(wait * 2, RECONNECT_MAX)
            except PollhubError:  # the hub stopped: deliver() has nowhere to go
                break
            except Exception:
                if self._stopping.is_set():  # stop() closed the connection under a blocked read
                    break
                logger.exception("the log reader failed; starting it again")
                self._stopping.wait(RECONNECT_MAX)
        logger.debug("log reader stopped")

    def _check_gap(self, position: str, restart: Restart) -> str:
        """``position``, or the newest snapshot's if entries after ``position`` were trimmed (then ``restart``)."""
        trimmed = self._reader_client.hget(self.snapshot_key, "trimmed")  # entries before it are gone
        if trimmed is None or stream_id(_text(trimmed)) <= stream_id(position):
            return position
        book, snapshot_position = self._snapshot(self._reader_client)
        logger.warning("entries after %s were trimmed before this node read them: starting again from the snapshot at %s", position, snapshot_position)
        restart(book, snapshot_position)
        return snapshot_position

    def stop(self) -> None:
        """End the reader thread, take this node out of the count, close both connections; idempotent."""
        self._stopping.set()
        try:
            self._reader_client.connection_pool.disconnect()  # wakes a blocked XREAD
        except Exception:
            pass
        if self._reader is not None:
            self._reader.join(SOCKET_TIMEOUT + READ_BLOCK + 1)
            if self._reader.is_alive():
                logger.warning("the log reader did not stop in time")
        try:
            pipe = self._writer.pipeline(transaction=False)
            pipe.delete(self.node_prefix + self.node)
            pipe.srem(self.nodes_key, self.node)
            pipe.execute()
        except self._errors:
            pass
        self.close()

    def close(self) -> None:
        """Close both connections (:meth:`stop` does, after ending the reader)."""
        self._writer.close()
        self._reader_client.close()


class Submitted(Protocol):
    """What a node appends for a client: the command, with who sent it (the hub's requests)."""

    voter: str
    admin: bool
    command: Command


R = TypeVar("R", bound=Submitted)


class Sharing(Generic[R]):
    """This node's side of a shared event, owned by its hub thread (no lock).

    It holds the commands of the current batch until :meth:`after_batch`
    appends them, and then until the log gives them back (:meth:`claim`); it
    appends the closes of countdowns that ended, reports this node's
    participants and learns the others' (every ``HEARTBEAT_INTERVAL``), and
    offers a snapshot every ``SNAPSHOT_EVERY`` entries. ``R`` is the hub's
    request type: anything with ``voter``, ``admin`` and ``command``.
    """

    def __init__(self, log: SharedLog, position: str) -> None:
        self.log = log
        self.position = position  # the id of the last entry applied
        self.elsewhere = 0  # participants on the other nodes, as of the last heartbeat
        self._number = 0  # entries this node appended
        self._batch: List[R] = []  # this batch's commands, to append
        self._pending: Dict[int, Tuple[R, float]] = {}  # appended, not back yet: number -> (request, monotonic time)
        self._expiring: Dict[Expire, float] = {}  # countdown closes appended -> when to append again
        self._since_snapshot = 0  # entries applied since this node last offered a snapshot
        self._snapshot_due = 0.0  # monotonic times: the next snapshot at the earliest...
        self._heartbeat_due = 0.0  # ...and the next heartbeat

    def add(self, request: R) -> None:
        """A client's command, appended after the batch; applied when the log gives it back."""
        self._batch.append(request)

    def after_batch(self, book: PollBook, participants: int) -> Tuple[List[Tuple[R, PollhubError]], bool]:
        """Append the batch, time out what never came back, heartbeat, snapshot.

        Returns the requests to answer with an error now (``unavailable``)
        and whether the count of participants elsewhere changed. Nothing here
        waits for a Redis out of reach: the reader says when it is back.
        """
        now = time.monotonic()
        refused = self._append(book, now)
        while self._pending:  # the oldest first
            number, (request, appended) = next(iter(self._pending.items()))
            if now - appended < CONFIRM_TIMEOUT:
                break
            del self._pending[number]
            refused.append((request, Unavailable("the event's shared log (Redis) did not confirm this in time; please check")))
        if self._expiring:  # forget the closes of countdowns that are over
            self._expiring = {e: t for e, t in self._expiring.items() if book.deadlines.get(e.poll) == e.closes_at}
        changed = False
        if now >= self._heartbeat_due:
            self._heartbeat_due = now + HEARTBEAT_INTERVAL
            changed = self.log.healthy and self._heartbeat(participants)
        if self._since_snapshot >= SNAPSHOT_EVERY and now >= self._snapshot_due and self.log.healthy:
            # Serialising the book stops the hub thread (about 0.3 s for 200,000
            # voters): at most a tenth of its time, however big the event.
            self._since_snapshot = 0
            self.log.save_snapshot(book, self.position)
            self._snapshot_due = now + max(SNAPSHOT_INTERVAL, SNAPSHOT_COST_FACTOR * (time.monotonic() - now))
        return refused, changed

    def _append(self, book: PollBook, now: float) -> List[Tuple[R, PollhubError]]:
        requests, self._batch = self._batch, []
        outgoing: List[Outgoing] = []
        for request in requests:
            self._number += 1
            outgoing.append((self._number, request.voter, request.admin, request.command))
        for expire in book.expired(time.time()):
            if now >= self._expiring.get(expire, 0.0):
                self._number += 1
                outgoing.append((self._number, SHARED_VOTER, True, expire))
                self._expiring[expire] = now + EXPIRE_RETRY
        if not outgoing:
            return []
        if self.log.reader_ok and self.log.append(outgoing):
            for request, (number, *_) in zip(requests, outgoing):
                self._pending[number] = (request, now)
            return []
        return [(r, Unavailable("the event's shared log (Redis) cannot be reached; please try again")) for r in requests]

    def _heartbeat(self, participants: int) -> bool:
        counts = self.log.heartbeat(participants)
        if counts is None:
            return False
        elsewhere = sum(count for node, count in counts.items() if node != self.log.node)
        changed, self.elsewhere = elsewhere != self.elsewhere, elsewhere
        return changed

    def claim(self, position: str, entry: Optional[Entry]) -> Optional[R]:
        """Note that the entry at ``position`` is being applied; the request it came from, if this node's."""
        self.position = position
        self._since_snapshot += 1
        if entry is None or entry.origin != self.log.node:
            return None
        pending = self._pending.pop(entry.number, None)
        return None if pending is None else pending[0]

    def restart(self, position: str) -> None:
        """Go on from a snapshot at ``position`` (entries this node had not read were trimmed)."""
        self.position = position

    def until_due(self, book: PollBook) -> float:
        """Seconds until :meth:`after_batch` has work even if no event comes."""
        now = time.monotonic()
        due = [self._heartbeat_due - now]
        if self._pending:
            due.append(next(iter(self._pending.values()))[1] + CONFIRM_TIMEOUT - now)
        deadline = book.next_deadline()
        if deadline is not None:
            ahead = deadline - time.time()
            due.append(ahead if ahead > 0 else min(self._expiring.values(), default=now) - now)
        return max(0.0, min(due))

    def drain(self) -> List[R]:
        """Every request not answered yet (the hub is stopping)."""
        waiting = self._batch + [request for request, _ in self._pending.values()]
        self._batch, self._pending = [], {}
        return waiting


def apply_entries(book: PollBook, entries: Sequence[Tuple[str, Optional[Entry]]]) -> None:
    """Apply log entries to a book whose effects nobody needs (a node catching up, an export)."""
    effects = Effects()
    for _, entry in entries:
        if entry is not None:
            book.apply_entry(entry, effects)
        effects.broadcasts.clear()
        effects.store.clear()
    book.results(effects)


def read_event(url: str, event: str = DEFAULT_EVENT) -> PollBook:
    """The event as Redis holds it now, for an export: the snapshot and every entry after it."""
    log = SharedLog(url, event, durability="none")
    try:
        log.check()
        return log.load()[0]
    finally:
        log.close()
