"""PollServer: the WebSocket endpoint that connects clients to a :class:`~pollhub.Hub`.

Each connection's read thread parses the client's messages
(:mod:`pollhub.protocol`), checks the admin token and the limits, and
submits commands to the hub's inbound queue; the hub sends replies and
broadcasts back through :class:`Participant.send`, which only queues frames
for the connection's write thread (:mod:`pollhub.connection`).

The limits (:mod:`pollhub.limiters`) are shared by every connection, so that
reconnecting does not reset them: votes per voter id and per client address,
new voter ids per address and wrong admin tokens per address.
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
import threading
import time
from typing import Any, Callable, List, Optional, Sequence, Union
from urllib.parse import urlsplit

from . import export, frames, metrics, protocol, text
from .connection import ACCEPT_POLL_INTERVAL, Connection, ConnectionServer
from .errors import Forbidden, PollhubError, RateLimited, Unavailable
from .forwarded import IPNetwork
from .handshake import Request, response
from .hub import Client, Hub
from .lan import lan_addresses
from .limiters import TOKEN_DELAY, TOKEN_DELAY_MAX, NewVoters, RateTable, TokenGuard, address_key
from .metrics import CounterFunc, Gauge, Info, Registry
from .pages import StaticFiles
from .protocol import Ask, Hello, Message, SetNickname, Upvote, Vote

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8765
WS_PATH = "/ws"
VOTER_LOGGED = 8  # characters of a voter id written to the log
MAX_VOTE_RATE = 20.0  # votes per second per voter id, on average, whatever its connections
# Votes per second per client address. Higher than one voter's: a whole hall
# may vote through one NAT (a 2,000-person keynote answering a question within
# five seconds is 400 a second; the burst holds 5,000). One address sending
# more than this for long is a script, or a tapping contest big enough to raise it.
MAX_ADDRESS_VOTE_RATE = 1000.0
BURST_SECONDS = 5.0  # a voter or an address may save up this many seconds' worth of votes
# New voter ids per client address: a burst that lets a 2,000-person hall behind
# one NAT join at once, then a rate that slows a script inventing voters to a
# trickle (36,000 an hour instead of thousands a second).
NEW_VOTER_BURST = 2000
NEW_VOTER_RATE = 10.0  # per second, once the burst is spent
#: The results export (pollhub.export), for requests with the admin token in an Authorization header.
EXPORT_PATHS = {"/export.csv": "csv", "/export.json": "json"}
MAX_TOKEN_FAILURES = 3  # wrong admin tokens before a connection is closed (1008); 0: never


def resident_memory() -> int:
    """This process's resident memory in bytes (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def ws_url(host: str, port: int, tls: bool = False) -> str:
    """The WebSocket address of a server on ``host:port``; loopback for a wildcard ``host``."""
    local = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"{'wss' if tls else 'ws'}://{_bracket(local)}:{port}{WS_PATH}"


def page_url(host: str, port: int, tls: bool = False) -> str:
    """The participant page's address through ``host`` (a name or an address)."""
    return f"{'https' if tls else 'http'}://{_bracket(host)}:{port}/"


def join_url(host: str, port: int, tls: bool = False) -> str:
    """The participant page on ``host``, or on this machine's LAN address for a wildcard ``host``."""
    if host in ("", "0.0.0.0", "::"):
        host = next(iter(lan_addresses()), "127.0.0.1")
    return page_url(host, port, tls)


