"""The hub alone, with no network: its Python API, poll kinds, errors, batching, lifecycle."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

from pollhub import (
    COUNTER,
    BadMessage,
    Hub,
    PollClosed,
    Unavailable,
    UnknownOption,
    UnknownPoll,
)
from pollhub.hub import Client
from pollhub.protocol import Message, Vote

from .conftest import TIMEOUT, Recorder


@contextlib.contextmanager
def hub_held(hub: Hub) -> Iterator[None]:
    """Keep the hub thread busy while the block runs: what it queues is applied as one batch."""
    entered, gate = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        gate.wait(TIMEOUT)

    holder = threading.Thread(target=hub._call, args=(hold,), name="test-hold-hub")
    holder.start()
    assert entered.wait(TIMEOUT)
    try:
        yield
    finally:
        gate.set()
        holder.join(TIMEOUT)
    assert not holder.is_alive()


def test_create_poll_returns_snapshot_with_slug_ids(hub: Hub) -> None:
    poll = hub.create_poll("Dessert?", ["Ice cream!", "Crème brûlée", "ice  cream"[:3] + "!"])
    assert poll.id == "dessert"
    assert [o.id for o in poll.options] == ["ice-cream", "creme-brulee", "ice"]
    assert poll.kind == "single" and poll.open
    assert poll.counts == {"ice-cream": 0, "creme-brulee": 0, "ice": 0}
    assert hub.current == "dessert"


def test_option_ids_are_unique_within_a_poll(hub: Hub) -> None:
    poll = hub.create_poll("Which?", ["A+", "A-", "a!"])
    assert [o.id for o in poll.options] == ["a", "a-2", "a-3"]


def test_poll_ids_are_unique_even_after_delete(hub: Hub) -> None:
    first = hub.create_poll("Lunch?", ["Yes", "No"])
    hub.delete_poll(first.id)
    second = hub.create_poll("Lunch?", ["Yes", "No"])
    assert second.id != first.id


def test_single_poll_moves_a_voters_choice(hub: Hub) -> None:
    poll = hub.create_poll("Colour?", ["Red", "Blue"])
    hub.vote(poll.id, "red", voter="ann")
    hub.vote(poll.id, "red", voter="bob")
    hub.vote(poll.id, "blue", voter="ann")
    hub.vote(poll.id, "blue", voter="ann")
    snapshot = hub.poll(poll.id)
    assert snapshot.counts == {"red": 1, "blue": 1}
    assert snapshot.total == 2


def test_counter_poll_counts_every_vote(hub: Hub) -> None:
    poll = hub.create_poll("Applause", ["Clap", "Boo"], kind=COUNTER)
    for _ in range(3):
        hub.vote(poll.id, "clap", voter="ann")
    assert hub.results(poll.id) == {"clap": 3, "boo": 0}


def test_vote_without_voter_is_a_new_voter_each_time(hub: Hub) -> None:
    poll = hub.create_poll("Kiosk", ["Yes", "No"])
    hub.vote(poll.id, "yes")
    hub.vote(poll.id, "yes")
    assert hub.results(poll.id) == {"yes": 2, "no": 0}


def test_vote_by_label_and_current_poll(hub: Hub) -> None:
    hub.create_poll("First", ["Up", "Down"])
    second = hub.create_poll("Second", ["Left", "Right"])
    hub.set_current(second.id)
    assert hub.vote(None, "RIGHT", voter="ann") == "right"
    assert hub.results() == {"left": 0, "right": 1}


def test_errors_are_typed_and_leave_counts_alone(hub: Hub) -> None:
    poll = hub.create_poll("Q?", ["A", "B"])
    with pytest.raises(UnknownPoll):
        hub.vote("nope", "a")
    with pytest.raises(UnknownOption):
        hub.vote(poll.id, "c")
    hub.close_poll(poll.id)
    with pytest.raises(PollClosed):
        hub.vote(poll.id, "a")
    hub.open_poll(poll.id)
    hub.vote(poll.id, "a")
    assert hub.poll(poll.id).total == 1
    with pytest.raises(BadMessage):
        hub.create_poll("Only one option", ["A"])
    with pytest.raises(BadMessage):
        hub.create_poll("Twice", ["A", "a"])
    with pytest.raises(BadMessage):
        hub.create_poll("Kind", ["A", "B"], kind="ranked")
    with pytest.raises(UnknownPoll):
        hub.set_current("nope")


def test_no_current_poll(hub: Hub) -> None:
    assert hub.current is None
    with pytest.raises(UnknownPoll, match="no current poll"):
        hub.vote(None, "a")


def test_reset_and_delete(hub: Hub) -> None:
    poll = hub.create_poll("Q?", ["A", "B"])
    hub.vote(poll.id, "a", voter="ann")
    hub.reset_poll(poll.id)
    assert hub.poll(poll.id).total == 0
    hub.vote(poll.id, "b", voter="ann")  # the reset forgot ann's choice too
    assert hub.results(poll.id) == {"a": 0, "b": 1}
    hub.delete_poll(poll.id)
    assert hub.polls() == []
    assert hub.current is None
    with pytest.raises(UnknownPoll):
        hub.results(poll.id)


def test_subscription_gets_welcome_then_updates(hub: Hub) -> None:
    hub.create_poll("Q?", ["A", "B"])
    with hub.subscribe() as updates:

        def get() -> Dict[str, Any]:
            while True:
                message = updates.get(timeout=TIMEOUT)
                if message["type"] != "presence":
                    return message

        welcome = get()
        assert welcome["type"] == "welcome" and welcome["current"] == "q"
        assert welcome["polls"][0]["counts"] == {"a": 0, "b": 0}
        hub.vote("q", "a")
        results = get()
        assert results["type"] == "results"
        assert results["counts"] == {"a": 1, "b": 0} and results["total"] == 1
        assert results["seq"] > welcome["seq"]
        hub.close_poll("q")
        assert get()["poll"]["open"] is False
        hub.delete_poll("q")
        assert get() == {"type": "deleted", "poll": "q"}
        assert get() == {"type": "current", "poll": None}


def test_presenters_hear_how_many_participants_are_connected(hub: Hub) -> None:
    presenter = Recorder()
    presenter.admin = True
    hub.register(presenter)
    assert presenter.next("presence") == {"type": "presence", "participants": 0}
    participants = [Recorder(f"p{i}") for i in range(3)]
    for participant in participants:
        hub.register(participant)
    assert hub.participant_count() == 3
    hub.unregister(participants[0])
    assert hub.participant_count() == 2
    latest = None
    while latest != 2:
        latest = presenter.next("presence")["participants"]
    assert all(m["type"] != "presence" for p in participants[1:] for m in p.drain())


def test_a_burst_of_votes_costs_one_broadcast(hub: Hub) -> None:
    """Votes already waiting in the inbound queue are applied together, then broadcast once."""
    poll = hub.create_poll("Burst", ["A", "B"], kind=COUNTER)
    recorder = Recorder()
    hub.register(recorder)
    recorder.next("welcome")
    with hub_held(hub):  # the votes below queue up
        for _ in range(100):
            hub.submit(recorder, Vote("a", poll.id))
    messages = [recorder.messages.get(timeout=TIMEOUT) for _ in range(101)]
    assert [m["type"] for m in messages] == ["results"] + ["voted"] * 100
    assert messages[0]["total"] == 100
    assert recorder.drain() == []


def test_broadcast_is_encoded_once(hub: Hub) -> None:
    """Every client gets the very same Message object, so the JSON is encoded once."""
    seen: List[Message] = []

    class Keeper(Client):
        def send(self, message: Message) -> None:
            seen.append(message)

    poll = hub.create_poll("Q?", ["A", "B"])
    keepers = [Keeper() for _ in range(3)]
    for keeper in keepers:
        hub.register(keeper)
    hub.vote(poll.id, "a")
    hub.client_count()  # a round trip through the hub: everything before it is flushed
    results = [m for m in seen if m.type == "results"]
    assert len(results) == 3 and all(m is results[0] for m in results)


def test_welcomes_of_one_batch_are_shared_only_while_they_would_be_equal(hub: Hub) -> None:
    """Registrations in one batch share a welcome, unless a vote or the client's rights tell them apart."""
    poll = hub.create_poll("Secret", ["A", "B"], kind=COUNTER, results="hidden")
    voter = Recorder("voter")
    hub.register(voter)
    voter.next("welcome")
    first, second, third = Recorder("p1"), Recorder("p2"), Recorder("p3")
    before, after = Recorder("presenter1"), Recorder("presenter2")
    before.admin = after.admin = True
    with hub_held(hub):
        for client in (first, before, second):
            hub.register(client)
        hub.submit(voter, Vote("a", poll.id))
        for client in (third, after):
            hub.register(client)
    welcomes = {c.voter: c.next("welcome") for c in (first, second, third, before, after)}
    assert welcomes["p1"] == welcomes["p2"]
    # The vote between them changed the seq of the state p3 is welcomed into, though p3 sees no counts.
    assert (welcomes["p1"]["seq"], welcomes["p3"]["seq"]) == (0, 1)
    assert dict(welcomes["p3"], seq=0) == welcomes["p1"]
    assert welcomes["p1"]["polls"][0]["visible"] is False and "total" not in welcomes["p1"]["polls"][0]
    assert welcomes["presenter1"]["polls"][0]["total"] == 0  # registered before the vote
    assert welcomes["presenter2"]["polls"][0]["total"] == 1  # and after it
    seen: List[Message] = []

    class Keeper(Client):
        def send(self, message: Message) -> None:
            seen.append(message)

    with hub_held(hub):
        for _ in range(3):
            hub.register(Keeper())
    hub.client_count()  # a round trip through the hub: everything before it is flushed
    assert len(seen) == 3 and seen[0] is seen[1] is seen[2]  # one welcome, encoded once


