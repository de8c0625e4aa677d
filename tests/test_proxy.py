"""Behind a reverse proxy: ``X-Forwarded-For`` from trusted proxies only, and a real nginx in front of two nodes.

The first part tests :mod:`pollhub.forwarded` on its own (no I/O). The rest
runs a real nginx (Debian's ``nginx`` package; see ``tests/nginx_server.py``)
in front of pollhub nodes started as ``python -m pollhub`` subprocesses, with
the configuration README.rst gives, and checks what a participant and the
nodes see through it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import pytest
import websocket

from pollhub import Hub, PollClient, PollServer
from pollhub.forwarded import MAX_HOPS, IPNetwork, forwarded_client, parse_address, trusted_network, trusted_networks

from .conftest import TIMEOUT, wait_until
from .nginx_server import PROXY_ADDRESS, NginxServer, check_config, proxy_locations, require_nginx
from .processes import Process
from .redis_server import RedisServer

# 1. The header, without I/O ---------------------------------------------------------------

PROXIES = trusted_networks(["10.0.0.0/8", "192.0.2.1", "2001:db8:f::/48"])


def client(peer: str, header: Optional[str], trusted: Sequence[IPNetwork] = PROXIES) -> str:
    return forwarded_client(peer, header, trusted)


def test_untrusted_peer_header_ignored() -> None:
    assert client("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    assert client("203.0.113.7", "10.1.2.3") == "203.0.113.7"
    assert client("2001:db8:1::5", "198.51.100.1") == "2001:db8:1::5"


def test_no_trusted_proxies_header_ignored() -> None:
    assert client("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


def test_trusted_peer_without_header_is_the_client() -> None:
    assert client("10.0.0.2", None) == "10.0.0.2"
    assert client("10.0.0.2", "") == "10.0.0.2"
    assert client("10.0.0.2", "   ") == "10.0.0.2"


def test_one_hop() -> None:
    assert client("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert client("192.0.2.1", " 198.51.100.1 ") == "198.51.100.1"


def test_rightmost_untrusted_wins_over_what_the_client_wrote() -> None:
    """A client that sends its own header gets the real address appended by the proxy: the forged part is never read."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1") == "198.51.100.1"
    assert client("10.0.0.2", "garbage, 198.51.100.1") == "198.51.100.1"
    assert client("10.0.0.2", "10.9.9.9, 198.51.100.1") == "198.51.100.1"


