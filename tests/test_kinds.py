"""Poll kinds and presenter control: through the hub alone, then over real WebSocket connections.

Kinds: multiple, scale, words (single and counter are covered in test_hub and
test_server). Controls: results visibility and reveal, locked votes,
countdowns, poll order, hidden answers; each also across a restart.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import websocket

from pollhub import (
    MULTIPLE,
    SCALE,
    WORDS,
    BadMessage,
    Hub,
    InvalidVote,
    PollClient,
    PollClosed,
    PollServer,
    UnknownPoll,
    VoteLocked,
)
from pollhub.protocol import Hello, Vote
from pollhub.storage import SCHEMA_V1, SCHEMA_VERSION

from .conftest import TIMEOUT, Recorder, wait_until
from .processes import Process

RESULT_FIELDS = {"counts", "total", "voters", "mean"}


def join(hub: Hub, voter: str) -> Recorder:
    """Register a participant and wait until the hub has sent its welcome."""
    participant = Recorder(voter)
    hub.register(participant)
    participant.next("welcome")
    return participant


def settle(hub: Hub) -> None:
    """Return once the hub has applied and sent everything submitted before."""
    hub.client_count()


# Kinds through the hub --------------------------------------------------------------


def test_multiple_choice_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("Toppings?", ["Cheese", "Ham", "Olives"], MULTIPLE, max_choices=2)
    assert poll.settings.max_choices == 2
    assert hub.vote(poll.id, ["cheese", "Olives"], voter="ann") == ["cheese", "olives"]
    assert hub.vote(poll.id, "ham", voter="bob") == ["ham"]
    with pytest.raises(InvalidVote, match="at most 2"):
        hub.vote(poll.id, ["cheese", "ham", "olives"], voter="bob")
    snapshot = hub.poll(poll.id)
    assert snapshot.counts == {"cheese": 1, "ham": 1, "olives": 1}
    assert (snapshot.total, snapshot.voters) == (3, 2)


def test_scale_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("How was it?", kind=SCALE, scale=(0, 10))
    assert hub.vote(poll.id, 7, voter="ann") == 7
    assert hub.vote(poll.id, "10", voter="bob") == 10
    with pytest.raises(InvalidVote, match="from 0 to 10"):
        hub.vote(poll.id, 11, voter="cy")
    snapshot = hub.poll(poll.id)
    assert snapshot.counts["7"] == 1 and snapshot.counts["10"] == 1 and len(snapshot.counts) == 11
    assert (snapshot.voters, snapshot.mean) == (2, 8.5)


def test_words_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("One word for today?", kind=WORDS, max_answers=2)
    with hub.subscribe() as updates:
        assert hub.vote(poll.id, ["Fun", "  long  day "], voter="ann") == ["Fun", "long day"]
        hub.vote(poll.id, "FUN", voter="bob")
        hub.hide_answer(poll.id, "Long Day")
        results = [m for m in drain(updates) if m["type"] == "results"]
    assert results[-1]["counts"] == {"Fun": 2}  # the hide sent new results without the answer
    assert results[-1]["total"] == 2 and results[-1]["voters"] == 2
    assert hub.results(poll.id) == {"Fun": 2}
    with pytest.raises(BadMessage, match="not a words poll"):
        hub.hide_answer(hub.create_poll("Other?", ["A", "B"]).id, "A")


def drain(subscription: Any) -> List[Dict[str, Any]]:
    items = []
    while True:
        try:
            items.append(subscription.get(timeout=0))
        except queue.Empty:
            return items


def test_locked_votes_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("Final answer?", ["A", "B"], changes="locked")
    hub.vote(poll.id, "a", voter="ann")
    assert hub.vote(poll.id, "a", voter="ann") == "a"  # the same again is fine
    with pytest.raises(VoteLocked, match="first vote stands"):
        hub.vote(poll.id, "b", voter="ann")
    with pytest.raises(BadMessage, match="changes must be one of"):
        hub.update_poll(poll.id, changes="sometimes")
    hub.update_poll(poll.id, changes="allowed")
    assert hub.vote(poll.id, "b", voter="ann") == "b"
    assert hub.results(poll.id) == {"a": 0, "b": 1}


# Results visibility through the hub -----------------------------------------------------


def test_hidden_results_reach_presenters_only_until_revealed(hub: Hub) -> None:
    """A hidden poll's counts go to presenters; participants get none until the reveal, then at once."""
    poll = hub.create_poll("Secret?", ["A", "B"], results="hidden")
    ann = Recorder("ann")
    hub.register(ann)
    welcome = ann.next("welcome")
    assert welcome["polls"][0]["visible"] is False
    assert not RESULT_FIELDS & set(welcome["polls"][0])
    with hub.subscribe() as presenter:
        hub.vote(poll.id, "a", voter="ann")
        hub.vote(poll.id, "b", voter="bob")
        settle(hub)
        assert ann.drain() == []  # not even the results of her own vote
        assert [m["total"] for m in drain(presenter) if m["type"] == "results"] == [1, 2]
        hub.reveal_poll(poll.id)
        settle(hub)
    after = ann.drain()
    assert [m["type"] for m in after] == ["poll", "results"]
    assert after[0]["poll"]["visible"] is True and after[0]["poll"]["revealed"] is True
    assert after[1]["counts"] == {"a": 1, "b": 1} and after[1]["voters"] == 2
    hub.update_poll(poll.id, results="hidden")  # hiding again takes the reveal back
    settle(hub)
    again = ann.drain()
    assert [m["type"] for m in again] == ["poll"]
    assert again[0]["poll"]["visible"] is False and not RESULT_FIELDS & set(again[0]["poll"])


