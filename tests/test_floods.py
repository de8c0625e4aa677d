"""Floods: sockets that never finish their handshake, and a process out of file descriptors.

Everything stays on loopback; the server of the descriptor test runs in a
subprocess whose RLIMIT_NOFILE is lowered, so the test process keeps its own.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
import time
from typing import Iterator, List

import pytest
import websocket

from pollhub.connection import MAX_HANDSHAKES_PER_ADDRESS, ConnectionServer

from .conftest import TIMEOUT, wait_until
from .processes import Process

IDLE_TIMEOUT = 60.0  # a handshake_timeout no test waits for: idle sockets hold their slots


def idle_sockets(port: int, count: int, source: str = "127.0.0.1") -> List[socket.socket]:
    """``count`` connections from ``source`` that never send a byte."""
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        socks.append(sock)
    return socks


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has answered (503) or ended this connection; never blocks."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def read_threads() -> int:
    """Connection read threads running in this process."""
    return sum(1 for t in threading.enumerate() if t.name.startswith("pollhub-read"))


@pytest.fixture
def sockets() -> Iterator[List[socket.socket]]:
    """A list to put test sockets in; all closed after the test."""
    socks: List[socket.socket] = []
    yield socks
    for sock in socks:
        sock.close()


def can_bind(address: str) -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


# Handshake slots -----------------------------------------------------------------


def test_idle_sockets_past_the_per_address_limit_are_shed_at_once(sockets: List[socket.socket]) -> None:
    """15 idle sockets from one address with max_handshakes_per_address=10: 10 hold a thread, 5 are
    closed at once (after a 503) and counted; a real client gets in as soon as one idle socket leaves."""
    with ConnectionServer(max_handshakes=20, max_handshakes_per_address=10, handshake_timeout=IDLE_TIMEOUT) as server:
        url = f"ws://127.0.0.1:{server.port}/ws"
        started = time.monotonic()
        sockets += idle_sockets(server.port, 15)
        wait_until(lambda: server.connections_shed.value("per_address") == 5)
        wait_until(lambda: sum(map(closed_by_server, sockets)) == 5, timeout=2.0)
        assert time.monotonic() - started < 3.0
        shed = [sock for sock in sockets if closed_by_server(sock)]
        for sock in shed:
            assert read_to_end(sock).startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert server.handshakes_in_progress.read() == 10
        assert read_threads() == 10
        assert server.connections_shed.value("handshakes") == 0

        # Every slot of 127.0.0.1 is held: a real client from there is shed too ...
        with pytest.raises((websocket.WebSocketException, OSError)):
            websocket.create_connection(url, timeout=TIMEOUT)
        assert server.connections_shed.value("per_address") == 6
        # ... until one idle socket leaves.
        held = next(sock for sock in sockets if sock not in shed)
        held.close()
        wait_until(lambda: server.handshakes_in_progress.read() == 9)
        ws = websocket.create_connection(url, timeout=TIMEOUT)
        try:
            wait_until(lambda: server.connection_count == 1)
            assert server.handshakes_in_progress.read() == 9  # an open connection holds no handshake slot
        finally:
            ws.close()
        metrics = "".join(metric.render() for metric in server.connection_metrics())
        assert 'pollhub_connections_shed_total{reason="per_address"} 6' in metrics
        assert "pollhub_handshakes_in_progress 9" in metrics


@pytest.mark.skipif(not can_bind("127.0.0.2"), reason="needs the whole 127.0.0.0/8 on loopback (Linux)")
def test_idle_sockets_past_max_handshakes_are_shed_whatever_their_address(sockets: List[socket.socket]) -> None:
    """max_handshakes=20 held by two addresses: a third address, under its own limit, is shed too."""
    with ConnectionServer(max_handshakes=20, max_handshakes_per_address=10, handshake_timeout=IDLE_TIMEOUT) as server:
        sockets += idle_sockets(server.port, 10, "127.0.0.1") + idle_sockets(server.port, 10, "127.0.0.2")
        wait_until(lambda: server.handshakes_in_progress.read() == 20)
        third = idle_sockets(server.port, 5, "127.0.0.3")
        sockets += third
        wait_until(lambda: all(map(closed_by_server, third)), timeout=2.0)
        assert server.connections_shed.value("handshakes") == 5
        assert server.connections_shed.value("per_address") == 0
        assert read_threads() == 20
        # Room again: the third address gets in.
        for sock in sockets[:5]:
            sock.close()
        wait_until(lambda: server.handshakes_in_progress.read() == 15)
        (late,) = idle_sockets(server.port, 1, "127.0.0.3")
        sockets.append(late)
        wait_until(lambda: server.handshakes_in_progress.read() == 16)
        assert not closed_by_server(late)


def test_default_limit_lets_a_batch_of_the_bench_through(sockets: List[socket.socket]) -> None:
    """The default per-address limit takes 64 unfinished handshakes from one address (what
    ``pollhub bench`` opens at once), and sheds the 65th."""
    assert MAX_HANDSHAKES_PER_ADDRESS == 64
    with ConnectionServer(handshake_timeout=IDLE_TIMEOUT) as server:
        sockets += idle_sockets(server.port, MAX_HANDSHAKES_PER_ADDRESS)
        wait_until(lambda: server.handshakes_in_progress.read() == MAX_HANDSHAKES_PER_ADDRESS)
        assert server.connections_shed.value("per_address") == 0
        (extra,) = idle_sockets(server.port, 1)
        sockets.append(extra)
        wait_until(lambda: closed_by_server(extra))
        assert server.connections_shed.value("per_address") == 1


# Out of file descriptors ---------------------------------------------------------

# A server with only a few file descriptors to spare; prints its port, and at
# exit how many accept() failures it counted.
FD_STARVED_SERVER = """
import logging, os, resource, sys, threading
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
from pollhub.connection import ConnectionServer
server = ConnectionServer(handshake_timeout=60)
spare = len(os.listdir("/proc/self/fd")) + 12
resource.setrlimit(resource.RLIMIT_NOFILE, (spare, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
server.start()
print("port", server.port, flush=True)
try:
    threading.Event().wait()
except KeyboardInterrupt:
    server.stop(1.0)
    print("accept_errors", int(server.accept_errors.value("EMFILE")), flush=True)
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and lowers RLIMIT_NOFILE")
def test_out_of_descriptors_the_accept_loop_backs_off_and_warns(sockets: List[socket.socket]) -> None:
    """With its descriptors used up by idle sockets, the server neither spins nor stays silent, and
    takes new clients again once they are closed."""
    server = Process("-c", FD_STARVED_SERVER)
    try:
        port = int(server.expect(r"port (\d+)").group(1))
        sockets += idle_sockets(port, 40)  # about 12 are accepted; the rest wait in the backlog

        def warned() -> int:
            return sum("out of file descriptors" in line for line in "".join(server.stderr).splitlines())

        wait_until(warned)
        before, started = cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(1.0)  # a measurement interval, not a wait for an event
        used = cpu_seconds(server.proc.pid) - before
        elapsed = time.monotonic() - started
        assert used < 0.1 * elapsed, f"{used:.2f} s of CPU in {elapsed:.2f} s"  # spinning: 0.3 to 1

        for sock in sockets:
            sock.close()
        sockets.clear()
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=TIMEOUT)
        ws.close()
        result = server.stop()
        assert result.returncode == 0, result.stderr
        errors = int(result.stdout.split("accept_errors")[1])
        assert 0 < errors < 100, errors  # a spinning loop fails accept() millions of times
        assert warned() <= 2, result.stderr  # at most one warning every few seconds
        assert "WARNING pollhub.connection cannot accept connections" in result.stderr
    finally:
        server.kill()