def test_trusted_hops_are_skipped() -> None:
    """Two proxies in a row (an edge balancer, then nginx): both skipped."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3") == "198.51.100.1"
    assert client("10.0.0.2", "198.51.100.1, 192.0.2.1, 10.0.0.3, 2001:db8:f::9") == "198.51.100.1"


def test_all_trusted_is_the_leftmost() -> None:
    assert client("10.0.0.2", "10.0.0.5, 10.0.0.4, 10.0.0.3") == "10.0.0.5"


def test_repeated_headers_joined() -> None:
    """pollhub.handshake joins repeated headers with ", ": read as one list."""
    assert client("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3") == "198.51.100.1"


@pytest.mark.parametrize(
    "header",
    [
        "unknown",
        "nginx.internal",
        "_hidden",  # an RFC 7239 obfuscated identifier
        "198.51.100.1, ",  # an empty hop at the right
        "198.51.100.1,,10.0.0.3",
        "198.51.100.1:99999",
        "198.51.100.1:",
        "198.51.100.1:x",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "[2001:db8::1]:",
        "[198.51.100.1",
        "2001:db8::1]",
        "1.2.3",
        "256.1.1.1",
        "198.51.100.1/24",
        "\x00",
        "198.51.100.1\r\nX-Evil: 1",
        "\u0661.\u0662.\u0663.\u0664",  # Arabic-Indic digits
        "1" * 10_000,
        "A" * 200,
    ],
)
def test_malformed_header_uses_the_peer(header: str) -> None:
    assert client("10.0.0.2", header) == "10.0.0.2"


def test_garbage_left_of_the_client_is_never_read() -> None:
    assert client("10.0.0.2", "\x00\x01, x" * 1000 + ", 198.51.100.1") == "198.51.100.1"


def test_many_hops() -> None:
    """A long chain: only the right end is read; a chain of more than MAX_HOPS trusted hops is not believed."""
    forged = ", ".join(f"198.51.100.{i % 250}" for i in range(5_000))
    assert client("10.0.0.2", forged + ", 203.0.113.9") == "203.0.113.9"
    assert client("10.0.0.2", forged + ", 203.0.113.9, 10.0.0.7") == "203.0.113.9"
    trusted = [f"10.0.0.{i}" for i in range(1, MAX_HOPS + 1)]
    assert client("10.0.0.2", ", ".join(["203.0.113.9"] + trusted[1:])) == "203.0.113.9"  # MAX_HOPS hops
    assert client("10.0.0.2", ", ".join(trusted)) == "10.0.0.1"  # MAX_HOPS hops, all trusted: the leftmost
    assert client("10.0.0.2", ", ".join(["203.0.113.9"] + trusted)) == "10.0.0.2"  # one more: the peer
    assert client("10.0.0.2", ", ".join(["10.0.0.99"] + trusted)) == "10.0.0.2"


def test_ipv6_forms() -> None:
    assert client("10.0.0.2", "2001:db8::1") == "2001:db8::1"
    assert client("10.0.0.2", "[2001:db8::1]") == "2001:db8::1"
    assert client("10.0.0.2", "[2001:db8::1]:4711") == "2001:db8::1"
    assert client("10.0.0.2", "2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert client("10.0.0.2", "fe80::1%eth0") == "fe80::1"
    assert client("10.0.0.2", "[fe80::1%eth0]:80") == "fe80::1"
    assert client("10.0.0.2", "::ffff:198.51.100.1") == "198.51.100.1"
    assert client("2001:db8:f::2", "198.51.100.1") == "198.51.100.1"
    assert client("[2001:db8:f::2]:443", "198.51.100.1") == "198.51.100.1"


def test_ipv4_with_port() -> None:
    assert client("10.0.0.2", "198.51.100.1:4711") == "198.51.100.1"
    assert client("10.0.0.2", "198.51.100.1:4711, 10.0.0.3:80") == "198.51.100.1"


def test_ipv4_mapped_peer_is_its_ipv4_address() -> None:
    """A dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d: a trusted IPv4 proxy is still trusted."""
    assert client("::ffff:10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert client("::ffff:203.0.113.7", "198.51.100.1") == "::ffff:203.0.113.7"  # untrusted: unchanged


def test_peer_that_is_not_an_address() -> None:
    assert client("/run/pollhub.sock", "198.51.100.1") == "/run/pollhub.sock"
    assert client("", "198.51.100.1") == ""


def test_parse_address() -> None:
    assert parse_address("198.51.100.1") == ipaddress.ip_address("198.51.100.1")
    assert parse_address(" [::1]:8765 ") == ipaddress.ip_address("::1")
    assert parse_address("::ffff:127.0.0.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_address("localhost") is None
    assert parse_address("") is None


def test_trusted_network() -> None:
    assert str(trusted_network("10.0.0.0/8")) == "10.0.0.0/8"
    assert str(trusted_network(" 127.0.0.1 ")) == "127.0.0.1/32"
    assert str(trusted_network("fd00::/8")) == "fd00::/8"
    assert str(trusted_network("::1")) == "::1/128"
    assert str(trusted_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"  # compared as IPv4, like peers
    assert trusted_network(ipaddress.ip_network("10.0.0.0/8")) == ipaddress.ip_network("10.0.0.0/8")
    with pytest.raises(ValueError, match="host bits set: the network is 10.0.0.0/8"):
        trusted_network("10.0.0.1/8")
    for bad in ("nginx", "", "10.0.0.0/33", "*", "10.0.0.0/8, 10.1.0.0/16"):
        with pytest.raises(ValueError, match="not an IP address or network"):
            trusted_network(bad)


def test_trusted_ipv6_network_matches_ipv6_only() -> None:
    trusted = trusted_networks(["2001:db8:f::/48"])
    assert client("2001:db8:f:1::2", "198.51.100.1", trusted) == "198.51.100.1"
    assert client("2001:db8:e::2", "198.51.100.1", trusted) == "2001:db8:e::2"
    assert client("10.0.0.2", "198.51.100.1", trusted) == "10.0.0.2"


# 2. A server trusting a proxy, without nginx ------------------------------------------------

Message = Dict[str, Any]
REPLY_TYPES = {"hello", "voted", "ok", "error"}
# One new voter id per client address, then (for the length of a test) none.
ONE_VOTER_BURST, ONE_VOTER_RATE = 1, 0.001


def open_ws(url: str, source: str = "127.0.0.1", forwarded_for: Optional[str] = None) -> websocket.WebSocket:
    """A websocket-client connection from the loopback address ``source``, past its welcome.

    ``forwarded_for`` is an ``X-Forwarded-For`` header of the client's own.
    """
    host, port = urlsplit(url).hostname, urlsplit(url).port
    assert host is not None and port is not None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT)
        sock.bind((source, 0))
        sock.connect((host, port))
        headers = [] if forwarded_for is None else [f"X-Forwarded-For: {forwarded_for}"]
        ws = websocket.create_connection(url, timeout=TIMEOUT, socket=sock, header=headers)
    except BaseException:
        sock.close()
        raise
    welcome = json.loads(ws.recv())
    assert welcome["type"] == "welcome", welcome
    return ws


def ask(ws: websocket.WebSocket, data: Message) -> Message:
    """Send ``data`` and return the next direct reply (hello, voted, ok, error), skipping broadcasts."""
    ws.send(json.dumps(data))
    while True:
        message: Message = json.loads(ws.recv())
        if message["type"] in REPLY_TYPES:
            return message


def new_voter(ws: websocket.WebSocket, voter: str) -> bool:
    """Say hello as ``voter``, new here: True when let in, False when its address may add no more voters."""
    reply = ask(ws, {"type": "hello", "voter": voter})
    if reply["type"] == "error":
        assert reply["code"] == "rate_limited", reply
        return False
    assert reply["voter"] == voter, reply
    return True


class Sockets:
    """:func:`open_ws` connections, to close before their server stops (a server waits for their close frames)."""

    def __init__(self) -> None:
        self.opened: List[websocket.WebSocket] = []

    def __call__(self, url: str, source: str = "127.0.0.1", forwarded_for: Optional[str] = None) -> websocket.WebSocket:
        ws = open_ws(url, source, forwarded_for)
        self.opened.append(ws)
        return ws

    def close(self) -> None:
        for ws in self.opened:
            try:
                ws.close(timeout=1)
            except Exception:  # already closed by the server
                pass
        self.opened.clear()


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    opened = Sockets()
    yield opened
    opened.close()


def test_server_takes_the_client_from_a_trusted_proxy(
    hub: Hub, sockets: Sockets, caplog: pytest.LogCaptureFixture
) -> None:
    """From a trusted peer, the limits per address and the log lines use the address it forwarded."""
    caplog.set_level(logging.INFO, logger="pollhub")
    with PollServer(hub, port=0, trusted_proxies=["127.0.0.1"], new_voter_burst=ONE_VOTER_BURST, new_voter_rate=ONE_VOTER_RATE) as server:
        assert new_voter(sockets(server.url, forwarded_for="203.0.113.7"), "ann")
        assert not new_voter(sockets(server.url, forwarded_for="203.0.113.7"), "bob")
        assert new_voter(sockets(server.url, forwarded_for="203.0.113.8"), "bob")
        assert new_voter(sockets(server.url, forwarded_for="2001:db8:1:2::7"), "cid")
        assert not new_voter(sockets(server.url, forwarded_for="2001:db8:1:2::8"), "dan")  # the same /64
        assert new_voter(sockets(server.url), "dan")  # no header: the peer itself
        assert server.new_voters.addresses() == 4
        sockets.close()
    logged = caplog.text
    assert re.search(r"203\.0\.113\.7 via 127\.0\.0\.1:\d+: connected", logged)
    assert re.search(r"2001:db8:1:2::7 via 127\.0\.0\.1:\d+: connected", logged)


def test_server_ignores_the_header_from_anyone_else(
    hub: Hub, sockets: Sockets, caplog: pytest.LogCaptureFixture
) -> None:
    """Without trusted proxies, or from a peer that is not one, X-Forwarded-For changes nothing."""
    caplog.set_level(logging.INFO, logger="pollhub")
    for trusted in ([], ["127.0.0.2", "10.0.0.0/8", "::1"]):
        with PollServer(Hub(), port=0, trusted_proxies=trusted, new_voter_burst=ONE_VOTER_BURST, new_voter_rate=ONE_VOTER_RATE) as server:
            assert new_voter(sockets(server.url, forwarded_for="203.0.113.7"), "ann")
            assert not new_voter(sockets(server.url, forwarded_for="203.0.113.8"), "bob")  # both are 127.0.0.1
            assert not new_voter(sockets(server.url, forwarded_for="127.0.0.2"), "bob")
            assert server.new_voters.addresses() == 1
            sockets.close()
    assert "203.0.113" not in caplog.text
    assert " via " not in caplog.text


def test_bad_trusted_proxy_is_refused() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        PollServer(Hub(), port=0, trusted_proxies=["proxy.example"])
    finished = subprocess.run(
        [sys.executable, "-m", "pollhub", "--memory", "--trusted-proxy", "10.0.0.1/8"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert finished.returncode == 2
    assert "--trusted-proxy: 10.0.0.1/8 has host bits set: the network is 10.0.0.0/8" in finished.stderr


# 3. A real nginx in front of pollhub nodes --------------------------------------------------

TOKEN = "proxy-test-token"


class Node:
    """``python -m pollhub`` on a free loopback port, trusting nginx (PROXY_ADDRESS) unless ``trust`` is False."""

    def __init__(self, *args: str, trust: bool = True) -> None:
        trusted = ["--trusted-proxy", PROXY_ADDRESS] if trust else []
        self.process = Process.pollhub("--host", "127.0.0.1", "--port", "0", "--token", TOKEN, *trusted, *args)
        try:
            self.port = int(self.process.expect(r"listening on ws://127\.0\.0\.1:(\d+)/ws").group(1))
        except BaseException:
            self.process.kill()
            raise

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://{self.address}/ws"

    def metrics(self) -> Dict[str, float]:
        """This node's /metrics (asked directly, not through nginx)."""
        with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=TIMEOUT) as reply:
            lines = reply.read().decode("utf-8").splitlines()
        samples = (line.rsplit(" ", 1) for line in lines if line and not line.startswith("#"))
        return {name: float(value) for name, value in samples}

    def connections(self) -> int:
        return int(self.metrics()["pollhub_connections"])

    def logged(self, pattern: str) -> bool:
        """Whether a line of the node's log (its stderr) matches ``pattern``."""
        return any(re.search(pattern, line) for line in list(self.process.stderr))

    def stop(self) -> None:
        finished = self.process.stop(signal.SIGTERM)
        assert finished.returncode == 0, finished.stderr[-4000:]
        assert "Traceback" not in finished.stderr, finished.stderr[-4000:]


