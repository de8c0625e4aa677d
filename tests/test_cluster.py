"""Several nodes, one event, through a real redis-server (a private one per module; see conftest.py).

Nodes are in-process hubs and servers where that is enough, and real
``python -m pollhub`` processes where a node must die by ``kill -9``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from pollhub import COUNTER, MULTIPLE, SCALE, SINGLE, WORDS, Hub, PollClient, PollServer
from pollhub import cluster
from pollhub.book import Entry, Expire, PollBook
from pollhub.client import ConnectionClosed
from pollhub.cluster import ClusterError, decode_command, encode_command
from pollhub.errors import PollhubError, Unavailable
from pollhub.polls import Settings
from pollhub.protocol import (
    CreatePoll,
    HideAnswer,
    Hello,
    OpenPoll,
    OrderPolls,
    PollAction,
    Step,
    UpdatePoll,
    Vote,
)

from .conftest import TIMEOUT, wait_until
from .processes import Process
from .redis_server import RedisServer

TOKEN = "cluster-test-token"
NO_LIMITS = dict(max_vote_rate=0, max_address_vote_rate=0, new_voter_rate=0)
NO_LIMIT_FLAGS = ("--max-vote-rate", "0", "--max-address-vote-rate", "0", "--new-voter-rate", "0")


class Node:
    """One in-process node: a hub on the shared log and a WebSocket server in front of it."""

    def __init__(self, url: str, event: str) -> None:
        self.hub = Hub(redis=url, event=event).start()
        self.server = PollServer(self.hub, port=0, token=TOKEN, close_timeout=0.5, **NO_LIMITS).start()  # type: ignore[arg-type]
        self.clients: List[PollClient] = []

    def connect(self, voter: Optional[str] = None, admin: bool = False) -> PollClient:
        client = PollClient(self.server.url, voter=voter, token=TOKEN if admin else None, timeout=TIMEOUT)
        self.clients.append(client)
        return client

    def book(self) -> Dict[str, Any]:
        """The node's whole state, read in its hub thread."""
        return self.hub._call(lambda: self.hub._book.snapshot())

    def healthz(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.server.port}/healthz", timeout=TIMEOUT) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()
        self.hub.stop()


@pytest.fixture
def nodes(redis_server: RedisServer, event_name: str) -> Iterator[Callable[[int], List[Node]]]:
    started: List[Node] = []

    def start(count: int) -> List[Node]:
        new = [Node(redis_server.url, event_name) for _ in range(count)]
        started.extend(new)
        return new

    yield start
    for node in started:
        node.stop()


def same_state(nodes: List[Node]) -> bool:
    books = [node.book() for node in nodes]
    return all(book == books[0] for book in books)


def wait_same_state(nodes: List[Node]) -> Dict[str, Any]:
    wait_until(lambda: same_state(nodes))
    return nodes[0].book()


# The log's codec -----------------------------------------------------------------------