def test_after_vote_results_reach_each_voter_once_they_voted(hub: Hub) -> None:
    poll = hub.create_poll("Guess?", ["A", "B"], results="after_vote")
    ann, bob = join(hub, "ann"), join(hub, "bob")
    hub.submit(ann, Vote("a"))
    seen = ann.until("voted")
    assert [m["type"] for m in seen] == ["results", "voted"]  # the counts come before the reply
    assert seen[0]["counts"] == {"a": 1, "b": 0}
    settle(hub)
    assert bob.drain() == []  # bob has not voted: no counts
    hub.vote(poll.id, "b", voter="cy")
    settle(hub)
    assert [m["total"] for m in ann.drain() if m["type"] == "results"] == [2]
    assert bob.drain() == []
    hub.close_poll(poll.id)  # once voting closes, everyone sees them
    settle(hub)
    closed = bob.drain()
    assert [m["type"] for m in closed] == ["poll", "results"] and closed[1]["total"] == 2


def test_after_vote_voter_who_comes_back_sees_results_after_hello(hub: Hub) -> None:
    """A voter who voted before (another connection) gets the counts once their hello names them."""
    poll = hub.create_poll("Guess?", ["A", "B"], results="after_vote")
    hub.vote(poll.id, "a", voter="ann")
    back = join(hub, "conn:1")
    assert back.drain() == []
    back.voter = "ann"  # as the read thread does before submitting the hello
    hub.submit(back, Hello("ann", None))
    messages = [back.messages.get(timeout=TIMEOUT) for _ in range(2)]
    assert [m["type"] for m in messages] == ["poll", "hello"]
    assert messages[0]["poll"]["counts"] == {"a": 1, "b": 0}
    assert messages[1]["choices"] == {poll.id: "a"}


def test_after_close_results_appear_when_voting_closes(hub: Hub) -> None:
    poll = hub.create_poll("Later?", ["A", "B"], results="after_close")
    ann = join(hub, "ann")
    hub.vote(poll.id, "a", voter="ann")
    settle(hub)
    assert ann.drain() == []
    hub.close_poll(poll.id)
    settle(hub)
    messages = ann.drain()
    assert [m["type"] for m in messages] == ["poll", "results"]
    assert messages[0]["poll"]["open"] is False and messages[1]["counts"] == {"a": 1, "b": 0}


