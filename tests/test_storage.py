"""Durable state: SQLite restores exactly what was committed; crashes lose no acknowledged vote."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List

import pytest

from pollhub import COUNTER, Hub, PollClient, PollhubError, PollServer
from pollhub.storage import SCHEMA_VERSION, StorageError, Store, default_path

from .conftest import TIMEOUT, wait_until
from .processes import Process


def test_restart_restores_polls_current_counts_and_choices(tmp_path: Path) -> None:
    db = tmp_path / "polls.db"
    with Hub(db=db) as hub:
        lunch = hub.create_poll("Lunch?", ["Pizza", "Salad"])
        claps = hub.create_poll("Claps", ["Clap", "Boo"], kind=COUNTER)
        gone = hub.create_poll("Gone", ["A", "B"])
        hub.vote(lunch.id, "pizza", voter="ann")
        hub.vote(lunch.id, "salad", voter="bob")
        hub.vote(claps.id, "clap")
        hub.vote(claps.id, "clap")
        hub.close_poll(claps.id)
        hub.set_current(claps.id)
        hub.delete_poll(gone.id)
        before = hub.polls()
    with Hub(db=db) as hub:
        assert hub.polls() == before
        assert hub.current == claps.id
        hub.vote(lunch.id, "salad", voter="ann")  # ann moves her vote: no second vote
        assert hub.results(lunch.id) == {"pizza": 0, "salad": 2}
        assert hub.create_poll("Gone", ["A", "B"]).id != gone.id  # ids are never reused
    with Hub(db=db) as hub:
        assert hub.poll(lunch.id).total == 2


def test_reset_is_saved(tmp_path: Path) -> None:
    db = tmp_path / "polls.db"
    with Hub(db=db) as hub:
        poll = hub.create_poll("Q?", ["A", "B"])
        hub.vote(poll.id, "a", voter="ann")
        hub.reset_poll(poll.id)
        hub.vote(poll.id, "b", voter="bob")
    with Hub(db=db) as hub:
        assert hub.results(poll.id) == {"a": 0, "b": 1}
        hub.vote(poll.id, "a", voter="ann")  # ann's old choice was forgotten by the reset
        assert hub.poll(poll.id).total == 2


def test_memory_hub_writes_no_file(tmp_path: Path, data_home: Path) -> None:
    with Hub() as hub:
        hub.create_poll("Q?", ["A", "B"])
    assert list(data_home.rglob("*")) == []


def test_default_path_follows_xdg_data_home(data_home: Path) -> None:
    if sys.platform.startswith("linux"):
        assert default_path() == data_home / "pollhub" / "pollhub.db"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with Hub(db=db):
        pass
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer pollhub"):
        Hub(db=db).start()


def test_garbage_file_is_an_error_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    garbage = b"this is not a database at all\n" * 100
    db.write_bytes(garbage)
    with pytest.raises(StorageError, match="not a usable pollhub database"):
        Hub(db=db).start()
    assert db.read_bytes() == garbage


def test_someone_elses_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StorageError, match="not a pollhub database"):
        Store(db)


def test_cli_reports_bad_databases_without_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"\x00garbage" * 50)
    result = subprocess.run(
        [sys.executable, "-m", "pollhub", "--port", "0", "--db", str(db)], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 2
    assert "not a usable pollhub database" in result.stderr
    assert "Traceback" not in result.stderr


# The server as a subprocess --------------------------------------------------------


def serve(db: Path, *extra: str) -> Process:
    return Process.pollhub(
        "--host", "127.0.0.1", "--port", "0", "--db", str(db), "--token", "tok", "--max-vote-rate", "0",
        "--question", "Flood?", "--option", "A", "--option", "B", "--kind", "counter", *extra,
    )  # fmt: skip


def url_of(process: Process) -> str:
    return process.expect(r"listening on (ws://\S+)").group(1)


class Flood:
    """Voters on their own threads, each counting the votes the server acknowledged."""

    def __init__(self, url: str, voters: int = 4) -> None:
        self.acked: List[int] = [0] * voters
        self.sent: List[int] = [0] * voters
        self.clients = [PollClient(url, voter=f"flood-{i}", timeout=TIMEOUT) for i in range(voters)]
        self.threads = [
            threading.Thread(target=self._vote, args=(i,), name=f"test-flood-{i}", daemon=True) for i in range(voters)
        ]
        for thread in self.threads:
            thread.start()

    def _vote(self, index: int) -> None:
        client = self.clients[index]
        while True:
            self.sent[index] += 1
            try:
                client.vote("a")
            except (PollhubError, TimeoutError, OSError):
                return
            self.acked[index] += 1

    def join(self) -> None:
        for thread in self.threads:
            thread.join(TIMEOUT)
        for client in self.clients:
            client.close()


def saved_total(db: Path) -> int:
    with Hub(db=db) as hub:
        return hub.poll("flood").total


def test_sigkill_loses_no_acknowledged_vote(tmp_path: Path) -> None:
    db = tmp_path / "flood.db"
    server = serve(db)
    try:
        flood = Flood(url_of(server))
        wait_until(lambda: sum(flood.acked) >= 400)
        server.proc.kill()  # SIGKILL, mid-flood
        server.proc.wait(TIMEOUT)
        flood.join()
    finally:
        server.kill()
    total = saved_total(db)
    assert sum(flood.acked) <= total <= sum(flood.sent), (flood.acked, flood.sent, total)


def test_sigterm_during_a_flood_saves_every_acknowledged_vote(tmp_path: Path) -> None:
    db = tmp_path / "flood.db"
    server = serve(db)
    try:
        flood = Flood(url_of(server))
        wait_until(lambda: sum(flood.acked) >= 400)
        finished = server.stop(signal.SIGTERM)
        flood.join()
    finally:
        server.kill()
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "pollhub stopped:" in finished.stdout
    total = saved_total(db)
    assert sum(flood.acked) <= total <= sum(flood.sent)


def test_restart_reuses_the_question_poll_and_keeps_the_current_one(tmp_path: Path) -> None:
    db = tmp_path / "event.db"
    server = serve(db)
    try:
        with PollClient(url_of(server), voter="ann", token="tok", timeout=TIMEOUT) as client:
            client.vote("a")
            other = client.create_poll("Second?", ["Yes", "No"])
            client.set_current(other)
        server.stop()
        server = serve(db)
        with PollClient(url_of(server), timeout=TIMEOUT) as client:
            assert client.current == other
            assert client.results("flood") == {"a": 1, "b": 0}
            assert [p.id for p in client.polls()] == ["flood", other]
        server.stop()
    finally:
        server.kill()
    changed = subprocess.run(
        [sys.executable, "-m", "pollhub", "--port", "0", "--db", str(db), "--question", "Flood?",
         "--option", "A", "--option", "C", "--kind", "counter"],
        capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert changed.returncode == 2
    assert "already has the poll 'Flood?'" in changed.stderr
    assert "Traceback" not in changed.stderr


def test_export_while_the_server_runs(tmp_path: Path) -> None:
    db = tmp_path / "export.db"
    server = serve(db)
    try:
        with PollClient(url_of(server), timeout=TIMEOUT) as client:
            for _ in range(3):
                client.vote("b")
        exported = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--db", str(db)], capture_output=True, text=True, timeout=TIMEOUT
        )
        as_json = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--db", str(db), "--poll", "flood", "--format", "json"],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        missing = subprocess.run(
            [sys.executable, "-m", "pollhub", "export", "--db", str(tmp_path / "none.db")],
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        server.stop()
    finally:
        server.kill()
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines() == [
        "poll,question,kind,open,option,label,votes,voters",
        "flood,Flood?,counter,true,a,A,0,1",
        "flood,Flood?,counter,true,b,B,3,1",
    ]
    data = json.loads(as_json.stdout)
    assert data["current"] == "flood"
    assert data["polls"][0]["counts"] == {"a": 0, "b": 3}
    assert missing.returncode == 2 and "no such database" in missing.stderr


# Metrics ---------------------------------------------------------------------------


def scrape(server: PollServer) -> Dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=TIMEOUT) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = reply.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f"[{v}]" for v in sample.labels.values())
            samples[key] = sample.value
    return samples


def test_metrics_parse_and_match_what_happened(tmp_path: Path) -> None:
    with Hub(db=tmp_path / "m.db") as hub, PollServer(hub, port=0, token="tok", max_vote_rate=1) as server:
        hub.create_poll("Q?", ["A", "B"])
        with PollClient(server.url, timeout=TIMEOUT) as client:
            with pytest.raises(PollhubError):
                client.vote("nope")  # spends one of the five votes the burst allows
            for _ in range(4):
                client.vote("a")
            rejected = 0
            for _ in range(3):
                try:
                    client.vote("b")
                except PollhubError as exc:
                    assert exc.code == "rate_limited"
                    rejected += 1
            samples = scrape(server)
            assert samples["pollhub_connections"] == 1
        assert samples["pollhub_votes_accepted_total"] == 4 + 3 - rejected
        assert samples["pollhub_votes_rejected_total[unknown_option]"] == 1
        assert samples["pollhub_votes_rejected_total[rate_limited]"] == rejected >= 2
        assert samples["pollhub_db_commit_seconds_count"] >= 1
        assert samples["pollhub_hub_batch_size_count"] >= 1
        assert samples["pollhub_hub_queue_depth"] >= 0
        assert samples["pollhub_broadcasts_total"] >= 1
        assert samples["pollhub_messages_sent_total"] >= samples["pollhub_broadcasts_total"]
        assert samples["pollhub_results_superseded_total"] == 0
        assert samples["pollhub_clients_dropped_stalled_total"] == 0


def test_healthz(tmp_path: Path) -> None:
    with Hub(db=tmp_path / "h.db") as hub, PollServer(hub, port=0) as server:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=TIMEOUT) as reply:
            assert reply.status == 200
        hub.stop()
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=TIMEOUT)
        assert caught.value.code == 503
