"""Durable state: SQLite restores exactly what was committed; crashes lose no acknowledged vote."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import pytest
import websocket

from pollhub import COUNTER, DuplicateQuestion, Hub, PollClient, PollhubError, PollServer
from pollhub.polls import PollState
from pollhub.qa import ANSWERED, DISMISSED, PUBLISHED, QandA
from pollhub.storage import SCHEMA_VERSION, Changes, StorageError, Store, default_path

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


# Damaged, unwritable and full databases ------------------------------------------------


def voted_poll(poll_id: str, voters: Sequence[str], changes: Changes) -> PollState:
    """A new poll with one vote per voter, recorded in ``changes`` the way the hub does."""
    poll = PollState(poll_id, f"{poll_id}?", ["Yes", "No"])
    changes.created(poll)
    for i, voter in enumerate(voters):
        ballot, _ = poll.vote(voter, "yes" if i % 3 else "no")
        changes.ballot(poll.id, voter, ballot)
    return poll


def build_database(db: Path, voters: int = 3000) -> List[PollState]:
    """A real pollhub database with enough rows to span many pages."""
    store = Store(db)
    try:
        changes = Changes()
        poll = voted_poll("big", [f"voter-{i:05d}" for i in range(voters)], changes)
        changes.current(poll.id)
        store.save(changes, [poll])
    finally:
        store.close()
    return [poll]


def loaded(db: Path) -> Tuple[list, Optional[str], Set[str]]:
    """What a readonly store loads: snapshots, the current poll, the used ids (and every ballot)."""
    store = Store(db, readonly=True)
    try:
        polls, current, used, _, _ = store.load()
    finally:
        store.close()
    return [(p.snapshot(), p.ballots) for p in polls], current, used


def test_damaged_pages_are_a_clear_error_at_start_and_from_export(tmp_path: Path) -> None:
    db = tmp_path / "damaged.db"
    build_database(db)
    size = db.stat().st_size
    assert size > 20 * 4096 and not Path(f"{db}-wal").exists()
    with db.open("r+b") as file:  # the header (first 100 bytes) stays intact
        file.seek(size // 2)
        file.write(b"\xa5" * 1024)
    damaged = db.read_bytes()
    with pytest.raises(StorageError, match="not a usable pollhub database .*; it was left untouched"):
        Store(db)
    with pytest.raises(StorageError, match="not a usable pollhub database"):
        Store(db, readonly=True).load()
    for args in (["export", "--db", str(db)], ["--port", "0", "--db", str(db)]):
        result = subprocess.run(
            [sys.executable, "-m", "pollhub", *args], capture_output=True, text=True, timeout=TIMEOUT
        )
        assert result.returncode == 2, (args, result.stdout)
        assert "not a usable pollhub database" in result.stderr
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert db.read_bytes() == damaged


def test_load_turns_a_damaged_page_into_a_storage_error(tmp_path: Path) -> None:
    """A page that goes bad after the store was opened (past the check at open) gives the same error."""
    db = tmp_path / "damaged.db"
    build_database(db)
    store = Store(db, readonly=True)
    try:
        with db.open("r+b") as file:
            file.seek(db.stat().st_size // 2)
            file.write(b"\xa5" * 4096)
        store.db.execute("PRAGMA cache_size = 1")  # forget the pages read at open: read them from the file again
        with pytest.raises(StorageError, match="not a usable pollhub database"):
            store.load()
    finally:
        store.close()


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: even root cannot write the file (skips where the filesystem has no such flag)."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, timeout=TIMEOUT)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True, timeout=TIMEOUT)


def test_an_immutable_database_is_refused_at_start_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "immutable.db"
    expected = build_database(db, voters=10)
    before = db.read_bytes()
    with immutable(db):
        with pytest.raises(StorageError, match="the database cannot be written .*check the file's permissions"):
            Store(db)
        served = subprocess.run(
            [sys.executable, "-m", "pollhub", "--port", "0", "--db", str(db)], capture_output=True, text=True, timeout=TIMEOUT
        )
        assert served.returncode == 2 and "cannot be written" in served.stderr, served.stderr
        assert loaded(db)[0] == [(expected[0].snapshot(), expected[0].ballots)]  # export still reads it
    assert db.read_bytes() == before
    Store(db).close()  # the refusal left no lock behind


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``where`` (skips where mounting is not permitted)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True, timeout=TIMEOUT
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True, timeout=TIMEOUT)


def test_a_database_on_a_read_only_mount_is_refused_at_start(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        db = mnt / "polls.db"
        build_database(db, voters=10)
        before = db.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True, timeout=TIMEOUT)
        with pytest.raises(StorageError, match="the database cannot be written"):
            Store(db)
        assert db.read_bytes() == before


def full_after(store: Store, pages: int) -> None:
    """SQLite's own "disk full": the file may grow by ``pages`` pages at most (until reopened)."""
    count = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {count + pages}")


