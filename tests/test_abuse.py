"""Abuse: guessed voter ids, limits dodged by reconnecting, invented voters, token guessing, forged log lines.

Real servers on loopback and real WebSocket clients. The rate limits run on
a frozen clock (``PollServer(clock=...)``) that a test moves by hand, so no
token comes back while a slow machine runs the test; the admin token delays
are real waits, kept to fractions of a second.
"""

from __future__ import annotations

import json
import logging
import struct
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import websocket

from pollhub import COUNTER, Hub, PollServer, protocol
from pollhub.limiters import RateTable, address_key

from .conftest import TIMEOUT, wait_until

Message = Dict[str, Any]
REPLY_TYPES = {"hello", "voted", "ok", "error"}


class FrozenClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def ask(ws: websocket.WebSocket, data: Message) -> Message:
    """Send ``data`` and return the next direct reply (hello, voted, ok, error), skipping broadcasts."""
    ws.send(json.dumps(data))
    while True:
        message = json.loads(ws.recv())
        if message["type"] in REPLY_TYPES:
            return message


@pytest.fixture
def sockets() -> Iterator[Callable[[PollServer], websocket.WebSocket]]:
    """``open_ws(server)``: a websocket-client connection past its welcome; all closed after the test."""
    opened: List[websocket.WebSocket] = []

    def open_ws(server: PollServer) -> websocket.WebSocket:
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        opened.append(ws)
        assert json.loads(ws.recv())["type"] == "welcome"
        return ws

    yield open_ws
    for ws in opened:
        try:
            ws.close(timeout=1)
        except Exception:  # already closed by the server
            pass


def scrape(server: PollServer) -> Dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=TIMEOUT) as reply:
        lines = reply.read().decode("utf-8").splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))}


def refused(reply: Message) -> bool:
    return reply["type"] == "error" and reply["code"] == "rate_limited"


# 1. Anonymous voter ids ------------------------------------------------------------


def test_anonymous_voters_cannot_be_taken_over(server: PollServer, hub: Hub, sockets: Callable[..., Any]) -> None:
    """Saying an old-style anonymous id or a guessed server id neither shows nor moves an anonymous vote."""
    lunch = hub.create_poll("Lunch?", ["A", "B"]).id
    for _ in range(2):
        assert ask(sockets(server), {"type": "vote", "option": "a"})["type"] == "voted"
    thief = sockets(server)
    for guess in ("conn:1", "conn:2", protocol.SERVER_VOTER_PREFIX + "0" * 32):
        reply = ask(thief, {"type": "hello", "voter": guess})
        assert reply["type"] == "error" or reply["choices"] == {}, reply  # the protocol may refuse "~" ids
        assert ask(thief, {"type": "vote", "option": "b"})["type"] == "voted"
    poll = hub.poll(lunch)
    assert dict(poll.counts)["a"] == 2, "an anonymous vote was moved"


def test_anonymous_voters_after_a_restart_are_new_voters(tmp_path: Path) -> None:
    """New anonymous connections after a restart add votes instead of taking over the previous run's."""
    db = tmp_path / "votes.db"
    for run in range(2):
        with Hub(db=db) as hub, PollServer(hub, port=0) as server:
            if run == 0:
                hub.create_poll("Lunch?", ["A", "B"])
            for _ in range(3):
                ws = websocket.create_connection(server.url, timeout=TIMEOUT)
                try:
                    ask(ws, {"type": "vote", "option": "a" if run == 0 else "b"})
                finally:
                    ws.close(timeout=1)
            totals = hub.poll("lunch")
    assert dict(totals.counts) == {"a": 3, "b": 3} and totals.total == 6


def test_hello_reply_names_only_the_clients_own_voter(server: PollServer, hub: Hub, sockets: Callable[..., Any]) -> None:
    """No message to a client carries another voter's id: a watcher sees no anonymous voter's id."""
    hub.create_poll("Lunch?", ["A", "B"])
    watcher = sockets(server)
    voter = sockets(server)
    assert ask(voter, {"type": "vote", "option": "a", "ref": 1})["type"] == "voted"
    assert ask(watcher, {"type": "hello", "voter": "wendy", "ref": "w"})["voter"] == "wendy"
    seen = []
    watcher.settimeout(0.2)
    try:
        while True:
            seen.append(watcher.recv())
    except websocket.WebSocketTimeoutException:
        pass
    assert not any(protocol.SERVER_VOTER_PREFIX in frame for frame in seen)


# 2. Vote limits per voter and per address --------------------------------------------


