"""PollServer: the WebSocket endpoint that connects clients to a :class:`~pollhub.Hub`.

Each connection's read thread parses the client's messages
(:mod:`pollhub.protocol`), checks the admin token and the vote rate, and
submits commands to the hub's inbound queue; the hub sends replies and
broadcasts back through :class:`Participant.send`, which only queues frames
for the connection's write thread (:mod:`pollhub.connection`).
"""

from __future__ import annotations

import functools
import hmac
import io
import json
import logging
import os
import secrets
import ssl
import time
from typing import Any, Optional, Sequence

from . import frames, metrics, protocol
from .connection import ACCEPT_POLL_INTERVAL, Connection, ConnectionServer
from .errors import Forbidden, PollhubError, RateLimited, Unavailable
from .handshake import Request, response
from .hub import Client, Hub
from .lan import lan_addresses
from .metrics import CounterFunc, Gauge, Registry
from .pages import StaticFiles
from .protocol import Hello, Message, Vote

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
WS_PATH = "/ws"
MAX_VOTE_RATE = 20.0  # votes per second per connection, on average
BURST_SECONDS = 5.0  # a connection may save up this many seconds' worth of votes


def resident_memory() -> int:
    """This process's resident memory in bytes (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@functools.lru_cache(maxsize=8)
def qr_svg(url: str) -> bytes:
    """A QR code for ``url`` as an SVG image."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False, title="Join: " + url)
    return out.getvalue()


class TokenBucket:
    """``rate`` tokens a second, holding at most ``rate * BURST_SECONDS``; rate 0 is no limit.

    Not thread-safe: each connection's read thread owns its bucket.
    """

    def __init__(self, rate: float, burst_seconds: float = BURST_SECONDS) -> None:
        self.rate = rate
        self.capacity = rate * burst_seconds
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Spend one token; False when there is none left."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Participant(Client):
    """One WebSocket connection as the hub sees it."""

    __slots__ = ("conn", "voter", "admin", "bucket", "_offer")

    def __init__(self, conn: Connection, max_vote_rate: float) -> None:
        self.conn = conn
        self.voter = f"conn:{conn.id}"  # until a hello names the voter
        self.admin = False
        self.bucket = TokenBucket(max_vote_rate)
        self._offer = conn.offer

    def send(self, message: Message) -> None:
        # The hub calls this for every client of every broadcast, so it goes
        # straight to the connection's SendQueue.offer (what send_frame does,
        # one call and two lookups fewer), with send_frame's error handling.
        try:
            self._offer(message.frame, message.key, message.seal)
        except Connection.SEND_ERRORS as exc:
            self.conn.send_failed(exc)