def test_votes_from_many_threads_are_all_counted(hub: Hub) -> None:
    poll = hub.create_poll("Count", ["A", "B"], kind=COUNTER)

    def voter() -> None:
        for _ in range(100):
            hub.vote(poll.id, "a")

    threads = [threading.Thread(target=voter, name=f"test-voter-{i}") for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert hub.results(poll.id)["a"] == 800


def test_stop_is_prompt_and_idempotent() -> None:
    hub = Hub().start()
    hub.create_poll("Q?", ["A", "B"])
    started = time.monotonic()
    hub.stop()
    hub.stop()
    assert time.monotonic() - started < 1.0
    assert not hub.running
    with pytest.raises(Unavailable):
        hub.vote(None, "a")


def test_stop_ends_subscriptions() -> None:
    hub = Hub().start()
    subscription = hub.subscribe()
    received: List[Dict[str, Any]] = []
    reader = threading.Thread(target=lambda: received.extend(subscription), name="test-reader")
    reader.start()
    hub.stop()
    reader.join(TIMEOUT)
    assert not reader.is_alive()
    assert [m["type"] for m in received if m["type"] != "presence"] == ["welcome"]


def test_api_before_start_fails_clearly() -> None:
    with pytest.raises(Unavailable):
        Hub().create_poll("Q?", ["A", "B"])


def test_a_bug_in_one_event_does_not_kill_the_hub(hub: Hub) -> None:
    class Broken(Client):
        voter = "broken"

        def send(self, message: Message) -> None:
            raise RuntimeError("a client that fails to send")

    poll = hub.create_poll("Q?", ["A", "B"])
    hub.register(Broken())
    hub.vote(poll.id, "a")
    assert hub.running
    assert hub.results(poll.id) == {"a": 1, "b": 0}


def test_a_hub_without_a_database_keeps_no_changes_to_save(hub: Hub) -> None:
    """In memory the changes a batch records for a store are dropped, not gathered for ever."""
    poll = hub.create_poll("Leak?", ["a", "b"])
    for n in range(50):
        hub.vote(poll.id, "a", voter=f"v{n}")
    assert hub._call(lambda: bool(hub._effects.store)) is False