COMMANDS = [
    Vote("pizza", "lunch"),
    Vote(["a", "b"], None),
    Vote(4, "scale"),
    Vote("l'été \U0001f600", "words"),
    CreatePoll("Lunch?", ("Pizza", "Salad"), Settings()),
    CreatePoll("Pick", ("A", "B", "C"), Settings(kind=MULTIPLE, max_choices=2)),
    CreatePoll("Words", (), Settings(kind=WORDS, max_answers=3, results="hidden")),
    CreatePoll("Rate", (), Settings(kind=SCALE, scale_min=0, scale_max=10, results="after_vote", changes="locked")),
    PollAction("delete", "lunch"),
    OpenPoll("lunch", 30.0),
    OpenPoll("lunch", None),
    UpdatePoll("lunch", "hidden", None),
    HideAnswer("words", "rude"),
    OrderPolls(("b", "a")),
    Step(-1),
    Expire("lunch", 1790000000.25),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_every_command_goes_through_the_log_unchanged(command: Any) -> None:
    assert decode_command(encode_command(command)) == command
    if hasattr(command, "ref"):  # the sender's ref stays with the sender
        assert decode_command(encode_command(command._replace(ref=7))) == command


def test_the_log_refuses_what_is_not_a_command() -> None:
    with pytest.raises(ValueError):
        encode_command(Hello("ann", None))
    for text in ("", "[]", '["Nope", []]', '["Vote"]', '{"a": 1}', '["CreatePoll", [1]]'):
        with pytest.raises(ValueError):
            decode_command(text)


@pytest.mark.parametrize("name", ["", "a b", "{x}", "x" * 65, "é"])
def test_event_names_are_plain(name: str) -> None:
    with pytest.raises(ClusterError):
        cluster.check_event(name)


def test_a_book_applies_each_entry_id_once() -> None:
    book = PollBook()
    effects = cluster_effects()
    create = Entry("n1", 1, "~api", True, CreatePoll("Q?", ("A", "B")), 100.0)
    vote = Entry("n1", 2, "ann", False, Vote("a", None), 101.0)
    assert book.apply_entry(create, effects) is not None
    assert book.apply_entry(vote, effects) == {"type": "voted", "poll": "q", "option": "a"}
    assert book.apply_entry(vote, effects) is None  # an append retried after a lost answer
    assert book.polls["q"].total == 1 and book.applied == {"n1": 2}
    restored = PollBook.restore(json.loads(json.dumps(book.snapshot())))
    assert restored.apply_entry(vote, effects) is None and restored.applied == {"n1": 2}


def cluster_effects() -> Any:
    from pollhub.book import Effects

    return Effects()


# Durability and reachability at start -------------------------------------------------------


def test_a_node_refuses_a_redis_that_may_lose_acknowledged_votes(tmp_path: Any, event_name: str) -> None:
    lax = RedisServer(tmp_path / "lax", "--appendonly", "no", "--appendfsync", "everysec")
    try:
        with pytest.raises(ClusterError, match="appendfsync always"):
            Hub(redis=lax.url, event=event_name).start()
        hub = Hub(redis=lax.url, event=event_name, durability="none").start()  # accepted, knowingly
        try:
            assert hub.create_poll("Q?", ["A", "B"]).id == "q"
        finally:
            hub.stop()
    finally:
        lax.stop()


def test_an_unreachable_redis_is_a_clear_error_at_start(tmp_path: Any) -> None:
    with pytest.raises(ClusterError, match="cannot reach Redis"):
        Hub(redis=f"unix://{tmp_path}/nothing.sock").start()
    with pytest.raises(ClusterError, match="event name"):
        Hub(redis=f"unix://{tmp_path}/nothing.sock", event="no spaces").start()


def test_the_command_line_refuses_redis_with_a_database() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "pollhub", "--redis", "unix:///nowhere.sock", "--memory"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert finished.returncode == 2 and "--redis" in finished.stderr


# Convergence ---------------------------------------------------------------------------


def test_three_nodes_converge_to_the_recount_and_nothing_goes_backwards(nodes: Callable[[int], List[Node]]) -> None:
    """Participants on each of three nodes vote; everyone ends with the counts a recount of the ballots gives."""
    three = nodes(3)
    admin = three[0].connect(admin=True)
    lunch = three[0].hub.poll(admin.create_poll("Lunch?", ["Pizza", "Salad", "Soup"]))
    taps = three[0].hub.poll(admin.create_poll("Applause", ["Clap", "Cheer"], kind=COUNTER))
    voters = [(node, node.connect(voter=f"v{n}-{i}")) for n, node in enumerate(three) for i in range(3)]
    watchers = [node.connect() for node in three]
    seen: Dict[int, List[Tuple[str, int, int]]] = {i: [] for i in range(len(watchers))}

    def watch(index: int, client: PollClient) -> None:
        for message in client.updates(timeout=0.5):
            if message["type"] == "results":
                seen[index].append((message["poll"], message["seq"], message["total"]))

    final: Dict[str, str] = {}
    taps_acked = 0
    lock = threading.Lock()

    def vote(node: Node, client: PollClient) -> None:
        nonlocal taps_acked
        rng = random.Random(client.voter)
        for _ in range(12):
            choice = rng.choice(["pizza", "salad", "soup"])
            client.vote(choice, lunch.id)
            client.vote("clap", taps.id)
            with lock:
                final[str(client.voter)] = choice
                taps_acked += 1

    readers = [threading.Thread(target=watch, args=(i, c), name=f"test-watch-{i}") for i, c in enumerate(watchers)]
    threads = [threading.Thread(target=vote, args=pair, name="test-voter") for pair in voters]
    for thread in readers + threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 3)
    expected = {option: list(final.values()).count(option) for option in ("pizza", "salad", "soup")}
    for client in [c for _, c in voters] + watchers + [admin]:
        client.wait_for(lambda c: c.results(lunch.id) == expected and c.results(taps.id) == {"clap": taps_acked, "cheer": 0})
    for client in watchers:
        client.close()
    for thread in readers:
        thread.join(TIMEOUT)
    wait_same_state(three)
    for messages in seen.values():
        for poll_id in (lunch.id, taps.id):
            seqs = [seq for p, seq, _ in messages if p == poll_id]
            assert seqs == sorted(seqs), "a results seq went backwards"
        tap_totals = [total for p, _, total in messages if p == taps.id]
        assert tap_totals == sorted(tap_totals), "a counter total went backwards"