# Countdown and order through the hub ----------------------------------------------------


def test_countdown_closes_the_poll_by_itself(hub: Hub) -> None:
    poll = hub.create_poll("Quick!", ["A", "B"])
    with hub.subscribe() as updates:
        hub.open_poll(poll.id, close_after=1)  # the shortest countdown
        opened = next(m for m in iter_updates(updates) if m["type"] == "poll")["poll"]
        assert opened["open"] is True and 0 < opened["closes_in"] <= 1
        started = time.monotonic()
        closed = next(m for m in iter_updates(updates) if m["type"] == "poll")["poll"]
    assert closed["open"] is False and closed["closes_in"] is None
    assert 0.8 <= time.monotonic() - started < TIMEOUT
    with pytest.raises(PollClosed):
        hub.vote(poll.id, "a")


def iter_updates(subscription: Any) -> Iterator[Dict[str, Any]]:
    while True:
        yield subscription.get(timeout=TIMEOUT)


def test_closing_or_reopening_ends_a_countdown(hub: Hub) -> None:
    """That no countdown is left to close the poll later is shown with an explicit time in test_book.py."""
    poll = hub.create_poll("Quick!", ["A", "B"])
    hub.open_poll(poll.id, close_after=1)
    hub.open_poll(poll.id)  # no countdown any more
    assert hub.poll(poll.id).closes_in is None
    hub.open_poll(poll.id, close_after=60)
    hub.close_poll(poll.id)
    hub.open_poll(poll.id)
    assert hub.poll(poll.id).closes_in is None and hub._call(lambda: hub._book.next_deadline()) is None
    with pytest.raises(BadMessage, match="close_after"):
        hub.open_poll(poll.id, close_after=0)


def test_poll_order_and_stepping(hub: Hub) -> None:
    ids = [hub.create_poll(f"Question {n}?", ["A", "B"]).id for n in (1, 2, 3)]
    assert hub.current == ids[0]
    assert hub.next_poll() == ids[1]
    assert hub.next_poll() == ids[2]
    assert hub.next_poll() == ids[2]  # the last stays current
    with hub.subscribe() as updates:
        hub.order_polls([ids[2], ids[0], ids[1]])
        assert next(m for m in iter_updates(updates) if m["type"] == "order")["polls"] == [ids[2], ids[0], ids[1]]
    assert [p.id for p in hub.polls()] == [ids[2], ids[0], ids[1]]
    assert hub.previous_poll() == ids[2]
    assert hub.previous_poll() == ids[2]  # the first stays current
    assert hub.next_poll() == ids[0]
    with pytest.raises(BadMessage, match="every poll id once"):
        hub.order_polls([ids[0], ids[1]])
    with pytest.raises(BadMessage, match="every poll id once"):
        hub.order_polls([ids[0], ids[0], ids[1], ids[2]])


def test_stepping_with_no_polls_is_an_error(hub: Hub) -> None:
    with pytest.raises(UnknownPoll):
        hub.next_poll()


# Persistence ---------------------------------------------------------------------------