def test_reconnecting_does_not_reset_a_voters_rate(hub: Hub, sockets: Callable[..., Any]) -> None:
    """One voter on 20 successive connections gets its burst of 5 counted, not 20."""
    clicks = hub.create_poll("Clicks", ["Up", "Down"], kind=COUNTER).id
    clock = FrozenClock()
    with PollServer(hub, port=0, max_vote_rate=1, clock=clock) as server:
        outcomes = []
        for _ in range(20):
            ws = sockets(server)
            assert ask(ws, {"type": "hello", "voter": "ann"})["type"] == "hello"
            outcomes.append(ask(ws, {"type": "vote", "option": "up"})["type"])
            ws.close(timeout=1)
        assert outcomes == ["voted"] * 5 + ["error"] * 15
        assert hub.results(clicks)["up"] == 5


def test_voters_of_one_address_share_its_allowance(hub: Hub, sockets: Callable[..., Any]) -> None:
    """Each voter gets its own burst until the address's is spent; then the address's rate alone lets votes in."""
    clicks = hub.create_poll("Clicks", ["Up", "Down"], kind=COUNTER).id
    clock = FrozenClock()
    # Per voter: 1 a second, burst 5. Per address: 2 a second, burst 10.
    with PollServer(hub, port=0, max_vote_rate=1, max_address_vote_rate=2, clock=clock) as server:
        counted = {}
        for name, votes in (("ann", 7), ("bob", 7), ("cat", 2)):
            ws = sockets(server)
            ask(ws, {"type": "hello", "voter": name})
            replies = [ask(ws, {"type": "vote", "option": "up"}) for _ in range(votes)]
            assert all(r["type"] == "voted" or refused(r) for r in replies), replies
            counted[name] = sum(r["type"] == "voted" for r in replies)
            if name == "cat":
                clock.advance(1.0)  # two more votes for the address; cat still has its own five
                counted["cat later"] = sum(ask(ws, {"type": "vote", "option": "up"})["type"] == "voted" for _ in range(3))
            assert ws.connected  # refusals leave the connection open
        assert counted == {"ann": 5, "bob": 5, "cat": 0, "cat later": 2}
        assert hub.results(clicks)["up"] == 12


def test_rate_table_forgets_idle_keys_when_it_grows() -> None:
    """Past its sweep size the table drops buckets that are full again, and keeps those still spending."""
    clock = FrozenClock()
    table = RateTable(rate=1, burst=2, sweep_size=100, clock=clock)
    for i in range(99):
        assert table.take(f"idle-{i}")
    assert table.take("busy") and table.take("busy") and not table.take("busy")
    clock.advance(1.5)  # the idle keys are full again (1 + 1.5 >= 2); "busy" has 1.5 of 2
    assert table.take("new")  # over the sweep size: the sweep runs
    assert len(table) == 2  # "busy" and "new"
    assert table.take("busy") and not table.take("busy"), "a sweep must not give a busy key a new burst"
    for i in range(150):  # the next sweep waits for the table to double: O(1) a key
        table.take(f"more-{i}")
    assert len(table) == 152


def test_ipv6_clients_are_limited_by_their_64_prefix() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("192.0.2.7") == "192.0.2.7"


# 3. New voter ids per address --------------------------------------------------------


def test_new_voter_ids_per_address_are_limited(hub: Hub, sockets: Callable[..., Any]) -> None:
    """A burst of 3 new voter ids, then 1 a second; known ids need no allowance; a refused hello keeps the voter."""
    lunch = hub.create_poll("Lunch?", ["A", "B"]).id
    clock = FrozenClock()
    with PollServer(hub, port=0, max_vote_rate=0, new_voter_rate=1, new_voter_burst=3, clock=clock) as server:
        ws = sockets(server)
        for name in ("v1", "v2", "v3"):
            assert ask(ws, {"type": "hello", "voter": name})["voter"] == name
        reply = ask(ws, {"type": "hello", "voter": "v4", "ref": 4})
        assert refused(reply) and reply["ref"] == 4
        assert ask(ws, {"type": "vote", "option": "a"})["type"] == "voted"  # as v3, still
        assert ask(ws, {"type": "hello", "voter": "v3"})["choices"] == {lunch: "a"}
        assert ask(sockets(server), {"type": "hello", "voter": "v1"})["voter"] == "v1"  # known here: no allowance needed
        anonymous = sockets(server)
        assert refused(ask(anonymous, {"type": "vote", "option": "b"}))  # an anonymous voter is a new voter too
        samples = scrape(server)
        assert samples["pollhub_new_voters_refused_total"] == 2
        assert samples["pollhub_client_addresses"] == 1
        assert samples["pollhub_voters_per_address_max"] == 3

        clock.advance(1.0)
        assert ask(ws, {"type": "hello", "voter": "v4"})["voter"] == "v4"
        assert refused(ask(ws, {"type": "hello", "voter": "v5"}))
        assert hub.poll(lunch).total == 1


