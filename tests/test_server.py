"""Integration tests: a real PollServer on loopback, real WebSocket clients.

Raw protocol checks use ``websocket-client`` directly; higher-level ones use
:class:`pollhub.PollClient`. Every blocking call has a timeout; nothing sleeps
to synchronise.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import websocket

from pollhub import COUNTER, Forbidden, Hub, PollClient, PollClosed, PollServer, protocol

from .conftest import TIMEOUT, metrics, pollhub_threads, wait_until

Message = Dict[str, Any]
REPLY_TYPES = {"hello", "voted", "ok", "error"}  # direct replies; everything else is a broadcast


# Helpers --------------------------------------------------------------------------


def send_json(ws: websocket.WebSocket, data: Message) -> None:
    ws.send(json.dumps(data))


def recv_json(ws: websocket.WebSocket) -> Message:
    """The next text message as a dict; the socket timeout fails the test if none comes."""
    return json.loads(ws.recv())


def recv_until(ws: websocket.WebSocket, predicate: Callable[[Message], bool]) -> Message:
    """Skip messages until one satisfies ``predicate``."""
    while True:
        message = recv_json(ws)
        if predicate(message):
            return message


def next_reply(ws: websocket.WebSocket) -> Message:
    """The next direct reply (hello, voted, ok, error), skipping broadcasts."""
    return recv_until(ws, lambda m: m["type"] in REPLY_TYPES)


def ask(ws: websocket.WebSocket, data: Any) -> Message:
    """Send one message (a dict as JSON, a str as is) and return the direct reply to it."""
    ws.send(data if isinstance(data, str) else json.dumps(data))
    return next_reply(ws)


def expect(client: PollClient, predicate: Callable[[Message], bool]) -> Message:
    """The first update of ``client`` (in order, consuming earlier ones) that satisfies ``predicate``."""
    for message in client.updates(timeout=TIMEOUT):
        if predicate(message):
            return message
    pytest.fail("no matching message from the server")


def is_results(poll_id: str, total: int) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "results" and m["poll"] == poll_id and m["total"] == total


@pytest.fixture
def raw(server: PollServer) -> Iterator[Callable[[], Tuple[websocket.WebSocket, Message]]]:
    """``raw()``: a websocket-client connection to ``server`` and its welcome; closed after the test."""
    sockets: List[websocket.WebSocket] = []

    def make() -> Tuple[websocket.WebSocket, Message]:
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        sockets.append(ws)
        welcome = recv_json(ws)
        assert welcome["type"] == "welcome"
        return ws, welcome

    yield make
    for ws in sockets:
        try:
            ws.close(timeout=1)
        except Exception:  # already closed by the server
            pass


@pytest.fixture
def lunch(hub: Hub) -> str:
    """A single-choice poll "lunch" with options "a" and "b" (labels "A", "B"); the current poll."""
    return hub.create_poll("Lunch?", ["A", "B"]).id


# 1. Broadcast ---------------------------------------------------------------------


def test_vote_is_broadcast_to_every_client(connect: Callable[..., PollClient], lunch: str) -> None:
    """One client's vote reaches all three clients as results; the voter then gets voted (after the results)."""
    voter, *others = [connect() for _ in range(3)]
    assert voter.vote("a") == "a"  # returns on the "voted" reply
    seen = []
    for message in voter.updates(timeout=TIMEOUT):
        seen.append(message)
        if message["type"] == "voted":
            break
    assert [m["type"] for m in seen] == ["welcome", "results", "voted"]
    assert seen[1] == {"type": "results", "poll": lunch, "counts": {"a": 1, "b": 0}, "total": 1, "voters": 1, "seq": 1}
    assert seen[2] == {"type": "voted", "poll": lunch, "option": "a", "ref": 1}
    for client in others:
        assert expect(client, is_results(lunch, 1))["counts"] == {"a": 1, "b": 0}
        client.wait_for(lambda c: c.results(lunch) == {"a": 1, "b": 0})