def test_a_failed_save_leaves_the_previous_state_and_the_same_changes_save_later(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    first = build_database(db, voters=10)
    before = loaded(db)
    store = Store(db)
    try:
        changes = Changes()
        second = voted_poll("second", [f"v{i}" for i in range(2000)], changes)
        changes.order(["second", "big"])
        changes.current("second")
        full_after(store, 2)
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            store.save(changes, [second])
        assert loaded(db) == before  # nothing of the batch reached the file
        assert store.recover() is True  # a transaction fits again; this batch does not yet
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.save(changes, [second])
        # The hub keeps the batch and appends newer changes to it.
        for i in range(5):
            ballot, _ = first[0].vote(f"late-{i}", "no")
            changes.ballot("big", f"late-{i}", ballot)
        first[0].reset()
        changes.reset("big")
        ballot, _ = first[0].vote("after-reset", "yes")
        changes.ballot("big", "after-reset", ballot)
        ballot, _ = second.vote("v0", "yes")
        changes.ballot("second", "v0", ballot)
        store.db.execute("PRAGMA max_page_count = 1073741823")  # space again
        store.save(changes, [second, first[0]])
    finally:
        store.close()
    polls, current, used = loaded(db)
    assert polls == [(p.snapshot(), p.ballots) for p in (second, first[0])]
    assert polls[1][0].resets == 1 and polls[1][0].total == 1
    assert current == "second" and used == {"big", "second"}


def test_recover_reopens_a_broken_connection_and_keeps_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    build_database(db, voters=10)
    store = Store(db)
    try:
        changes = Changes()
        poll = voted_poll("next", [f"v{i}" for i in range(2000)], changes)
        full_after(store, 2)
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.save(changes, [poll])
        store.db.close()  # as after a disk I/O error: the connection answers nothing
        assert not store.writable()
        assert store.recover() is True
        store.save(changes, [poll])  # the reopened connection has no page limit
        with pytest.raises(StorageError, match="in use by another pollhub"):
            Store(db)
    finally:
        store.close()
    assert [p.id for p in Store(db, readonly=True).load()[0]] == ["big", "next"]


def test_recover_never_raises(tmp_path: Path) -> None:
    db = tmp_path / "gone" / "polls.db"
    store = Store(db)
    try:
        store.db.close()
        shutil.rmtree(db.parent)
        db.parent.write_text("a file where the directory was")  # reopening cannot work
        assert store.recover() is False
    finally:
        store.close()


def test_a_batch_replayed_after_its_commit_reached_the_disk_changes_nothing(tmp_path: Path) -> None:
    """A commit can reach the WAL yet report an error (a failed fsync): replaying it must not fail or count twice."""
    db = tmp_path / "replay.db"
    store = Store(db)
    try:
        changes = Changes()
        poll = voted_poll("q", ["ann", "bob"], changes)
        poll.reset()
        changes.reset("q")
        ballot, _ = poll.vote("cid", "yes")
        changes.ballot("q", "cid", ballot)
        changes.hidden("q", "nothing")
        store.save(changes, [poll])
        store.save(changes, [poll])
    finally:
        store.close()
    polls, _, used = loaded(db)
    assert polls == [(poll.snapshot(), poll.ballots)] and polls[0][0].resets == 1
    assert used == {"q"}


def test_recover_truncates_the_wal_that_grew_while_saves_failed(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    build_database(db, voters=10)
    store = Store(db)
    wal = Path(f"{db}-wal")
    try:
        store.db.execute("PRAGMA wal_autocheckpoint = 0")  # as when no commit succeeds for a while
        store.save(*bulk_changes("filler", 3000))
        assert wal.stat().st_size > 100_000
        changes, polls = bulk_changes("next", 3000)
        full_after(store, 1)
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.save(changes, polls)
        assert store.recover() is True
        assert wal.stat().st_size == 0
        store.db.execute("PRAGMA max_page_count = 1073741823")
        store.save(changes, polls)
        assert wal.stat().st_size == 0  # the first save after a failure checkpoints too
    finally:
        store.close()


def bulk_changes(poll_id: str, voters: int) -> Tuple[Changes, List[PollState]]:
    changes = Changes()
    return changes, [voted_poll(poll_id, [f"{poll_id}-{i}" for i in range(voters)], changes)]


def test_a_full_filesystem_recovers_once_space_is_freed(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "1m") as mnt:
        db = mnt / "polls.db"
        first = build_database(db, voters=10)
        before = loaded(db)
        store = Store(db)
        try:
            ballast = mnt / "ballast"
            with contextlib.suppress(OSError), ballast.open("wb", buffering=0) as file:
                while True:  # until the disk is full
                    file.write(b"\0" * 4096)
            changes, polls = bulk_changes("next", 3000)
            with pytest.raises((sqlite3.OperationalError, OSError)):
                store.save(changes, polls)
            assert loaded(db) == before
            ballast.unlink()
            assert store.recover() is True
            store.save(changes, polls)
        finally:
            store.close()
        assert [p.id for p, _ in loaded(db)[0]] == [first[0].id, "next"]


# Audience Q&A ------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
ASKED_AT = 1_700_000_000.0  # a fixed clock: the questions' times are compared exactly


def asked_and_upvoted(qa: QandA, changes: Changes) -> None:
    """Questions in every state, upvotes given and taken back, recorded in ``changes`` as the book does."""
    first = qa.ask("ann", "Why is the sky blue?", "Ann", ASKED_AT)
    changes.question(first)
    qa.settings(moderation=True)
    second = qa.ask("bob", "=1+2 is a formula?", None, ASKED_AT + 1.5)
    changes.question(second)
    third = qa.ask("ann", "Anyone there?", None, ASKED_AT + 2)
    changes.question(third)
    changes.question_state(qa.set_state("q2", PUBLISHED, ASKED_AT + 5)[0])
    for voter, question_id, up in (("bob", "q1", True), ("cid", "q2", True), ("ann", "q2", True), ("ann", "q2", False)):
        qa.upvote(voter, question_id, up)
        changes.upvote(question_id, voter, up)
    for question_id, state in (("q1", ANSWERED), ("q3", DISMISSED)):
        changes.question_state(qa.set_state(question_id, state, ASKED_AT + 10)[0])
    qa.highlight_question("q2")
    qa.settings(is_open=False, stage="qa")
    changes.qa_settings(qa.moderation, qa.open, qa.highlight, qa.stage)


def saved_qa(db: Path) -> QandA:
    store = Store(db, readonly=True)
    try:
        return store.load()[3]
    finally:
        store.close()


def test_questions_upvotes_and_settings_are_saved_with_the_batch_and_loaded_back(tmp_path: Path) -> None:
    db = tmp_path / "qa.db"
    store = Store(db)
    try:
        assert store.load()[3].snapshot() == QandA().snapshot()  # nothing saved yet: the defaults
        qa, changes = QandA(), Changes()
        asked_and_upvoted(qa, changes)
        store.save(changes, [])
        # The next batch: one more question while moderation is on, an upvote taken back.
        changes = Changes()
        qa.settings(is_open=True)
        changes.qa_settings(qa.moderation, qa.open, qa.highlight, qa.stage)
        fourth = qa.ask("dan", "Last one?", "  Dan  ", ASKED_AT + 20)
        changes.question(fourth)
        qa.upvote("bob", "q1", False)
        changes.upvote("q1", "bob", False)
        store.save(changes, [])
    finally:
        store.close()
    restored = saved_qa(db)
    assert restored.snapshot() == qa.snapshot()
    assert [(q.id, q.state, q.upvoters) for q in restored.questions.values()] == [
        ("q1", ANSWERED, set()),  # bob's upvote was taken back
        ("q2", PUBLISHED, {"cid"}),
        ("q3", DISMISSED, set()),
        ("q4", "waiting", set()),
    ]
    q1 = restored.questions["q1"]
    assert (q1.voter, q1.name, q1.asked_at, q1.answered_at) == ("ann", "Ann", ASKED_AT, ASKED_AT + 10)
    assert restored.questions["q4"].name == "Dan"
    assert (restored.moderation, restored.open, restored.highlight, restored.stage) == (True, True, "q2", "qa")
    # The restored Q&A goes on by its rules: ids continue, the limits know who asked what.
    assert restored.ask("eve", "Next?", None, ASKED_AT + 30).id == "q5"


def test_questions_keep_their_asking_order_past_nine(tmp_path: Path) -> None:
    db = tmp_path / "order.db"
    qa, changes = QandA(), Changes()
    for i in range(12):
        changes.question(qa.ask(f"voter-{i}", f"Question {i}?", None, ASKED_AT + i))
    store = Store(db)
    try:
        store.save(changes, [])
    finally:
        store.close()
    assert list(saved_qa(db).questions) == [f"q{i}" for i in range(1, 13)]  # q10 after q9, not after q1


def test_a_qa_batch_replayed_after_its_commit_reached_the_disk_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    qa, changes = QandA(), Changes()
    asked_and_upvoted(qa, changes)
    store = Store(db)
    try:
        store.save(changes, [])
        store.save(changes, [])
    finally:
        store.close()
    assert saved_qa(db).snapshot() == qa.snapshot()
    with contextlib.closing(sqlite3.connect(str(db))) as check:
        assert check.execute("SELECT id, position FROM questions ORDER BY position").fetchall() == [
            ("q1", 1), ("q2", 2), ("q3", 3),
        ]  # fmt: skip


def test_a_failed_save_keeps_no_question_and_the_same_changes_save_later(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    build_database(db, voters=10)
    store = Store(db)
    try:
        qa, changes = QandA(), Changes()
        asked_and_upvoted(qa, changes)
        filler = voted_poll("filler", [f"v{i}" for i in range(2000)], changes)
        full_after(store, 2)
        with pytest.raises(sqlite3.OperationalError, match="full"):
            store.save(changes, [filler])
        assert saved_qa(db).questions == {}
        store.db.execute("PRAGMA max_page_count = 1073741823")
        store.save(changes, [filler])
    finally:
        store.close()
    assert saved_qa(db).snapshot() == qa.snapshot()


def test_a_question_row_pollhub_cannot_have_written_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "edited.db"
    qa, changes = QandA(), Changes()
    changes.question(qa.ask("ann", "Why?", None, ASKED_AT))
    store = Store(db)
    try:
        store.save(changes, [])
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(str(db))) as edit, edit:
        edit.execute("UPDATE questions SET state = 'lost'")
    with pytest.raises(StorageError, match="not a usable pollhub database .*not a question state: 'lost'"):
        saved_qa(db)


def test_a_version_2_file_is_upgraded_in_place_keeping_every_vote(tmp_path: Path) -> None:
    """``schema-v2.db`` was written by pollhub before Q&A (tests/fixtures/make_schema_v2.py says how)."""
    db = tmp_path / "v2.db"
    shutil.copyfile(FIXTURES / "schema-v2.db", db)
    with contextlib.closing(sqlite3.connect(str(db))) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    with pytest.raises(StorageError, match="schema version 2 needs a pollhub server start to upgrade it"):
        Store(db, readonly=True)  # an export does not write: it waits for the upgrade
    store = Store(db)
    try:
        polls, current, used, qa, _ = store.load()
        by_id = {poll.id: poll for poll in polls}
        assert list(by_id) == ["lunch", "toppings", "claps", "rate-it", "words", "again"]
        assert current == "rate-it" and used == set(by_id) | {"gone"}
        assert by_id["lunch"].ballots == {"ann": ("pizza",), "bob": ("salad",)}
        assert by_id["lunch"].counts == {"pizza": 1, "salad": 1}
        assert by_id["toppings"].ballots == {"ann": ("cheese", "ham"), "bob": ("olives",)}
        assert by_id["toppings"].settings.max_choices == 2
        assert (by_id["claps"].counts, by_id["claps"].total, by_id["claps"].open) == ({"clap": 5, "boo": 0}, 5, False)
        rate = by_id["rate-it"]
        assert (rate.ballots, rate.revealed, rate.settings.results, rate.settings.changes) == (
            {"ann": ("-2",), "bob": ("1",)}, True, "hidden", "locked",
        )  # fmt: skip
        assert by_id["words"].results(shown=None)["counts"] == {"Calm": 2, "Tea": 1}  # "Spam" stays hidden
        again = by_id["again"]
        assert (again.resets, again.ballots, again.closes_at is not None) == (1, {"bob": ("no",)}, True)
        assert qa.snapshot() == QandA().snapshot()
        # Q&A is saved in the upgraded file like in a new one.
        changes = Changes()
        changes.question(qa.ask("ann", "Upgraded?", None, ASKED_AT))
        store.save(changes, [])
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(str(db))) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert [q.text for q in saved_qa(db).questions.values()] == ["Upgraded?"]
    assert loaded(db)[0][0][1] == {"ann": ("pizza",), "bob": ("salad",)}
    with Hub(db=db) as hub:
        assert hub.poll("again").open is False  # its countdown ended while no server ran
        assert hub.vote("lunch", "salad", voter="ann") == "salad"  # ann's version 2 ballot moves: no second vote
        assert hub.results("lunch") == {"pizza": 0, "salad": 2}
        assert hub.upvote("q1", voter="bob") == 1
    with Hub(db=db) as hub:
        assert hub.results("lunch") == {"pizza": 0, "salad": 2}
        assert [(q["id"], q["upvotes"]) for q in hub.questions()] == [("q1", 1)]


def quiz_rows(db: Path) -> Tuple[List[Tuple[str, str]], List[Tuple[str, int]], List[Tuple[str, str, str]]]:
    """The nicknames, the reveals and every ballot, as the file holds them."""
    with contextlib.closing(sqlite3.connect(str(db))) as check:
        return (
            check.execute("SELECT voter, nickname FROM nicknames ORDER BY voter").fetchall(),
            check.execute("SELECT poll_id, position FROM quiz_reveals ORDER BY position").fetchall(),
            check.execute("SELECT poll_id, voter, ballot FROM ballots ORDER BY poll_id, voter").fetchall(),
        )


def test_nicknames_and_reveals_are_saved_with_the_batch_and_a_replay_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    changes = Changes()
    lunch = voted_poll("lunch", ["ann", "bob"], changes)
    for voter, nickname in (("ann", "Ann"), ("bob", "Bobby"), ("bob", "Bob")):  # bob renamed
        changes.nickname(voter, nickname)
    changes.quiz_reveal("lunch", 1)
    store = Store(db)
    try:
        store.save(changes, [lunch])
        store.save(changes, [lunch])  # a batch replayed after its commit reached the disk
        nicknames, reveals, ballots = quiz_rows(db)
        assert nicknames == [("ann", "Ann"), ("bob", "Bob")]
        assert reveals == [("lunch", 1)]
        polls, _, _, _, players = store.load()
        assert players.nicknames == {"ann": "Ann", "bob": "Bob"}
        assert polls[0].answer_revealed == 1
        changes = Changes()
        changes.ops.append(("delete", "lunch"))
        store.save(changes, [])
        assert quiz_rows(db) == ([("ann", "Ann"), ("bob", "Bob")], [], [])  # a deleted poll's reveal goes with it
    finally:
        store.close()


def test_a_reveal_taken_back_by_a_reset_leaves_no_row_and_two_voters_with_one_nickname_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "reset.db"
    changes = Changes()
    quiz = voted_poll("capital", ["ann"], changes)
    changes.quiz_reveal("capital", 1)
    changes.reset("capital")
    changes.quiz_reveal("capital", 0)
    changes.nickname("ann", "Ann")
    store = Store(db)
    try:
        store.save(changes, [quiz])
        store.save(changes, [quiz])  # replayed
        assert quiz_rows(db) == ([("ann", "Ann")], [], [])
        assert store.load()[0][0].answer_revealed == 0
        store.db.execute("INSERT INTO nicknames (voter, nickname) VALUES ('bob', 'ANN')")
        with pytest.raises(StorageError, match="not a usable pollhub database .*two voters have the nickname"):
            store.load()
    finally:
        store.close()


def test_a_version_3_file_is_upgraded_in_place_keeping_every_vote_and_question(tmp_path: Path) -> None:
    """``schema-v3.db`` was written by pollhub before quizzes (tests/fixtures/make_schema_v3.py says how)."""
    db = tmp_path / "v3.db"
    shutil.copyfile(FIXTURES / "schema-v3.db", db)
    with contextlib.closing(sqlite3.connect(str(db))) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 3
        rows_before = {
            table: sorted(old.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("polls", "options", "ballots", "hidden_answers", "used_poll_ids", "state", "questions", "upvotes", "qa_settings")
        }
    with pytest.raises(StorageError, match="schema version 3 needs a pollhub server start to upgrade it"):
        Store(db, readonly=True)
    Store(db).close()  # the upgrade
    with contextlib.closing(sqlite3.connect(str(db))) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        for table, rows in rows_before.items():  # every row of version 3 as it was
            assert sorted(check.execute(f"SELECT * FROM {table}").fetchall()) == rows, table
        assert check.execute("SELECT COUNT(*) FROM nicknames").fetchone()[0] == 0
        assert check.execute("SELECT COUNT(*) FROM quiz_reveals").fetchone()[0] == 0
    with Hub(db=db) as hub:
        assert [p.id for p in hub.polls()] == ["lunch", "toppings", "words", "tell-us"]
        assert hub.current == "lunch"
        assert hub.results("lunch") == {"pizza": 1, "salad": 1}
        assert hub.results("toppings") == {"cheese": 1, "ham": 1, "olives": 0}
        assert hub.vote("lunch", "salad", voter="ann") == "salad"  # ann's version 3 ballot moves: no second vote
        assert [(q["id"], q["state"], q["upvotes"]) for q in hub.questions()] == [("q1", "answered", 2), ("q2", "waiting", 0)]
        assert hub.qa_settings()["moderation"] is True
        words = hub.export()["polls"][2]
        assert words["counts"] == {"Calm": 2, "Tea": 1}  # "Spam" stays hidden
        opened = hub.export()["polls"][3]
        assert [a["text"] for a in opened["answers"]] == ["It was fine"]
    with Hub(db=db) as hub:
        assert hub.results("lunch") == {"pizza": 0, "salad": 2}


def test_a_hub_restarts_with_its_questions_upvotes_and_settings(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    with Hub(db=db) as hub:
        hub.create_poll("Lunch?", ["Pizza", "Salad"])
        first = hub.ask("What is for lunch?", "Ann", voter="ann")
        hub.upvote(first["id"], voter="bob")
        hub.upvote(first["id"], voter="cid")
        hub.unvote(first["id"], voter="cid")
        hub.qa_settings(moderation=True, stage="qa")
        waiting = hub.ask("Is it vegan?", voter="bob")
        gone = hub.ask("Spam?", voter="cid")
        hub.dismiss_question(gone["id"])
        hub.highlight_question(first["id"])
        hub.qa_settings(open=False)
        questions, settings = hub.questions(), hub.qa_settings()
    assert waiting["state"] == "waiting" and settings["highlight"] == first["id"]
    with Hub(db=db) as hub:
        assert hub.questions() == questions
        assert hub.qa_settings() == settings == {"moderation": True, "open": False, "highlight": "q1", "stage": "qa"}
        assert hub.upvote(first["id"], voter="bob") == 1  # bob's upvote was kept: still one
        assert hub.upvote(first["id"], voter="cid") == 2  # cid's was taken back before the restart
        hub.qa_settings(open=True)
        with pytest.raises(DuplicateQuestion):  # the restored questions count for the limits
            hub.ask("what is for LUNCH?", voter="ann")
        hub.answer_question(first["id"])
        answered = hub.questions()[0]
    with Hub(db=db) as hub:
        assert hub.questions()[0] == answered and answered["state"] == "answered"
        assert hub.qa_settings()["highlight"] is None  # answering the highlighted question ended the highlight


def test_a_hub_restarts_with_its_nicknames_answers_reveals_and_leaderboard_moves(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    with Hub(db=db) as hub:
        first = hub.create_poll("Capital?", ["Paris", "Rome"], "quiz", correct=["Paris"], time_limit=60).id
        second = hub.create_poll("Bigger?", ["Oslo", "Lima"], "quiz", correct=["Lima"], time_limit=60).id
        for voter, name in (("ann", "Ann"), ("bob", "Bob"), ("cid", "cid")):
            hub.set_nickname(name, voter=voter)
        hub.open_poll(first)
        hub.vote(first, "paris", voter="ann")
        hub.vote(first, "rome", voter="bob")
        hub.close_poll(first)
        hub.reveal_answer(first)
        board, exported = hub.leaderboard(), hub.export()
    assert [(e["nickname"], e["rank"]) for e in board] == [("Ann", 1), ("Bob", 2), ("cid", 2)]
    with Hub(db=db) as hub:
        assert hub.leaderboard() == board
        assert hub.export() == {**exported, "polls": hub.export()["polls"]}
        assert [p["answers"] for p in hub.export()["polls"]] == [p["answers"] for p in exported["polls"]]
        with pytest.raises(PollhubError, match="taken"):
            hub.set_nickname("ann", voter="dan")  # the restored nicknames are taken
        with pytest.raises(PollhubError, match="ran already"):
            hub.open_poll(first)
        hub.open_poll(second)
        hub.vote(second, "lima", voter="cid")
        hub.close_poll(second)
        hub.reveal_answer(second)
        with PollServer(hub, port=0) as server, PollClient(server.url, timeout=TIMEOUT) as onlooker:
            moves = {e["nickname"]: e["moved"] for e in onlooker.leaderboard()}
        after = hub.leaderboard()
    assert moves["Bob"] == -1  # second to third: moves count from the reveal before the restart
    assert None not in moves.values()
    with Hub(db=db) as hub:
        assert hub.leaderboard() == after
        hub.reset_quiz()
    with Hub(db=db) as hub:
        assert [e["score"] for e in hub.leaderboard()] == [0, 0, 0]
        assert [(p.id, p.open, p.total) for p in hub.polls()] == [(first, False, 0), (second, False, 0)]
        with pytest.raises(PollhubError, match="taken"):
            hub.set_nickname("BOB", voter="dan")  # the reset keeps nicknames
        hub.open_poll(first)  # and lets each question run again


# One process per database ------------------------------------------------------------


def test_a_second_store_in_the_same_process_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    store = Store(db)
    try:
        with pytest.raises(StorageError, match=rf"is in use by another pollhub \(pid {os.getpid()}\); stop it first"):
            Store(db)
        with pytest.raises(StorageError, match="in use"):
            Hub(db=db).start()
        Store(db, readonly=True).close()  # export takes no lock
    finally:
        store.close()
    Store(db).close()


def test_a_second_server_on_the_same_database_exits_and_kill_9_leaves_no_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    server = serve(db)
    try:
        url_of(server)
        second = subprocess.run(
            [sys.executable, "-m", "pollhub", "--port", "0", "--db", str(db)], capture_output=True, text=True, timeout=TIMEOUT
        )
        assert second.returncode == 2
        assert f"is in use by another pollhub (pid {server.proc.pid}); stop it first or pick another --db" in second.stderr
        assert "Traceback" not in second.stderr
        server.proc.kill()  # SIGKILL: no clean-up code runs
        server.proc.wait(TIMEOUT)
    finally:
        server.kill()
    Store(db).close()


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


class WireClient:
    """A plain websocket-client connection that speaks the protocol, one request at a time."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=TIMEOUT)
        self.welcome = self.receive()
        assert self.welcome["type"] == "welcome", self.welcome
        self.hello: Dict[str, Any] = {}  # the reply to a hello, if one was sent
        self.refs = 0

    def receive(self) -> Dict[str, Any]:
        message: Dict[str, Any] = json.loads(self.ws.recv())  # the connection's timeout bounds the wait
        return message

    def request(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """Send ``message`` with a new ``ref``; return the reply with that ref (broadcasts before it are skipped)."""
        self.refs += 1
        self.ws.send(json.dumps({**message, "ref": self.refs}))
        while True:
            reply = self.receive()
            if reply.get("ref") == self.refs:
                return reply

    def close(self) -> None:
        self.ws.close()


@contextlib.contextmanager
def wire_client(url: str, **hello: Any) -> Iterator[WireClient]:
    """A connected :class:`WireClient`, after a ``hello`` with ``hello``'s fields if any."""
    client = WireClient(url)
    try:
        if hello:
            client.hello = client.request({"type": "hello", **hello})
            assert client.hello["type"] == "hello", client.hello
        yield client
    finally:
        client.close()


def test_sigkill_loses_no_acknowledged_question_upvote_or_qa_setting(tmp_path: Path) -> None:
    db = tmp_path / "qa.db"
    server = serve(db)
    try:
        url = url_of(server)
        with wire_client(url, voter="ann") as ann, wire_client(url, voter="bob") as bob:
            asked = ann.request({"type": "ask", "text": "Will it survive kill -9?", "name": "Ann"})
            assert asked["type"] == "asked" and asked["question"]["id"] == "q1", asked
            upvoted = bob.request({"type": "upvote", "question": "q1"})
            assert (upvoted["type"], upvoted["upvotes"]) == ("upvoted", 1), upvoted
            with wire_client(url, token="tok") as presenter:
                ok = presenter.request({"type": "qa_settings", "moderation": True})
                assert ok["type"] == "ok", ok
            waiting = bob.request({"type": "ask", "text": "And this one?"})
            assert waiting["question"]["state"] == "waiting", waiting
            server.proc.kill()  # SIGKILL: every reply above was acknowledged, so it is on disk
            server.proc.wait(TIMEOUT)
    finally:
        server.kill()
    server = serve(db)
    try:
        url = url_of(server)
        with wire_client(url) as onlooker:
            qa = onlooker.welcome["qa"]
            assert (qa["moderation"], qa["open"]) == (True, True)
            assert [(q["id"], q["text"], q["name"], q["upvotes"], q["state"]) for q in qa["questions"]] == [
                ("q1", "Will it survive kill -9?", "Ann", 1, "published"),
            ]  # bob's question waits for moderation: not for everyone's eyes
        with wire_client(url, voter="bob") as bob:
            assert bob.hello["qa"] == {"mine": ["q2"], "upvoted": ["q1"]}
            again = bob.request({"type": "upvote", "question": "q1"})
            assert (again["upvoted"], again["upvotes"]) == (True, 1)  # the saved upvote: still one
        server.stop()
    finally:
        server.kill()


def test_sigkill_loses_no_nickname_answer_reveal_or_leaderboard(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    server = serve(db)
    try:
        url = url_of(server)
        with wire_client(url, token="tok") as presenter:
            created = presenter.request({
                "type": "create_poll", "question": "Capital?", "options": ["Paris", "Rome"], "kind": "quiz",
                "correct": ["Paris"], "time_limit": 60,
            })  # fmt: skip
            assert created["type"] == "ok", created
            poll = created["poll"]
            with wire_client(url, voter="ann") as ann, wire_client(url, voter="bob") as bob:
                assert ann.request({"type": "nickname", "nickname": "Ann"})["nickname"] == "Ann"
                assert bob.request({"type": "nickname", "nickname": "Bob"})["nickname"] == "Bob"
                assert presenter.request({"type": "open_poll", "poll": poll})["type"] == "ok"
                assert ann.request({"type": "vote", "poll": poll, "option": "paris"})["type"] == "voted"
                assert bob.request({"type": "vote", "poll": poll, "option": "rome"})["type"] == "voted"
            assert presenter.request({"type": "close_poll", "poll": poll})["type"] == "ok"
            assert presenter.request({"type": "reveal_answer", "poll": poll})["type"] == "ok"
            second = presenter.request({
                "type": "create_poll", "question": "Bigger?", "options": ["Oslo", "Lima"], "kind": "quiz",
                "correct": ["Lima"], "time_limit": 60,
            })["poll"]  # fmt: skip
            assert presenter.request({"type": "rename_nickname", "nickname": "bob", "to": "Bobby"})["nickname"] == "Bobby"
            server.proc.kill()  # SIGKILL: every reply above was acknowledged, so it is on disk
            server.proc.wait(TIMEOUT)
    finally:
        server.kill()
    exported = subprocess.run(
        [sys.executable, "-m", "pollhub", "export", "--db", str(db), "--format", "json"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    capital = next(p for p in document["polls"] if p["id"] == poll)
    assert capital["correct"] == ["paris"]
    points = {a["nickname"]: (a["options"], a["points"]) for a in capital["answers"]}
    assert points["Bobby"] == (["rome"], 0) and points["Ann"][0] == ["paris"] and 500 <= points["Ann"][1] <= 1000
    assert [(e["nickname"], e["rank"]) for e in document["leaderboard"]] == [("Ann", 1), ("Bobby", 2)]
    server = serve(db)
    try:
        url = url_of(server)
        with wire_client(url) as onlooker:
            quiz = onlooker.welcome["quiz"]
            assert [(e["nickname"], e["score"]) for e in quiz["top"]] == [("Ann", points["Ann"][1]), ("Bobby", 0)]
            shown = next(p for p in onlooker.welcome["polls"] if p["id"] == poll)
            assert shown["answer_revealed"] is True and shown["correct"] == ["paris"]
        with wire_client(url, voter="bob") as bob:
            assert bob.hello["nickname"] == "Bobby"
            with wire_client(url, token="tok") as presenter:
                assert presenter.request({"type": "open_poll", "poll": poll})["type"] == "error"  # it ran: reset first
                assert presenter.request({"type": "open_poll", "poll": second})["type"] == "ok"
                assert bob.request({"type": "vote", "poll": second, "option": "lima"})["type"] == "voted"
                assert presenter.request({"type": "close_poll", "poll": second})["type"] == "ok"
                assert presenter.request({"type": "reveal_answer", "poll": second})["type"] == "ok"
            score = bob.receive()
            while score["type"] != "score":
                score = bob.receive()
            assert (score["rank"], score["of"]) == (1 if score["total"] >= points["Ann"][1] else 2, 2)  # equal totals share first place
        server.stop()
    finally:
        server.kill()


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
