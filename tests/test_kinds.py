"""Poll kinds and presenter control: through the hub alone, then over real WebSocket connections.

Kinds: multiple, scale, words, open, ranking (single and counter are covered in test_hub
and test_server). Controls: results visibility and reveal, locked votes,
countdowns, poll order, hidden answers; each also across a restart.
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

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
    UnknownOption,
    UnknownPoll,
    VoteLocked,
)
from pollhub.book import PollBook
from pollhub.polls import (
    MAX_OPEN_ANSWER_LENGTH,
    OPEN,
    OPEN_MAX_ANSWERS_DEFAULT,
    OPEN_SHOWN,
    RANKING,
    Answer,
    Poll,
    PollState,
    Settings,
    answer_key,
    check_new_poll,
)
from pollhub.kinds import unstamp
from pollhub.protocol import CreatePoll, HideAnswer, Hello, Vote
from pollhub.storage import SCHEMA_V1, SCHEMA_VERSION

from .conftest import TIMEOUT, Recorder, wait_until
from .processes import Process
from .redis_server import RedisServer
from .test_cluster import Node

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
    with pytest.raises(BadMessage, match="no answers to hide"):
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


@contextlib.contextmanager
def pollhub_process(*args: str) -> Iterator[Tuple[Process, str]]:
    """``python -m pollhub ARGS`` and the URL it listens on; killed at the end if still running."""
    server = Process.pollhub(*args)
    try:
        yield server, server.expect(r"listening on (ws://\S+)").group(1)
    finally:
        server.kill()


def test_kinds_survive_sigkill(tmp_path: Path) -> None:
    """python -m pollhub with a words poll, votes acknowledged, kill -9, restart: all there."""
    db = tmp_path / "kill.db"
    args = ["--host", "127.0.0.1", "--port", "0", "--db", str(db), "--token", "tok", "--question", "Words?", "--kind", "words",
            "--max-answers", "2", "--results", "hidden", "--changes", "locked"]  # fmt: skip
    with pollhub_process(*args) as (server, url):
        with PollClient(url, voter="ann", timeout=TIMEOUT) as client:
            assert client.poll().visible is False
            assert client.vote(["Blue", "Green"]) == ["Blue", "Green"]
        server.proc.kill()
        server.proc.wait(TIMEOUT)
    with pollhub_process(*args) as (server, url):
        with PollClient(url, voter="ann", token="tok", timeout=TIMEOUT) as client:
            assert client.poll().visible is True  # a presenter
            assert client.results() == {"Blue": 1, "Green": 1}
            assert client.poll().settings.changes == "locked" and client.poll().settings.max_answers == 2
            with pytest.raises(VoteLocked):
                client.vote("Red")
        server.stop()


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
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    check.close()


# The open kind: rules ---------------------------------------------------------------------


def open_poll(max_answers: Optional[int] = None, changes: str = "allowed") -> PollState:
    """A new open poll ``ideas`` as ``create_poll`` would check it."""
    fields: Dict[str, Any] = {"kind": OPEN, "changes": changes}
    if max_answers is not None:
        fields["max_answers"] = max_answers
    question, labels, settings = check_new_poll("Ideas?", None, fields)
    return PollState("ideas", question, labels, settings)


def texts_and_times(results: Dict[str, Any]) -> List[Tuple[str, float]]:
    return [(a["text"], a["at"]) for a in results["answers"]]


def test_an_open_poll_takes_one_answer_by_default_and_at_most_ten() -> None:
    assert open_poll().settings.max_answers == OPEN_MAX_ANSWERS_DEFAULT == 1
    assert open_poll(10).settings.max_answers == 10
    for wrong in (0, 11, True, "2"):
        with pytest.raises(BadMessage, match="max_answers must be a whole number from 1 to 10"):
            open_poll(wrong)  # type: ignore[arg-type]
    with pytest.raises(BadMessage, match="open polls take no options"):
        check_new_poll("Ideas?", ["A", "B"], {"kind": OPEN})
    with pytest.raises(BadMessage, match="'max_choices' does not apply to open polls"):
        check_new_poll("Ideas?", None, {"kind": OPEN, "max_choices": 2})
    assert open_poll(2).to_json()["max_answers"] == 2


def test_open_answers_are_normalised_limited_and_collapse_within_a_ballot() -> None:
    poll = open_poll(2)
    ballot, changed = poll.vote("ann", ["  More \t coffee\nbreaks ", "more COFFEE breaks", "ｑｕｉｅｔ room"], now=100.0)
    assert changed and poll.choice_json(ballot) == ["More coffee breaks", "quiet room"]
    assert poll.vote("bob", "x" * MAX_OPEN_ANSWER_LENGTH + "   ", now=101.0)[1]  # 280 once collapsed
    for wrong, message in [
        ("x" * (MAX_OPEN_ANSWER_LENGTH + 1), "at most 280 characters"),
        (["a", "b", "c"], "at most 2 answers"),
        ("\u200b \u2060", "cannot be empty or invisible"),
        ("bell\x07", "control characters"),
        ([], "one or more answers"),
        (7, "one or more answers"),
    ]:
        with pytest.raises(InvalidVote, match=message):
            poll.vote("cy", wrong, now=102.0)  # type: ignore[arg-type]
    assert "cy" not in poll.ballots and poll.total == 3


def test_open_results_are_the_newest_answers_with_their_times() -> None:
    poll = open_poll()
    for n in range(OPEN_SHOWN + 50):
        poll.vote(f"v{n}", f"answer {n}", now=1000.0 + n)
    poll.vote("late-a", "tie A", now=5000.0)
    poll.vote("late-b", "tie B", now=5000.0)  # the same time: the greater text first, on every book
    wire = poll.results()
    assert wire["counts"] == {} and wire["total"] == OPEN_SHOWN + 52 and wire["voters"] == OPEN_SHOWN + 52
    assert len(wire["answers"]) == OPEN_SHOWN == 200
    assert texts_and_times(wire)[:3] == [("tie B", 5000.0), ("tie A", 5000.0), ("answer 249", 1249.0)]
    assert texts_and_times(wire)[-1] == ("answer 52", 1052.0)
    everything = poll.results(shown=None)
    assert len(everything["answers"]) == OPEN_SHOWN + 52 and everything["answers"][-1] == {"text": "answer 0", "at": 1000.0}
    assert poll.to_json()["answers"] == wire["answers"]
    snapshot = poll.snapshot(now=0.0)
    assert snapshot.answers[0] == Answer("tie B", 5000.0) and len(snapshot.answers) == OPEN_SHOWN
    assert snapshot.result_fields()["answers"] == wire["answers"]
    assert Poll.from_json(poll.to_json()).answers == snapshot.answers


def test_a_changed_open_vote_keeps_the_times_of_the_answers_it_keeps() -> None:
    poll = open_poll(3)
    poll.vote("ann", ["Coffee", "Tea"], now=10.0)
    ballot, changed = poll.vote("ann", ["Tea", "Water"], now=20.0)
    assert changed and texts_and_times(poll.results()) == [("Water", 20.0), ("Tea", 10.0)]
    assert poll.vote("ann", ["Water", "Tea"], now=30.0) == (ballot, False)  # the same answers: nothing changes
    poll.vote("ann", ["tea", "Water"], now=40.0)  # a new spelling is a new answer
    assert texts_and_times(poll.results()) == [("tea", 40.0), ("Water", 20.0)]
    assert poll.total == 2 and poll.choice_json(poll.ballots["ann"]) == ["tea", "Water"]


def recounted(poll: PollState) -> Dict[str, Any]:
    """An open poll's complete results worked out again from its ballots alone."""
    answers = [unstamp(item) for ballot in poll.ballots.values() for item in ballot]
    shown = sorted((a for a in answers if answer_key(a.text) not in poll.hidden), key=lambda a: (a.at, a.text), reverse=True)
    return {"counts": {}, "total": len(shown), "voters": len(poll.ballots), "answers": [a._asdict() for a in shown]}