@pytest.fixture
def nodes() -> Iterator[Callable[..., Node]]:
    """``nodes(*args, trust=True)``: a started :class:`Node`; every one stopped after the test (exit status 0)."""
    started: List[Node] = []

    def start(*args: str, trust: bool = True) -> Node:
        node = Node(*args, trust=trust)
        started.append(node)
        return node

    yield start
    for node in started:
        if node.process.proc.poll() is None:
            node.stop()


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[..., NginxServer]]:
    """``nginx(nodes, **settings)``: a private nginx in front of ``nodes``, stopped after the test."""
    require_nginx()
    started: List[NginxServer] = []

    def start(upstream: Sequence[Node], **settings: Any) -> NginxServer:
        server = NginxServer(tmp_path / f"nginx-{len(started)}", [node.address for node in upstream], **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def get(url: str) -> Tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
            return reply.status, reply.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_nginx_in_front_of_two_nodes_sharing_one_event(
    nodes: Callable[..., Node], nginx: Callable[..., NginxServer], redis_server: RedisServer, event_name: str
) -> None:
    """The pages and /ws through nginx; connections spread over both nodes; a vote reaches participants on both."""
    shared = ("--redis", redis_server.url, "--event", event_name)
    pair = [nodes(*shared), nodes(*shared)]
    proxy = nginx(pair)

    status, page = get(proxy.page_url)
    assert status == 200 and "<title>pollhub · Vote</title>" in page
    # Plain requests are spread too: /healthz names the node that answered.
    names = {get(f"http://{node.address}/healthz")[1] for node in pair}
    assert len(names) == 2 and all(name.startswith("ok node ") for name in names)
    assert {get(proxy.page_url + "healthz")[1] for _ in range(4)} == names

    clients: List[PollClient] = []
    on: List[List[PollClient]] = [[], []]  # the clients of each node

    def connect(voter: Optional[str] = None, token: Optional[str] = None) -> PollClient:
        """A client through nginx, filed under the node whose connection count it raised."""
        before = [node.connections() for node in pair]
        client = PollClient(proxy.url, voter=voter, token=token, timeout=TIMEOUT)
        clients.append(client)
        wait_until(lambda: sum(node.connections() for node in pair) == sum(before) + 1)
        raised = [i for i, node in enumerate(pair) if node.connections() > before[i]]
        assert len(raised) == 1
        on[raised[0]].append(client)
        return client

    try:
        admin = connect(token=TOKEN)
        pets = admin.create_poll("Best pet?", ["Cat", "Dog"])
        admin.set_current(pets)
        for name in ("ann", "bob", "cid"):
            connect(voter=name)
        # least_conn: each new connection goes to the node with fewer, so two and two.
        assert [len(each) for each in on] == [2, 2]
        for client in clients:
            client.wait_for(lambda c: c.current == pets, TIMEOUT)
        first, second = (next(c for c in each if c is not admin) for each in on)
        assert first.vote("cat") == "cat"  # through the first node ...
        for client in clients:  # ... seen on both
            client.wait_for(lambda c: c.results(pets) == {"cat": 1, "dog": 0}, TIMEOUT)
        assert second.vote("Dog") == "dog"  # through the second node ...
        for client in clients:  # ... seen on both
            client.wait_for(lambda c: c.results(pets) == {"cat": 1, "dog": 1}, TIMEOUT)
        assert [node.metrics()["pollhub_votes_accepted_total"] for node in pair] == [1, 1]  # each its own client's
    finally:
        for client in clients:
            client.close()
    # Both nodes logged the participants by their own address (127.0.0.1), forwarded by nginx.
    for node in pair:
        wait_until(lambda: node.logged(rf"127\.0\.0\.1 via {re.escape(PROXY_ADDRESS)}:\d+: connected"))


ONE_VOTER_FLAGS = ("--new-voter-burst", str(ONE_VOTER_BURST), "--new-voter-rate", str(ONE_VOTER_RATE))


def test_through_nginx_the_limits_apply_to_the_forwarded_client(
    nodes: Callable[..., Node], nginx: Callable[..., NginxServer], sockets: Sockets
) -> None:
    """``--trusted-proxy`` nginx's address: each client address has its own limits; a forged header gains nothing.

    The test's clients connect to nginx from 127.0.0.3 and 127.0.0.4, nginx to
    the node from PROXY_ADDRESS (127.0.0.2); each address may bring one new voter.
    """
    node = nodes("--memory", *ONE_VOTER_FLAGS)
    proxy = nginx([node])
    assert new_voter(sockets(proxy.url, source="127.0.0.3"), "ann")
    assert not new_voter(sockets(proxy.url, source="127.0.0.3"), "bob")  # 127.0.0.3 had its one
    assert new_voter(sockets(proxy.url, source="127.0.0.4"), "bob")  # another client: limits of its own
    # A header of the client's own: nginx appends the address it came from, which is what the node reads.
    assert not new_voter(sockets(proxy.url, source="127.0.0.3", forwarded_for="203.0.113.7"), "cid")
    # Straight to the node, not through the trusted proxy: the header is ignored.
    assert new_voter(sockets(node.url, forwarded_for="203.0.113.7"), "cid")  # as 127.0.0.1
    assert not new_voter(sockets(node.url, forwarded_for="203.0.113.8"), "dan")  # still 127.0.0.1
    assert node.metrics()["pollhub_client_addresses"] == 3
    sockets.close()
    wait_until(lambda: node.logged(rf"127\.0\.0\.3 via {re.escape(PROXY_ADDRESS)}:\d+: connected"))
    wait_until(lambda: node.logged(rf"127\.0\.0\.4 via {re.escape(PROXY_ADDRESS)}:\d+: connected"))
    assert not node.logged("203.0.113")


def test_through_nginx_without_trusted_proxy_every_client_is_nginx(
    nodes: Callable[..., Node], nginx: Callable[..., NginxServer], sockets: Sockets
) -> None:
    """Without ``--trusted-proxy`` nginx's X-Forwarded-For is ignored: all its clients share its address's limits."""
    node = nodes("--memory", *ONE_VOTER_FLAGS, trust=False)
    proxy = nginx([node])
    assert new_voter(sockets(proxy.url, source="127.0.0.3"), "ann")
    assert not new_voter(sockets(proxy.url, source="127.0.0.4"), "bob")  # both are nginx, 127.0.0.2
    assert not new_voter(sockets(proxy.url, source="127.0.0.4", forwarded_for="203.0.113.7"), "bob")
    assert new_voter(sockets(node.url, forwarded_for="203.0.113.7"), "bob")  # straight: 127.0.0.1
    assert node.metrics()["pollhub_client_addresses"] == 2
    sockets.close()
    wait_until(lambda: node.logged(rf"{re.escape(PROXY_ADDRESS)}:\d+: connected"))
    assert not node.logged(" via ")
    assert not node.logged("203.0.113")


def test_nginx_timeout_longer_than_the_ping_interval_keeps_idle_clients(
    nodes: Callable[..., Node], nginx: Callable[..., NginxServer]
) -> None:
    """nginx closes a tunnel silent for proxy_read_timeout; pollhub's pings keep an idle participant's open.

    With a 1 s timeout: a node that pings after 0.25 s of silence keeps its
    client through 3 s of idling; one that pings after 20 s loses it to nginx.
    """
    poll = ("--question", "Still there?", "--option", "Yes", "--option", "No")
    pinging = nodes("--memory", "--ping-interval", "0.25", *poll)
    quiet = nodes("--memory", *poll)  # the default --ping-interval, 20 s
    kept = PollClient(nginx([pinging], read_timeout="1s").url, timeout=TIMEOUT)
    lost = PollClient(nginx([quiet], read_timeout="1s").url, timeout=TIMEOUT)
    try:
        wait_until(lambda: lost.closed)  # nginx gave up on the silent tunnel
        assert [m["type"] for m in kept.updates(timeout=0)] == ["welcome"]
        # Idling is the point here: three times nginx's timeout, with no message.
        started = time.monotonic()
        assert list(kept.updates(timeout=3.0)) == []
        assert time.monotonic() - started >= 3.0
        assert kept.vote("yes") == "yes"
    finally:
        kept.close()
        lost.close()


README = Path(__file__).resolve().parent.parent / "README.rst"


def readme_nginx_config() -> str:
    """The nginx configuration in README.rst ("Behind a reverse proxy (nginx)"), unindented."""
    text = README.read_text(encoding="utf-8")
    start = text.index("    map $http_upgrade $connection_upgrade {")
    lines = []
    for line in text[start:].splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def test_readme_nginx_configuration(tmp_path: Path) -> None:
    """README.rst's configuration passes ``nginx -t``, and the tests above proxy with its very lines."""
    config = readme_nginx_config()
    for line in proxy_locations().splitlines():
        assert line.strip() in config, f"README.rst's configuration lacks the tests' {line.strip()!r}"
    require_nginx()
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=polls.example.org",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=TIMEOUT,
    )  # fmt: skip
    config = config.replace("/etc/ssl/certs/polls.example.org.pem", str(cert))
    config = config.replace("/etc/ssl/private/polls.example.org.key", str(key))
    assert str(cert) in config and str(key) in config
    checked = check_config(tmp_path / "nginx", config)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
