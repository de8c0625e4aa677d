"""Faults inside the hub: a failure in any stage of a batch, a database that cannot be written.

Failures are injected into the hub's own stages (a stage raises once), and a
full disk is made with SQLite's ``max_page_count``, which makes every write
that needs a new page fail with "database or disk is full", as a full
file system does; raising it again is the disk getting room.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pollhub import COUNTER, Hub, PollServer, Unavailable
from pollhub import hub as hub_module
from pollhub.protocol import SERVER_VOTER_PREFIX, Vote
from pollhub.storage import Store

from .conftest import TIMEOUT, Recorder, wait_until


def fail_once(target: Any, name: str, error: Exception) -> threading.Event:
    """Make ``target.name`` raise ``error`` the next time it is called, then work again."""
    original: Callable[..., Any] = getattr(target, name)
    failed = threading.Event()

    def failing(*args: Any, **kwargs: Any) -> Any:
        if not failed.is_set():
            failed.set()
            raise error
        return original(*args, **kwargs)

    setattr(target, name, failing)
    return failed


def errors_logged(caplog: pytest.LogCaptureFixture) -> list:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("pollhub")]


# Every stage of a batch -----------------------------------------------------------

STAGES = ["_apply", "_close_expired", "_commit", "_queue_results", "_queue_presence", "_send_to_seers", "_send"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_hub_survives_a_failure_in_any_stage_of_a_batch(
    stage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Hub(db=tmp_path / "faults.db") as hub:
        poll = hub.create_poll("Q?", ["A", "B"])
        timed = hub.create_poll("Timed?", ["A", "B"])
        watcher = Recorder("watcher")
        hub.register(watcher)
        watcher.next("welcome")
        hub.open_poll(timed.id, close_after=1)  # _close_expired runs after every batch while it counts down
        failed = fail_once(hub, stage, RuntimeError(f"injected failure in {stage}"))
        hub.submit(watcher, Vote("a", poll.id, ref=1))
        assert failed.wait(TIMEOUT), f"{stage} was never called"

        assert hub.running
        hub.vote(poll.id, "b", voter="bob")  # the next batch is applied, committed and answered
        wait_until(lambda: not hub.poll(timed.id).open)  # the countdown still closes its poll
        assert hub.results(poll.id)["b"] == 1
        assert hub.running
    # The injected failure itself was logged, with its traceback, by the guard that caught it.
    injected = f"injected failure in {stage}"
    assert any(r.exc_info and str(r.exc_info[1]) == injected for r in errors_logged(caplog)), injected
    with_db = Store(tmp_path / "faults.db", readonly=True)
    try:
        polls = with_db.load()[0]
    finally:
        with_db.close()
    saved = {p.id: p for p in polls}
    assert saved[poll.id].counts["b"] == 1  # bob's vote is on disk
    assert not saved[timed.id].open


def test_a_failing_message_encoder_costs_one_reply_not_the_hub(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    poll = hub.create_poll("Q?", ["A", "B"])
    client = Recorder("ann")
    hub.register(client)
    client.next("welcome")
    real = hub_module.Message
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(*args, **kwargs)

    monkeypatch.setattr(hub_module, "Message", flaky)
    hub.submit(client, Vote("a", poll.id, ref=7))
    reply = client.next("error")  # the voted reply could not be built: the client hears of it
    assert reply["ref"] == 7 and reply["code"] == "internal"
    monkeypatch.setattr(hub_module, "Message", real)
    assert hub.vote(poll.id, "b", voter="bob") == "b"
    assert hub.running


def test_api_calls_fail_at_once_when_the_hub_thread_is_gone(tmp_path: Path) -> None:
    hub = Hub().start()
    poll = hub.create_poll("Q?", ["A", "B"])
    fail_once(hub, "_next_batch", SystemExit("a bug in the loop itself"))
    hub.register(Recorder())  # wakes the hub thread, which then dies
    wait_until(lambda: not hub.running)
    with pytest.raises(Unavailable):
        hub.vote(poll.id, "a")  # at once, not after CALL_TIMEOUT
    hub.stop()


def test_anonymous_python_voters_are_random_and_in_the_servers_namespace(hub: Hub) -> None:
    poll = hub.create_poll("Tap", ["Clap", "Boo"], kind=COUNTER)
    subscription = hub.subscribe()
    hub.vote(poll.id, "clap")
    hub.vote(poll.id, "clap")
    subscription.close()
    assert hub.poll(poll.id).voters == 2
    voters = hub._call(lambda: list(hub._book.polls[poll.id].ballots))
    assert all(v.startswith(SERVER_VOTER_PREFIX) and len(v) == 33 for v in voters)


# A database that cannot be written ------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Any]:
    """A hub on a database whose "disk" fills up on ``fill()`` and gets room again on ``free()``."""
    path = tmp_path / "full.db"

    class Disk:
        def __init__(self) -> None:
            self.hub = Hub(db=path).start()
            self.path = path

        def _pragma(self, sql: str) -> None:
            self.hub._call(lambda: self.hub._store.db.execute(sql).fetchall())  # in the hub thread, between batches

        def fill(self) -> None:
            pages = self.hub._call(lambda: self.hub._store.db.execute("PRAGMA page_count").fetchone()[0])
            self._pragma(f"PRAGMA max_page_count = {pages}")

        def free(self) -> None:
            self._pragma("PRAGMA max_page_count = 1073741823")

        def saved(self) -> dict:
            store = Store(path, readonly=True)
            try:
                return {p.id: p for p in store.load()[0]}
            finally:
                store.close()

    disk = Disk()
    try:
        yield disk
    finally:
        disk.hub.stop()


def vote_until_refused(hub: Hub, poll_id: str) -> int:
    """Votes of new voters with long ids until one is refused (the disk is full); how many were acknowledged."""
    for n in range(2000):
        try:
            hub.vote(poll_id, "a", voter=f"filler-{n:04d}-" + "x" * 100)
        except Unavailable:
            return n
    pytest.fail("the disk never filled up")


def test_a_vote_that_could_not_be_saved_is_not_acknowledged_until_it_is(full_disk: Any) -> None:
    hub = full_disk.hub
    poll = hub.create_poll("Q?", ["A", "B"])
    full_disk.fill()
    acknowledged = vote_until_refused(hub, poll.id)
    with pytest.raises(Unavailable):
        hub.vote(poll.id, "b", voter="bob")
    with pytest.raises(Unavailable):  # the same vote again: nothing changes in memory, but it is still not saved
        hub.vote(poll.id, "b", voter="bob")
    assert not hub.saving
    assert "bob" not in {v for p in full_disk.saved().values() for v in p.ballots}

    full_disk.free()
    wait_until(lambda: hub.saving)  # the hub retried by itself
    assert hub.vote(poll.id, "b", voter="bob") == "b"
    saved = full_disk.saved()[poll.id]
    assert saved.ballots["bob"] == ("b",)
    assert saved.counts["a"] >= acknowledged + 1  # the refused filler's vote was saved by the retry too


def test_an_admin_change_made_while_the_disk_is_full_is_saved_when_it_has_room(full_disk: Any) -> None:
    hub = full_disk.hub
    other = hub.create_poll("Other?", ["A", "B"])
    full_disk.fill()
    vote_until_refused(hub, other.id)
    with pytest.raises(Unavailable):  # not "ok": it is not on disk
        hub.create_poll("Made while full?", ["Yes", "No"])
    full_disk.free()
    wait_until(lambda: hub.saving)
    assert hub.vote("made-while-full", "yes", voter="ann") == "yes"  # no FOREIGN KEY failure
    assert hub.vote(other.id, "b", voter="bystander") == "b"
    saved = full_disk.saved()
    assert saved["made-while-full"].counts == {"yes": 1, "no": 0}
    assert saved[other.id].ballots["bystander"] == ("b",)


def test_healthz_follows_the_disk(full_disk: Any) -> None:
    hub = full_disk.hub
    poll = hub.create_poll("Q?", ["A", "B"])
    with PollServer(hub, port=0) as server:
        url = f"http://127.0.0.1:{server.port}/healthz"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
            assert reply.status == 200
        full_disk.fill()
        vote_until_refused(hub, poll.id)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=TIMEOUT)
        assert caught.value.code == 503
        full_disk.free()
        wait_until(lambda: hub.saving)
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
            assert reply.status == 200


def test_one_change_the_database_refuses_does_not_keep_the_others_off_the_disk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Hub(db=tmp_path / "refuses.db") as hub:
        poll = hub.create_poll("Q?", ["A", "B"])
        store = hub._store
        failed = fail_once(store, "save", sqlite3.IntegrityError("injected: refused by the database"))
        with pytest.raises(Unavailable):
            hub.vote(poll.id, "a", voter="ann")
        assert failed.is_set()
        assert hub.saving  # not a disk problem: nothing waits for a retry
        assert hub.vote(poll.id, "a", voter="ann") == "a"  # already saved item by item: acknowledged now
        assert hub.vote(poll.id, "b", voter="bob") == "b"
    store = Store(tmp_path / "refuses.db", readonly=True)
    try:
        saved = {p.id: p for p in store.load()[0]}
    finally:
        store.close()
    assert saved[poll.id].ballots == {"ann": ("a",), "bob": ("b",)}
    assert any("item by item" in r.getMessage() for r in caplog.records)


# What the Python API takes ---------------------------------------------------------


def test_an_event_holds_a_bounded_number_of_polls(hub: Hub) -> None:
    from pollhub import TooManyPolls
    from pollhub.polls import MAX_POLLS

    for n in range(MAX_POLLS):
        hub.create_poll(f"Question {n}?", ["A", "B"])
    with pytest.raises(TooManyPolls, match="delete one"):
        hub.create_poll("One too many?", ["A", "B"])
    hub.delete_poll("question-0")
    assert hub.create_poll("Room again?", ["A", "B"]).id == "room-again"


@pytest.mark.parametrize("voter", ["\ud800", "a\nb", "", "x" * 129])
def test_the_python_api_refuses_voter_ids_the_protocol_refuses(hub: Hub, voter: str) -> None:
    from pollhub import BadMessage

    poll = hub.create_poll("Q?", ["A", "B"])
    with pytest.raises(BadMessage):
        hub.vote(poll.id, "a", voter=voter)
    assert hub.results(poll.id) == {"a": 0, "b": 0}


# A real file system that fills up -----------------------------------------------------


def test_a_server_on_a_full_disk_acknowledges_only_what_is_saved_and_recovers_by_itself(tmp_path: Path) -> None:
    """python -m pollhub on a 2 MB file system: fill it, vote, free it, vote, kill -9: every acknowledged vote is there."""
    import contextlib
    import json
    import subprocess
    import sys

    from pollhub import PollClient, PollhubError

    from .test_storage import serve, tmpfs, url_of

    with tmpfs(tmp_path / "small", "2m") as mnt:
        db = mnt / "polls.db"
        server = serve(db, "--new-voter-rate", "0")
        try:
            url = url_of(server)
            health = url.replace("ws://", "http://").replace("/ws", "/healthz")
            acknowledged: dict = {}

            def vote(client: PollClient) -> bool:
                try:
                    client.vote("a")
                except PollhubError as exc:
                    assert exc.code == "unavailable", exc
                    return False
                acknowledged[client.voter] = acknowledged.get(client.voter, 0) + 1
                return True

            def healthy() -> bool:
                try:
                    with urllib.request.urlopen(health, timeout=TIMEOUT) as reply:
                        return reply.status == 200
                except urllib.error.HTTPError:
                    return False

            clients = [PollClient(url, voter=f"voter-{n:03d}-" + "v" * 100, timeout=TIMEOUT) for n in range(40)]
            try:
                assert all(vote(c) for c in clients[:5])
                ballast = mnt / "ballast"
                with contextlib.suppress(OSError), ballast.open("wb", buffering=0) as file:
                    while True:  # until the disk is full
                        file.write(b"\0" * 4096)
                refused = [c for c in clients if not vote(c)]
                assert refused, "the disk never filled up"
                assert not vote(refused[0])  # the same vote again: still not saved, so still not acknowledged
                assert not healthy()
                ballast.unlink()
                wait_until(healthy)  # by itself, no restart
                assert all(vote(c) for c in refused)
            finally:
                for client in clients:
                    client.close()
            server.proc.kill()  # SIGKILL: what is on disk is all there is
            server.proc.wait(TIMEOUT)
        finally:
            server.kill()
        exported = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--db", str(db), "--format", "json"],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        flood = next(p for p in json.loads(exported.stdout)["polls"] if p["id"] == "flood")
        assert flood["counts"]["a"] >= sum(acknowledged.values())  # a counter: every acknowledged tap counts
        assert flood["voters"] >= len(acknowledged)