def test_open_results_follow_every_vote_change_hide_and_reset_as_a_recount_would() -> None:
    """The poll keeps its answers in time order as votes come and change; 2,000 seeded random steps, checked against a recount."""
    rng = random.Random(15)
    poll = open_poll(3)
    words = ["Tea", "tea", "Coffee", "Water", "Juice", "More breaks", "Ｔｅａ"]
    now = 1790000000.0
    seen = set()  # how many answers were shown at each check
    for step in range(2000):
        now += rng.choice([0.0, 0.001, 1.5])  # ties too
        roll = rng.random()
        if roll < 0.9:
            try:
                ideas = [f"idea {rng.randrange(40)}" for _ in range(3)]  # never hidden
                poll.vote(f"v{rng.randrange(30)}", rng.sample(words + ideas, rng.randint(1, 3)), now=now)
            except InvalidVote:
                pass  # "Tea" and "tea" (or "Ｔｅａ") in one ballot collapse; never more than 3
        elif roll < 0.97:
            poll.hide(rng.choice(words))
        else:
            poll.reset()
        if step % 50 == 0:
            assert poll.results(shown=None) == recounted(poll)
            seen.add(len(recounted(poll)["answers"]))
            assert poll.results()["answers"] == recounted(poll)["answers"][:OPEN_SHOWN]
            again = PollState.from_state(json.loads(json.dumps(poll.state())))
            assert again.results(shown=None) == poll.results(shown=None)
    assert poll.results(shown=None) == recounted(poll)
    assert max(seen) > 20 and poll.hidden  # the checks saw full polls, and hidden answers