def test_one_voter_on_two_nodes_at_once_in_a_locked_poll_gets_one_ballot(nodes: Callable[[int], List[Node]]) -> None:
    one, two = nodes(2)
    admin = one.connect(admin=True)
    poll = one.hub.poll(admin.create_poll("Final answer?", ["Yes", "No"], changes="locked"))
    here, there = one.connect(voter="ann"), two.connect(voter="ann")
    outcomes: List[object] = []
    start = threading.Barrier(2, timeout=TIMEOUT)

    def vote(client: PollClient, option: str) -> None:
        start.wait()
        try:
            outcomes.append(client.vote(option, poll.id))
        except PollhubError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=vote, args=(c, o), name="test-voter") for c, o in ((here, "yes"), (there, "no"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(type(o).__name__ for o in outcomes) == ["VoteLocked", "str"]
    winner = next(o for o in outcomes if isinstance(o, str))
    for client in (here, there, admin):
        client.wait_for(lambda c: c.results(poll.id) == {"yes": int(winner == "yes"), "no": int(winner == "no")})
    assert wait_same_state([one, two])["polls"][0]["ballots"] == [["ann", [winner]]]


def test_every_kind_across_nodes_gives_what_one_node_gives(nodes: Callable[[int], List[Node]]) -> None:
    """The same votes, spread over three nodes and given to one hub alone, give the same results."""
    three = nodes(3)
    plan: List[Tuple[str, Dict[str, Any], List[Any]]] = [
        ("multiple", dict(options=["A", "B", "C"], kind=MULTIPLE, max_choices=2), [["a"], ["a", "b"], ["c", "b"], ["b"]]),
        ("scale", dict(kind=SCALE, scale=(1, 5)), [1, 5, 4, 4, 2]),
        ("words", dict(kind=WORDS, max_answers=2), [["Tea", "coffee"], ["tea"], ["Coffee ", "water"], ["TEA"]]),
        ("single", dict(options=["X", "Y"], kind=SINGLE), ["x", "y", "y", "x", "y"]),
    ]
    alone = Hub().start()
    try:
        for question, fields, votes in plan:
            options = fields.pop("options", [])
            ids = [alone.create_poll(question, options, **fields).id]
            ids.append(three[0].hub.create_poll(question, options, **fields).id)
            assert ids[0] == ids[1]
            for n, choice in enumerate(votes):
                voter = f"voter-{n % 3}"  # some voters change their vote
                alone.vote(ids[0], choice, voter=voter)
                three[n % 3].hub.vote(ids[0], choice, voter=voter)
        state = wait_same_state(three)
        for poll in alone.polls():
            for node in three:
                clustered = node.hub.poll(poll.id)
                assert clustered.result_fields() == poll.result_fields()
        assert [p["id"] for p in state["polls"]] == [p.id for p in alone.polls()]
    finally:
        alone.stop()


def test_a_countdown_closes_the_poll_once_at_the_same_point_on_every_node(nodes: Callable[[int], List[Node]]) -> None:
    three = nodes(3)
    poll = three[0].hub.create_poll("Quick!", ["Tap", "Boo"], kind=COUNTER)
    three[0].hub.close_poll(poll.id)
    clients = [node.connect(voter=f"fast-{n}") for n, node in enumerate(three)]
    acked = [0, 0, 0]
    refused = [0, 0, 0]
    three[1].hub.open_poll(poll.id, close_after=1)

    def tap(index: int, client: PollClient) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                client.vote("tap", poll.id)
                acked[index] += 1
            except PollhubError as exc:
                assert exc.code == "poll_closed"
                refused[index] += 1
                return

    threads = [threading.Thread(target=tap, args=(i, c), name="test-tapper") for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT + 2)
    assert refused == [1, 1, 1] and sum(acked) > 0
    state = wait_same_state(three)
    closed = next(p for p in state["polls"] if p["id"] == poll.id)
    assert closed["open"] is False
    assert all(node.hub.poll(poll.id).total == sum(acked) for node in three)  # exactly the votes before the close


# Presence ----------------------------------------------------------------------------------


def test_the_presenter_sees_the_participants_of_every_node(
    nodes: Callable[[int], List[Node]], redis_server: RedisServer, event_name: str
) -> None:
    one, two = nodes(2)
    presenter = one.connect(admin=True)
    one.connect()
    for _ in range(3):
        two.connect()

    def presence(client: PollClient) -> Optional[int]:
        found = None
        for message in client.updates(timeout=0.2):
            if message["type"] == "presence":
                found = message["participants"]
        return found

    counts: List[Optional[int]] = []
    deadline = time.monotonic() + TIMEOUT
    while 4 not in counts and time.monotonic() < deadline:
        counts.append(presence(presenter))
    assert 4 in counts
    # A node that dies without a word: its count expires (here after 3 s; NODE_TTL in production).
    with redis_server.client() as client:
        client.sadd(f"pollhub:{{{event_name}}}:nodes", "ghost")
        client.set(f"pollhub:{{{event_name}}}:node:ghost", 10, px=3000)
    shown: List[int] = []
    deadline = time.monotonic() + TIMEOUT
    while not (14 in shown and shown[-1] == 4) and time.monotonic() < deadline:
        count = presence(presenter)
        if count is not None:
            shown.append(count)
    assert 14 in shown and shown[-1] == 4


# Failures ------------------------------------------------------------------------------------


class Burst:
    """Voters tapping a counter as fast as they are answered, counting answers of each kind."""

    def __init__(self, urls: List[str], poll_id: str, per_url: int = 2) -> None:
        self.poll_id = poll_id
        self.acked = 0
        self.unavailable = 0
        self.other: List[str] = []
        self.fast_unavailable = True  # every unavailable came within 3 s of its request
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(url,), name="test-burst") for url in urls for _ in range(per_url)
        ]

    def __enter__(self) -> "Burst":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT * 2)

    def _run(self, url: str) -> None:
        client: Optional[PollClient] = None
        while not self._stop.is_set():
            try:
                if client is None or client.closed:
                    client = PollClient(url, timeout=TIMEOUT)
                started = time.monotonic()
                try:
                    client.vote("tap", self.poll_id)
                    with self._lock:
                        self.acked += 1
                except Unavailable:
                    with self._lock:
                        self.unavailable += 1
                        self.fast_unavailable &= time.monotonic() - started < 3.0
                    self._stop.wait(0.05)
            except (ConnectionClosed, OSError, TimeoutError) as exc:
                with self._lock:
                    self.other.append(type(exc).__name__)
                client = None
                self._stop.wait(0.1)
        if client is not None:
            client.close()

    def wait_for_acks(self, count: int) -> None:
        wait_until(lambda: self.acked >= count)


