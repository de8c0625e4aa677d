"""Connection threads on ``websocket-server``: a read thread and a write thread per client.

Each client connection has two threads:

* its **read thread**, the one ``socketserver`` starts for every connection
  (the ``websocket-server`` package's handler thread): it answers the HTTP
  request, then reads frames, answers pings and close frames and hands each
  message to the server's ``on_text`` / ``on_binary``;
* its **write thread**, fed by its own bounded ``queue.Queue`` of ready frames
  (:class:`SendQueue`): the only thread that ever blocks writing to the
  socket, so a slow client holds up nobody but its own write thread. A frame
  is written directly by the thread that sends it (the hub, for broadcasts)
  when it can be without blocking and nothing waits before it; the write thread
  takes over when the socket would block. :class:`SendQueue` is the whole
  write path.

:class:`ConnectionServer` and :class:`Connection` subclass the package's
``WebsocketServer`` and ``WebSocketHandler``. The package (0.6.4) is not a
correct WebSocket server on its own; every override below that exists to fix
it says so in a comment starting ``websocket-server:``. In short, the package:

1. calls ``logging.basicConfig()`` at import: undone right after the import;
2. reads the handshake with unbounded ``readline`` and no timeout, and drops
   the connection on any request that is not an upgrade: :meth:`Connection._read_request`
   bounds it in size and time and answers with real HTTP statuses;
3. writes with ``socket.send``, whose partial writes corrupt the stream, from
   whichever thread calls it: every write goes through :class:`SendQueue`,
   which writes whole frames in order, one thread at a time;
4. trusts the 64-bit payload length, skips binary and continuation frames
   without reading their payload, never answers a close frame and raises on
   invalid UTF-8: frames go through :class:`pollhub.frames.MessageReader`;
5. echoes pings through a text encoder: pongs carry the exact payload bytes;
6. keeps ``socketserver``'s listen backlog of 5 and anonymous threads: the
   backlog is ``LISTEN_BACKLOG`` and every thread has a name;
   ``socketserver`` also starts a thread for every connection it accepts, with
   no bound on those still in their handshake, and swallows the errors of
   ``accept()``, so that out of file descriptors its loop spins at full CPU
   without a word: :meth:`ConnectionServer.process_request` sheds connections
   past ``max_handshakes`` (in all, and per client address) before any thread
   starts, and :meth:`ConnectionServer.get_request` backs off and warns;
7. uses ``ssl.wrap_socket``, removed in Python 3.12: pollhub never passes the
   package a key or certificate, so that code never runs; TLS comes from the
   ``ssl_context`` given to :class:`ConnectionServer`, and its handshake runs
   in the connection's read thread, within the handshake timeout;
8. implements its public API (``run_forever``, ``send_message_to_all``,
   ``deny_new_connections``, ``shutdown_gracefully``, ...) on its own
   ``clients`` list of dicts and handler flags: :class:`ConnectionServer`
   re-implements each on pollhub's connections, or refuses it naming pollhub's
   way, in one block ("websocket-server's API"); a connection's life is one
   :class:`ConnectionState`.

Limits are named keyword arguments of :class:`ConnectionServer` (and of
``PollServer``), with the defaults below.

Before anything else, every request's ``Host`` header must name this server
(see :meth:`ConnectionServer.known_hosts`), or it gets 421: a web page on a
foreign domain that resolves its name to this machine (DNS rebinding) would
otherwise pass the ``Origin`` check, which compares the ``Origin`` with the
``Host``. Anything a client controls is passed through
:func:`pollhub.text.escape` before it is logged.
"""

from __future__ import annotations

import enum
import errno
import ipaddress
import itertools
import logging
import queue
import select
import socket
import socketserver
import ssl
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, List, NoReturn, Optional, Sequence, Set, Tuple, Union, cast

from . import forwarded, frames, handshake
from .frames import Binary, Close, Event, MessageReader, Ping, Pong, ProtocolError, Text
from .handshake import HTTPError, Request
from .lan import lan_addresses
from .metrics import Counter, Gauge, Metric
from .text import escape


def _import_websocket_server() -> Any:
    # websocket-server: the package calls logging.basicConfig() when imported,
    # which adds a handler to the root logger of any program that imports
    # pollhub. Remove whatever handler that import added.
    root = logging.getLogger()
    before = list(root.handlers)
    import websocket_server

    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
    return websocket_server


websocket_server = _import_websocket_server()
# The package has no type hints: its two classes, as the bases pollhub's subclass.
_PackageServer: Any = websocket_server.WebsocketServer
_PackageHandler: Any = websocket_server.WebSocketHandler

logger = logging.getLogger(__name__)

MAX_SIZE = 64 * 1024  # bytes in one message (a vote is tiny); more is closed with 1009
MAX_FRAGMENTS = frames.MAX_FRAGMENTS  # frames in one message (1024); more is closed with 1009
MAX_CONNECTIONS = 10240  # open WebSocket connections (two threads each); more get HTTP 503
HANDSHAKE_TIMEOUT = 10.0  # seconds to send a whole HTTP request
MAX_HANDSHAKES = 512  # connections still in their handshake (a thread each); more are closed at accept
MAX_HANDSHAKES_PER_ADDRESS = 64  # of those, from one client IP address (a hall behind one NAT shares one)
MAX_HEADER_SIZE = 16 * 1024  # bytes in the request line and headers together
PING_INTERVAL = 20.0  # seconds of silence before the server pings a client
PING_TIMEOUT = 20.0  # seconds to answer that ping before being dropped
CLOSE_TIMEOUT = 5.0  # seconds to wait for the peer's close frame, or for the write thread
WRITE_TIMEOUT = 10.0  # seconds one write may block before the client counts as stalled
SEND_QUEUE_SIZE = 1000  # frames waiting for a client; a client that lets it fill is dropped
LISTEN_BACKLOG = 1024  # pending TCP connections the kernel may hold
ACCEPT_POLL_INTERVAL = 0.1  # seconds between the accept loop's checks for stop()
ACCEPT_BACKOFF_MIN = 0.01  # seconds the accept loop pauses when accept() runs out of descriptors ...
ACCEPT_BACKOFF_MAX = 1.0  # ... doubling at each failure up to this, back to none at the first success
WARNING_INTERVAL = 5.0  # seconds between two warnings about running out of descriptors, or shedding
SHED_RETRY_AFTER = 5  # seconds a shed connection is told to wait (Retry-After), when it can be told
RECV_SIZE = 65536

_poll = getattr(select, "poll", None)
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)  # Linux and BSD; elsewhere every write goes through sendall

#: accept() errors that mean the process or the system is out of something: back off.
_OUT_OF_RESOURCES = frozenset(
    getattr(errno, name) for name in ("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM") if hasattr(errno, name)
)
_OUT_OF_DESCRIPTORS = frozenset(getattr(errno, name) for name in ("EMFILE", "ENFILE") if hasattr(errno, name))
#: Why a connection was closed at accept time (the label of ``pollhub_connections_shed_total``).
SHED_REASONS = ("handshakes", "per_address", "threads")
_SHED_RESPONSE = handshake.error_response(
    HTTPError(503, "too many connections in progress, try again later", {"Retry-After": str(SHED_RETRY_AFTER)})
)
_WILDCARDS = ("", "0.0.0.0", "::")
_LOCAL_ADDRESS_CACHE = 256  # IP addresses remembered by ConnectionServer.is_local_address


def _wait(sock: socket.socket, writing: bool, timeout: float) -> bool:
    """Wait until ``sock`` is writable (or readable); False on timeout. Not limited to fds < 1024."""
    if _poll is not None:
        poller = _poll()
        poller.register(sock, select.POLLOUT if writing else select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))
    ready = select.select([] if writing else [sock], [sock] if writing else [], [], max(0.0, timeout))  # pragma: no cover
    return bool(ready[0] or ready[1])


