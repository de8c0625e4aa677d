"""``--workers N``: N pollhub processes on one port (SO_REUSEPORT), kept running by a supervisor.

The supervisor's process management is tested through its Python API with
``--memory`` workers (each its own event: the CLI refuses that, but it is
enough to start, kill, restart and stop processes); the command line with
``--redis``, as users run it.
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Set, Tuple

import pytest

from pollhub import Hub, PollClient, PollServer
from pollhub import workers
from pollhub.signals import StopRequest
from pollhub.workers import Supervisor, reserve_port

from .conftest import TIMEOUT, metrics, wait_until
from .processes import Process

if TYPE_CHECKING:
    from .redis_server import RedisServer

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT on this platform")

REQUESTS = 40  # new connections to see every worker: the kernel picks one by a hash of the client's port


def healthz(port: int) -> Tuple[int, str, str]:
    """One ``GET /healthz`` on a new connection: the status, the ``X-Pollhub-Node`` header and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/healthz")
        reply = conn.getresponse()
        return reply.status, reply.getheader("X-Pollhub-Node") or "", reply.read().decode("ascii")
    finally:
        conn.close()


def nodes_seen(port: int, requests: int = REQUESTS) -> Set[str]:
    """The node ids that answered ``requests`` health checks, each on a new connection."""
    seen = set()
    for _ in range(requests):
        status, node, body = healthz(port)
        assert status == 200 and body == f"ok node {node}\n", (status, node, body)
        seen.add(node)
    return seen


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's zombie may wait for a busy init)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


# The CLI's rules ---------------------------------------------------------------------


def run(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "pollhub", *args], capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("args", [("--memory",), ("--db", "x.db"), ()])
def test_workers_without_redis_are_refused(args: Tuple[str, ...]) -> None:
    result = run("--workers", "2", "--host", "127.0.0.1", "--port", "0", *args)
    assert result.returncode == 2, result.stderr
    assert "--workers needs --redis URL: the workers share the event through Redis" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("count", ["0", "-1", str(workers.max_workers() + 1)])
def test_a_worker_count_out_of_range_is_refused(count: str) -> None:
    result = run("--workers", count, "--redis", "unix:///nowhere.sock", "--port", "0")
    assert result.returncode == 2
    assert f"--workers must be from 1 to {workers.max_workers()}" in result.stderr


def test_workers_that_cannot_reach_redis_fail_with_their_status(tmp_path: Path) -> None:
    result = run("--workers", "2", "--redis", f"unix://{tmp_path}/none.sock", "--host", "127.0.0.1", "--port", "0")
    assert result.returncode == 2, result.stderr
    assert "cannot reach Redis" in result.stderr
    assert "the workers could not start" in result.stderr
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr


def test_the_worker_flags_are_hidden() -> None:
    result = run("--help")
    assert "--workers N" in result.stdout
    assert "--worker-" not in result.stdout


# reuse_port ----------------------------------------------------------------------------


def test_two_servers_with_reuse_port_share_a_port_and_its_connections() -> None:
    """Two PollServers on one port: 40 connections reach both; a server without reuse_port cannot join."""
    with Hub() as one_hub, Hub() as other_hub:
        with PollServer(one_hub, port=0, reuse_port=True) as one, PollServer(other_hub, port=one.port, reuse_port=True) as other:
            assert one.port == other.port
            with pytest.raises(OSError) as refused:
                PollServer(Hub(), port=one.port)
            assert refused.value.errno == errno.EADDRINUSE
            clients: List[PollClient] = []
            try:
                for _ in range(REQUESTS):
                    clients.append(PollClient(one.url, timeout=TIMEOUT))
                wait_until(lambda: one.connection_count + other.connection_count == REQUESTS)
                assert one.connection_count > 0 and other.connection_count > 0, (one.connection_count, other.connection_count)
            finally:
                for client in clients:
                    client.close()
            assert nodes_seen(one.port) == {one_hub.node, other_hub.node}


def test_reuse_port_where_the_platform_lacks_it_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "SO_REUSEPORT")
    with pytest.raises(OSError, match="no SO_REUSEPORT") as raised:
        PollServer(Hub(), port=0, reuse_port=True)
    assert raised.value.errno == errno.ENOPROTOOPT
    with pytest.raises(OSError, match="no SO_REUSEPORT"):
        reserve_port("127.0.0.1", 0)


def test_a_reserved_port_takes_no_connection_and_keeps_the_port() -> None:
    with reserve_port("127.0.0.1", 0) as reserved:
        port = reserved.getsockname()[1]
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        with pytest.raises(OSError) as taken:
            PollServer(Hub(), port=port)
        assert taken.value.errno == errno.EADDRINUSE


# The supervisor, through its API -----------------------------------------------------