def test_redis_killed_and_restarted_loses_no_acknowledged_vote(tmp_path: Any, event_name: str) -> None:
    redis = RedisServer(tmp_path / "redis")
    two = [Node(redis.url, event_name) for _ in range(2)]
    try:
        poll = two[0].hub.create_poll("Taps", ["Tap", "Boo"], kind=COUNTER)
        with Burst([n.server.url for n in two], poll.id) as burst:
            burst.wait_for_acks(50)
            redis.kill()
            acked_at_kill = burst.acked
            wait_until(lambda: burst.unavailable >= 4)
            assert all(node.healthz() == 503 for node in two)
            redis.start()  # the same directory: its append-only file
            wait_until(lambda: all(node.healthz() == 200 for node in two), timeout=TIMEOUT * 2)
            burst.wait_for_acks(acked_at_kill + 50)  # the nodes recovered by themselves
        assert burst.fast_unavailable, "a vote waited for a Redis that was down"
        state = wait_same_state(two)
        total = next(p for p in state["polls"] if p["id"] == poll.id)["total"]
        assert total >= burst.acked  # every acknowledged vote is there
        assert total <= burst.acked + burst.unavailable  # and no vote twice
    finally:
        for node in two:
            node.stop()
        redis.stop()


def vote_entries(redis: RedisServer, event: str, poll_id: str) -> int:
    """Distinct vote entries in the event's stream (an entry appended twice counts once)."""
    with redis.client() as client:
        entries = client.xrange(f"pollhub:{{{event}}}:log")
    ids = set()
    for _, fields in entries:
        command = decode_command(fields[b"c"].decode())
        if isinstance(command, Vote) and command.poll == poll_id:
            ids.add((fields[b"o"], fields[b"n"]))
    return len(ids)