def test_a_locked_open_poll_keeps_the_first_answers() -> None:
    poll = open_poll(2, changes="locked")
    first, _ = poll.vote("ann", ["Coffee", "Tea"], now=10.0)
    assert poll.vote("ann", ["Tea", "Coffee"], now=20.0) == (first, False)  # the same again is fine
    with pytest.raises(VoteLocked, match="first vote stands"):
        poll.vote("ann", ["Coffee"], now=30.0)
    assert texts_and_times(poll.results()) == [("Tea", 10.0), ("Coffee", 10.0)]


def test_hiding_an_open_answer_hides_every_spelling_of_it_now_and_later() -> None:
    poll = open_poll()
    poll.vote("ann", "Spam here", now=1.0)
    poll.vote("bob", "Good talk", now=2.0)
    assert poll.hide("SPAM  here") and not poll.hide("spam here")
    poll.vote("cy", "Ｓｐａｍ here", now=3.0)
    results = poll.results()
    assert texts_and_times(results) == [("Good talk", 2.0)] and results["total"] == 1 and results["voters"] == 3
    assert poll.results(shown=None)["answers"] == results["answers"]


def test_the_book_hides_answers_of_words_and_open_polls_only() -> None:
    book = PollBook()
    for question, settings in [("Ideas?", Settings(kind=OPEN, max_answers=1)), ("Lunch?", Settings())]:
        reply, _ = book.apply(CreatePoll(question, () if settings.kind == OPEN else ("Pizza", "Salad"), settings), voter="p", admin=True, now=0.0)
        assert reply["type"] == "ok"
    reply, effects = book.apply(Vote("Hello there", "ideas"), voter="ann", admin=False, now=1234.5)
    assert reply == {"type": "voted", "poll": "ideas", "text": ["Hello there"]}
    assert effects.store.ballots == {("ideas", "ann"): ("1234.5\tHello there",)}  # the time goes in the ballot
    reply, effects = book.apply(HideAnswer("ideas", "hello THERE"), voter="p", admin=True, now=1235.0)
    assert reply["type"] == "ok" and book.results(effects)[0][1]["answers"] == []
    reply, _ = book.apply(HideAnswer("lunch", "Pizza"), voter="p", admin=True, now=1236.0)
    assert reply["type"] == "error" and reply["code"] == "bad_message" and "no answers to hide" in reply["message"]


def test_an_open_poll_comes_back_the_same_from_its_state_and_from_saved_rows() -> None:
    poll = open_poll(2)
    poll.vote("ann", ["Coffee", "Tea"], now=1790000000.125)
    poll.vote("bob", "Water", now=1790000001.5)
    poll.hide("tea")
    again = PollState.from_state(json.loads(json.dumps(poll.state())))
    assert again.results(shown=None) == poll.results(shown=None) and again.ballots == poll.ballots
    book = PollBook.restore(json.loads(json.dumps(PollBook([poll]).snapshot())))
    assert book.polls["ideas"].results() == poll.results()
    # As the store gives them back: ballots split from "\n".join(ballot); a malformed answer is dropped alone.
    rows = {voter: tuple("\n".join(ballot).split("\n")) for voter, ballot in poll.ballots.items()}
    rows["cy"] = ("no time here", "1790000002.0\t  Juice ")
    saved = PollState.restore("ideas", "Ideas?", poll.settings, [], rows, hidden=["TEA"])
    assert texts_and_times(saved.results()) == [("Juice", 1790000002.0), ("Water", 1790000001.5), ("Coffee", 1790000000.125)]
    assert saved.total == 4 and saved.choice_json(saved.ballots["cy"]) == ["Juice"]  # total: hidden ones too