@pytest.fixture
def supervised() -> Iterator[Supervisor]:
    """A supervisor of two ``--memory`` workers on a reserved loopback port, started; stopped after."""
    with reserve_port("127.0.0.1", 0) as reserved, StopRequest() as stop:
        args = ["--host", "127.0.0.1", "--memory", "--log-level", "warning"]
        supervisor = Supervisor(2, args, reserved.getsockname()[1], "secret")
        try:
            assert supervisor.start(stop) is None
            yield supervisor
        finally:
            supervisor.stop()


def pids(supervisor: Supervisor) -> List[int]:
    return [w.pid for w in supervisor.workers if w.pid is not None]


def test_supervised_workers_share_the_port_the_token_and_say_which_node_answers(supervised: Supervisor) -> None:
    nodes = {w.node for w in supervised.workers}
    assert len(nodes) == 2 and None not in nodes
    assert nodes_seen(supervised.port) == nodes
    text = metrics(supervised.port)
    info = re.search(r'^pollhub_node_info\{node="(\w+)",pid="(\d+)",event="default"\} 1$', text, re.M)
    assert info, text
    assert (info.group(1), int(info.group(2))) in {(w.node, w.pid) for w in supervised.workers}
    for _ in range(4):  # the token the supervisor gave, on whichever worker
        PollClient(f"ws://127.0.0.1:{supervised.port}/ws", token="secret", timeout=TIMEOUT).close()


def test_a_worker_that_dies_is_started_again(supervised: Supervisor) -> None:
    first, second = supervised.workers
    old_pid, old_node = first.pid, first.node
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    wait_until(lambda: supervised.check() and first.node is not None and first.pid != old_pid)
    assert not running(old_pid)
    assert first.node != old_node and second.node is not None
    assert supervised.restarts == 1
    wait_until(lambda: nodes_seen(supervised.port) == {first.node, second.node})


def test_workers_that_keep_dying_make_the_supervisor_give_up(supervised: Supervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "RESTART_DELAY", 0.05)
    monkeypatch.setattr(workers, "MAX_DEATHS", 2)
    worker = supervised.workers[0]
    for _ in range(2):
        pid = worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: supervised.check() and worker.pid not in (None, pid) and worker.node is not None)
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not supervised.check())  # the third death within DEATH_WINDOW


def test_stop_ends_every_worker_cleanly(supervised: Supervisor) -> None:
    started = pids(supervised)
    assert len(started) == 2
    assert supervised.stop() is True
    assert not any(running(pid) for pid in started)
    assert pids(supervised) == []
    assert supervised.stop() is True  # idempotent


def test_a_worker_that_ignores_sigterm_is_killed_and_the_stop_fails(supervised: Supervisor) -> None:
    worker = supervised.workers[0]
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGSTOP)  # a stopped process does not act on SIGTERM
    started = pids(supervised)
    assert supervised.stop(timeout=1.0) is False
    assert not any(running(pid) for pid in started)


def test_a_worker_that_cannot_start_fails_the_start() -> None:
    with reserve_port("127.0.0.1", 0) as reserved, StopRequest() as stop:
        args = ["--host", "127.0.0.1", "--memory", "--certfile", "/nonexistent/cert.pem"]
        supervisor = Supervisor(2, args, reserved.getsockname()[1], "secret")
        try:
            assert supervisor.start(stop) == 2  # the worker's status: cannot load the certificate
            assert supervisor.workers[0].pid is None or supervisor.workers[1].pid is None  # the one reported
            started = pids(supervisor)
        finally:
            supervisor.stop()
        assert not any(running(pid) for pid in started)


# The command line, on Redis ------------------------------------------------------------


@pytest.fixture
def cluster(redis_server: "RedisServer", event_name: str) -> Iterator[Process]:
    """``python -m pollhub --workers 2 --redis URL --event NAME`` on a free loopback port."""
    process = Process.pollhub(
        "--workers", "2", "--redis", redis_server.url, "--event", event_name,
        "--host", "127.0.0.1", "--port", "0", "--token", "tok", "--log-level", "warning",
    )  # fmt: skip
    try:
        yield process
    finally:
        process.kill()


def started(process: Process) -> Tuple[int, List[int], Set[str]]:
    """The port, the worker pids and their node ids from what a ``--workers 2`` supervisor printed."""
    lines = [process.expect(r"^worker (\d): node (\w+) listening \(pid (\d+)\)$") for _ in range(2)]
    port = int(process.expect(r"listening on ws://127\.0\.0\.1:(\d+)/ws").group(1))
    process.expect(r"Stop with Ctrl-C")
    return port, [int(m.group(3)) for m in lines], {m.group(2) for m in lines}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_workers_serve_one_port_and_a_signal_stops_them_all(cluster: Process, sig: int) -> None:
    port, worker_pids, nodes = started(cluster)
    assert len(nodes) == 2
    assert nodes_seen(port) == nodes
    finished = cluster.stop(sig)
    assert finished.returncode == 0, finished.stderr
    assert not any(running(pid) for pid in worker_pids)
    assert "Traceback" not in finished.stderr
    assert finished.stdout.count("present#token=<your --token>") == 1  # one banner
    assert "pollhub stopped: 2 workers, restarted 0 time(s)." in finished.stdout