def test_killed_and_paused_redis_connections_lose_nothing_and_apply_nothing_twice(
    nodes: Callable[[int], List[Node]], redis_server: RedisServer, event_name: str
) -> None:
    two = nodes(2)
    poll = two[0].hub.create_poll("Taps", ["Tap", "Boo"], kind=COUNTER)
    with Burst([n.server.url for n in two], poll.id) as burst, redis_server.client() as admin:
        burst.wait_for_acks(30)
        for _ in range(3):
            killed = admin.client_kill_filter(_type="normal", skipme=True)
            assert killed >= 1  # the nodes' connections (those reconnected since the last kill)
            burst.wait_for_acks(burst.acked + 20)
        admin.execute_command("CLIENT", "PAUSE", "700", "WRITE")
        burst.wait_for_acks(burst.acked + 30)
    state = wait_same_state(two)
    total = next(p for p in state["polls"] if p["id"] == poll.id)["total"]
    assert total >= burst.acked
    assert total == vote_entries(redis_server, event_name, poll.id)  # each entry applied once


def test_a_node_killed_during_a_burst_loses_no_acknowledged_vote(redis_server: RedisServer, event_name: str) -> None:
    def start() -> Tuple[Process, str]:
        process = Process.pollhub(
            "--host", "127.0.0.1", "--port", "0", "--redis", redis_server.url, "--event", event_name,
            "--token", TOKEN, *NO_LIMIT_FLAGS,
        )
        return process, process.expect(r"listening on (ws://\S+)").group(1)

    (doomed, doomed_url), (steady, steady_url) = start(), start()
    restarted: Optional[Process] = None
    try:
        with PollClient(steady_url, token=TOKEN, timeout=TIMEOUT) as admin:
            poll = admin.poll(admin.create_poll("Taps", ["Tap", "Boo"], kind=COUNTER))
        with Burst([doomed_url, steady_url], poll.id) as burst:
            burst.wait_for_acks(60)
            doomed.kill()  # SIGKILL
            burst.wait_for_acks(burst.acked + 40)
        with PollClient(steady_url, timeout=TIMEOUT) as watcher:
            watcher.wait_for(lambda c: c.results(poll.id)["tap"] >= burst.acked)
            total = watcher.results(poll.id)["tap"]
        assert total == vote_entries(redis_server, event_name, poll.id)
        restarted, restarted_url = start()
        with PollClient(restarted_url, timeout=TIMEOUT) as late:
            assert late.results(poll.id)["tap"] == total
    finally:
        for process in (doomed, steady, restarted):
            if process is not None:
                process.stop()