def test_voted_follows_the_results_that_include_it_for_a_slow_reader(hub: Hub) -> None:
    """Even for a client that reads slowly, the results that include its vote arrive before its voted reply.

    The client reads nothing while ~10 MB of results pile up (more than the kernel's socket buffers
    hold; send_queue_size is raised so that the server keeps the client). Then, five times, it votes
    "b" (nobody else does) while votes "a" keep coming from elsewhere. Finally it reads: by its k-th
    voted reply it must have seen results with b >= k (newer results may have replaced older ones).
    """
    labels = [f"Option number {i} with a long label" for i in range(32)]  # ~1.7 KB per results message
    poll = hub.create_poll("Clicks", labels, kind=COUNTER)
    a, b = poll.options[0].id, poll.options[1].id
    small_buffer = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)]
    with PollServer(hub, port=0, max_vote_rate=0, send_queue_size=10_000) as roomy:
        ws = websocket.create_connection(roomy.url, timeout=TIMEOUT, sockopt=small_buffer)
        try:
            for _ in range(6000):
                hub.vote(poll.id, a)
            for k in range(1, 6):
                send_json(ws, {"type": "vote", "option": b, "ref": k})
                wait_until(lambda: hub.vote(poll.id, a) and hub.results(poll.id)[b] == k, interval=0)
                hub.vote(poll.id, a)

            b_seen_at_voted = []  # b in the latest results received before each voted reply
            b_seen = 0
            while len(b_seen_at_voted) < 5:
                message = recv_json(ws)
                if message["type"] == "results":
                    b_seen = message["counts"][b]
                elif message["type"] == "voted":
                    b_seen_at_voted.append(b_seen)
            behind = [(k, seen) for k, seen in enumerate(b_seen_at_voted, 1) if seen < k]
            assert behind == [], "voted reply k arrived when the latest results had b < k: (k, b) listed"
        finally:
            ws.close(timeout=1)


# 2. Voter identity across reconnects ------------------------------------------------


def test_reconnect_with_same_voter_moves_the_vote(connect: Callable[..., PollClient], hub: Hub, lunch: str) -> None:
    """A named voter keeps one choice across connections; the hello reply lists it; votes outlive connections."""
    first = connect(voter="ann")
    first.vote("a")
    first.close()
    wait_until(lambda: hub.client_count() == 0)
    assert hub.results(lunch) == {"a": 1, "b": 0}  # still counted after the connection closed

    second = connect(voter="ann")
    hello = expect(second, lambda m: m["type"] == "hello")
    assert hello["voter"] == "ann" and hello["admin"] is False
    assert hello["choices"] == {lunch: "a"}
    second.vote("b")
    poll = hub.poll(lunch)
    assert dict(poll.counts) == {"a": 0, "b": 1} and poll.total == 1


# 3. Anonymous connections -----------------------------------------------------------


def test_each_connection_without_hello_is_its_own_voter(raw: Callable[..., Any], hub: Hub, lunch: str) -> None:
    """Two connections that never send hello count as two voters on a single-choice poll."""
    for _ in range(2):
        ws, _ = raw()
        assert ask(ws, {"type": "vote", "option": "a"})["type"] == "voted"
    poll = hub.poll(lunch)
    assert dict(poll.counts) == {"a": 2, "b": 0} and poll.total == 2


def test_hello_applies_only_to_later_votes(raw: Callable[..., Any], hub: Hub) -> None:
    """A vote sent before a hello stays the previous voter's; the hello must not re-attribute it.

    Sent back to back on one connection: vote "a", hello naming a new voter, vote "b".
    Two different voters voted, so each single poll must end with total 2. Repeated on
    20 polls because the two messages race inside the server.
    """
    ws, _ = raw()
    totals = []
    for i in range(20):
        poll = hub.create_poll(f"Question {i}?", ["A", "B"]).id
        send_json(ws, {"type": "vote", "poll": poll, "option": "a"})
        send_json(ws, {"type": "hello", "voter": f"voter-{i}"})
        send_json(ws, {"type": "vote", "poll": poll, "option": "b", "ref": i})
        recv_until(ws, lambda m: m.get("ref") == i)
        totals.append(hub.poll(poll).total)
    assert totals == [2] * 20


# 4. Error codes -------------------------------------------------------------------


def assert_still_works(ws: websocket.WebSocket, lunch: str) -> None:
    reply = ask(ws, {"type": "vote", "option": "a", "ref": "check"})
    assert reply == {"type": "voted", "poll": lunch, "option": "a", "ref": "check"}


