"""The rehearsal load test (one server and several nodes of one event), and correctness under load with and without direct writes."""

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
from typing import Iterator, List

import pytest

from pollhub import COUNTER, Hub, PollClient, PollServer
from pollhub import bench
from pollhub.bench import Bench, QABench, QuizBench

from .conftest import TIMEOUT, wait_until
from .processes import Process
from .redis_server import RedisServer, redis_server_binary

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


def test_cluster_benchmark_runs() -> None:
    """benchmarks/cluster.py's part on Redis's own costs runs against a redis-server of its own; its figures are not checked."""
    if redis_server_binary() is None:
        if os.environ.get("POLLHUB_REDIS_TESTS") == "required":
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "cluster.py"), "--quick", "--repeat", "1", "--parts", "redis-cost"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "XADD, 100 per pipeline: us per entry" in result.stdout
    assert "failed rounds" not in result.stdout
    assert re.search(r"1 nodes [\d,]+, 2 nodes", result.stdout)


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


# Several nodes of one event ------------------------------------------------------------


@pytest.fixture
def two_nodes(redis_server: RedisServer, event_name: str) -> Iterator[List[str]]:
    """Two ``python -m pollhub --redis`` nodes of one event, admin token ``T``, no vote limits: their URLs."""
    nodes = [
        Process.pollhub(
            "--host", "127.0.0.1", "--port", "0", "--redis", redis_server.url, "--event", event_name, "--token", "T",
            "--max-vote-rate", "0", "--max-address-vote-rate", "0", "--new-voter-rate", "0", "--log-level", "warning",
        )  # fmt: skip
        for _ in range(2)
    ]
    try:
        yield [node.expect(r"listening on (\S+)").group(1) for node in nodes]
    finally:
        for node in nodes:
            assert node.stop().returncode == 0


def test_bench_over_two_redis_nodes_counts_every_vote_once_everywhere(two_nodes: List[str]) -> None:
    """Votes as fast as they go, on both nodes: every participant of both ends at the base plus every vote acknowledged."""
    report = Bench(two_nodes, clients=40, voters=4, votes=200, duration=TIMEOUT, token="T").run()
    assert report["urls"] == two_nodes
    assert report["votes_acked"] == report["votes_sent"] == 800
    assert report["lost"] == report["duplicated"] == report["went_backwards"] == report["differing"] == 0
    assert report["behind"] == report["dropped"] == 0
    assert report["expected_total"] == 800
    assert [node["url"] for node in report["nodes"]] == two_nodes
    for node in report["nodes"]:
        assert node["connected"] == 20 and node["refused"] == 0
        assert node["voters"] == 2 and node["votes_acked"] == 400  # voters too take turns
        assert node["final_total"] == 800
        assert node["lost"] == node["duplicated"] == node["differing"] == node["dropped"] == 0
        assert node["differing_participants"] == []
        assert node["latency_ms"]["p99"] is not None


def test_bench_command_over_two_redis_nodes(two_nodes: List[str]) -> None:
    """``python -m pollhub bench URL URL``: one voter per node by default, a report per node, exit status 0."""
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", *two_nodes, "--token", "T", "--clients", "20", "--rate", "40", "--duration", "1", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["votes_acked"] == report["votes_sent"] == 40
    assert report["lost"] == report["duplicated"] == report["differing"] == 0
    assert [(n["connected"], n["voters"], n["votes_acked"], n["final_total"]) for n in report["nodes"]] == [(10, 1, 20, 40)] * 2
    text = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", *two_nodes, "--token", "T", "--clients", "4", "--rate", "20", "--duration", "0.5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert text.returncode == 0, text.stdout + text.stderr
    assert "0 did not" in text.stdout
    assert [line.split()[2] for line in text.stdout.splitlines() if line.startswith("node ")] == two_nodes