# Catching up ---------------------------------------------------------------------------------


def append_votes(redis: RedisServer, event: str, poll_id: str, count: int, chunk: int = 5000) -> None:
    """``count`` votes appended straight to the log, as nodes would (faster than through a node)."""
    key = f"pollhub:{{{event}}}:log"
    command = encode_command(Vote("tap", poll_id))
    with redis.client() as client:
        for start in range(0, count, chunk):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(count, start + chunk)):
                pipe.xadd(key, {"o": "loader", "n": n + 1, "v": f"voter-{n % 997}", "a": "0", "c": command})
            pipe.execute()


def test_a_node_started_after_100000_votes_catches_up_from_the_snapshot_and_the_tail(
    redis_server: RedisServer, event_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pollhub.cluster.SNAPSHOT_INTERVAL", 0.0)  # a snapshot every SNAPSHOT_EVERY entries
    first = Node(redis_server.url, event_name)
    late: Optional[Node] = None
    try:
        poll = first.hub.create_poll("Taps", ["Tap", "Boo"], kind=COUNTER)
        append_votes(redis_server, event_name, poll.id, 100_000)
        wait_until(lambda: first.hub.poll(poll.id).total == 100_000, timeout=TIMEOUT * 6)
        with redis_server.client() as client:
            wait_until(lambda: client.hget(f"pollhub:{{{event_name}}}:snapshot", "position") is not None)
            assert client.xlen(f"pollhub:{{{event_name}}}:log") < 100_000  # trimmed behind a snapshot
        first.hub.vote(poll.id, "tap", voter="after")  # the tail
        started = time.monotonic()
        late = Node(redis_server.url, event_name)
        elapsed = time.monotonic() - started
        assert late.hub.poll(poll.id).total == 100_001
        assert wait_same_state([first, late])["seq"] >= 100_001
        print(f"a node joined 100,001 votes in {elapsed:.2f} s")
    finally:
        for node in (first, late):
            if node is not None:
                node.stop()


def test_a_node_that_missed_trimmed_entries_starts_again_from_the_snapshot(
    nodes: Callable[[int], List[Node]], redis_server: RedisServer, event_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its participants get a fresh welcome with the event as it is now."""
    monkeypatch.setattr(cluster, "GAP_CHECK_INTERVAL", 0.1)
    (node,) = nodes(1)
    poll = node.hub.create_poll("Taps", ["Tap", "Boo"], kind=COUNTER)
    watcher = node.connect()
    # Another node's snapshot from further on, and the entries it holds trimmed
    # before this node could read them (one transaction: it never sees them).
    book = PollBook.restore(node.book())
    effects = cluster_effects()
    for n in range(1, 6):
        book.apply_entry(Entry("elsewhere", n, f"v{n}", False, Vote("tap", poll.id), time.time()), effects)
    key = f"pollhub:{{{event_name}}}:"
    with redis_server.client() as client:
        position = f"{int(time.time() * 1000) + 1000}-0"  # ahead of every entry so far
        pipe = client.pipeline(transaction=True)
        pipe.xadd(key + "log", {"o": "elsewhere", "n": 5, "v": "v5", "a": "0", "c": "[]"}, id=position)
        pipe.xtrim(key + "log", minid=position.replace("-0", "-1"))
        pipe.hset(key + "snapshot", mapping={"position": position, "book": json.dumps(book.snapshot()), "trimmed": position})
        pipe.execute()
    watcher.wait_for(lambda c: c.results(poll.id) == {"tap": 5, "boo": 0})
    assert node.hub.poll(poll.id).total == 5
    node.hub.vote(poll.id, "tap", voter="after")  # and it goes on from there
    watcher.wait_for(lambda c: c.results(poll.id) == {"tap": 6, "boo": 0})


def test_export_reads_the_event_from_redis(nodes: Callable[[int], List[Node]], redis_server: RedisServer, event_name: str) -> None:
    (node,) = nodes(1)
    poll = node.hub.create_poll("Lunch?", ["Pizza", "Salad"])
    node.hub.vote(poll.id, "salad", voter="ann")
    finished = subprocess.run(
        [sys.executable, "-m", "pollhub", "export", "--redis", redis_server.url, "--event", event_name, "--format", "json"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout) == node.hub.export()
    missing = subprocess.run(
        [sys.executable, "-m", "pollhub", "export", "--redis", f"unix://{redis_server.dir}/none.sock"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert missing.returncode == 2 and "cannot reach Redis" in missing.stderr


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://:s3cret@db:6379/0", "redis://:***@db:6379/0"),
        ("rediss://app:p%40ss@db/1", "rediss://app:***@db/1"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("redis://db:6379", "redis://db:6379"),
    ],
)
def test_messages_never_show_a_redis_password(url: str, shown: str) -> None:
    assert cluster.redact(url) == shown


# Audience Q&A across nodes ---------------------------------------------------------------


def test_questions_and_upvotes_converge_across_nodes(nodes: Callable[[int], List[Node]]) -> None:
    """Questions asked, upvoted and moderated on three nodes: one id each, every upvote once, the same Q&A everywhere.

    One voter upvotes on two nodes at once: it counts once. A presenter's
    moderation on one node decides for all.
    """
    a, b, c = nodes(3)
    first = a.hub.ask("Asked on a?", voter="ann")
    second = b.hub.ask("Asked on b?", voter="bob")
    voters = [f"v{n}" for n in range(30)]
    errors: List[BaseException] = []

    def upvote(node: Node, voter: str) -> None:
        try:
            for question in (first, second):
                node.hub.upvote(question["id"], voter=voter)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upvote, args=((a, b, c)[n % 3], voter), name="test-upvoter") for n, voter in enumerate(voters)]
    threads += [threading.Thread(target=upvote, args=(node, "twice"), name="test-upvoter") for node in (a, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    c.hub.qa_settings(moderation=True)
    waiting = a.hub.ask("Needs a presenter", voter="carl")
    assert waiting["state"] == "waiting"
    b.hub.highlight_question(waiting["id"])
    book = wait_same_state([a, b, c])
    assert [(q["id"], len(q["upvoters"]), q["state"]) for q in book["qa"]["questions"]] == [
        ("q1", 31, "published"), ("q2", 31, "published"), ("q3", 0, "published")
    ]
    assert book["qa"]["highlight"] == "q3"
    assert c.hub.questions() == a.hub.questions()


def test_a_quiz_scores_alike_on_every_node(nodes: Callable[[int], List[Node]]) -> None:
    """Answers on two nodes are scored by the log's clock: one leaderboard, the same on both."""
    a, b = nodes(2)
    question = a.hub.create_poll("Capital?", ["Paris", "Rome"], kind="quiz", correct=["Paris"], time_limit=30)
    players = [f"p{n}" for n in range(10)]
    for n, voter in enumerate(players):
        (a, b)[n % 2].hub.set_nickname(f"Player {n}", voter=voter)
    b.hub.open_poll(question.id)
    for n, voter in enumerate(players):
        (a, b)[n % 2].hub.vote(question.id, "paris" if n % 3 else "rome", voter=voter)
    a.hub.close_poll(question.id)
    b.hub.reveal_answer(question.id)
    book = wait_same_state([a, b])
    assert [p["answer_revealed"] for p in book["polls"]] == [1]
    board = a.hub.leaderboard()
    assert board == b.hub.leaderboard()
    assert sorted(entry["score"] > 0 for entry in board) == [False] * 4 + [True] * 6