# 4. Admin token guesses ----------------------------------------------------------------


def test_wrong_admin_tokens_close_the_connection_and_slow_the_address(
    hub: Hub, sockets: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Three wrong tokens: forbidden each time, later tries wait 0.1 then 0.2 s, then close 1008.

    A correct token from the same address then works, after 0.4 s; failures are counted and logged without the token.
    """
    caplog.set_level(logging.WARNING, logger="pollhub")
    hub.create_poll("Lunch?", ["A", "B"])
    with PollServer(hub, port=0, token="secret", token_delay=0.1, token_delay_max=0.4) as server:
        ws = sockets(server)
        sent, answered = [], []
        for n in range(1, 4):
            sent.append(time.monotonic())
            reply = ask(ws, {"type": "hello", "token": f"wrong-{n}", "ref": n})
            answered.append(time.monotonic())
            assert (reply["type"], reply["code"], reply["ref"]) == ("error", "forbidden", n)
        # A try is checked no earlier than the delay after the failure before it (which came after its hello was sent).
        assert answered[1] - sent[0] >= 0.1
        assert answered[2] - sent[1] >= 0.2
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE and struct.unpack("!H", data[:2])[0] == 1008

        presenter = sockets(server)
        reply = ask(presenter, {"type": "hello", "token": "secret", "voter": "pat"})
        assert time.monotonic() - sent[2] >= 0.4
        assert reply["admin"] is True and reply["voter"] == "pat"
        assert ask(presenter, {"type": "close_poll", "poll": "lunch"})["type"] == "ok"
        assert scrape(server)["pollhub_admin_token_failures_total"] == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("hello with a wrong admin token" in w and "127.0.0.1" in w for w in warnings) == 3
    assert not any("wrong-" in w for w in warnings)


def test_hellos_without_a_token_are_not_slowed(hub: Hub, sockets: Callable[..., Any]) -> None:
    """After wrong tokens, the address's voters still say hello and vote at once."""
    hub.create_poll("Lunch?", ["A", "B"])
    with PollServer(hub, port=0, token="secret", token_delay=5, token_delay_max=5) as server:
        guesser = sockets(server)
        assert ask(guesser, {"type": "hello", "token": "wrong"})["code"] == "forbidden"
        voter = sockets(server)
        started = time.monotonic()
        assert ask(voter, {"type": "hello", "voter": "ann"})["voter"] == "ann"
        assert ask(voter, {"type": "vote", "option": "a"})["type"] == "voted"
        assert time.monotonic() - started < 2.5


def test_stop_ends_a_token_delay(hub: Hub, sockets: Callable[..., Any]) -> None:
    """A read thread waiting out a token delay ends promptly at stop()."""
    server = PollServer(hub, port=0, token="secret", token_delay=30, token_delay_max=60).start()
    try:
        ws = sockets(server)
        assert ask(ws, {"type": "hello", "token": "wrong"})["code"] == "forbidden"
        ws.send(json.dumps({"type": "hello", "token": "again"}))  # its check waits 30 s (or would, but stop comes first)
    finally:
        started = time.monotonic()
        server.stop(timeout=1)
    assert time.monotonic() - started < 5


# 5. Log forging ------------------------------------------------------------------------


def test_client_text_cannot_forge_log_lines(server: PollServer, hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    """A voter id with a newline or a bidi override is logged escaped, on one line."""
    caplog.set_level(logging.INFO, logger="pollhub")
    hub.create_poll("Lunch?", ["A", "B"])
    ws = websocket.create_connection(server.url, timeout=TIMEOUT)
    try:
        ask(ws, {"type": "hello", "voter": "eve\n2024-01-01 INFO pollhub.server: admin logged in\u202e"})
    finally:
        ws.close(timeout=1)
    wait_until(lambda: any("disconnected" in r.getMessage() for r in caplog.records))
    for record in caplog.records:
        message = record.getMessage()
        assert "\n" not in message and "\u202e" not in message, message


def test_the_log_shows_only_the_start_of_a_voter_id(server: PollServer, hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    """Voter ids are bearer secrets: whoever reads the log must not be able to vote as someone else."""
    caplog.set_level(logging.DEBUG, logger="pollhub")
    secret = "0123456789abcdef0123456789abcdef"
    ws = websocket.create_connection(server.url, timeout=TIMEOUT)
    try:
        assert ask(ws, {"type": "hello", "voter": secret})["voter"] == secret
    finally:
        ws.close(timeout=1)
    wait_until(lambda: any("disconnected" in r.getMessage() for r in caplog.records))
    assert any(secret[:8] in r.getMessage() for r in caplog.records)
    assert not any(secret[:9] in r.getMessage() for r in caplog.records)