def test_every_new_field_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "kinds.db"
    with Hub(db=db) as hub:
        toppings = hub.create_poll("Toppings?", ["Cheese", "Ham", "Olives"], MULTIPLE, max_choices=2, changes="locked")
        rating = hub.create_poll("Rating?", kind=SCALE, scale=(-2, 2), results="after_close")
        cloud = hub.create_poll("Words?", kind=WORDS, max_answers=2, results="hidden")
        hub.vote(toppings.id, ["cheese", "ham"], voter="ann")
        hub.vote(rating.id, -2, voter="ann")
        hub.vote(rating.id, 1, voter="bob")
        hub.vote(cloud.id, ["Sunny", "Rude"], voter="ann")
        hub.vote(cloud.id, "sunny", voter="bob")
        hub.hide_answer(cloud.id, "rude")
        hub.reveal_poll(cloud.id)
        hub.open_poll(rating.id, close_after=3600)
        hub.order_polls([cloud.id, toppings.id, rating.id])
        hub.reset_poll(rating.id)
        hub.vote(rating.id, 1, voter="bob")
        before = {p.id: p for p in hub.polls()}
    with Hub(db=db) as hub:
        after = {p.id: p for p in hub.polls()}
        assert list(after) == [cloud.id, toppings.id, rating.id]
        for poll_id, poll in before.items():
            assert after[poll_id].settings == poll.settings
            assert after[poll_id].counts == poll.counts
            assert (after[poll_id].total, after[poll_id].voters, after[poll_id].mean) == (poll.total, poll.voters, poll.mean)
        assert after[cloud.id].revealed and after[cloud.id].counts == {"Sunny": 2}
        assert after[rating.id].resets == 1 and after[rating.id].voters == 1
        assert 3500 < after[rating.id].closes_in <= 3600
        with pytest.raises(VoteLocked):  # ann's ballot came back too
            hub.vote(toppings.id, ["olives"], voter="ann")
        hub.vote(cloud.id, "RUDE", voter="cy")  # still hidden
        assert hub.results(cloud.id) == {"Sunny": 2}


def test_a_countdown_that_ended_while_stopped_closes_at_start(tmp_path: Path) -> None:
    db = tmp_path / "countdown.db"
    with Hub(db=db) as hub:
        poll = hub.create_poll("Quick!", ["A", "B"])
        hub.open_poll(poll.id, close_after=60)  # and stop before the countdown ends
    with sqlite3.connect(str(db)) as conn:  # its end passed while no hub ran: as if a minute went by
        conn.execute("UPDATE polls SET closes_at = closes_at - 61 WHERE id = ?", (poll.id,))
    conn.close()
    with Hub(db=db) as hub:
        wait_until(lambda: not hub.poll(poll.id).open)
        assert hub.poll(poll.id).closes_in is None


def test_kinds_survive_sigkill(tmp_path: Path) -> None:
    """python -m pollhub with a words poll, votes acknowledged, kill -9, restart: all there."""
    db = tmp_path / "kill.db"
    args = ["--host", "127.0.0.1", "--port", "0", "--db", str(db), "--token", "tok", "--question", "Words?", "--kind", "words",
            "--max-answers", "2", "--results", "hidden", "--changes", "locked"]  # fmt: skip
    server = Process.pollhub(*args)
    try:
        url = server.expect(r"listening on (ws://\S+)").group(1)
        with PollClient(url, voter="ann", timeout=TIMEOUT) as client:
            assert client.poll().visible is False
            assert client.vote(["Blue", "Green"]) == ["Blue", "Green"]
        server.proc.kill()
        server.proc.wait(TIMEOUT)
    finally:
        server.kill()
    server = Process.pollhub(*args)
    try:
        url = server.expect(r"listening on (ws://\S+)").group(1)
        with PollClient(url, voter="ann", token="tok", timeout=TIMEOUT) as client:
            assert client.poll().visible is True  # a presenter
            assert client.results() == {"Blue": 1, "Green": 1}
            assert client.poll().settings.changes == "locked" and client.poll().settings.max_answers == 2
            with pytest.raises(VoteLocked):
                client.vote("Red")
        server.stop()
    finally:
        server.kill()


# Over WebSocket -------------------------------------------------------------------------


@pytest.fixture
def raw(server: PollServer) -> Iterator[Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]]:
    """``raw(hello=None)``: a websocket-client connection, its welcome (and hello reply); closed after."""
    sockets: List[websocket.WebSocket] = []

    def make(**hello: Any) -> Tuple[websocket.WebSocket, Dict[str, Any]]:
        ws = websocket.create_connection(server.url, timeout=TIMEOUT)
        sockets.append(ws)
        welcome = json.loads(ws.recv())
        assert welcome["type"] == "welcome"
        if hello:
            ws.send(json.dumps({"type": "hello", **hello}))
            until(ws, "hello")
        return ws, welcome

    yield make
    for ws in sockets:
        try:
            ws.close(timeout=1)
        except Exception:  # already closed by the server
            pass