# The open kind: through the hub, a restart, the wire and a shared log ---------------------------------


def test_open_answers_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("What should we change?", kind=OPEN, max_answers=2)
    assert (poll.kind, poll.settings.max_answers) == (OPEN, 2)
    with hub.subscribe() as updates:
        before = time.time()
        assert hub.vote(poll.id, ["  Longer   breaks ", "A quiet room"], voter="ann") == ["Longer breaks", "A quiet room"]
        after = time.time()
        hub.vote(poll.id, "longer BREAKS", voter="bob")
        hub.hide_answer(poll.id, "a quiet room")
        results = [m for m in drain(updates) if m["type"] == "results"]
    assert [a["text"] for a in results[0]["answers"]] == ["Longer breaks", "A quiet room"]
    assert all(before <= a["at"] <= after for a in results[0]["answers"])
    assert [a["text"] for a in results[-1]["answers"]] == ["longer BREAKS", "Longer breaks"]
    assert results[-1]["counts"] == {} and (results[-1]["total"], results[-1]["voters"]) == (2, 2)
    snapshot = hub.poll(poll.id)
    assert [a.text for a in snapshot.answers] == ["longer BREAKS", "Longer breaks"] and hub.results(poll.id) == {}
    assert hub.export()["polls"][0]["answers"] == results[-1]["answers"]


def test_open_answers_and_their_times_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "open.db"
    with Hub(db=db) as hub:
        poll = hub.create_poll("Ideas?", kind=OPEN, max_answers=2, results="after_close")
        hub.vote(poll.id, ["Coffee", "Spam"], voter="ann")
        hub.vote(poll.id, "Tea", voter="bob")
        hub.hide_answer(poll.id, "spam")
        before = hub.poll(poll.id)
    assert [a.text for a in before.answers] == ["Tea", "Coffee"]
    with Hub(db=db) as hub:
        after = hub.poll(poll.id)
        assert after.answers == before.answers and after.settings == before.settings
        assert (after.total, after.voters) == (before.total, before.voters)
        hub.vote(poll.id, ["Coffee", "Water"], voter="ann")  # ann keeps Coffee with its first time
        hub.vote(poll.id, "SPAM", voter="cy")  # still hidden
        answers = hub.poll(poll.id).answers
    assert [a.text for a in answers] == ["Water", "Tea", "Coffee"]
    assert answers[-1] == before.answers[-1] and answers[0].at > before.answers[0].at


def test_acknowledged_open_answers_survive_sigkill(tmp_path: Path) -> None:
    """python -m pollhub with an open poll, answers acknowledged, kill -9, restart: the answers and times are there."""
    db = tmp_path / "kill.db"
    args = ["--host", "127.0.0.1", "--port", "0", "--db", str(db), "--token", "tok", "--question", "Ideas?",
            "--kind", "open", "--max-answers", "2"]  # fmt: skip
    with pollhub_process(*args) as (server, url):
        with PollClient(url, voter="ann", token="tok", timeout=TIMEOUT) as client:
            assert client.vote(["Blue  sky", "Green"]) == ["Blue sky", "Green"]
        with PollClient(url, token="tok", timeout=TIMEOUT) as client:  # its welcome holds the answers
            sent = client.poll().answers
        assert [a.text for a in sent] == ["Green", "Blue sky"]
        server.proc.kill()
        server.proc.wait(TIMEOUT)
    with pollhub_process(*args) as (server, url):
        with PollClient(url, voter="ann", token="tok", timeout=TIMEOUT) as client:
            assert client.poll().answers == sent and client.poll().settings.max_answers == 2
        server.stop()