@pytest.mark.parametrize(
    "frame, code",
    [
        ('{"type": "vote"', "bad_json"),
        ('{"type":"nope"}', "bad_message"),
        ("[1,2]", "bad_message"),
        ('{"type":"vote"}', "bad_message"),
        ('{"type":"vote","option":"a","poll":"nope"}', "unknown_poll"),
        ('{"type":"vote","option":"zzz"}', "unknown_option"),
        ("soup", "unknown_option"),  # plain text that names no option
        ('{"type":"create_poll","question":"Q?","options":["x","y"]}', "forbidden"),
        ('{"type":"close_poll","poll":"lunch"}', "forbidden"),
        ('{"type":"hello","token":"wrong"}', "forbidden"),
    ],
)
def test_error_codes_keep_the_connection_open(raw: Callable[..., Any], lunch: str, frame: str, code: str) -> None:
    """Each bad message gets an error with its code, and the same connection still votes."""
    ws, _ = raw()
    reply = ask(ws, frame)
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert isinstance(reply["message"], str) and reply["message"]
    assert_still_works(ws, lunch)


def test_poll_closed_error(raw: Callable[..., Any], hub: Hub, lunch: str) -> None:
    """A vote in a poll closed by the hub gets poll_closed; votes in an open poll still work."""
    other = hub.create_poll("Dinner?", ["X", "Y"]).id
    hub.close_poll(other)
    ws, _ = raw()
    reply = ask(ws, {"type": "vote", "poll": other, "option": "x", "ref": 1})
    assert reply["type"] == "error" and reply["code"] == "poll_closed" and reply["ref"] == 1
    assert_still_works(ws, lunch)
    assert hub.poll(other).total == 0


@pytest.mark.parametrize(
    "message, code",
    [
        ({"type": "nope", "ref": 7}, "bad_message"),
        ({"type": "vote", "ref": 7}, "bad_message"),
        ({"type": "vote", "option": "a", "poll": "nope", "ref": 7}, "unknown_poll"),
        ({"type": "vote", "option": "zzz", "ref": 7}, "unknown_option"),
        ({"type": "delete_poll", "poll": "lunch", "ref": 7}, "forbidden"),
        ({"type": "hello", "token": "wrong", "ref": 7}, "forbidden"),
    ],
)
def test_errors_echo_ref(raw: Callable[..., Any], lunch: str, message: Message, code: str) -> None:
    """An error reply carries the ref of the message it answers (any message may carry one)."""
    ws, _ = raw()
    reply = ask(ws, message)
    assert (reply["type"], reply["code"]) == ("error", code)
    assert reply.get("ref") == 7, reply
    assert_still_works(ws, lunch)


def test_replies_echo_ref(raw: Callable[..., Any], lunch: str) -> None:
    """hello, voted and ok replies echo an int or string ref."""
    ws, _ = raw()
    assert ask(ws, {"type": "hello", "voter": "ann", "ref": "h"}) == {
        "type": "hello",
        "voter": "ann",
        "admin": False,
        "choices": {},
        "qa": {"mine": [], "upvoted": []},
        "nickname": None,
        "score": None,
        "ref": "h",
    }
    assert ask(ws, {"type": "vote", "option": "b", "ref": 42}) == {"type": "voted", "poll": lunch, "option": "b", "ref": 42}
    assert ask(ws, {"type": "hello", "token": "secret", "ref": 3})["admin"] is True
    assert ask(ws, {"type": "open_poll", "poll": lunch, "ref": "o"}) == {"type": "ok", "poll": lunch, "ref": "o"}


def test_rate_limited_after_burst(hub: Hub, lunch: str) -> None:
    """At max_vote_rate=1 a burst of 5 votes passes, the rest get rate_limited, and the connection stays open."""
    with PollServer(hub, port=0, max_vote_rate=1) as limited:
        ws = websocket.create_connection(limited.url, timeout=TIMEOUT)
        try:
            assert recv_json(ws)["type"] == "welcome"
            for ref in range(8):
                send_json(ws, {"type": "vote", "option": "a", "ref": ref})
            # voted comes from the hub thread, rate_limited from the read thread: match by ref.
            replies = {}
            while len(replies) < 8:
                reply = next_reply(ws)
                replies[reply["ref"]] = reply
            assert [replies[r]["type"] for r in range(5)] == ["voted"] * 5
            assert [(replies[r]["type"], replies[r]["code"]) for r in range(5, 8)] == [("error", "rate_limited")] * 3

            # Still open: a hello is answered at once, and a vote passes once a token is back (~1 s).
            assert ask(ws, {"type": "hello", "voter": "ann", "ref": "h"})["voter"] == "ann"
            wait_until(lambda: ask(ws, {"type": "vote", "option": "b"})["type"] == "voted", interval=0.25)
            assert ws.connected
        finally:
            ws.close(timeout=1)