def test_bench_reports_servers_that_do_not_share_the_event(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Two separate servers with the same poll: each counts only its own votes, and the bench says so, node by node."""
    monkeypatch.setattr(bench, "SETTLE_TIMEOUT", 1.0)  # how long it waits for totals that never come
    with Hub() as one, Hub() as two:
        with PollServer(one, port=0, max_vote_rate=0) as first, PollServer(two, port=0, max_vote_rate=0) as second:
            for hub in (one, two):
                hub.create_poll("Load", ["A", "B"], kind=COUNTER)
            status = bench.bench_command([first.url, second.url, "--clients", "6", "--votes", "10", "--json"])
            assert (one.results(), two.results()) == ({"a": 10, "b": 0}, {"a": 10, "b": 0})
    assert status == 3  # votes lost: the rehearsal failed
    report = json.loads(capsys.readouterr().out)
    assert report["votes_acked"] == 20 and report["expected_total"] == 20
    assert report["lost"] == 10 and report["differing"] == 6
    for node in report["nodes"]:
        assert (node["votes_acked"], node["final_total"], node["lost"], node["differing"]) == (10, 10, 10, 3)
        assert node["differing_participants"] == [{"participant": i, "total": 10} for i in range(3)]
    text = bench.format_report(report)
    assert "every participant must end at 20 (the base plus every vote acknowledged): 6 did not" in text
    assert f"node 2            {second.url}" in text
    assert "  differing       3 participants: #0 at 10, #1 at 10, #2 at 10" in text


def test_bench_refuses_servers_where_its_poll_never_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a token, the bench's poll is created on the first server: a second server that never shows it is named."""
    monkeypatch.setattr(bench, "SETTLE_TIMEOUT", 1.0)  # how long it waits for the poll to show
    with Hub() as one, Hub() as two:
        with PollServer(one, port=0, token="T") as first, PollServer(two, port=0, token="T") as second:
            with pytest.raises(RuntimeError, match=f"never reached {second.url}"):
                Bench([first.url, second.url], clients=2, rate=10, duration=0.1, token="T").run()
            assert one.polls() == []  # the bench's own poll is deleted all the same
            wait_until(lambda: one.client_count() == two.client_count() == 0)  # and every connection closed


# The Q&A scenario ------------------------------------------------------------------------


def test_qa_flood_counts_every_upvote_once_and_every_participant_agrees(hub: Hub) -> None:
    with PollServer(hub, port=0, token="T", max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0) as server:
        report = QABench(server.url, clients=40, questions=6, votes=9, duration=TIMEOUT, token="T").run()
        questions = hub.questions()
    assert report["scenario"] == "qa" and report["connected"] == 40 and report["askers"] == 2
    # Phase 1 upvotes all 6 questions; phase 2 takes back half; phase 3 upvotes what each has left of its 9.
    # The two askers (5 questions and 1) have fewer: the one with one other question may go on
    # up and down alone, a phase each, until its 9 are spent or a phase has none for it.
    assert 3 <= report["phases"] <= 9
    assert report["upvotes_sent"] + report["unvotes_sent"] == report["upvotes_acked"]
    assert 38 * 9 <= report["upvotes_acked"] <= 40 * 9
    assert 38 * 3 <= report["unvotes_sent"] <= 38 * 3 + 9  # half of each one's questions, and the askers' few
    assert report["upvotes_rejected"] == report["unanswered"] == 0
    assert report["lost"] == report["duplicated"] == report["differing"] == report["behind"] == 0
    assert report["went_backwards"] == report["dropped"] == 0
    assert report["latency_ms"]["p99"] is not None and report["upvotes_per_second"] > 0
    assert [q["state"] for q in questions] == ["dismissed"] * 6  # with the token, the bench tidies up
    assert sum(q["upvotes"] for q in questions) == report["expected_upvotes"] > 0


def test_qa_at_a_steady_rate_charges_each_upvote_its_latency(hub: Hub) -> None:
    with PollServer(hub, port=0, max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0) as server:
        report = QABench(server.url, clients=10, questions=2, rate=36, duration=0.5).run()
        questions = hub.questions()
    assert report["upvotes_sent"] == 18 and report["unvotes_sent"] == 0  # 10 x 2 but the asker's own: one phase
    assert report["upvotes_acked"] == 18 and report["expected_upvotes"] == 18
    assert [q["upvotes"] for q in questions] == [9, 9]
    assert [q["state"] for q in questions] == ["published"] * 2  # no token: the questions stay
    latency = report["latency_ms"]
    assert latency["p50"] is not None and latency["p50"] <= latency["p99"] and latency["max"] > 0
    assert report["lost"] == report["duplicated"] == report["differing"] == 0


def test_qa_needs_a_token_when_the_server_moderates(hub: Hub, server: PollServer) -> None:
    hub.qa_settings(moderation=True)
    with pytest.raises(RuntimeError, match="give --token"):
        QABench(server.url, clients=4, questions=2, rate=10, duration=0.1).run()
    report = QABench(server.url, clients=4, questions=2, rate=30, duration=0.2, token="secret").run()
    assert report["upvotes_acked"] == 6 and report["lost"] == report["differing"] == 0


def test_qa_reports_a_closed_qa(hub: Hub, server: PollServer) -> None:
    hub.qa_settings(open=False)
    with pytest.raises(RuntimeError, match="could not ask the bench's questions: .*closed"):
        QABench(server.url, clients=4, questions=2, rate=10, duration=0.1).run()


def test_bench_command_qa_scenario_against_its_own_server() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", "--self", "--scenario", "qa", "--clients", "30", "--questions", "4",
         "--votes", "6", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scenario"] == "qa" and report["connected"] == 30 and report["questions"] == 4
    # 6 each but the asker's: all 4 questions are its own, so it upvotes none
    assert report["upvotes_acked"] == report["upvotes_sent"] + report["unvotes_sent"] == 29 * 6
    assert report["lost"] == report["duplicated"] == report["differing"] == report["went_backwards"] == 0
    assert report["latency_ms"]["p99"] is not None
    assert report["memory_per_connection_bytes"] > 0
    text = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", "--self", "--scenario", "qa", "--clients", "8", "--questions", "3",
         "--rate", "50", "--duration", "0.3"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "questions         3 asked by 1 participants" in text.stdout
    assert re.search(r"upvotes           15 counted of 15 upvotes and 0 unvotes sent in 1 phases, 0 rejected, 0 never answered", text.stdout)
    assert "0 lost, 0 duplicated, 0 participants with a count other than the server's replies say" in text.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scenario", "qa", "--voters", "2"], "--voters does not apply to the qa scenario"),
        (["--scenario", "qa", "--poll", "p"], "--poll does not apply to the qa scenario"),
        (["--questions", "3"], "--questions does not apply to the votes scenario"),
        (["--scenario", "quiz", "--votes", "3"], "--votes does not apply to the quiz scenario"),
        (["--scenario", "quiz", "--questions", "3"], "--questions does not apply to the quiz scenario"),
        (["--scenario", "chat"], "invalid choice"),
    ],
)
def test_bench_command_refuses_flags_of_the_other_scenario(args: List[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pollhub", "bench", "--self", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr


def test_qa_over_two_redis_nodes_every_participant_ends_at_the_same_counts(two_nodes: List[str]) -> None:
    """Participants on both nodes upvote and unvote: every count exact everywhere, through the shared log."""
    report = QABench(two_nodes, clients=30, questions=4, votes=6, duration=TIMEOUT, token="T").run()
    assert report["urls"] == two_nodes and report["connected"] == 30
    assert report["upvotes_acked"] == report["upvotes_sent"] + report["unvotes_sent"] > 0
    assert report["upvotes_rejected"] == report["unanswered"] == 0
    assert report["lost"] == report["duplicated"] == report["differing"] == report["behind"] == 0
    assert report["went_backwards"] == report["dropped"] == 0


# The quiz scenario ---------------------------------------------------------------------


def test_quiz_counts_every_answer_and_every_score_and_rank_is_exact(hub: Hub) -> None:
    with PollServer(hub, port=0, token="T", max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0) as server:
        report = QuizBench(server.url, clients=40, token="T").run()
        polls, board = hub.polls(), hub.leaderboard()
    assert report["scenario"] == "quiz" and report["connected"] == 40
    assert report["answers_acked"] == 40 and report["answers_rejected"] == report["unanswered"] == 0
    assert report["counts"] == {"a": 30, "b": 10, "c": 0, "d": 0}  # every fourth participant answers wrong
    assert report["scores_received"] == 40 and report["ranks_checked"] is True
    assert report["lost"] == report["duplicated"] == report["wrong_scores"] == report["wrong_ranks"] == 0
    assert report["differing"] == report["went_backwards"] == report["dropped"] == 0
    assert report["answers_per_second"] > 0 and report["open_to_all_acked_ms"] > 0
    assert report["answer_latency_ms"]["p99"] is not None and report["score_latency_ms"]["p99"] is not None
    assert report["reveal_to_all_scores_ms"] >= report["score_latency_ms"]["p50"]
    assert polls == []  # the bench deleted its question
    assert [e["score"] for e in board] == [0] * 40  # the nicknames stay; the deleted question took its points along


def test_quiz_needs_a_token(hub: Hub, server: PollServer) -> None:
    with pytest.raises(ValueError, match="needs --token"):
        QuizBench(server.url, clients=4)
    with pytest.raises(RuntimeError, match="could not say hello with the token"):
        QuizBench(server.url, clients=4, token="wrong").run()


def test_bench_command_quiz_scenario_against_its_own_server() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", "--self", "--scenario", "quiz", "--clients", "30", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scenario"] == "quiz" and report["answers_acked"] == report["scores_received"] == 30
    assert report["lost"] == report["duplicated"] == report["differing"] == 0 and report["ranks_checked"]
    text = subprocess.run(
        [sys.executable, "-m", "pollhub", "bench", "--self", "--scenario", "quiz", "--clients", "8"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "answers           8 acknowledged, 0 rejected, 0 never sent" in text.stdout
    assert "reveal to scores  all 8 arrived after" in text.stdout
    assert "0 lost, 0 duplicated, 0 wrong scores, 0 wrong ranks" in text.stdout