def until(ws: websocket.WebSocket, kind: str) -> List[Dict[str, Any]]:
    """Every message up to and including the first of type ``kind``."""
    seen = []
    while True:
        message = json.loads(ws.recv())
        seen.append(message)
        if message["type"] == kind:
            return seen


def sync(ws: websocket.WebSocket) -> List[Dict[str, Any]]:
    """Everything the server sent this connection before now (a hello round trip marks "now")."""
    ws.send(json.dumps({"type": "hello", "ref": "sync"}))
    return until(ws, "hello")[:-1]


def test_a_participant_connection_gets_no_counts_until_the_reveal(
    server: PollServer, hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]
) -> None:
    """Hidden means no counts on the participant's socket at all; the reveal sends them at once."""
    poll = hub.create_poll("Secret?", ["A", "B"], results="hidden")
    participant, welcome = raw(voter="ann")
    presenter, _ = raw(token="secret")
    assert not RESULT_FIELDS & set(welcome["polls"][0]) and welcome["polls"][0]["visible"] is False
    participant.send(json.dumps({"type": "vote", "option": "a", "ref": 1}))
    assert [m["type"] for m in until(participant, "voted")] == ["voted"]
    hub.vote(poll.id, "b", voter="bob")
    frames = sync(participant)
    assert frames == []  # nothing: no results, no totals
    seen = sync(presenter)
    assert [m["total"] for m in seen if m["type"] == "results"] == [1, 2]
    presenter.send(json.dumps({"type": "reveal_poll", "poll": poll.id}))
    revealed = until(participant, "results")
    assert revealed[-1]["counts"] == {"a": 1, "b": 1} and revealed[-1]["total"] == 2


def test_after_vote_over_websocket(server: PollServer, hub: Hub, connect: Callable[..., PollClient]) -> None:
    hub.create_poll("Guess?", ["A", "B"], results="after_vote")
    ann = connect(voter="ann")
    assert ann.results() == {} and ann.poll().visible is False
    ann.vote("b")  # returns on "voted", which comes after the results it sees
    assert ann.results() == {"a": 0, "b": 1} and ann.poll().visible is True


def test_every_kind_over_websocket(server: PollServer, connect: Callable[..., PollClient]) -> None:
    admin = connect(token="secret")
    multiple = admin.create_poll("Toppings?", ["Cheese", "Ham"], MULTIPLE)
    scale = admin.create_poll("Rate it", kind=SCALE, scale=(1, 3))
    words = admin.create_poll("A word?", kind=WORDS)
    ann = connect(voter="ann")
    assert ann.vote(["Cheese", "ham"], poll=multiple) == ["cheese", "ham"]
    assert ann.vote(3, poll=scale) == 3
    assert ann.vote("  Calm  ", poll=words) == ["Calm"]
    admin.wait_for(lambda c: c.poll(words).voters == 1, timeout=TIMEOUT)
    assert admin.results(multiple) == {"cheese": 1, "ham": 1}
    assert admin.poll(scale).mean == 3.0
    assert admin.results(words) == {"Calm": 1}