@functools.lru_cache(maxsize=8)
def qr_svg(url: str) -> bytes:
    """A QR code for ``url`` as an SVG image."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False, title="Join: " + url)
    return out.getvalue()


def client_address(conn: Connection) -> str:
    """The key ``conn``'s client address is limited by (see :func:`pollhub.limiters.address_key`).

    The client is the TCP peer, or behind a trusted proxy the address the
    proxy forwarded (``trusted_proxies``: see :mod:`pollhub.forwarded`).
    """
    return address_key(conn.client_host)


class Participant(Client):
    """One WebSocket connection as the hub sees it."""

    __slots__ = ("conn", "voter", "admin", "address", "admitted", "token_failures", "_offer")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Until a hello names the voter: a voter id nobody can guess, never used
        # before (voter ids are bearer secrets: whoever says one votes as it).
        self.voter = protocol.SERVER_VOTER_PREFIX + secrets.token_hex(16)
        self.admin = False
        self.address = client_address(conn)
        self.admitted = False  # whether self.voter counts as one of its address's voters yet
        self.token_failures = 0  # wrong admin tokens on this connection
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
    port). ``allowed_hosts`` (passed on to the connection server) lists the
    ``Host`` names it answers to. ``trusted_proxies`` lists the reverse
    proxies (IP addresses or networks such as ``10.0.0.0/8``) whose
    ``X-Forwarded-For`` header is believed: the limits per address and the
    log lines then use the client's address that proxy forwarded; from any
    other peer the header is ignored (see :mod:`pollhub.forwarded`).

    Limits, shared by all connections (0 turns one off; see the module's
    constants for the defaults and why): ``max_vote_rate`` votes per second
    per voter id and ``max_address_vote_rate`` per client address, each with
    a burst of ``BURST_SECONDS`` worth; ``new_voter_rate`` new voter ids per
    second per address after a burst of ``new_voter_burst``. A vote or hello
    over a limit gets a ``rate_limited`` error; the connection stays open.
    After ``max_token_failures`` wrong admin tokens a connection is closed
    (1008), and later hellos with a token from its address wait
    ``token_delay`` seconds, doubling per further wrong token up to
    ``token_delay_max``. ``clock`` is the limits' monotonic clock (for
    tests). Connection limits (``max_size``, ``max_connections``,
    ``handshake_timeout``, ``ping_interval``, ...) are keyword arguments
    documented in :mod:`pollhub.connection`. ``reuse_port=True`` binds with
    ``SO_REUSEPORT``, so that several servers (each with its own hub, sharing
    one event through Redis) listen on one port and the kernel spreads the
    connections over them (``python -m pollhub --workers N``); ``OSError``
    where the platform lacks it (see :class:`~pollhub.connection.ConnectionServer`).

    ``/healthz`` and ``/metrics`` say which node answered: the header
    ``X-Pollhub-Node`` and the gauge ``pollhub_node_info`` carry the hub's
    :attr:`~pollhub.Hub.node`.

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
        max_address_vote_rate: float = MAX_ADDRESS_VOTE_RATE,
        new_voter_rate: float = NEW_VOTER_RATE,
        new_voter_burst: int = NEW_VOTER_BURST,
        max_token_failures: int = MAX_TOKEN_FAILURES,
        token_delay: float = TOKEN_DELAY,
        token_delay_max: float = TOKEN_DELAY_MAX,
        allowed_origins: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        trusted_proxies: Sequence[Union[str, IPNetwork]] = (),
        ssl_context: Optional[ssl.SSLContext] = None,
        join_url: Optional[str] = None,
        clock: Callable[[], float] = time.monotonic,
        reuse_port: bool = False,
        **limits: Any,
    ) -> None:
        super().__init__(
            host,
            port,
            allowed_origins=allowed_origins,
            allowed_hosts=allowed_hosts,
            trusted_proxies=trusted_proxies,
            ssl_context=ssl_context,
            reuse_port=reuse_port,
            **limits,
        )
        self.hub = hub
        self.token = token or secrets.token_urlsafe(16)
        self.max_vote_rate = max_vote_rate
        self.max_address_vote_rate = max_address_vote_rate
        self.max_token_failures = max_token_failures
        self.voter_votes = RateTable(max_vote_rate, max_vote_rate * BURST_SECONDS, clock=clock)
        self.address_votes = RateTable(max_address_vote_rate, max_address_vote_rate * BURST_SECONDS, clock=clock)
        self.new_voters = NewVoters(new_voter_rate, new_voter_burst, clock=clock)
        self.token_guard = TokenGuard(token_delay, token_delay_max, clock=clock)
        hub.advertise(vote_rate=max_vote_rate)  # in every welcome's limits (0: none)
        self._stopping = threading.Event()  # ends the token delays of read threads at stop()
        self.static = StaticFiles()
        self.metrics = Registry()
        self.metrics.add(
            Info(
                "pollhub_node_info",
                "The node that answered: its id, process and event.",
                {"node": hub.node, "pid": str(os.getpid()), "event": hub.event},
            )
        )
        self.metrics.add(Gauge("pollhub_connections", "Open WebSocket connections.", lambda: self.connection_count))
        self.metrics.metrics.extend(hub.metrics.registry.metrics)
        self.metrics.add(
            CounterFunc(
                "pollhub_results_superseded_total",
                "Results replaced by newer ones before a slow client got them.",
                self.superseded_count,
            )
        )
        self.metrics.metrics.extend(self.connection_metrics())
        self.metrics.add(Gauge("pollhub_process_resident_memory_bytes", "Resident memory of this process.", resident_memory))
        self.metrics.add(
            Gauge("pollhub_client_addresses", "Client addresses with voter ids remembered.", self.new_voters.addresses)
        )
        self.metrics.add(
            Gauge(
                "pollhub_voters_per_address_max",
                "The most voter ids remembered for one client address.",
                self.new_voters.most_per_address,
            )
        )
        self.metrics.add(self.new_voters.refused)
        self.metrics.add(self.token_guard.failures)
        self._join_url = join_url
        self._owns_hub = False

    def known_hosts(self) -> List[str]:
        """The names a request's ``Host`` may carry: the connection server's, and the join URL's host."""
        names = super().known_hosts()
        if self._join_url is not None:
            host = urlsplit(self._join_url).hostname
            if host:
                names.append(host)
        return names

    @property
    def url(self) -> str:
        """The WebSocket address, e.g. ``ws://127.0.0.1:8765/ws`` (loopback for a wildcard host)."""
        return ws_url(self.host, self.port, self.ssl_context is not None)

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
        self._stopping.set()
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
        return join_url(self.host, self.port, self.ssl_context is not None)

    def http_response(self, request: Request, conn: Connection) -> Optional[bytes]:
        if request.path == WS_PATH:
            return None
        page = self.static.response(request)
        if page is not None:
            return page
        head = request.method == "HEAD"
        if request.method not in ("GET", "HEAD"):
            return response(405, b"use GET\n", headers={"Allow": "GET, HEAD"}, head_only=head)
        if request.path == "/healthz":
            node = {"X-Pollhub-Node": self.hub.node}
            if not self.hub.running:
                return response(503, b"hub not running\n", headers=node, head_only=head)
            if not self.hub.saving:
                body = b"redis out of reach\n" if self.hub.redis_url else b"database not writable\n"
                return response(503, body, headers=node, head_only=head)
            return response(200, f"ok node {self.hub.node}\n".encode("ascii"), headers=node, head_only=head)
        if request.path == "/metrics":
            body = self.metrics.render().encode("utf-8")
            return response(200, body, metrics.CONTENT_TYPE, {"Cache-Control": "no-cache"}, head_only=head)
        if request.path == "/join.json":
            body = json.dumps({"url": self.join_url}).encode("utf-8")
            return response(200, body, "application/json", {"Cache-Control": "no-cache"}, head_only=head)
        if request.path == "/qr.svg":
            return response(200, qr_svg(self.join_url), "image/svg+xml", {"Cache-Control": "no-cache"}, head_only=head)
        if request.path in EXPORT_PATHS:
            return self._export_response(request, conn, EXPORT_PATHS[request.path], head)
        return response(404, b"not found\n", head_only=head)

    def _export_response(self, request: Request, conn: Connection, kind: str, head: bool) -> bytes:
        """``/export.csv`` or ``/export.json``: the live results, for a request with the admin token.

        The token comes in an ``Authorization: Bearer TOKEN`` header only,
        never from the URL: 401 without one, 403 with a wrong one (counted
        and slowed down per client address like a hello's, 429 when the
        address has tried too often), 503 when the hub does not answer.
        """
        guarded = {"Cache-Control": "no-store"}
        scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            challenge = {**guarded, "WWW-Authenticate": 'Bearer realm="pollhub"'}
            body = b"the export needs the admin token: Authorization: Bearer TOKEN\n"
            return response(401, body, headers=challenge, head_only=head)
        address, shown = client_address(conn), conn.address
        wait = self.token_guard.wait_for(address)
        if wait is None:
            logger.warning("%s: %s refused: too many admin token tries from this address", shown, request.path)
            retry = {**guarded, "Retry-After": str(max(1, round(self.token_guard.delay_max)))}
            body = b"too many admin token tries from your address: try again later\n"
            return response(429, body, headers=retry, head_only=head)
        if wait > 0 and self._stopping.wait(wait):
            return response(503, b"the server is stopping\n", headers=guarded, head_only=head)
        # Header values arrive decoded as latin-1: encoding them back gives the bytes the client sent.
        if not hmac.compare_digest(given.encode("latin-1"), self.token.encode("utf-8")):
            self.token_guard.failed(address)
            logger.warning("%s: %s with a wrong admin token", shown, request.path)
            return response(403, b"wrong admin token\n", headers=guarded, head_only=head)
        try:
            document = self.hub.export()
        except Unavailable:
            return response(503, b"hub not running\n", headers=guarded, head_only=head)
        if kind == "csv":
            body = export.to_csv(document).encode("utf-8")
        else:
            body = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        headers = {**guarded, "Content-Disposition": f'attachment; filename="{export.filename(kind)}"'}
        logger.info("%s: %s: %d poll(s), %d bytes", shown, request.path, len(document["polls"]), len(body))
        return response(200, body, export.CONTENT_TYPES[kind], headers, head_only=head)

    def on_open(self, conn: Connection) -> None:
        participant = Participant(conn)
        conn.participant = participant
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
        # Voter ids are bearer secrets: the log shows enough of one to follow it, not to reuse it.
        logger.info("%s: disconnected (voter %s)", conn.address, text.escape(participant.voter, VOTER_LOGGED))

    def on_text(self, conn: Connection, text: str) -> None:
        participant: Participant = conn.participant
        ref = None
        try:
            command = protocol.parse(text)
            ref = command.ref
            if isinstance(command, Hello):
                self._hello(participant, command)
            elif isinstance(command, (Vote, Ask, Upvote, SetNickname)):  # each counts as a vote against the limits
                self._check_vote(participant)
            self.hub.submit(participant, command)
        except PollhubError as exc:
            participant.send(Message(protocol.error(exc, ref if ref is not None else exc.ref)))
            if 0 < self.max_token_failures <= participant.token_failures and not conn.closing:
                logger.warning("%s: closed after %d wrong admin tokens", conn.address, participant.token_failures)
                conn.close(frames.CLOSE_POLICY_VIOLATION, "too many wrong admin tokens")

    def _check_vote(self, participant: Participant) -> None:
        """Raise RateLimited for a vote over its voter's or its address's rate, or a new voter over its address's."""
        if not participant.admitted:
            if not self.new_voters.admit(participant.address, participant.voter):
                self.hub.metrics.votes_rejected.inc(label=RateLimited.code)
                raise RateLimited("too many new voters from your address: try again in a few seconds")
            participant.admitted = True
        # The voter's bucket first: a voter over its own rate does not spend its address's votes.
        if not self.voter_votes.take(participant.voter):
            self.hub.metrics.votes_rejected.inc(label=RateLimited.code)
            raise RateLimited(f"too many votes: at most {self.max_vote_rate:g} a second")
        if not self.address_votes.take(participant.address):
            self.hub.metrics.votes_rejected.inc(label=RateLimited.code)
            raise RateLimited(f"too many votes from your address: at most {self.max_address_vote_rate:g} a second")

    def _hello(self, participant: Participant, hello: Hello) -> None:
        """Check the hello's token and new voter id in this read thread; change nothing if either is refused."""
        admin = participant.admin
        if hello.token is not None:
            admin = self._check_token(participant, hello.token)
        if hello.voter is not None and hello.voter != participant.voter:
            if not self.new_voters.admit(participant.address, hello.voter):
                raise RateLimited("too many new voters from your address: try again in a few seconds")
            participant.voter = hello.voter
            participant.admitted = True
        participant.admin = admin

    def _check_token(self, participant: Participant, token: str) -> bool:
        """Wait as long as this address must, then check ``token``; raises Forbidden or RateLimited."""
        address = participant.conn.address
        wait = self.token_guard.wait_for(participant.address)
        if wait is None:
            participant.token_failures += 1
            logger.warning("%s: hello with an admin token refused: too many tries from this address", address)
            raise RateLimited("too many admin token tries from your address: try again later")
        if wait > 0 and self._stopping.wait(wait):
            raise Unavailable("the server is stopping")
        if not hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self.token.encode("utf-8")):
            participant.token_failures += 1
            self.token_guard.failed(participant.address)
            logger.warning("%s: hello with a wrong admin token", address)
            raise Forbidden("wrong admin token")
        return True