def test_open_polls_over_websocket(hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]) -> None:
    poll = hub.create_poll("Ideas?", kind=OPEN, max_answers=2, results="after_vote")
    ann, welcome = raw(voter="ann")
    assert welcome["polls"][0]["visible"] is False and "answers" not in welcome["polls"][0]
    presenter, _ = raw(token="secret")
    ann.send(json.dumps({"type": "vote", "poll": poll.id, "text": ["More  breaks", "more breaks"], "ref": 1}))
    seen = until(ann, "voted")
    assert seen[-1] == {"type": "voted", "poll": poll.id, "text": ["More breaks"], "ref": 1}
    results = [m for m in seen if m["type"] == "results"][-1]  # after_vote: ann's results came before the reply
    assert results["counts"] == {} and [a["text"] for a in results["answers"]] == ["More breaks"]
    assert isinstance(results["answers"][0]["at"], float)
    for wrong in ({"text": "x" * 281}, {"text": ["a", "b", "c"]}, {"value": 3}):
        ann.send(json.dumps({"type": "vote", "poll": poll.id, **wrong, "ref": "bad"}))
        reply = until(ann, "error")[-1]
        assert (reply["code"], reply["ref"]) == ("invalid_vote", "bad"), reply
    ann.send(json.dumps({"type": "hide_answer", "poll": poll.id, "text": "More breaks"}))
    assert until(ann, "error")[-1]["code"] == "forbidden"
    ann.send("Bare text works too")  # wscat: a text frame is an answer to the current poll
    assert until(ann, "voted")[-1]["text"] == ["Bare text works too"]
    presenter.send(json.dumps({"type": "hide_answer", "poll": poll.id, "text": "bare TEXT works too", "ref": "h"}))
    after_hide = until(presenter, "ok")
    assert [a["text"] for a in [m for m in after_hide if m["type"] == "results"][-1]["answers"]] == []
    assert hub.poll(poll.id).total == 0 and hub.poll(poll.id).voters == 1


def test_open_answers_and_times_are_the_same_on_every_node(redis_server: RedisServer, event_name: str) -> None:
    """Two nodes on one log: each answer has the log's time, so both show the same answers at the same times."""
    nodes = [Node(redis_server.url, event_name) for _ in range(2)]
    try:
        poll = nodes[0].hub.create_poll("Ideas?", kind=OPEN, max_answers=2)
        nodes[0].hub.vote(poll.id, ["Coffee", "Tea"], voter="ann")
        nodes[1].hub.vote(poll.id, "Water", voter="bob")
        nodes[1].hub.vote(poll.id, ["Tea", "Juice"], voter="ann")  # ann's Tea keeps its time from node 0
        nodes[0].hub.hide_answer(poll.id, "water")
        wait_until(lambda: nodes[0].book() == nodes[1].book())
        answers = [node.hub.poll(poll.id).answers for node in nodes]
        assert answers[0] == answers[1] and [a.text for a in answers[0]] == ["Juice", "Tea"]
        assert answers[0][1].at < answers[0][0].at
    finally:
        for node in nodes:
            node.stop()


# The ranking kind: rules ------------------------------------------------------------------

DRINKS = ["Tea", "Coffee", "Water", "Juice"]


def ranking_poll(max_ranked: Optional[int] = None, changes: str = "allowed") -> PollState:
    """A new ranking poll ``drinks`` of Tea, Coffee, Water and Juice as ``create_poll`` would check it."""
    fields: Dict[str, Any] = {"kind": RANKING, "changes": changes}
    if max_ranked is not None:
        fields["max_ranked"] = max_ranked
    question, labels, settings = check_new_poll("Drinks?", DRINKS, fields)
    return PollState("drinks", question, labels, settings)


def borda(poll: PollState) -> Dict[str, Any]:
    """A ranking poll's results worked out again from its ballots alone, by the definition."""
    n = len(poll.options)
    places: Dict[str, List[int]] = {o.id: [] for o in poll.options}
    for ballot in poll.ballots.values():
        for place, option_id in enumerate(ballot, start=1):
            places[option_id].append(place)
    counts = {option_id: sum(n - p for p in ps) for option_id, ps in places.items()}
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "voters": len(poll.ballots),
        "positions": {option_id: round(sum(ps) / len(ps), 2) if ps else None for option_id, ps in places.items()},
    }