# 5. Admin -------------------------------------------------------------------------


def test_admin_commands_need_the_token(connect: Callable[..., PollClient], hub: Hub) -> None:
    """Without the token every admin command is forbidden; a wrong token is refused at hello."""
    hub.create_poll("Lunch?", ["A", "B"])
    user = connect(voter="bob")
    assert user.admin is False
    with pytest.raises(Forbidden):
        user.create_poll("Q?", ["x", "y"])
    for method in (user.open_poll, user.close_poll, user.reset_poll, user.delete_poll, user.set_current):
        with pytest.raises(Forbidden):
            method("lunch")
    with pytest.raises(Forbidden):
        connect(token="wrong")
    assert [p.id for p in hub.polls()] == ["lunch"] and hub.poll("lunch").open


def test_admin_commands_are_broadcast(connect: Callable[..., PollClient], hub: Hub) -> None:
    """With the token: create/open/close/reset/delete/set_current work and other clients see each change."""
    admin = connect(token="secret")
    assert admin.admin is True
    watcher = connect()
    voter = connect(voter="bob")

    first = admin.create_poll("Best colour?", ["Red", "Blue"])
    assert first == "best-colour"
    created = expect(watcher, lambda m: m["type"] == "poll")["poll"]
    assert created == {
        "id": first,
        "question": "Best colour?",
        "options": [{"id": "red", "label": "Red"}, {"id": "blue", "label": "Blue"}],
        "kind": "single",
        "open": True,
        "results": "always",
        "changes": "allowed",
        "revealed": False,
        "closes_in": None,
        "resets": 0,
        "visible": True,
        "counts": {"red": 0, "blue": 0},
        "total": 0,
        "voters": 0,
    }
    assert expect(watcher, lambda m: m["type"] == "current") == {"type": "current", "poll": first}

    voter.vote("red")
    expect(watcher, is_results(first, 1))

    admin.close_poll(first)
    assert expect(watcher, lambda m: m["type"] == "poll")["poll"]["open"] is False
    with pytest.raises(PollClosed):
        voter.vote("blue")

    admin.open_poll(first)
    assert expect(watcher, lambda m: m["type"] == "poll")["poll"]["open"] is True

    admin.reset_poll(first)
    reset = expect(watcher, lambda m: m["type"] == "poll")["poll"]
    assert reset["counts"] == {"red": 0, "blue": 0} and reset["total"] == 0
    expect(watcher, is_results(first, 0))

    second = admin.create_poll("Best colour?", ["Green", "Pink"], kind=COUNTER)
    assert second == "best-colour-2"
    assert expect(watcher, lambda m: m["type"] == "poll")["poll"]["kind"] == "counter"
    admin.set_current(second)
    assert expect(watcher, lambda m: m["type"] == "current") == {"type": "current", "poll": second}
    admin.delete_poll(second)
    assert expect(watcher, lambda m: m["type"] == "deleted") == {"type": "deleted", "poll": second}
    assert expect(watcher, lambda m: m["type"] == "current") == {"type": "current", "poll": None}

    assert [p.id for p in hub.polls()] == [first] and hub.current is None
    watcher.wait_for(lambda c: c.current is None and [p.id for p in c.polls()] == [first])


def test_admin_message_before_token_hello_is_forbidden(server: PollServer) -> None:
    """An admin message sent before the hello that carries the token is refused, even when sent back to back.

    Repeated on 20 connections because the two messages race inside the server.
    """
    outcomes = []
    for i in range(20):
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        try:
            send_json(ws, {"type": "create_poll", "question": f"Sneaky {i}?", "options": ["x", "y"], "ref": "early"})
            send_json(ws, {"type": "hello", "token": "secret", "ref": "hello"})
            replies = {}
            while len(replies) < 2:
                message = recv_json(ws)
                if message.get("ref") in ("early", "hello"):
                    replies[message["ref"]] = message
            assert replies["hello"]["admin"] is True
            outcomes.append(replies["early"].get("code", replies["early"]["type"]))
        finally:
            ws.close(timeout=1)
    assert outcomes == ["forbidden"] * 20


# 6. Plain-text votes ----------------------------------------------------------------


