"""The rehearsal load test, and correctness under load with and without direct writes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import List

import pytest

from pollhub import COUNTER, Hub, PollClient, PollServer
from pollhub.bench import Bench

from .conftest import TIMEOUT

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("direct_writes", [True, False], ids=["direct", "write-threads-only"])
def test_flood_is_exact_and_totals_never_go_backwards(direct_writes: bool) -> None:
    with Hub() as hub, PollServer(hub, port=0, max_vote_rate=0, direct_writes=direct_writes) as server:
        hub.create_poll("Load", ["A", "B"], kind=COUNTER)
        report = Bench(server.url, clients=50, voters=3, votes=400, duration=TIMEOUT).run()
        assert hub.results() == {"a": 1200, "b": 0}
    assert report["votes_acked"] == report["votes_sent"] == 1200
    assert report["lost"] == report["duplicated"] == report["went_backwards"] == 0
    assert report["behind"] == report["dropped"] == 0


def test_naive_baseline_is_exact() -> None:
    """The benchmarks' naive design (benchmarks/naive_pollhub.py) counts every vote, in order, for everyone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(REPO))  # this checkout's pollhub, whatever is installed
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "naive_pollhub.py"), str(port)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        match = re.search(r"listening on (\S+)", proc.stdout.readline())
        assert match, "the naive server did not start"
        report = Bench(match.group(1), clients=30, voters=2, votes=300, duration=TIMEOUT).run()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(TIMEOUT)
    assert proc.returncode == 0
    assert report["votes_acked"] == report["votes_sent"] == 600
    assert report["lost"] == report["duplicated"] == report["went_backwards"] == 0
    assert report["behind"] == report["dropped"] == 0


def test_send_cost_benchmark_runs() -> None:
    """benchmarks/send_cost.py (the per-client cost of a broadcast) runs; its figures are not checked."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "send_cost.py"), "--clients", "20", "--rounds", "2"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Participant.send" in result.stdout


def test_bench_command_against_its_own_server() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", "--self", "--clients", "30", "--rate", "40", "--duration", "1", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["connected"] == 30 and report["refused"] == 0
    assert report["votes_acked"] == report["votes_sent"] == 40
    assert report["lost"] == report["duplicated"] == 0
    assert report["latency_ms"]["p99"] is not None
    if sys.platform == "linux":  # latency ends at the kernel's arrival stamp, before the bench reads
        assert report["latency_end"] == "arrival"
    for p in ("p50", "p90", "p99", "max"):
        assert report["seen_latency_ms"][p] >= report["latency_ms"][p]
    assert report["memory_per_connection_bytes"] > 0


def test_bench_with_a_token_uses_a_poll_of_its_own(hub: Hub, server: PollServer) -> None:
    lunch = hub.create_poll("Lunch?", ["Pizza", "Salad"])  # a single poll: the bench must not touch it
    report = Bench(server.url, clients=5, voters=1, rate=50, duration=0.5, token="secret").run()
    assert report["votes_acked"] == report["votes_sent"] > 0
    assert [p.id for p in hub.polls()] == [lunch.id]  # its own poll is deleted afterwards
    assert hub.poll(lunch.id).total == 0


def test_bench_refuses_a_single_choice_poll(hub: Hub, server: PollServer) -> None:
    hub.create_poll("Lunch?", ["Pizza", "Salad"])
    with pytest.raises(RuntimeError, match="not a counter poll"):
        Bench(server.url, clients=1, rate=10, duration=0.1).run()


def test_many_clients_see_every_total_in_order(hub: Hub, server: PollServer) -> None:
    """20 PollClients voting 50 times each: every client ends at 1000, never seeing a total go down."""
    poll = hub.create_poll("Order", ["A", "B"], kind=COUNTER)
    clients = [PollClient(server.url, timeout=TIMEOUT) for _ in range(20)]
    totals: List[List[int]] = [[] for _ in clients]

    def watch(index: int) -> None:
        for message in clients[index].updates(timeout=TIMEOUT):
            if message["type"] == "results":
                totals[index].append(message["total"])
                if message["total"] == 1000:
                    return

    watchers = [threading.Thread(target=watch, args=(i,), name=f"test-watch-{i}") for i in range(20)]
    voters = [threading.Thread(target=lambda c=c: [c.vote("a") for _ in range(50)], name="test-vote") for c in clients]
    for thread in watchers + voters:
        thread.start()
    for thread in watchers + voters:
        thread.join(TIMEOUT * 3)
    for client in clients:
        client.close()
    assert hub.results(poll.id)["a"] == 1000
    for seen in totals:
        assert seen and seen[-1] == 1000
        assert seen == sorted(seen)