def test_a_ranking_takes_every_option_by_default_and_max_ranked_from_two_to_all() -> None:
    poll = ranking_poll()
    assert poll.settings.max_ranked == 4 and poll.to_json()["max_ranked"] == 4
    assert ranking_poll(2).settings.max_ranked == 2
    for wrong in (1, 5, True, "3", 2.5):
        with pytest.raises(BadMessage, match="max_ranked must be a whole number from 2 to 4"):
            ranking_poll(wrong)  # type: ignore[arg-type]
    with pytest.raises(BadMessage, match="'max_ranked' does not apply to multiple polls"):
        check_new_poll("Pick?", DRINKS, {"kind": MULTIPLE, "max_ranked": 2})
    with pytest.raises(BadMessage, match="'max_choices' does not apply to ranking polls"):
        check_new_poll("Drinks?", DRINKS, {"kind": RANKING, "max_choices": 2})
    with pytest.raises(BadMessage, match="2 to 32 options"):
        check_new_poll("Drinks?", ["Tea"], {"kind": RANKING})
    assert Settings.from_json({"kind": RANKING, **poll.settings.to_json()}) == poll.settings


def test_a_ranking_vote_names_options_in_order_by_id_or_label_each_once() -> None:
    poll = ranking_poll(3)
    ballot, changed = poll.vote("ann", ["WATER", "tea", " Coffee "])
    assert changed and poll.choice_json(ballot) == ["water", "tea", "coffee"]
    assert poll.vote("bob", "juice")[0] == ("juice",)  # one option is a ranking of the top one (wscat's bare text)
    for wrong, error, message in [
        (["tea", "TEA"], InvalidVote, "each option once"),
        (["tea", "Tea"], InvalidVote, "each option once"),
        (["tea", "coffee", "water", "juice"], InvalidVote, "at most 3 options"),
        ([], InvalidVote, "a list of options, first to last"),
        (3, InvalidVote, "a list of options, first to last"),
        (["tea", "milk"], UnknownOption, "no option 'milk'"),
    ]:
        with pytest.raises(error, match=message):
            poll.vote("cy", wrong)  # type: ignore[arg-type]
    assert "cy" not in poll.ballots and poll.results() == borda(poll)


def test_ranking_counts_are_borda_scores_and_positions_average_places() -> None:
    poll = ranking_poll()
    poll.vote("ann", ["tea", "coffee", "water", "juice"])  # 3, 2, 1, 0 points
    poll.vote("bob", ["coffee", "tea"])  # 3, 2; water and juice get nothing from bob
    poll.vote("cy", ["water"])  # 3
    assert poll.results() == {
        "counts": {"tea": 5, "coffee": 5, "water": 4, "juice": 0},
        "total": 14,
        "voters": 3,
        "positions": {"tea": 1.5, "coffee": 1.5, "water": 2.0, "juice": 4.0},
    }
    poll.vote("ann", ["juice", "coffee", "tea"])  # a new vote replaces ann's ranking
    assert poll.results() == borda(poll)
    assert poll.results()["counts"] == {"tea": 3, "coffee": 5, "water": 3, "juice": 3}
    assert poll.results()["positions"] == {"tea": 2.5, "coffee": 1.5, "water": 1.0, "juice": 1.0}
    assert poll.vote("ann", ["juice", "coffee", "tea"])[1] is False  # the same order again changes nothing
    poll.vote("dee", ["coffee", "juice", "tea"])
    assert poll.results()["positions"]["tea"] == 2.67  # (3 + 2 + 3) / 3, two decimals
    poll.reset()
    assert poll.results() == {"counts": dict.fromkeys(["tea", "coffee", "water", "juice"], 0), "total": 0, "voters": 0,
                              "positions": dict.fromkeys(["tea", "coffee", "water", "juice"], None)}  # fmt: skip


def test_a_locked_ranking_keeps_the_first_order() -> None:
    poll = ranking_poll(changes="locked")
    first, _ = poll.vote("ann", ["tea", "coffee"])
    assert poll.vote("ann", ["Tea", "COFFEE"]) == (first, False)  # the same again is fine
    with pytest.raises(VoteLocked, match="first vote stands"):
        poll.vote("ann", ["coffee", "tea"])  # the same options in another order are another vote
    assert poll.results()["counts"] == {"tea": 3, "coffee": 2, "water": 0, "juice": 0}


def test_ranking_results_follow_every_vote_change_and_reset_as_a_recount_would() -> None:
    """3,000 seeded random votes, changes and resets, checked against the definition and a state round trip."""
    rng = random.Random(16)
    poll = ranking_poll(3)
    ids = [o.id for o in poll.options]
    for step in range(3000):
        roll = rng.random()
        if roll < 0.995:
            ranking = rng.sample(ids, rng.randint(1, 4))
            try:
                poll.vote(f"v{rng.randrange(40)}", ranking)
            except InvalidVote:
                assert len(ranking) == 4
        else:
            poll.reset()
        if step % 100 == 0:
            assert poll.results() == borda(poll)
            again = PollState.from_state(json.loads(json.dumps(poll.state())))
            assert again.results() == poll.results() and again.ballots == poll.ballots
    assert poll.results() == borda(poll) and poll.results()["voters"] > 20