@pytest.mark.parametrize("text, option", [("B", "b"), ("a", "a"), ('"B"', "b"), (" b \n", "b")])
def test_plain_text_vote(raw: Callable[..., Any], hub: Hub, lunch: str, text: str, option: str) -> None:
    """A text frame that is not a JSON object and names an option (id or label, any case) votes in the current poll."""
    ws, _ = raw()
    assert ask(ws, text) == {"type": "voted", "poll": lunch, "option": option}
    assert hub.results(lunch)[option] == 1


# 7. Concurrency -------------------------------------------------------------------


def test_concurrent_votes_are_all_counted(connect: Callable[..., PollClient], hub: Hub) -> None:
    """20 clients x 50 concurrent votes on a counter poll: exactly 1000, seen by all, totals never go down."""
    poll = hub.create_poll("Clicks", ["A", "B"], kind=COUNTER).id
    clients = [connect() for _ in range(20)]
    start = threading.Barrier(len(clients))
    errors: List[BaseException] = []

    def vote_50(client: PollClient, i: int) -> None:
        try:
            start.wait(TIMEOUT)
            for n in range(50):
                client.vote("a" if (i + n) % 2 else "b")
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=vote_50, args=(c, i)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 3)
    assert not any(t.is_alive() for t in threads) and errors == []

    assert hub.results(poll) == {"a": 500, "b": 500}
    for client in clients:
        client.wait_for(lambda c: c.poll(poll).total == 1000)
        totals, seqs = [], []
        for message in client.updates(timeout=TIMEOUT):
            if message["type"] == "results" and message["poll"] == poll:
                totals.append(message["total"])
                seqs.append(message["seq"])
                if message["total"] == 1000:
                    break
        assert totals[-1] == 1000
        assert totals == sorted(totals), "a client saw a total go down"
        assert all(a < b for a, b in zip(seqs, seqs[1:])), "results seq not increasing"


# 8. Welcome -----------------------------------------------------------------------


def test_welcome_reflects_current_state(connect: Callable[..., PollClient], raw: Callable[..., Any], hub: Hub) -> None:
    """A client connecting after votes gets every poll with its counts, the current poll and the latest seq."""
    watcher = connect()
    lunch = hub.create_poll("Lunch?", ["Pizza", "Salad", "Soup"]).id
    clicks = hub.create_poll("Clicks", ["Up", "Down"], kind=COUNTER).id
    hub.vote(lunch, "pizza", voter="ann")
    hub.vote(lunch, "Salad", voter="bob")
    hub.vote(lunch, "pizza", voter="cat")
    for _ in range(3):
        hub.vote(clicks, "up")
    hub.close_poll(lunch)
    hub.set_current(clicks)
    last = expect(watcher, is_results(clicks, 3))

    _, welcome = raw()
    assert welcome["version"] == protocol.VERSION
    assert welcome["current"] == clicks
    assert welcome["seq"] == last["seq"]
    assert welcome["polls"] == [
        {
            "id": lunch,
            "question": "Lunch?",
            "options": [{"id": "pizza", "label": "Pizza"}, {"id": "salad", "label": "Salad"}, {"id": "soup", "label": "Soup"}],
            "kind": "single",
            "open": False,
            "results": "always",
            "changes": "allowed",
            "revealed": False,
            "closes_in": None,
            "resets": 0,
            "visible": True,
            "counts": {"pizza": 2, "salad": 1, "soup": 0},
            "total": 3,
            "voters": 3,
        },
        {
            "id": clicks,
            "question": "Clicks",
            "options": [{"id": "up", "label": "Up"}, {"id": "down", "label": "Down"}],
            "kind": "counter",
            "open": True,
            "results": "always",
            "changes": "allowed",
            "revealed": False,
            "closes_in": None,
            "resets": 0,
            "visible": True,
            "counts": {"up": 3, "down": 0},
            "total": 3,
            "voters": 3,  # each Hub.vote without a voter is a new voter
        },
    ]


def test_client_updates_are_what_the_server_sent(connect: Callable[..., PollClient], hub: Hub, lunch: str) -> None:
    """PollClient.updates() yields each message as received: later results do not rewrite an earlier one."""
    client = connect()
    client.vote("a")
    hub.reset_poll(lunch)  # a "poll" message with zero counts ...
    client.vote("b")  # ... then results with b=1
    client.wait_for(lambda c: c.results(lunch)["b"] == 1)
    welcome = expect(client, lambda m: m["type"] == "welcome")
    assert welcome["polls"][0]["counts"] == {"a": 0, "b": 0}, "the welcome was changed after it was received"
    reset = expect(client, lambda m: m["type"] == "poll")
    assert reset["poll"]["counts"] == {"a": 0, "b": 0}, "the poll message was changed after it was received"