def test_ctrl_c_in_a_terminal_reaches_every_worker_and_stops_them_once(cluster: Process) -> None:
    """Ctrl-C signals the whole process group: the workers leave it to the supervisor (no restart)."""
    port, worker_pids, _ = started(cluster)
    for pid in worker_pids:
        os.kill(pid, signal.SIGINT)
    assert len(nodes_seen(port)) == 2  # still serving
    finished = cluster.stop(signal.SIGINT)
    assert finished.returncode == 0, finished.stderr
    assert "restarted 0 time(s)" in finished.stdout
    assert "starting it again" not in finished.stderr
    assert not any(running(pid) for pid in worker_pids)


def test_a_killed_worker_is_restarted_on_the_same_port(cluster: Process) -> None:
    port, worker_pids, nodes = started(cluster)
    os.kill(worker_pids[0], signal.SIGKILL)

    def new_nodes() -> Set[str]:
        try:
            return nodes_seen(port) - nodes
        except ConnectionError:  # a connection the kernel had queued for the killed worker is reset
            return set()

    fresh = wait_until(new_nodes)
    assert isinstance(fresh, set) and len(fresh) == 1
    finished = cluster.stop(signal.SIGTERM)
    assert finished.returncode == 0, finished.stderr
    assert "restarted 1 time(s)" in finished.stdout
    assert re.search(r"worker 1 \(pid \d+, node \w+\) was killed by signal 9; starting it again", finished.stderr)
    assert not running(worker_pids[1])


def test_workers_stop_by_themselves_when_the_supervisor_is_killed(cluster: Process) -> None:
    _, worker_pids, _ = started(cluster)
    cluster.kill()  # SIGKILL: the supervisor cannot stop them
    wait_until(lambda: not any(running(pid) for pid in worker_pids))


def connections_by_node(port: int, expected: int) -> Dict[str, int]:
    """Each node's ``pollhub_connections`` from ``/metrics`` (new connections until both answered), or {}."""
    seen: Dict[str, int] = {}
    for _ in range(REQUESTS):
        text = metrics(port)
        node = re.search(r'^pollhub_node_info\{node="(\w+)"', text, re.M)
        count = re.search(r"^pollhub_connections (\d+)$", text, re.M)
        assert node and count, text
        seen[node.group(1)] = int(count.group(1))
        if len(seen) == 2:
            break
    return seen if len(seen) == 2 and sum(seen.values()) == expected else {}


def test_a_vote_through_one_worker_reaches_participants_on_the_other(cluster: Process) -> None:
    """Ten voters spread over both workers: each sees every vote, so votes cross from worker to worker."""
    port, _, nodes = started(cluster)
    url = f"ws://127.0.0.1:{port}/ws"
    voters = [PollClient(url, voter=f"voter-{i}", timeout=TIMEOUT) for i in range(10)]
    try:
        spread = wait_until(lambda: connections_by_node(port, len(voters)))
        assert isinstance(spread, dict) and set(spread) == nodes and all(spread.values()), spread
        with PollClient(url, token="tok", timeout=TIMEOUT) as presenter:
            poll = presenter.create_poll("Lunch?", ["Pizza", "Salad"])
        for i, voter in enumerate(voters):
            voter.wait_for(lambda c: poll in [p.id for p in c.polls()])
            assert voter.vote("pizza" if i % 2 else "salad", poll=poll) == ("pizza" if i % 2 else "salad")
        for voter in voters:
            voter.wait_for(lambda c: c.results(poll) == {"pizza": 5, "salad": 5})
    finally:
        for voter in voters:
            voter.close()
    finished = cluster.stop(signal.SIGINT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.count("stopped: 1 poll(s), 10 vote(s) counted.") == 2  # each worker's summary


def test_one_generated_token_for_all_and_only_the_first_worker_starts_the_question_poll(
    redis_server: "RedisServer", event_name: str
) -> None:
    process = Process.pollhub(
        "--workers", "2", "--redis", redis_server.url, "--event", event_name, "--host", "127.0.0.1", "--port", "0",
        "--question", "Tea?", "--option", "Yes", "--option", "No", "--log-level", "warning",
    )  # fmt: skip
    try:
        port, _, _ = started(process)
        shown = re.search(r"present#token=(\S+)", "".join(process.stdout))  # (started() read past it)
        assert shown, process.stdout
        token = shown.group(1)
        url = f"ws://127.0.0.1:{port}/ws"
        for _ in range(8):  # on either worker (a wrong token would raise Forbidden)
            PollClient(url, token=token, timeout=TIMEOUT).close()
        with PollClient(url, timeout=TIMEOUT) as client:
            client.wait_for(lambda c: c.current == "tea")
            assert [p.id for p in client.polls()] == ["tea"]
        finished = process.stop(signal.SIGTERM)
    finally:
        process.kill()
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.count("stopped: 1 poll(s), 0 vote(s) counted.") == 2