def test_a_ranking_comes_back_the_same_from_its_state_its_snapshot_and_saved_rows() -> None:
    poll = ranking_poll(3)
    poll.vote("ann", ["water", "tea", "juice"])
    poll.vote("bob", ["tea"])
    snapshot = poll.snapshot(now=0.0)
    assert snapshot.counts == {"tea": 5, "coffee": 0, "water": 3, "juice": 1}
    assert snapshot.positions == {"tea": 1.5, "coffee": None, "water": 1.0, "juice": 3.0}
    assert snapshot.result_fields() == poll.results()
    assert Poll.from_json(poll.to_json()) == snapshot
    book = PollBook.restore(json.loads(json.dumps(PollBook([poll]).snapshot())))
    assert book.polls["drinks"].results() == poll.results()
    # As the store gives them back: ballots split from "\n".join(ballot), counts recounted.
    rows = {voter: tuple("\n".join(ballot).split("\n")) for voter, ballot in poll.ballots.items()}
    rows["cy"] = ("coffee", "coffee", "tea")  # a ballot no vote would make: each option counts once
    options = [(o.id, o.label, 0) for o in poll.options]
    saved = PollState.restore("drinks", "Drinks?", poll.settings, options, rows)
    assert saved.ballots["cy"] == ("coffee", "tea") and saved.results() == borda(saved)
    assert saved.results()["counts"] == {"tea": 7, "coffee": 3, "water": 3, "juice": 1}


# The ranking kind: through the hub, a restart, the wire and a shared log ---------------------------


def test_rankings_through_the_hub(hub: Hub) -> None:
    poll = hub.create_poll("Best drink?", DRINKS, RANKING)
    assert (poll.kind, poll.settings.max_ranked, poll.positions) == (RANKING, 4, dict.fromkeys(poll.counts))
    with hub.subscribe() as updates:
        assert hub.vote(poll.id, ["Coffee", "tea", "WATER", "juice"], voter="ann") == ["coffee", "tea", "water", "juice"]
        hub.vote(poll.id, ["tea", "coffee"], voter="bob")
        results = [m for m in drain(updates) if m["type"] == "results"]
    assert results[-1]["counts"] == {"tea": 5, "coffee": 5, "water": 1, "juice": 0}
    assert results[-1]["positions"] == {"tea": 1.5, "coffee": 1.5, "water": 3.0, "juice": 4.0}
    assert (results[-1]["total"], results[-1]["voters"]) == (11, 2)
    with pytest.raises(InvalidVote, match="each option once"):
        hub.vote(poll.id, ["tea", "tea"], voter="cy")
    assert hub.results(poll.id) == results[-1]["counts"] and hub.poll(poll.id).positions == results[-1]["positions"]
    exported = hub.export()["polls"][0]
    assert exported["counts"] == results[-1]["counts"] and exported["positions"] == results[-1]["positions"]
    top_two = hub.create_poll("Top two?", DRINKS, RANKING, max_ranked=2)
    assert top_two.settings.max_ranked == 2
    with pytest.raises(InvalidVote):
        hub.vote(top_two.id, ["tea", "coffee", "water"], voter="ann")


def test_rankings_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "ranking.db"
    with Hub(db=db) as hub:
        poll = hub.create_poll("Best drink?", DRINKS, RANKING, results="after_close", changes="locked")
        hub.vote(poll.id, ["juice", "water", "tea"], voter="ann")
        hub.vote(poll.id, ["water"], voter="bob")
        before = hub.poll(poll.id)
    with Hub(db=db) as hub:
        after = hub.poll(poll.id)
        assert after == before and after.settings.max_ranked == 4
        with pytest.raises(VoteLocked):
            hub.vote(poll.id, ["tea"], voter="ann")
        hub.vote(poll.id, ["coffee", "water"], voter="cy")
        assert hub.poll(poll.id).counts == {"tea": 1, "coffee": 3, "water": 7, "juice": 3}