class PollServer(ConnectionServer):
    """Serve a hub over WebSocket at ``ws://host:port/ws``; ``port=0`` picks a free port.

    ``token`` is the admin token a client's ``hello`` must carry before admin
    messages (a random one by default, in :attr:`token`). With an
    ``ssl_context`` (see :func:`pollhub.connection.tls_context`) it serves
    ``wss://`` and ``https://``. ``join_url`` is the address the pages show
    and encode in the QR code (default: this machine's LAN address and the
    port). ``max_vote_rate``
    limits votes per second per connection (0: no limit). Connection limits
    (``max_size``, ``max_connections``, ``handshake_timeout``, ``ping_interval``,
    ...) are keyword arguments documented in :mod:`pollhub.connection`.

    :meth:`start` also starts the hub if it is not running yet, and then
    :meth:`stop` stops it too.
    """

    def __init__(
        self,
        hub: Hub,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        token: Optional[str] = None,
        max_vote_rate: float = MAX_VOTE_RATE,
        allowed_origins: Sequence[str] = (),
        ssl_context: Optional[ssl.SSLContext] = None,
        join_url: Optional[str] = None,
        **limits: Any,
    ) -> None:
        super().__init__(host, port, allowed_origins=allowed_origins, ssl_context=ssl_context, **limits)
        self.hub = hub
        self.token = token or secrets.token_urlsafe(16)
        self.max_vote_rate = max_vote_rate
        self.static = StaticFiles()
        self.metrics = Registry()
        self.metrics.add(Gauge("pollhub_connections", "Open WebSocket connections.", lambda: self.connection_count))
        self.metrics.metrics.extend(hub.metrics.registry.metrics)
        self.metrics.add(
            CounterFunc(
                "pollhub_results_superseded_total",
                "Results replaced by newer ones before a slow client got them.",
                self.superseded_count,
            )
        )
        self.metrics.add(self.dropped_stalled)
        self.metrics.add(Gauge("pollhub_process_resident_memory_bytes", "Resident memory of this process.", resident_memory))
        self._join_url = join_url
        self._owns_hub = False

    @property
    def url(self) -> str:
        """The WebSocket address, e.g. ``ws://127.0.0.1:8765/ws`` (loopback for a wildcard host)."""
        return self.url_for({"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host))

    def url_for(self, host: str) -> str:
        """The WebSocket address of this server through ``host`` (a name or an address)."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{_bracket(host)}:{self.port}{WS_PATH}"

    def page_url_for(self, host: str) -> str:
        """The participant page's address through ``host``."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{_bracket(host)}:{self.port}/"

    def start(self) -> "PollServer":
        """Start the hub if needed, then accept connections in the background."""
        if not self.hub.running:
            self.hub.start()
            self._owns_hub = True
        super().start()
        return self

    def serve_forever(self, poll_interval: float = ACCEPT_POLL_INTERVAL) -> None:
        """Start the hub if needed and accept connections until :meth:`stop`."""
        if not self.hub.running:
            self.hub.start()
            self._owns_hub = True
        super().serve_forever(poll_interval)

    def stop(self, timeout: Optional[float] = None) -> None:
        """Close every connection (code 1001), then stop the hub if :meth:`start` started it.

        Clients get ``timeout`` seconds (default: ``close_timeout``) to answer.
        """
        super().stop(timeout)
        if self._owns_hub:
            self.hub.stop()

    def __enter__(self) -> "PollServer":
        return self.start()

    # Connection hooks (each connection's read thread) ------------------------------

    @property
    def join_url(self) -> str:
        """The address participants open: the participant page on this machine's LAN address."""
        if self._join_url is not None:
            return self._join_url
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = next(iter(lan_addresses()), "127.0.0.1")
        return self.page_url_for(host)

    def http_response(self, request: Request) -> Optional[bytes]:
        if request.path == WS_PATH:
            return None
        page = self.static.response(request)
        if page is not None:
            return page
        head = request.method == "HEAD"
        if request.method not in ("GET", "HEAD"):
            return response(405, b"use GET\n", headers={"Allow": "GET, HEAD"}, head_only=head)
        if request.path == "/healthz":
            if not self.hub.running:
                return response(503, b"hub not running\n", head_only=head)
            if not self.hub.saving:
                return response(503, b"database not writable\n", head_only=head)
            return response(200, b"ok\n", head_only=head)
        if request.path == "/metrics":
            body = self.metrics.render().encode("utf-8")
            return response(200, body, metrics.CONTENT_TYPE, {"Cache-Control": "no-cache"}, head_only=head)
        if request.path == "/join.json":
            body = json.dumps({"url": self.join_url}).encode("utf-8")
            return response(200, body, "application/json", {"Cache-Control": "no-cache"}, head_only=head)
        if request.path == "/qr.svg":
            return response(200, qr_svg(self.join_url), "image/svg+xml", {"Cache-Control": "no-cache"}, head_only=head)
        return response(404, b"not found\n", head_only=head)

    def on_open(self, conn: Connection) -> None:
        participant = Participant(conn, self.max_vote_rate)
        conn.participant = participant  # type: ignore[attr-defined]
        try:
            self.hub.register(participant)
        except Unavailable:
            conn.close(frames.CLOSE_INTERNAL_ERROR, "server is stopping")
            return
        logger.info("%s: connected", conn.address)

    def on_close(self, conn: Connection) -> None:
        participant: Optional[Participant] = getattr(conn, "participant", None)
        if participant is None:
            return
        try:
            self.hub.unregister(participant)
        except Unavailable:
            pass
        logger.info("%s: disconnected (voter %s)", conn.address, participant.voter)

    def on_text(self, conn: Connection, text: str) -> None:
        participant: Participant = conn.participant  # type: ignore[attr-defined]
        ref = None
        try:
            command = protocol.parse(text)
            ref = command.ref
            if isinstance(command, Hello):
                self._hello(participant, command)
            elif isinstance(command, Vote) and not participant.bucket.take():
                self.hub.metrics.votes_rejected.inc(label=RateLimited.code)
                raise RateLimited(f"too many votes: at most {self.max_vote_rate:g} a second")
            self.hub.submit(participant, command)
        except PollhubError as exc:
            participant.send(Message(protocol.error(exc, ref if ref is not None else exc.ref)))

    def _hello(self, participant: Participant, hello: Hello) -> None:
        if hello.token is not None:
            if not hmac.compare_digest(hello.token.encode("utf-8"), self.token.encode("utf-8")):
                logger.warning("%s: hello with a wrong admin token", participant.conn.address)
                raise Forbidden("wrong admin token")
            participant.admin = True
        if hello.voter is not None:
            participant.voter = hello.voter
