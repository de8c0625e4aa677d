"""Shared fixtures: a running hub, a server on a free loopback port, clients.

Every test ends with no pollhub thread left running (see ``no_thread_leaks``).
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional

import pytest
import websocket

from pollhub import Hub, PollClient, PollServer
from pollhub.hub import Client
from pollhub.protocol import Message

if TYPE_CHECKING:
    from .redis_server import RedisServer

TIMEOUT = 10.0  # seconds any single wait in a test may take


def wait_until(predicate: Callable[[], object], timeout: float = TIMEOUT, interval: float = 0.01) -> object:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def metrics(port: int) -> str:
    """The text of a server's ``GET /metrics``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode("utf-8")
    finally:
        conn.close()


class Recorder(Client):
    """A hub client (no network) that keeps what the hub sends it, decoded from the bytes a socket would get."""

    def __init__(self, voter: str = "recorder") -> None:
        self.voter = voter
        self.messages: "queue.Queue[Dict[str, Any]]" = queue.Queue()

    def send(self, message: Message) -> None:
        self.messages.put(json.loads(message.payload))

    def next(self, kind: str) -> Dict[str, Any]:
        """The next message of type ``kind`` (those before it are passed over)."""
        return self.until(kind)[-1]

    def until(self, kind: str) -> List[Dict[str, Any]]:
        """Every message up to and including the next of type ``kind``."""
        seen = []
        while True:
            seen.append(self.messages.get(timeout=TIMEOUT))
            if seen[-1]["type"] == kind:
                return seen

    def drain(self) -> List[Dict[str, Any]]:
        """Every message already received."""
        items = []
        while True:
            try:
                items.append(self.messages.get_nowait())
            except queue.Empty:
                return items


class Peer:
    """A websocket-client connection to a server that reads the protocol's messages, with a hello if asked."""

    def __init__(self, server: PollServer, voter: Optional[str] = None, token: Optional[str] = None) -> None:
        self.ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        self.seen: List[Dict[str, Any]] = []  # every message read, in order
        self.welcome = self.next("welcome")
        if voter is not None or token is not None:
            self.hello = self.send({"type": "hello", "voter": voter, "token": token}, "hello")

    def next(self, kind: str) -> Dict[str, Any]:
        """The next message of type ``kind``; the ones before it are kept in ``seen``."""
        while True:
            message = json.loads(self.ws.recv())
            self.seen.append(message)
            if message["type"] == kind:
                return message

    def send(self, data: Dict[str, Any], reply: str) -> Dict[str, Any]:
        """Send ``data`` and return the next message of type ``reply``."""
        self.ws.send(json.dumps(data))
        return self.next(reply)

    def close(self) -> None:
        self.ws.close()


def pollhub_threads() -> List[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pollhub")]


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    """Fail a test that leaves pollhub threads behind once everything it started is stopped."""
    yield
    deadline = time.monotonic() + TIMEOUT
    while pollhub_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pollhub_threads() == [], "threads left running"


@pytest.fixture(autouse=True)
def data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the default database of ``python -m pollhub`` (and subprocesses) out of the real home."""
    folder = tmp_path_factory.mktemp("data-home")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture
def hub() -> Iterator[Hub]:
    with Hub() as running:
        yield running


@pytest.fixture
def server(hub: Hub) -> Iterator[PollServer]:
    """A PollServer on a free loopback port, vote rate unlimited, admin token ``secret``."""
    with PollServer(hub, port=0, token="secret", max_vote_rate=0) as running:
        yield running


@pytest.fixture
def connect(server: PollServer) -> Iterator[Callable[..., PollClient]]:
    """``connect(voter=None, token=None)``: a PollClient to ``server``, closed after the test."""
    clients: List[PollClient] = []

    def make(**kwargs: object) -> PollClient:
        client = PollClient(server.url, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def peers(server: PollServer) -> Iterator[Callable[..., Peer]]:
    """``peers(voter=None, token=None)``: a :class:`Peer` connected to ``server``, closed after the test."""
    made: List[Peer] = []

    def make(voter: Optional[str] = None, token: Optional[str] = None) -> Peer:
        made.append(Peer(server, voter, token))
        return made[-1]

    yield make
    for peer in made:
        peer.close()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator["RedisServer"]:
    """A private redis-server for this test module (Unix socket, appendonly, appendfsync always)."""
    from .redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def event_name(request: pytest.FixtureRequest) -> str:
    """An event name of this test's own, so tests sharing a redis-server share nothing."""
    return "t-" + re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[-50:] + "-" + secrets.token_hex(3)