def test_rankings_over_websocket(hub: Hub, raw: Callable[..., Tuple[websocket.WebSocket, Dict[str, Any]]]) -> None:
    presenter, _ = raw(token="secret")
    presenter.send(json.dumps({"type": "create_poll", "question": "Best drink?", "options": DRINKS, "kind": "ranking",
                               "max_ranked": 2, "ref": "c"}))  # fmt: skip
    poll_id = until(presenter, "ok")[-1]["poll"]
    ann, welcome = raw(voter="ann")
    assert welcome["polls"][0]["kind"] == "ranking" and welcome["polls"][0]["max_ranked"] == 2
    assert welcome["polls"][0]["positions"] == dict.fromkeys(["tea", "coffee", "water", "juice"], None)
    ann.send(json.dumps({"type": "vote", "poll": poll_id, "options": ["Water", "tea"], "ref": 1}))
    seen = until(ann, "voted")
    assert seen[-1] == {"type": "voted", "poll": poll_id, "options": ["water", "tea"], "ref": 1}
    results = [m for m in seen if m["type"] == "results"][-1]
    assert results["counts"] == {"tea": 2, "coffee": 0, "water": 3, "juice": 0}
    assert results["positions"] == {"tea": 2.0, "coffee": None, "water": 1.0, "juice": None}
    for wrong, code in [
        ({"options": ["tea", "water", "juice"]}, "invalid_vote"),
        ({"options": ["tea", "TEA"]}, "invalid_vote"),
        ({"options": ["tea", "milk"]}, "unknown_option"),
        ({"value": 1}, "invalid_vote"),
        ({"options": "tea"}, "bad_message"),
    ]:
        ann.send(json.dumps({"type": "vote", "poll": poll_id, **wrong, "ref": "bad"}))
        reply = until(ann, "error")[-1]
        assert (reply["code"], reply["ref"]) == (code, "bad"), (wrong, reply)
    ann.send("juice")  # wscat: a bare option is a ranking of one
    assert until(ann, "voted")[-1]["options"] == ["juice"]
    presenter.send(json.dumps({"type": "create_poll", "question": "Again?", "options": DRINKS, "kind": "ranking",
                               "max_ranked": 5, "ref": "c2"}))  # fmt: skip
    reply = until(presenter, "error")[-1]
    assert (reply["code"], reply["ref"]) == ("bad_message", "c2") and "max_ranked" in reply["message"]
    assert hub.poll(poll_id).counts == {"tea": 0, "coffee": 0, "water": 0, "juice": 3}


def test_a_poll_client_keeps_a_rankings_positions_live(server: PollServer, connect: Callable[..., PollClient]) -> None:
    admin = connect(token="secret")
    assert admin.poll(admin.create_poll("Top two?", DRINKS, RANKING, max_ranked=2)).settings.max_ranked == 2
    drinks = admin.create_poll("Best drink?", DRINKS, RANKING)
    ann = connect(voter="ann")
    assert ann.vote(["juice", "Tea"], poll=drinks) == ["juice", "tea"]
    assert ann.vote(["juice"], poll=drinks) == ["juice"]
    assert ann.vote("juice", poll=drinks) == ["juice"]  # one option, sent as a list of one
    admin.wait_for(lambda c: c.poll(drinks).counts["tea"] == 0, timeout=TIMEOUT)
    for client in (admin, ann):
        assert client.poll(drinks).positions == {"tea": None, "coffee": None, "water": None, "juice": 1.0}
        assert client.poll(drinks).settings.max_ranked == 4


def test_rankings_are_the_same_on_every_node(redis_server: RedisServer, event_name: str) -> None:
    nodes = [Node(redis_server.url, event_name) for _ in range(2)]
    try:
        poll = nodes[0].hub.create_poll("Best drink?", DRINKS, RANKING)
        nodes[0].hub.vote(poll.id, ["tea", "coffee"], voter="ann")
        nodes[1].hub.vote(poll.id, ["juice", "tea", "water"], voter="bob")
        nodes[1].hub.vote(poll.id, ["coffee"], voter="ann")
        wait_until(lambda: nodes[0].book() == nodes[1].book())
        polls = [node.hub.poll(poll.id) for node in nodes]
        assert polls[0] == polls[1] and polls[0].counts == {"tea": 2, "coffee": 3, "water": 1, "juice": 3}
    finally:
        for node in nodes:
            node.stop()