@pytest.mark.parametrize(
    "message, code",
    [
        ({"type": "vote", "poll": "rate-it", "value": 9}, "invalid_vote"),
        ({"type": "vote", "poll": "rate-it", "value": "3"}, "bad_message"),
        ({"type": "vote", "poll": "rate-it", "options": ["1"]}, "invalid_vote"),
        ({"type": "vote", "poll": "rate-it", "value": 2, "option": "2"}, "bad_message"),
        ({"type": "vote", "poll": "toppings", "options": ["cheese", "ham", "olives"]}, "invalid_vote"),
        ({"type": "vote", "poll": "toppings", "options": "cheese"}, "bad_message"),
        ({"type": "vote", "poll": "a-word", "text": "x" * 41}, "invalid_vote"),
        ({"type": "vote", "poll": "a-word", "text": ["a", "b", "c", "d"]}, "invalid_vote"),
        ({"type": "open_poll", "poll": "a-word", "close_after": -1}, "bad_message"),
        ({"type": "update_poll", "poll": "a-word", "results": "sometimes"}, "bad_message"),
        ({"type": "order_polls", "polls": "a-word"}, "bad_message"),
        ({"type": "hide_answer", "poll": "toppings", "text": "cheese"}, "bad_message"),
    ],
)
def test_bad_kind_messages_get_error_replies(
    hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]], message: Dict[str, Any], code: str
) -> None:
    """Each wrong vote or control gets an error reply with its ref; the connection and the hub go on."""
    hub.create_poll("Toppings?", ["Cheese", "Ham", "Olives"], MULTIPLE, max_choices=2)
    hub.create_poll("Rate it", kind=SCALE, scale=(1, 5))
    hub.create_poll("A word?", kind=WORDS)
    ws, _ = raw(voter="ann", token="secret")
    ws.send(json.dumps({**message, "ref": "x"}))
    reply = until(ws, "error")[-1]
    assert (reply["code"], reply["ref"]) == (code, "x"), reply
    ws.send(json.dumps({"type": "vote", "poll": "rate-it", "value": 4, "ref": "ok"}))
    assert until(ws, "voted")[-1] == {"type": "voted", "poll": "rate-it", "value": 4, "ref": "ok"}


def test_bare_text_votes_for_every_kind(hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]) -> None:
    """wscat-style text frames: a value for a scale, an answer for a words poll."""
    scale = hub.create_poll("Rate it", kind=SCALE).id
    words = hub.create_poll("A word?", kind=WORDS).id
    ws, _ = raw(voter="ann", token="secret")
    ws.send("4")
    assert until(ws, "voted")[-1] == {"type": "voted", "poll": scale, "value": 4}
    ws.send(json.dumps({"type": "set_current", "poll": words}))
    until(ws, "ok")
    ws.send("hello world")
    assert until(ws, "voted")[-1] == {"type": "voted", "poll": words, "text": ["hello world"]}


def test_locked_vote_over_websocket(hub: Hub, connect: Callable[..., PollClient]) -> None:
    hub.create_poll("Final?", ["A", "B"], changes="locked")
    ann = connect(voter="ann")
    ann.vote("a")
    with pytest.raises(VoteLocked) as info:
        ann.vote("b")
    assert info.value.code == "vote_locked"
    again = connect(voter="ann")  # another connection, same voter
    with pytest.raises(VoteLocked):
        again.vote("b")


def test_countdown_and_stepping_over_websocket(server: PollServer, connect: Callable[..., PollClient]) -> None:
    admin = connect(token="secret")
    first = admin.create_poll("First?", ["A", "B"])
    second = admin.create_poll("Second?", ["A", "B"])
    watcher = connect()
    admin.open_poll(second, close_after=1)
    assert watcher.wait_for(lambda c: c.poll(second).closes_in is not None, timeout=TIMEOUT)
    assert watcher.wait_for(lambda c: not c.poll(second).open, timeout=TIMEOUT)
    assert admin.next_poll() == second
    assert watcher.wait_for(lambda c: c.current == second, timeout=TIMEOUT)
    assert admin.previous_poll() == first
    admin.order_polls([second, first])
    assert watcher.wait_for(lambda c: [p.id for p in c.polls()] == [second, first], timeout=TIMEOUT)