# 9. HTTP --------------------------------------------------------------------------


@pytest.mark.parametrize("path, status", [("/healthz", 200), ("/nope", 404), ("/ws/nope", 404), ("/ws", 426)])
def test_http_statuses(server: PollServer, path: str, status: int) -> None:
    """/healthz is 200 and names the node, unknown paths 404, and a plain GET of /ws (no upgrade) 426."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == status, body
        if status == 200:
            assert body == f"ok node {server.hub.node}\n".encode("ascii")
            assert response.getheader("X-Pollhub-Node") == server.hub.node
        if status == 426:
            assert response.getheader("Upgrade") == "websocket"
    finally:
        conn.close()


def test_healthz_names_the_node_when_it_answers_503_too() -> None:
    hub = Hub()
    with PollServer(hub, port=0) as server:
        hub.stop()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert (response.status, response.read()) == (503, b"hub not running\n")
            assert response.getheader("X-Pollhub-Node") == hub.node
        finally:
            conn.close()


# 10-11. Shutdown ------------------------------------------------------------------


def test_stop_is_prompt_and_leaves_no_threads() -> None:
    """server.stop() with clients connected returns within 2 s, stops the hub it started and ends every thread."""
    hub = Hub()
    server = PollServer(hub, port=0, token="secret", max_vote_rate=0).start()
    clients: List[PollClient] = []
    try:
        hub.create_poll("Lunch?", ["A", "B"])
        clients = [PollClient(server.url, timeout=TIMEOUT) for _ in range(3)]
        clients.append(PollClient(server.url, voter="ann", token="secret", timeout=TIMEOUT))
        clients[-1].vote("a")
        wait_until(lambda: server.connection_count == 4)

        started = time.monotonic()
        server.stop()
        hub.stop()
        assert time.monotonic() - started < 2.0
        assert not hub.running
        assert [name for name in pollhub_threads() if name != "pollhub-client"] == []
        wait_until(lambda: all(c.closed for c in clients))  # clients saw the close
        wait_until(lambda: pollhub_threads() == [])
    finally:
        for client in clients:
            client.close()
        server.stop()
        hub.stop()


def test_shutdown_sends_close_1001(server: PollServer, raw: Callable[..., Any]) -> None:
    """On server.stop() a connected client gets a close frame with code 1001 (going away)."""
    ws, _ = raw()
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
        assert struct.unpack("!H", data[:2])[0] == 1001
    finally:
        stopper.join(TIMEOUT)
    assert not stopper.is_alive()


def test_the_join_urls_host_is_a_known_name_and_others_are_misdirected(hub: Hub) -> None:
    with PollServer(hub, port=0, join_url="http://poll.example.org:8765/") as server:

        def status(host: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
            try:
                conn.request("GET", "/healthz", headers={"Host": host})
                return conn.getresponse().status
            finally:
                conn.close()

        assert status(f"poll.example.org:{server.port}") == 200
        assert status(f"localhost:{server.port}") == 200
        assert status(f"rebound.example.com:{server.port}") == 421


def test_metrics_list_the_connection_layers_counters(server: PollServer) -> None:
    text = metrics(server.port)
    for name in (
        "pollhub_handshakes_in_progress",
        "pollhub_connections_shed_total",
        "pollhub_accept_errors_total",
        "pollhub_clients_dropped_stalled_total",
        "pollhub_admin_token_failures_total",
        "pollhub_new_voters_refused_total",
    ):
        assert f"# TYPE {name}" in text
    assert text.count("# TYPE pollhub_clients_dropped_stalled_total") == 1


def test_metrics_name_the_node_its_process_and_its_event() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    with Hub(event="hall-a") as hub, PollServer(hub, port=0) as server:
        text = metrics(server.port)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    info = families["pollhub_node_info"]
    assert info.type == "gauge"
    assert [(s.labels, s.value) for s in info.samples] == [
        ({"node": hub.node, "pid": str(os.getpid()), "event": "hall-a"}, 1.0)
    ]


def test_the_welcome_carries_the_limits_and_the_servers_vote_rate(hub: Hub) -> None:
    with PollServer(hub, port=0, max_vote_rate=7) as server:
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        try:
            welcome = recv_json(ws)
        finally:
            ws.close()
    assert welcome["limits"] == {**protocol.LIMITS, "vote_rate": 7}