class Limits:
    """The limits one server applies to each of its connections (see the constants above)."""

    __slots__ = (
        "max_size",
        "max_fragments",
        "max_connections",
        "max_handshakes",
        "max_handshakes_per_address",
        "handshake_timeout",
        "max_header_size",
        "ping_interval",
        "ping_timeout",
        "close_timeout",
        "write_timeout",
        "send_queue_size",
    )

    def __init__(
        self,
        max_size: int = MAX_SIZE,
        max_fragments: int = MAX_FRAGMENTS,
        max_connections: int = MAX_CONNECTIONS,
        max_handshakes: int = MAX_HANDSHAKES,
        max_handshakes_per_address: int = MAX_HANDSHAKES_PER_ADDRESS,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_header_size: int = MAX_HEADER_SIZE,
        ping_interval: float = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
        close_timeout: float = CLOSE_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        send_queue_size: int = SEND_QUEUE_SIZE,
    ) -> None:
        self.max_size = max_size
        self.max_fragments = max_fragments
        self.max_connections = max_connections
        self.max_handshakes = max_handshakes
        self.max_handshakes_per_address = max_handshakes_per_address
        self.handshake_timeout = handshake_timeout
        self.max_header_size = max_header_size
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.write_timeout = write_timeout
        self.send_queue_size = send_queue_size