def test_participants_cannot_control_polls(hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]) -> None:
    poll = hub.create_poll("Secret?", ["A", "B"], results="hidden")
    ws, _ = raw(voter="ann")
    for message in (
        {"type": "reveal_poll", "poll": poll.id},
        {"type": "next_poll"},
        {"type": "update_poll", "poll": poll.id, "results": "always"},
        {"type": "hide_answer", "poll": poll.id, "text": "a"},
        {"type": "order_polls", "polls": [poll.id]},
    ):
        ws.send(json.dumps(message))
        assert until(ws, "error")[-1]["code"] == "forbidden"
    assert hub.poll(poll.id).revealed is False


def test_export_carries_every_kind(tmp_path: Path) -> None:
    """CSV: a row per option, value or answer (hidden answers left out); JSON: complete results."""
    db = tmp_path / "export.db"
    with Hub(db=db) as hub:
        hub.create_poll("Toppings?", ["Cheese", "Ham"], MULTIPLE)
        hub.create_poll("Rate", kind=SCALE, scale=(1, 3))
        hub.create_poll("Words?", kind=WORDS)
        hub.vote("toppings", ["cheese", "ham"], voter="ann")
        hub.vote("rate", 3, voter="ann")
        hub.vote("rate", 2, voter="bob")
        hub.vote("words", ["Calm", "Rude"], voter="ann")
        hub.vote("words", "calm", voter="bob")
        hub.hide_answer("words", "rude")

    def export(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--db", str(db), *args],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert export().splitlines() == [
        "poll,question,kind,open,option,label,votes,voters",
        "toppings,Toppings?,multiple,true,cheese,Cheese,1,1",
        "toppings,Toppings?,multiple,true,ham,Ham,1,1",
        "rate,Rate,scale,true,1,1,0,2",
        "rate,Rate,scale,true,2,2,1,2",
        "rate,Rate,scale,true,3,3,1,2",
        "words,Words?,words,true,Calm,Calm,2,2",
    ]
    polls = {p["id"]: p for p in json.loads(export("--format", "json"))["polls"]}
    assert polls["rate"]["mean"] == 2.5 and polls["rate"]["min"] == 1 and polls["rate"]["max"] == 3
    assert polls["words"]["counts"] == {"Calm": 2} and polls["words"]["voters"] == 2
    assert polls["toppings"]["max_choices"] == 2


def test_a_version_1_database_is_upgraded_with_every_vote(tmp_path: Path) -> None:
    """A file written before poll kinds existed opens at schema 2 with its polls, choices and counts."""
    db = tmp_path / "v1.db"
    with sqlite3.connect(str(db)) as old:
        old.executescript(SCHEMA_V1)
        old.execute("INSERT INTO polls VALUES ('lunch', 1, 'Lunch?', 'single', 1, 2)")
        old.execute("INSERT INTO polls VALUES ('claps', 2, 'Claps', 'counter', 0, 5)")
        old.executemany(
            "INSERT INTO options VALUES (?, ?, ?, ?, ?)",
            [("lunch", 0, "pizza", "Pizza", 1), ("lunch", 1, "salad", "Salad", 1),
             ("claps", 0, "clap", "Clap", 5), ("claps", 1, "boo", "Boo", 0)],
        )  # fmt: skip
        old.executemany("INSERT INTO choices VALUES (?, ?, ?)", [("lunch", "ann", "pizza"), ("lunch", "bob", "salad")])
        old.execute("INSERT INTO state VALUES ('current', 'lunch')")
        old.execute("PRAGMA user_version = 1")
    old.close()
    with Hub(db=db) as hub:
        lunch, claps = hub.polls()
        assert (lunch.counts, lunch.voters, lunch.settings.results) == ({"pizza": 1, "salad": 1}, 2, "always")
        assert (claps.counts, claps.total, claps.open) == ({"clap": 5, "boo": 0}, 5, False)
        assert hub.current == "lunch"
        assert hub.vote("lunch", "salad", voter="ann") == "salad"  # ann's v1 choice moves, no second vote
        assert hub.results("lunch") == {"pizza": 0, "salad": 2}
    with sqlite3.connect(str(db)) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    check.close()