def tls_context(certfile: str, keyfile: Optional[str] = None) -> ssl.SSLContext:
    """A server-side TLS context for a certificate chain and its key (PEM files).

    Raises ``OSError`` or ``ssl.SSLError`` when a file is missing or wrong.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


def format_address(address: Any) -> str:
    """``host:port`` for an IPv4 or IPv6 socket address."""
    if isinstance(address, tuple) and len(address) >= 2:
        host = address[0]
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address)


class SendQueue(queue.Queue):  # type: ignore[type-arg]  # Queue is generic only when subscripted, not at run time on 3.9
    """A connection's outgoing frames: the whole write path in one place.

    **Direct writes.** :meth:`offer` (called by the hub thread, or by the read
    thread for pongs and close frames) first tries a non-blocking write of the
    frame itself, when nothing is queued and the write thread is not busy, so
    the common case costs one ``send`` and no thread switch. Only when the
    socket would block, or frames already wait, does the frame (or what is left
    of it) go into the queue, and the connection's write thread, the only
    thread that ever blocks on the socket, takes over. One lock (the queue's
    own) orders the two, so frames leave in order and never interleave.

    **Newer news replaces older.** Items are ``(frame, key, seal)``. A frame
    with a ``key`` (the results of one poll) that finds an older frame with
    the same key still waiting takes that frame's place, so a slow client skips
    stale results instead of falling further behind, and sees what followed
    them (its ``voted`` replies) after counts at least as new. A frame with a
    ``seal`` (a poll's full state) stops the older frame with that key from
    being replaced. ``superseded`` counts the frames replaced.

    ``maxsize`` bounds the frames waiting; :meth:`offer` raises ``queue.Full``
    past it (the client stopped reading). ``None`` is the write thread's
    sentinel: :meth:`end` queues it, after which nothing more is accepted.
    """

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self._waiting: Dict[Any, List[Any]] = {}  # key -> its cell [frame, key] still in the queue
        self.superseded = 0
        self.busy = False  # the write thread holds a frame it has not finished writing
        self.closed = False  # the sentinel is queued: nothing more is accepted
        self.direct: Optional[socket.socket] = None  # set when the socket takes non-blocking sends (MSG_DONTWAIT)
        # What offer() checks first, kept up to date under the mutex: a direct
        # write is allowed now (a socket for it, nothing queued, the write
        # thread idle, not ended). One flag, so a broadcast's common case reads
        # one attribute per client instead of four.
        self.ready = False
        self._send: Any = None  # the direct socket's send

    def write_directly(self, sock: socket.socket) -> None:
        """Let :meth:`offer` write to ``sock`` itself (it must take ``MSG_DONTWAIT``)."""
        with self.mutex:
            self.direct = sock
            self._send = sock.send
            self.ready = not self.busy and not self.queue and not self.closed

    def offer(self, frame: Union[bytes, memoryview], key: Any = None, seal: Any = None, last: bool = False) -> bool:
        """Write ``frame`` now or queue it; ``last`` ends the queue after it.

        What is left of a frame after a partial write waits as a ``memoryview``
        of it: a frame sent to many clients is never copied for each.

        Returns False if the queue was already ended. Raises ``queue.Full``,
        or the ``OSError`` of a failed direct write.
        """
        mutex = self.mutex
        mutex.acquire()  # not "with": acquire() and release() cost less, and this runs for every client
        try:
            if self.ready:
                try:
                    sent = self._send(frame, _DONTWAIT)
                except BlockingIOError:
                    sent = 0
                if sent == len(frame):
                    if not last:
                        return True
                    frame = b""
                else:  # the rest of a frame must go next: never replaced
                    # A view, not a copy: a broadcast's frame (or a welcome
                    # of megabytes) stays one object shared by every queue.
                    frame, key, seal = memoryview(frame)[sent:], None, None
            elif self.closed:
                return False
            if frame:
                if 0 < self.maxsize <= self._qsize():
                    raise queue.Full
                self._put((frame, key, seal))
            if last:
                self._put((None, None, None))
                self.closed = True
            self.not_empty.notify()
            return True
        finally:
            mutex.release()

    def end(self) -> None:
        """Queue the write thread's sentinel (even past ``maxsize``); accept nothing more."""
        with self.mutex:
            if not self.closed:
                self.closed = True
                self._put((None, None, None))
                self.not_empty.notify()

    def done(self) -> None:
        """The write thread has written the frame it took."""
        with self.mutex:
            self.busy = False
            self.ready = self.direct is not None and not self.queue and not self.closed

    def _put(self, item: Tuple[Optional[Union[bytes, memoryview]], Any, Any]) -> None:
        self.ready = False
        frame, key, seal = item
        if seal is not None:
            self._waiting.pop(seal, None)
        if key is not None:
            older = self._waiting.get(key)
            if older is not None:
                older[0] = frame
                self.superseded += 1
                return
            cell = [frame, key]
            self._waiting[key] = cell
            self.queue.append(cell)
        else:
            self.queue.append([frame, None])

    def _get(self) -> Optional[Union[bytes, memoryview]]:
        cell: List[Any] = self.queue.popleft()
        if cell[1] is not None and self._waiting.get(cell[1]) is cell:
            del self._waiting[cell[1]]
        self.busy = True
        self.ready = False
        return cast(Optional[Union[bytes, memoryview]], cell[0])


def _unsupported(name: str, instead: str) -> NoReturn:
    """Raise the error of a ``websocket-server`` method pollhub refuses, naming pollhub's way."""
    raise NotImplementedError(f"{name} of websocket-server is not supported by pollhub: {instead}")


class ConnectionState(enum.Enum):
    """Where a :class:`Connection` is in its life: one value, :attr:`Connection.state`.

    Transitions, each made in one place, under the connection's state lock::

        HANDSHAKE -> OPEN        the 101 is written and the write thread runs; then on_open
        HANDSHAKE -> CLOSING     deny_new_connections(), or no thread for the writer: a close
                                 frame right after the 101, and never OPEN
        OPEN      -> CLOSING     close(): the server's close frame, or the echo of the client's
        HANDSHAKE, OPEN, CLOSING -> ABORTED   abort()
        HANDSHAKE, OPEN, CLOSING -> CLOSED    the read thread ends, after the write thread

    * ``HANDSHAKE``: TLS, the HTTP request and its answer (the 101 too), until
      the connection's write thread runs; :meth:`Connection.close` here drops
      the TCP connection (there is no WebSocket to close yet).
    * ``OPEN``: the 101 is written and the write thread runs (``on_open`` is
      called on entering it); messages flow both ways. Only OPEN connections are in
      :attr:`ConnectionServer.clients`.
    * ``CLOSING``: a close frame is queued (the server's own, or the echo of
      the client's); nothing is sent after it and incoming messages are
      ignored; the client has ``close_timeout`` seconds to answer.
    * ``CLOSED``: the read thread is done and the write thread has finished
      (closing handshake completed, the client ended the TCP connection, the
      close timeout passed, or the request never became a WebSocket). Final.
    * ``ABORTED``: :meth:`Connection.abort` dropped the TCP connection without
      a closing handshake (a stalled or failed client, a stop). Final: it
      stays ABORTED when the read thread ends.
    """

    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    ABORTED = "aborted"


HANDSHAKE, OPEN, CLOSING, CLOSED, ABORTED = (
    ConnectionState.HANDSHAKE,
    ConnectionState.OPEN,
    ConnectionState.CLOSING,
    ConnectionState.CLOSED,
    ConnectionState.ABORTED,
)
_ENDED = frozenset((CLOSED, ABORTED))


class Connection(_PackageHandler):
    """One client connection: its read thread runs this object, its write thread drains ``_queue``.

    ``socketserver`` constructs it in the new read thread and the constructor
    runs the whole connection (:meth:`setup`, :meth:`handle`, :meth:`finish`).
    :meth:`send_frame`, :attr:`offer`, :meth:`send_text`, :meth:`close` and
    :meth:`abort` are thread-safe; nothing else is meant to be called from outside.

    :attr:`state` (a :class:`ConnectionState`) says where the connection is:
    HANDSHAKE, OPEN, CLOSING, then CLOSED or ABORTED. The send queue keeps its
    own ``closed`` and ``ready`` flags: they are the write path's state (what
    :meth:`SendQueue.offer` may do under its lock), not the connection's.
    """

    server: "ConnectionServer"

    #: What :attr:`offer` raises: the client stopped reading, or its socket failed.
    SEND_ERRORS = (queue.Full, OSError)

    # websocket-server: the package's setup() makes buffered rfile/wfile and its
    # handle() loops on blocking readline()/read(); pollhub reads with recv()
    # into MessageReader instead, so none of that is set up.
    def setup(self) -> None:
        self.id = next(self.server._ids)
        threading.current_thread().name = f"pollhub-read-{self.id}"
        self.limits = self.server.limits
        self.sock: socket.socket = self.request
        #: The client's IP address: the TCP peer's, or behind a trusted proxy
        #: the one it forwarded (set once the request is read: see _forwarded_for).
        peer = self.client_address
        self.client_host: str = peer[0] if isinstance(peer, tuple) else str(peer)
        #: How log lines name the connection: ``host:port``, or ``client via proxy:port``.
        self.address = format_address(peer)
        self.http_request: Optional[Request] = None
        self._state = HANDSHAKE  # see ConnectionState; changed only by _enter, close, abort and _end
        self._state_lock = threading.Lock()
        self.secure = self.server.ssl_context is not None
        self._queue = SendQueue(self.limits.send_queue_size)
        #: ``send_frame`` without its error handling (:meth:`SendQueue.offer`), for
        #: the hub's loop over every client: it raises one of ``SEND_ERRORS``, to
        #: be passed to :meth:`send_failed`.
        self.offer = self._queue.offer
        self._close_deadline = 0.0  # time.monotonic() by which a CLOSING connection's client must answer
        self._ping_sent: Optional[float] = None
        self._last_heard = time.monotonic()
        self._writer: Optional[threading.Thread] = None
        self._use_timeouts()
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle(self) -> None:
        server = self.server
        with server._track(self):
            try:
                rest = self._accept()
                if rest is not None:  # upgraded: counted by max_connections until here
                    try:
                        self._serve(rest)
                    finally:
                        server._release(self)
            finally:
                self._end()

    def _accept(self) -> Optional[bytes]:
        """TLS, then the HTTP request: the bytes after the request once upgraded, else None."""
        if self.secure and not self._tls_handshake():
            return None
        request, rest = self._read_request()
        if request is None:
            return None
        self.http_request = request
        self._forwarded_for(request)
        return rest if self._upgrade(request) else None

    def _forwarded_for(self, request: Request) -> None:
        """From a trusted proxy: take the client's address from ``X-Forwarded-For`` (see :mod:`pollhub.forwarded`)."""
        trusted = self.server.trusted_proxies
        if not trusted:
            return
        client = forwarded.forwarded_client(self.client_host, request.headers.get(forwarded.HEADER), trusted)
        if client != self.client_host:
            self.address = f"{client} via {self.address}"
            self.client_host = client

    def _serve(self, rest: bytes) -> None:
        """Run an upgraded connection: start its write thread, then read until it ends."""
        self._writer = threading.Thread(target=self._write_loop, name=f"pollhub-write-{self.id}", daemon=True)
        try:
            self._writer.start()
        except RuntimeError as exc:  # "can't start new thread": the system's thread limit
            logger.warning("%s: dropped: %s", self.address, exc)
            self._writer = None
            self._close(frames.CLOSE_TRY_AGAIN_LATER, "server overloaded", HANDSHAKE)
            return
        denied = self.server._denied
        opened = False
        try:
            if denied is not None:  # deny_new_connections(): closed at once, never OPEN (as websocket-server does)
                self._close(*denied, HANDSHAKE)
            elif self._enter(OPEN, HANDSHAKE):  # unless abort() came first: ABORTED stays
                opened = True
                self.server.on_open(self)
            self._read_loop(rest)
        except OSError as exc:
            if self._state is not ABORTED:
                logger.debug("%s: connection lost: %s", self.address, escape(exc))
        finally:
            if opened:
                self.server.on_close(self)
            self._finish_writer()

    @property
    def state(self) -> ConnectionState:
        """Where the connection is in its life (see :class:`ConnectionState`)."""
        return self._state

    def _enter(self, state: ConnectionState, before: ConnectionState) -> bool:
        """Move from ``before`` to ``state``; False (and no change) if the state is not ``before``."""
        with self._state_lock:
            if self._state is not before:
                return False
            self._state = state
            return True

    def _end(self) -> None:
        """The read thread is done (and the write thread with it): CLOSED, unless ABORTED."""
        with self._state_lock:
            if self._state is not ABORTED:
                self._state = CLOSED

    # websocket-server: the package's finish() looks the handler up in a list
    # (O(n) per disconnect) to call client_left; ConnectionServer.on_close replaces it.
    def finish(self) -> None:
        if self.sock is not self.request:  # the TLS socket socketserver does not know about
            self.sock.close()

    def _use_timeouts(self) -> None:
        """Set the socket up for the write path (see :class:`SendQueue`)."""
        if _DONTWAIT and not self.secure:
            # Blocking mode: a send with MSG_DONTWAIT then never waits (with a
            # timeout set, Python polls before every send), and write_timeout
            # is applied by _write_all itself.
            self.sock.settimeout(None)
            if self.server.direct_writes:
                self._queue.write_directly(self.sock)
        else:  # TLS (whose send takes no flags) or no MSG_DONTWAIT: sendall under a timeout
            self.sock.settimeout(self.limits.write_timeout)

    def _tls_handshake(self) -> bool:
        """Wrap the socket in TLS; False (and the connection is over) when the handshake fails."""
        assert self.server.ssl_context is not None
        try:
            self.sock = self.server.ssl_context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
            self.sock.settimeout(self.limits.handshake_timeout)
            self.sock.do_handshake()
            self._use_timeouts()
        except (OSError, ValueError) as exc:  # ssl.SSLError and socket.timeout are OSErrors
            logger.info("%s: TLS handshake failed: %s", self.address, escape(exc))
            return False
        return True

    # Sending (any thread) ----------------------------------------------------------

    def send_frame(self, frame: bytes, key: Any = None, seal: Any = None, last: bool = False) -> bool:
        """Send one ready frame, now if the socket takes it, else through the write thread.

        Never blocks. A frame with a ``key`` replaces an older frame with the
        same key that is still waiting, unless a frame with that key as its
        ``seal`` came in between (see :class:`SendQueue`). ``last`` closes the
        queue after this frame. Returns False when the connection is closing or
        broken. A client whose queue is full is too slow to keep up and is dropped.
        """
        try:
            return self.offer(frame, key, seal, last)
        except self.SEND_ERRORS as exc:
            self.send_failed(exc)
            return False

    def send_failed(self, exc: Exception) -> None:
        """Drop the client after ``offer`` raised one of ``SEND_ERRORS``."""
        if isinstance(exc, queue.Full):
            logger.warning("%s: dropped: %d messages waiting, the client stopped reading", self.address, self._queue.qsize())
            self.server.dropped_stalled.inc()
        elif self._state is not ABORTED:
            logger.info("%s: dropped: write failed: %s", self.address, exc)
        self.abort()

    def send_text(self, text: str) -> bool:
        """Queue a text message."""
        # websocket-server: the package's send_text() writes with socket.send
        # from the calling thread; this goes through the write thread instead.
        return self.send_frame(frames.encode_frame(frames.OP_TEXT, text.encode("utf-8")))

    def send_message(self, message: str) -> bool:
        """Queue a text message (the package's name for :meth:`send_text`)."""
        return self.send_text(message)

    def send_pong(self, message: Union[str, bytes]) -> bool:
        """Queue a pong carrying ``message`` (text is UTF-8 encoded, bytes are sent as they are)."""
        # websocket-server: the package's send_pong() goes through its text
        # encoder, so a pong cannot carry a ping's binary payload.
        payload = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        return self.send_frame(frames.encode_frame(frames.OP_PONG, payload))

    def send_binary(self, data: bytes) -> bool:
        """Queue a binary message."""
        return self.send_frame(frames.encode_frame(frames.OP_BINARY, data))

    def close(self, code: int = frames.CLOSE_NORMAL, reason: Union[str, bytes] = "") -> None:
        """Start the closing handshake: send a close frame, and nothing after it (OPEN -> CLOSING).

        Does nothing once CLOSING, CLOSED or ABORTED. In HANDSHAKE there is no
        WebSocket to close yet: the TCP connection is dropped (:meth:`abort`).
        ``reason`` may be bytes (as ``websocket-server`` passes it): UTF-8.
        """
        if self._close(code, reason, OPEN) is HANDSHAKE:
            self.abort()

    def _close(self, code: int, reason: Union[str, bytes], before: ConnectionState) -> ConnectionState:
        """From ``before`` to CLOSING, queueing the close frame; returns the state found."""
        with self._state_lock:
            state = self._state
            if state is before:
                self._close_deadline = time.monotonic() + self.limits.close_timeout
                self._state = CLOSING
        if state is before:
            self.send_frame(frames.encode_close(code, _reason_text(reason)), last=True)
        return state

    send_close = close

    def abort(self) -> None:
        """Drop the TCP connection now, without a closing handshake (-> ABORTED); both threads then end."""
        with self._state_lock:
            if self._state is not CLOSED:
                self._state = ABORTED
        self._shutdown()

    def _shutdown(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @property
    def closing(self) -> bool:
        """True once the connection is CLOSING, CLOSED or ABORTED: nothing more may be sent."""
        state = self._state
        return state is not OPEN and state is not HANDSHAKE

    # websocket-server: the package's handler reads the request and frames with
    # these, on a buffered file pollhub never sets up; pollhub reads with
    # recv() in _read_request and _read_loop (frames.MessageReader).
    def read_next_message(self) -> NoReturn:
        """Refused: the read thread reads every frame; see :meth:`ConnectionServer.on_text`."""
        _unsupported("Connection.read_next_message()", "the connection's read thread reads frames and calls the server's on_text")

    def read_bytes(self, num: int) -> NoReturn:
        """Refused: the read thread owns the socket's input."""
        _unsupported("Connection.read_bytes()", "the connection's read thread owns the socket's input")

    def read_http_headers(self) -> NoReturn:
        """Refused: the request is read before the upgrade; it is :attr:`http_request`."""
        _unsupported("Connection.read_http_headers()", "the parsed request is Connection.http_request")

    def handshake(self) -> NoReturn:
        """Refused: the read thread answers the handshake; see :meth:`ConnectionServer.http_response`."""
        _unsupported("Connection.handshake()", "the read thread answers the handshake; override ConnectionServer.http_response")

    # The write thread --------------------------------------------------------------

    def _write_loop(self) -> None:
        get, done, write_all = self._queue.get, self._queue.done, self._write_all
        try:
            while True:
                frame = get()
                if frame is None:
                    return
                write_all(frame)
                done()
        except OSError as exc:  # socket.timeout included: the client stalled past write_timeout
            if self._state is not ABORTED:
                logger.warning("%s: dropped: write failed: %s", self.address, exc)
                if isinstance(exc, socket.timeout):
                    self.server.dropped_stalled.inc()
            self.abort()

    def _write_all(self, data: Union[bytes, memoryview]) -> None:
        """Write all of ``data`` within ``write_timeout`` (``socket.timeout`` after it)."""
        # websocket-server: the package writes with socket.send, which may
        # write only part of the data; the rest was lost and the stream broken.
        if self.sock.gettimeout() is not None:  # TLS, or no MSG_DONTWAIT: sendall has the timeout
            self.sock.sendall(data)
            return
        view = memoryview(data)
        deadline = time.monotonic() + self.limits.write_timeout
        while view:
            try:
                view = view[self.sock.send(view, _DONTWAIT) :]
                continue
            except BlockingIOError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _wait(self.sock, True, remaining):
                raise socket.timeout(f"no progress writing for {self.limits.write_timeout:g} s")

    def _finish_writer(self) -> None:
        self._queue.end()
        writer = self._writer
        if writer is None:
            return
        if self._state is ABORTED:
            self._shutdown()
        writer.join(self.limits.close_timeout)
        if writer.is_alive():
            self.abort()
            writer.join(self.limits.close_timeout)

    # The read thread ---------------------------------------------------------------

    def _send_raw(self, data: bytes) -> None:
        """Write from the read thread; only before the write thread exists."""
        try:
            self._write_all(data)
        except OSError:
            pass

    def _read_request(self) -> Tuple[Optional[Request], bytes]:
        """Read the HTTP request head within the handshake time and size limits."""
        # websocket-server: the package reads the request with readline() on a
        # buffered file, with no bound on size or time (one client sending
        # half a line holds its thread for ever) and asserts on a non-GET.
        deadline = time.monotonic() + self.limits.handshake_timeout
        buffer = b""
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buffer) > self.limits.max_header_size:
                self._refuse(HTTPError(431, "request headers too large"))
                return None, b""
            remaining = deadline - time.monotonic()
            try:
                data = self._recv_nowait() if remaining > 0 else None
                if data is None:
                    if remaining <= 0 or not self._wait_readable(remaining):
                        logger.info(
                            "%s: dropped: no complete HTTP request within %.0f s", self.address, self.limits.handshake_timeout
                        )
                        return None, b""
                    data = self.sock.recv(RECV_SIZE)
            except OSError:
                return None, b""
            if not data:
                return None, b""
            buffer += data
        if end > self.limits.max_header_size:
            self._refuse(HTTPError(431, "request headers too large"))
            return None, b""
        try:
            return handshake.parse_request(buffer[:end]), buffer[end + 4 :]
        except HTTPError as error:
            self._refuse(error)
            return None, b""

    def _refuse(self, error: HTTPError, request: Optional[Request] = None) -> None:
        head_only = request is not None and request.method == "HEAD"
        self._send_raw(handshake.error_response(error, head_only=head_only))
        # The message may quote the client (its Origin, its Host): one escaped line.
        logger.info("%s: HTTP %d: %s", self.address, error.status, escape(error.message))

    def _upgrade(self, request: Request) -> bool:
        """Answer the request: True once upgraded, False after an HTTP response."""
        server = self.server
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s: %s %s", self.address, escape(request.method), escape(request.path))
        try:
            # Before anything looks at the request: a foreign Host is DNS
            # rebinding (or a misdirected request), whatever the path.
            handshake.check_host(request, server.host_names(), server.is_local_address)
            response = server.http_response(request, self)
            if response is not None:
                self._send_raw(response)
                return False
            key = handshake.check_upgrade(request, server.allowed_origins)
            if not server._admit(self):
                raise HTTPError(503, "too many connections, try again later", {"Retry-After": str(SHED_RETRY_AFTER)})
        except HTTPError as error:
            self._refuse(error, request)
            return False
        # Counted by max_connections from now on; its handshake slot is free
        # before the client can see the 101 (and open its next connection).
        server._end_handshake(threading.current_thread())
        self._send_raw(handshake.upgrade_response(key))
        return True

    def _read_loop(self, data: Optional[bytes]) -> None:
        reader = MessageReader(self.limits.max_size, self.limits.max_fragments)
        while True:
            if data:
                self._last_heard = time.monotonic()
                reader.feed(data)
                try:
                    for event in reader.events():
                        if not self._on_event(event):
                            return
                except ProtocolError as error:
                    logger.warning("%s: closing with %d: %s", self.address, error.code, escape(error.reason))
                    self.close(error.code, error.reason)
                    return
            data = self._receive()
            if data is None:
                return

    def _receive(self) -> Optional[bytes]:
        """The next bytes from the client; b"" after a quiet interval; None at the end."""
        timeout = self._idle_timeout()
        if timeout is None:
            return None
        data = self._recv_nowait()
        if data is not None:
            return data or None
        if not self._wait_readable(timeout):
            return b""
        try:
            return self.sock.recv(RECV_SIZE) or None
        except socket.timeout:  # TLS: readable, but the rest of the record is slow to come
            return b""

    def _recv_nowait(self) -> Optional[bytes]:
        """What the client has already sent (b"" at its end), or None if nothing waits.

        Under load the next bytes are usually there already: one ``recv`` then,
        without a ``poll`` first.
        """
        if self.secure or not _DONTWAIT:
            return None
        try:
            return self.sock.recv(RECV_SIZE, _DONTWAIT)
        except BlockingIOError:
            return None

    def _idle_timeout(self) -> Optional[float]:
        """Seconds to wait for the client before acting; None when the connection is over."""
        now = time.monotonic()
        if self._state is CLOSING:
            if now >= self._close_deadline:
                logger.info("%s: no close frame within %.0f s, dropping", self.address, self.limits.close_timeout)
                return None
            return self._close_deadline - now
        if self._ping_sent is not None:
            if now - self._ping_sent >= self.limits.ping_timeout:
                logger.info("%s: dropped: no pong within %.0f s", self.address, self.limits.ping_timeout)
                return None
            return self._ping_sent + self.limits.ping_timeout - now
        quiet = now - self._last_heard
        if quiet >= self.limits.ping_interval:
            self._ping_sent = now
            self.send_frame(frames.encode_frame(frames.OP_PING, b"keepalive"))
            return self.limits.ping_timeout
        return self.limits.ping_interval - quiet

    def _wait_readable(self, timeout: float) -> bool:
        if self.secure and self.sock.pending():  # type: ignore[attr-defined]  # an ssl.SSLSocket when secure
            return True  # decrypted bytes already wait inside the TLS layer
        return _wait(self.sock, False, timeout)

    def _on_event(self, event: Event) -> bool:
        """Act on one event; False ends the read loop."""
        if isinstance(event, Text):
            if self._state is OPEN:
                self.server.on_text(self, event.data)
        elif isinstance(event, Binary):
            if self._state is OPEN:
                self.server.on_binary(self, event.data)
        elif isinstance(event, Ping):
            # websocket-server: the package sends the pong through its text
            # encoder, so a binary ping payload is not echoed exactly.
            self.send_frame(frames.encode_frame(frames.OP_PONG, event.payload))
        elif isinstance(event, Pong):
            self._ping_sent = None
        elif isinstance(event, Close):
            logger.debug("%s: close frame from the client: %d %s", self.address, event.code, escape(event.reason))
            # websocket-server: the package drops the connection without
            # answering; RFC 6455 section 5.5.1 wants the close echoed.
            # close() does nothing when this answers the server's own close frame (CLOSING).
            self.close(frames.CLOSE_NORMAL if event.code == frames.CLOSE_NO_STATUS else event.code)
            return False
        return True


class ConnectionServer(_PackageServer):
    """A threaded WebSocket server: a read thread and a write thread per connection.

    Subclasses decide what a connection is for by overriding :meth:`on_open`,
    :meth:`on_text`, :meth:`on_binary`, :meth:`on_close` and
    :meth:`http_response`. Limits are keyword arguments (see the module's
    constants for their defaults). ``direct_writes=False`` sends every frame
    through the connection's write thread, never from the sending thread
    (see :class:`SendQueue`): much slower with many clients; for comparison. ``allowed_origins`` lists the browser
    origins accepted besides the server's own. ``allowed_hosts`` lists names
    a request's ``Host`` may carry besides those of :meth:`known_hosts`
    (others get 421). With an ``ssl_context`` (see
    :func:`tls_context`) every connection speaks TLS: ``wss://`` and ``https://``.
    ``reuse_port=True`` sets ``SO_REUSEPORT`` before binding, so that several
    servers (in several processes: see :mod:`pollhub.workers`) listen on one
    port and the kernel spreads new connections over them; every socket
    sharing the port must set it, and belong to the same user. Where the
    platform has no ``SO_REUSEPORT`` it raises ``OSError`` (``ENOPROTOOPT``).

    A connection still in its handshake (TLS, then the HTTP request) holds a
    slot: past ``max_handshakes`` of them, or ``max_handshakes_per_address``
    from one client address, a new connection is closed as soon as it is
    accepted (after a best-effort 503), before any thread starts. Its
    :meth:`connection_metrics` count that.

    ``trusted_proxies`` lists the reverse proxies (IP addresses or networks
    such as ``10.0.0.0/8``) whose ``X-Forwarded-For`` names the client: a
    connection from one of them has the forwarded address as its
    ``client_host`` and in its log lines (see :mod:`pollhub.forwarded`); from
    anyone else the header is ignored. The limit per address on handshakes
    sees only the TCP peer (the proxy): it applies before the request is read.
    """

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True
    # websocket-server: WebSocketHandler.__init__ wraps the socket with
    # ssl.wrap_socket (removed in Python 3.12) when the server has a key and
    # a certificate; pollhub never has them: TLS comes from ``ssl_context``.
    key = None
    cert = None

    #: The package's callback hooks, which pollhub never calls, and the hook to override instead.
    PACKAGE_CALLBACKS = {
        "new_client": "on_open(conn)",
        "client_left": "on_close(conn)",
        "message_received": "on_text(conn, text) (and on_binary(conn, data))",
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a subclass that defines one of the package's callbacks (``TypeError``): it would never run."""
        super().__init_subclass__(**kwargs)
        for name, instead in ConnectionServer.PACKAGE_CALLBACKS.items():
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__}.{name}: websocket-server's callback is never called by pollhub; "
                    f"override {instead} instead"
                )

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allowed_origins: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        trusted_proxies: Sequence[Union[str, forwarded.IPNetwork]] = (),
        ssl_context: Optional[ssl.SSLContext] = None,
        direct_writes: bool = True,
        reuse_port: bool = False,
        **limits: Any,
    ) -> None:
        if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
            raise OSError(errno.ENOPROTOOPT, "this platform has no SO_REUSEPORT: servers cannot share a port")
        self.reuse_port = reuse_port
        self.limits = Limits(**limits)
        self.allowed_origins = tuple(allowed_origins)
        self.allowed_hosts = tuple(allowed_hosts)
        self.trusted_proxies = forwarded.trusted_networks(trusted_proxies)  # ValueError for a bad one
        self.ssl_context = ssl_context
        self.direct_writes = direct_writes
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._threads: Set[threading.Thread] = set()
        self._connections: Dict[int, Connection] = {}
        self._open_count = 0
        self.dropped_stalled = Counter("pollhub_clients_dropped_stalled_total", "Clients dropped because they stopped reading.")
        # Connections in their handshake: read thread -> client address, and how many per address.
        self._handshaking: Dict[threading.Thread, str] = {}
        self._handshakes_from: Dict[str, int] = {}
        self.handshakes_in_progress = Gauge(
            "pollhub_handshakes_in_progress",
            "Connections accepted and still in their handshake (TLS, HTTP request).",
            lambda: len(self._handshaking),
        )
        self.connections_shed = Counter(
            "pollhub_connections_shed_total",
            "Connections closed as soon as accepted, with no thread started, by the limit they met.",
            "reason",
            SHED_REASONS,
        )
        self.accept_errors = Counter(
            "pollhub_accept_errors_total",
            "Failures of accept(), by error (EMFILE: the process is out of file descriptors).",
            "error",
            ("EMFILE", "ENFILE"),
        )
        self._host_names: Optional[FrozenSet[str]] = None  # known_hosts(), computed once
        self._local_addresses: Dict[str, bool] = {}  # IP address -> is it this machine's (cache)
        self._wakeup = threading.Event()  # set by stop(): ends the accept loop's pauses
        self._accept_backoff = 0.0  # seconds the accept loop pauses after its next failure; 0: none yet
        self._accept_warned = -WARNING_INTERVAL  # time.monotonic() of the last warning about accept()
        self._shed_warned = -WARNING_INTERVAL  # ... and of the last one about shedding
        self._superseded_closed = 0  # replaced results of connections that have ended
        self._accept_thread: Optional[threading.Thread] = None
        self._serving = False
        self._stopped = False
        self._denied: Optional[Tuple[int, str]] = None  # deny_new_connections(): the close code and reason
        self._shutdown_close: Optional[Tuple[int, str]] = (frames.CLOSE_GOING_AWAY, "server shutting down")
        self.thread: Optional[threading.Thread] = None  # the thread serving the accept loop
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.host = host
        # websocket-server: WebsocketServer.__init__ sets the level of the
        # package's logger, binds with the package's own handler class and
        # makes ``clients`` a list pollhub would never fill; pollhub binds
        # with Connection itself and keeps from it what it uses (host, port).
        socketserver.TCPServer.__init__(self, (host, port), Connection)
        self.port = self.socket.getsockname()[1]

    # Hooks for subclasses (called in a connection's read thread) ------------------

    def http_response(self, request: Request, conn: Connection) -> Optional[bytes]:
        """An HTTP response for a request that is not a WebSocket upgrade, or None to upgrade.

        ``conn`` is the connection it came on (its ``client_address``, say).
        """
        return None

    def on_open(self, conn: Connection) -> None:
        """A WebSocket connection is open."""

    def on_text(self, conn: Connection, text: str) -> None:
        """A text message arrived."""

    def on_binary(self, conn: Connection, data: bytes) -> None:
        """A binary message arrived; by default it is refused with close code 1003."""
        conn.close(frames.CLOSE_UNSUPPORTED_DATA, "binary messages are not supported")

    def on_close(self, conn: Connection) -> None:
        """A WebSocket connection is over; called once for each ``on_open``."""

    def known_hosts(self) -> List[str]:
        """The names and addresses a request's ``Host`` header may carry; any other gets 421.

        By default: the address the server is bound to, this machine's own
        addresses (every one when bound to a wildcard address; loopback
        included), ``localhost``, the machine's host name, its short form and
        that with ``.local``, and ``allowed_hosts``. Called once, when the
        server starts serving; a subclass adds its names to the list
        (``return [*super().known_hosts(), name]``). Names are compared
        without case, port or trailing dot. Any IP address of this machine
        is accepted, listed or not.
        """
        names = ["localhost", "127.0.0.1", "::1"]
        if self.host in _WILDCARDS:  # every address of the machine leads here
            names += local_addresses()
        else:
            names.append(self.host)
        hostname = socket.gethostname()
        if hostname:
            short = hostname.split(".")[0]
            names += [hostname, short, f"{short}.local"]
        names += self.allowed_hosts
        return names

    # Host names (any thread) -------------------------------------------------------

    def host_names(self) -> FrozenSet[str]:
        """:meth:`known_hosts` as :func:`pollhub.handshake.host_name` compares them (computed once)."""
        names = self._host_names
        if names is None:
            names = frozenset(filter(None, map(handshake.host_name, self.known_hosts())))
            self._host_names = names
        return names

    def is_local_address(self, address: str) -> bool:
        """True when the IP ``address`` is one of this machine's (it can be bound to)."""
        known = self._local_addresses.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        local = ip.is_loopback
        if not local and not ip.is_unspecified and not ip.is_multicast:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            try:
                with socket.socket(family, socket.SOCK_DGRAM) as probe:
                    probe.bind((address, 0))
                local = True
            except OSError as exc:
                if exc.errno != errno.EADDRNOTAVAIL:
                    return False  # out of descriptors, say: not now, and not remembered
                local = False  # not an address of this machine
        if len(self._local_addresses) >= _LOCAL_ADDRESS_CACHE:
            self._local_addresses.clear()
        self._local_addresses[address] = local
        return local

    def connection_metrics(self) -> List[Metric]:
        """What this server counts about its connections, for a metrics registry.

        ``pollhub_clients_dropped_stalled_total``, ``pollhub_handshakes_in_progress``,
        ``pollhub_connections_shed_total`` (by ``reason``) and ``pollhub_accept_errors_total``
        (by ``error``).
        """
        return [self.dropped_stalled, self.handshakes_in_progress, self.connections_shed, self.accept_errors]

    # Lifecycle ---------------------------------------------------------------------

    def start(self) -> "ConnectionServer":
        """Accept connections in a background thread named ``pollhub-accept``."""
        self._accept_thread = threading.Thread(target=self.serve_forever, name="pollhub-accept", daemon=True)
        self._accept_thread.start()
        return self

    def serve_forever(self, poll_interval: float = ACCEPT_POLL_INTERVAL) -> None:
        """Accept connections until :meth:`stop` (from another thread)."""
        self._serving = True
        self.thread = threading.current_thread()
        self.host_names()  # once, before the first request
        try:
            super(_PackageServer, self).serve_forever(poll_interval)
        finally:
            self._serving = False

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop accepting, close every connection with 1001 and wait for their threads.

        Clients get ``timeout`` seconds (default: ``close_timeout``) to answer
        the close frame before their connections are dropped. Connections
        still in their handshake are dropped. Idempotent.
        """
        timeout = self.limits.close_timeout if timeout is None else timeout
        if self._stopped:
            return
        self._stopped = True
        self._wakeup.set()
        if self._serving or (self._accept_thread is not None and self._accept_thread.is_alive()):
            self.shutdown()
        if self._accept_thread is not None:
            self._accept_thread.join(self.limits.close_timeout)
        self.socket.close()
        with self._lock:
            connections = list(self._connections.values())
        closing = self._shutdown_close  # None: shutdown_abruptly()
        for conn in connections:
            if closing is None:
                conn.abort()
            else:
                conn.close(*closing)  # in HANDSHAKE: dropped
        if not self._join_threads(timeout):
            with self._lock:
                connections = list(self._connections.values())
            for conn in connections:
                conn.abort()
            self._join_threads(self.limits.close_timeout)

    server_close = stop

    def __enter__(self) -> "ConnectionServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connection_count(self) -> int:
        """Open WebSocket connections."""
        return self._open_count

    # websocket-server's API ------------------------------------------------------
    #
    # Every public method and attribute ConnectionServer inherits from the
    # package's WebsocketServer (0.6.4), and what it does here. "works": as
    # the package documents it, on pollhub's connections; "refused": raises
    # NotImplementedError (TypeError for a subclass defining a callback),
    # naming pollhub's way.
    #
    #   run_forever(threaded=False)      works: serve_forever(); threaded=True: start()
    #   send_message(client, msg)        works: a text message to one client (a dict
    #                                    of `clients`, or a Connection), through SendQueue
    #   send_message_to_all(msg)         works: one text frame, queued to every OPEN connection
    #   deny_new_connections(status,     works: new upgrades get their 101, then a close
    #     reason)                        frame (status, reason) at once; no on_open
    #   allow_new_connections()          works: undoes deny_new_connections
    #   disconnect_clients_gracefully(   works: close(status, reason) on every OPEN
    #     status, reason)                connection; the server keeps accepting
    #   disconnect_clients_abruptly()    works: abort() every OPEN or CLOSING connection
    #   shutdown_gracefully(status=1001, works: stop(), closing each connection with
    #     reason)                        (status, reason); PollServer also stops its hub
    #   shutdown_abruptly()              works: stop(), aborting each connection
    #   clients                          works, read-only: a new list of
    #                                    {'id', 'handler', 'address'} per OPEN connection
    #   handler_to_client(handler)       works: that dict for a connection, or None
    #   host, port, thread               work (thread: the one running serve_forever)
    #   key, cert                        replaced: always None; TLS is ssl_context
    #   id_counter                       refused: each connection has its own id
    #   set_fn_new_client(fn)            refused: override on_open(conn)
    #   set_fn_client_left(fn)           refused: override on_close(conn)
    #   set_fn_message_received(fn)      refused: override on_text(conn, text)
    #   new_client, client_left,         refused, and a subclass defining one is a
    #     message_received               TypeError (see __init_subclass__)
    #
    # The package's private methods (_run_forever, _multicast, _new_client_,
    # _terminate_client_handler, ...) are what the methods above replace:
    # pollhub never calls them. Connection's side is in its own class
    # (send_message, send_text, send_pong, send_close work; read_next_message,
    # read_bytes, read_http_headers and handshake are refused).

    def run_forever(self, threaded: bool = False) -> None:
        """Serve: :meth:`start` (in the background) when ``threaded``, else :meth:`serve_forever`.

        Not threaded, it returns once :meth:`stop` is called from another
        thread; like the package, it stops the server and returns on
        ``KeyboardInterrupt``.
        """
        # websocket-server: the package's run_forever() calls TCPServer's
        # serve_forever directly (skipping this class's, and PollServer's hub)
        # and turns any error into sys.exit(1).
        if threaded:
            self.start()
            return
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            self.stop()

    def send_message(self, client: Union[Dict[str, Any], Connection], msg: Union[str, bytes]) -> bool:
        """Queue a text message to one client: a dict of :attr:`clients`, or a :class:`Connection`.

        Returns False when that connection is closing or over. Bytes must be
        UTF-8 (``UnicodeDecodeError``); other types raise ``TypeError``.
        """
        conn = client["handler"] if isinstance(client, dict) else client
        return conn.send_frame(_text_frame(msg))

    def send_message_to_all(self, msg: Union[str, bytes]) -> int:
        """Queue one text message to every OPEN connection; returns how many took it.

        The frame is encoded once. Errors as :meth:`send_message`.
        """
        frame = _text_frame(msg)
        return sum(conn.send_frame(frame) for conn in self._open_connections())

    def deny_new_connections(self, status: int = frames.CLOSE_NORMAL, reason: Union[str, bytes] = "") -> None:
        """Close each new WebSocket connection with ``status`` and ``reason`` right after its 101.

        As in the package: the upgrade completes, then the server closes;
        ``on_open`` is not called. Open connections and HTTP pages are not
        affected. Until :meth:`allow_new_connections`.
        """
        self._denied = (status, _reason_text(reason))

    def allow_new_connections(self) -> None:
        """Undo :meth:`deny_new_connections`: new connections open again."""
        self._denied = None

    def disconnect_clients_gracefully(self, status: int = frames.CLOSE_NORMAL, reason: Union[str, bytes] = "") -> None:
        """Start the closing handshake with ``status`` and ``reason`` on every OPEN connection.

        Returns at once; each client has ``close_timeout`` to answer. The
        server keeps accepting connections.
        """
        for conn in self._open_connections():
            conn.close(status, reason)

    def disconnect_clients_abruptly(self) -> None:
        """Drop every OPEN or CLOSING connection without a closing handshake; keep accepting."""
        with self._lock:
            connections = list(self._connections.values())
        for conn in connections:
            if conn.state is OPEN or conn.state is CLOSING:
                conn.abort()

    def shutdown_gracefully(
        self, status: int = frames.CLOSE_GOING_AWAY, reason: Union[str, bytes] = "server shutting down"
    ) -> None:
        """:meth:`stop`, closing every connection with ``status`` (1001 by default) and ``reason``."""
        self._shutdown_close = (status, _reason_text(reason))
        self.stop()

    def shutdown_abruptly(self) -> None:
        """:meth:`stop`, dropping every connection without a closing handshake."""
        self._shutdown_close = None
        self.stop()

    @property
    def clients(self) -> List[Dict[str, Any]]:
        """The OPEN connections as the package's client dicts ``{'id', 'handler', 'address'}``.

        A new list each time: changing it changes nothing. ``handler`` is the
        :class:`Connection`.
        """
        return [_client_dict(conn) for conn in self._open_connections()]

    def handler_to_client(self, handler: Connection) -> Optional[Dict[str, Any]]:
        """The :attr:`clients` dict of an OPEN connection, or None."""
        return _client_dict(handler) if handler.state is OPEN else None

    @property
    def id_counter(self) -> NoReturn:
        """Refused (``AttributeError``): each connection has its own ``id``."""
        raise AttributeError("id_counter of websocket-server is not kept by pollhub: each Connection has its own id")

    def set_fn_new_client(self, fn: Callable[..., Any]) -> NoReturn:
        """Refused: subclass and override :meth:`on_open`."""
        _unsupported("set_fn_new_client()", "subclass ConnectionServer and override on_open(conn)")

    def set_fn_client_left(self, fn: Callable[..., Any]) -> NoReturn:
        """Refused: subclass and override :meth:`on_close`."""
        _unsupported("set_fn_client_left()", "subclass ConnectionServer and override on_close(conn)")

    def set_fn_message_received(self, fn: Callable[..., Any]) -> NoReturn:
        """Refused: subclass and override :meth:`on_text` (and :meth:`on_binary`)."""
        _unsupported("set_fn_message_received()", "subclass ConnectionServer and override on_text(conn, text)")

    def new_client(self, client: Any, server: Any) -> NoReturn:
        """Refused: pollhub calls :meth:`on_open`."""
        _unsupported("new_client()", "pollhub calls on_open(conn)")

    def client_left(self, client: Any, server: Any) -> NoReturn:
        """Refused: pollhub calls :meth:`on_close`."""
        _unsupported("client_left()", "pollhub calls on_close(conn)")

    def message_received(self, client: Any, server: Any, message: str) -> NoReturn:
        """Refused: pollhub calls :meth:`on_text`."""
        _unsupported("message_received()", "pollhub calls on_text(conn, text)")

    def _open_connections(self) -> List[Connection]:
        with self._lock:
            return [conn for conn in self._connections.values() if conn.state is OPEN]

    def superseded_count(self) -> int:
        """Results messages replaced by newer ones before a slow client got them."""
        with self._lock:
            return self._superseded_closed + sum(c._queue.superseded for c in self._connections.values())

    # socketserver plumbing ---------------------------------------------------------

    def server_bind(self) -> None:
        # socketserver: TCPServer.allow_reuse_port exists from Python 3.11 only.
        if self.reuse_port:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

    def get_request(self) -> Tuple[socket.socket, Any]:
        # socketserver: _handle_request_noblock swallows every OSError of
        # accept(). Out of file descriptors (EMFILE), the connection stays in
        # the backlog, the listening socket stays readable, and the accept
        # loop spins at full CPU without a word while clients time out. Pause
        # (a little longer at each failure) and say so.
        try:
            pair: Tuple[socket.socket, Any] = self.socket.accept()
        except OSError as exc:
            self._accept_failed(exc)
            raise
        if self._accept_backoff:
            self._accept_backoff = 0.0
        return pair

    def _accept_failed(self, exc: OSError) -> None:
        code = exc.errno
        self.accept_errors.inc(label=errno.errorcode.get(code, "other") if code else type(exc).__name__)
        if code not in _OUT_OF_RESOURCES:
            return  # ECONNABORTED and the like: that connection is gone, the next one is fine
        self._accept_backoff = min(ACCEPT_BACKOFF_MAX, self._accept_backoff * 2) or ACCEPT_BACKOFF_MIN
        now = time.monotonic()
        if now - self._accept_warned >= WARNING_INTERVAL:
            self._accept_warned = now
            with self._lock:
                threads, handshakes = len(self._threads), len(self._handshaking)
            logger.warning(
                "cannot accept connections: %s (%s) with %d connections open (%d WebSocket, %d in their handshake); "
                "new clients wait, and the accept loop pauses up to %g s between tries",
                "out of file descriptors" if code in _OUT_OF_DESCRIPTORS else "out of memory",
                exc.strerror or exc,
                threads,
                self._open_count,
                handshakes,
                ACCEPT_BACKOFF_MAX,
            )
        self._wakeup.wait(self._accept_backoff)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Like ThreadingMixIn.process_request, with a named thread that is
        # forgotten when it ends (ThreadingMixIn keeps every thread until
        # server_close, a leak on a long-running server).
        # socketserver: and with a bound on the connections still in their
        # handshake, checked here in the accept loop: past it a connection is
        # closed at once and costs no thread (thousands of sockets that never
        # finish their request would each hold one for handshake_timeout).
        # The limit per address can only see the TCP peer here: behind a
        # reverse proxy every connection counts against the proxy's address
        # (its X-Forwarded-For is not read yet; see Connection._forwarded_for).
        peer = client_address[0] if isinstance(client_address, tuple) else str(client_address)
        limits = self.limits
        thread = threading.Thread(
            target=self._connection_thread, args=(request, client_address), name="pollhub-read", daemon=True
        )
        with self._lock:
            from_peer = self._handshakes_from.get(peer, 0)
            if len(self._handshaking) >= limits.max_handshakes:
                shed: Optional[str] = "handshakes"
            elif from_peer >= limits.max_handshakes_per_address:
                shed = "per_address"
            else:
                shed = None
                self._handshaking[thread] = peer
                self._handshakes_from[peer] = from_peer + 1
                self._threads.add(thread)
        if shed is not None:
            self._shed(request, client_address, shed)
            return
        try:
            thread.start()
        except RuntimeError as exc:  # "can't start new thread": the system's thread limit
            with self._lock:
                self._threads.discard(thread)
            self._end_handshake(thread)
            self._shed(request, client_address, "threads", str(exc))

    def _shed(self, request: socket.socket, client_address: Any, reason: str, detail: str = "") -> None:
        """Close a connection just accepted, telling it 503 if that cannot block."""
        self.connections_shed.inc(label=reason)
        if self.ssl_context is None and _DONTWAIT:
            try:
                request.send(_SHED_RESPONSE, _DONTWAIT)
            except OSError:
                pass
        self.shutdown_request(request)
        now = time.monotonic()
        if now - self._shed_warned >= WARNING_INTERVAL:
            self._shed_warned = now
            limits = self.limits
            why = {
                "handshakes": f"{limits.max_handshakes} connections in their handshake (max_handshakes)",
                "per_address": f"{limits.max_handshakes_per_address} connections from "
                f"{escape(format_address(client_address))} in their handshake (max_handshakes_per_address)",
                "threads": f"no thread for it: {detail}",
            }[reason]
            logger.warning(
                "%s: closed at once: %s; %d shed so far (warned at most once in %g s)",
                format_address(client_address),
                why,
                sum(self.connections_shed.value(r) for r in SHED_REASONS),
                WARNING_INTERVAL,
            )

    def _end_handshake(self, thread: threading.Thread) -> None:
        """Free the handshake slot of a connection's read thread (once; later calls do nothing)."""
        with self._lock:
            peer = self._handshaking.pop(thread, None)
            if peer is not None:
                left = self._handshakes_from[peer] - 1
                if left:
                    self._handshakes_from[peer] = left
                else:
                    del self._handshakes_from[peer]

    def _connection_thread(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            logger.exception("%s: unexpected error", format_address(client_address))
        finally:
            self.shutdown_request(request)
            thread = threading.current_thread()
            self._end_handshake(thread)
            with self._lock:
                self._threads.discard(thread)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("%s: unexpected error", format_address(client_address))

    def _join_threads(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _track(self, conn: Connection) -> "_Tracked":
        return _Tracked(self, conn)

    def _release(self, conn: Connection) -> None:
        """Uncount a connection :meth:`_admit` counted, once its read thread is done with it."""
        with self._lock:
            self._open_count -= 1

    def _admit(self, conn: Connection) -> bool:
        """Count an upgraded connection, unless that would pass ``max_connections``."""
        with self._lock:
            if self._open_count >= self.limits.max_connections or self._stopped:
                return False
            self._open_count += 1
            return True


def _text_frame(msg: Union[str, bytes]) -> bytes:
    """A text frame for the package's ``msg``: a string, or UTF-8 bytes."""
    if isinstance(msg, str):
        data = msg.encode("utf-8")
    elif isinstance(msg, (bytes, bytearray)):
        data = bytes(msg)
        data.decode("utf-8")  # UnicodeDecodeError: a text message must be UTF-8
    else:
        raise TypeError(f"a message is str or UTF-8 bytes, not {type(msg).__name__}")
    return frames.encode_frame(frames.OP_TEXT, data)


def _reason_text(reason: Union[str, bytes]) -> str:
    """A close reason as text (the package passes bytes)."""
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason


def _client_dict(conn: Connection) -> Dict[str, Any]:
    """A connection as the package's client dict."""
    return {"id": conn.id, "handler": conn, "address": conn.client_address}


def local_addresses() -> List[str]:
    """This machine's IP addresses: IPv4 on its interfaces, and IPv6 where Linux lists them."""
    found = list(lan_addresses())
    try:
        with open("/proc/net/if_inet6") as table:
            for line in table:
                digits = line.split()[0] if line.strip() else ""
                if len(digits) == 32:
                    found.append(str(ipaddress.IPv6Address(int(digits, 16))))
    except (OSError, ValueError):
        pass
    return found


class _Tracked:
    """Keeps a connection in its server's table while its read thread runs it."""

    def __init__(self, server: ConnectionServer, conn: Connection) -> None:
        self.server, self.conn = server, conn

    def __enter__(self) -> None:
        with self.server._lock:
            self.server._connections[self.conn.id] = self.conn
        if self.server._stopped:
            self.conn.abort()

    def __exit__(self, *exc: object) -> None:
        with self.server._lock:
            self.server._connections.pop(self.conn.id, None)
            self.server._superseded_closed += self.conn._queue.superseded
