"""Durable state in SQLite: loaded when the hub starts, committed once per batch.

Only the hub thread writes. It collects what a batch changed as a list of
operations (:class:`Changes`) and :meth:`Store.save` writes them and the new
counts of every changed poll in one transaction, so persistence costs one
commit per batch, not one per vote. The database runs in WAL mode with
``synchronous=FULL``: once ``save`` returns, the batch survives ``kill -9``
and a power cut, and readers (``python -m pollhub export``) never block the
writer.

Audience Q&A (:mod:`pollhub.qa`) is saved the same way, in the same
transaction: each question as it was asked and its state, each upvote
(a row per question and voter, so a restart keeps who upvoted what) and the
Q&A settings. So are quizzes (:mod:`pollhub.quiz`): each voter's nickname
and the number of each quiz question's reveal; a quiz answer's time and
points are in its ballot.

The schema has a version (``PRAGMA user_version``); :class:`Store` migrates
an older database forward and refuses one written by a newer pollhub. A file
that is not a pollhub database, or whose pages are damaged, is an error,
never replaced.

A writable store holds an exclusive lock on ``<database>.lock`` for as long
as it is open, so two servers never write one file; the operating system
drops the lock when the process ends, even by ``kill -9``. It also proves at
open that the file can take a write, so a read-only file is refused at start
rather than at the first vote. After a failed :meth:`Store.save` (a full
disk), :meth:`Store.recover` makes the store usable again.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .changes import Changes  # re-exported: the hub and the tests take it from here too
from .polls import Ballot, PollState, Settings
from .qa import QandA
from .quiz import Players

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # no module here: the platform's other lock is used
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]  # no module here: the platform's other lock is used

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4

#: Appended to the database's path to name the file a writable store locks.
LOCK_SUFFIX = ".lock"
#: Windows locks a byte range, and a locked range cannot be read by others:
#: the lock takes one byte far past the holder's pid, which stays readable.
WINDOWS_LOCK_OFFSET = 1 << 30
#: Problems ``PRAGMA quick_check`` reports at most (the first one is shown).
QUICK_CHECK_LIMIT = 1
#: Words in an error that mean the connection itself may be broken.
BROKEN_CONNECTION_WORDS = ("disk i/o error", "closed database")

SCHEMA_V1 = """
CREATE TABLE polls (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL,
    open INTEGER NOT NULL,
    total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE options (
    poll_id TEXT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    label TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, id)
);
CREATE TABLE choices (
    poll_id TEXT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    option_id TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter)
);
CREATE TABLE used_poll_ids (id TEXT PRIMARY KEY);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT);
"""

# Version 2: poll kinds and presenter control. A poll's settings (kind-specific
# fields, results visibility, vote changes) as JSON, whether its results were
# revealed, its countdown, how often it was reset; each voter's whole ballot
# (its items joined by newlines: option ids, a scale value or answers, none of
# which can hold a newline) for every kind; the answers a presenter hid.
SCHEMA_V2 = """
ALTER TABLE polls ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE polls ADD COLUMN revealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE polls ADD COLUMN closes_at REAL;
ALTER TABLE polls ADD COLUMN resets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE choices RENAME TO ballots;
ALTER TABLE ballots RENAME COLUMN option_id TO ballot;
CREATE TABLE hidden_answers (
    poll_id TEXT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    answer TEXT NOT NULL,
    PRIMARY KEY (poll_id, answer)
);
"""

# Version 3: audience Q&A. Questions in asking order (``position``), with the
# voter who asked (never exported nor sent to others); one row per upvote;
# the settings in a table of at most one row (none: the defaults of
# pollhub.qa). Nothing of version 2 changes, so an upgrade keeps every vote.
SCHEMA_V3 = """
CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    voter TEXT NOT NULL,
    name TEXT,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    asked_at REAL NOT NULL,
    answered_at REAL
);
CREATE TABLE upvotes (
    question_id TEXT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    PRIMARY KEY (question_id, voter)
);
CREATE TABLE qa_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    moderation INTEGER NOT NULL,
    open INTEGER NOT NULL,
    highlight TEXT,
    stage TEXT NOT NULL
);
"""

# Version 4: quizzes. Each voter's nickname (unique ignoring case: the book
# checks that, so a batch that swaps two nicknames saves in any order), and
# the number of each quiz question's reveal (1, 2, ...: the leaderboard's
# moves count from the reveal before; no row: not revealed). A quiz answer's
# time and points live in its ballot, so nothing of version 3 changes: an
# upgrade keeps every vote and question.
SCHEMA_V4 = """
CREATE TABLE nicknames (
    voter TEXT PRIMARY KEY,
    nickname TEXT NOT NULL
);
CREATE TABLE quiz_reveals (
    poll_id TEXT PRIMARY KEY REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
"""

#: Scripts that take a database from version N-1 to version N, by N.
MIGRATIONS: Dict[int, str] = {1: SCHEMA_V1, 2: SCHEMA_V2, 3: SCHEMA_V3, 4: SCHEMA_V4}


class StorageError(Exception):
    """The database cannot be used: in use, unwritable, unreadable, damaged, not pollhub's, or from a newer pollhub."""


def default_path() -> Path:
    """Where ``python -m pollhub`` keeps its database by default."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "pollhub" / "pollhub.db"


class _ProcessLock:
    """An exclusive lock on ``<database>.lock``, dropped by the OS when the process ends.

    ``flock`` (POSIX) and ``msvcrt.locking`` (Windows) locks belong to one
    open file, so a second store in the same process is refused too, and a
    killed process never leaves a stale lock. The file keeps the holder's pid
    for the message others get; it is never deleted, because a process that
    opened it just before the deletion would lock a file nobody else sees.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: Optional[int] = fd

    @classmethod
    def acquire(cls, database: Path) -> "Optional[_ProcessLock]":
        """Lock ``database``'s lock file; None where the platform has no locks.

        Raises :class:`StorageError` if another store holds it, or if the
        lock file cannot be created (a read-only directory or mount).
        """
        if fcntl is None and msvcrt is None:  # pragma: no cover - neither POSIX nor Windows
            logger.warning("no file locking here: nothing stops a second pollhub from using %s", database)
            return None
        path = Path(str(database.resolve()) + LOCK_SUFFIX)
        try:
            fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(_unwritable(database, f"cannot create {path}: {exc.strerror}")) from None
        try:
            _lock_fd(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK):
                raise StorageError(
                    f"{database} is in use by another pollhub{_holder(path)}; stop it first or pick another --db"
                ) from None
            raise StorageError(f"{database}: cannot lock {path}: {exc.strerror}") from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError as exc:  # only the message others get would lack the pid
            logger.debug("could not write the pid into %s: %s", path, exc)
        return cls(path, fd)

    def release(self) -> None:
        """Unlock and close; idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if msvcrt is not None and fcntl is None:  # closing alone would not unlock on Windows
                os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError as exc:
            logger.debug("could not unlock %s: %s", self.path, exc)
        finally:
            os.close(fd)  # drops an flock


def _lock_fd(fd: int) -> None:
    """Take the lock on ``fd`` without waiting; OSError if it is held."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:  # pragma: no cover - Windows
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def _holder(lock_path: Path) -> str:
    """`` (pid N)`` from the lock file, or nothing if it cannot be read."""
    try:
        pid = int(lock_path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return ""
    return f" (pid {pid})"


def _unwritable(path: Path, reason: str) -> str:
    return f"{path}: the database cannot be written ({reason}); check the file's permissions and the disk"


def _unusable(path: Path, reason: object) -> str:
    return f"{path}: not a usable pollhub database ({reason}); it was left untouched"


class Store:
    """One SQLite database, opened (and migrated) by the constructor.

    A writable store locks the database for this process until :meth:`close`
    and proves that the file takes a write; a readonly one (``export``) does
    neither and writes nothing. Raises :class:`StorageError` for a file that
    cannot be used: in use by another store, unwritable, damaged, not
    pollhub's or from a newer pollhub; the file is left untouched. After
    that, only one thread may use it at a time (the hub thread, once
    started).
    """

    def __init__(self, path: "os.PathLike[str] | str", readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock: Optional[_ProcessLock] = None
        # The error of the last save() when it failed: recover() reads it, and
        # the next successful save() checkpoints the WAL that grew meanwhile.
        self._failure: Optional[BaseException] = None
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"{self.path}: cannot open the database: {exc}") from None
            self._lock = _ProcessLock.acquire(self.path)
        try:
            self.db = self._connect()
        except (sqlite3.Error, OSError) as exc:
            self._release_lock()
            raise StorageError(f"{self.path}: cannot open the database: {exc}") from None
        try:
            self._prepare(readonly)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StorageError(_unusable(self.path, exc)) from None
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.exists():
                raise StorageError(f"{self.path}: no such database")
            uri = self.path.resolve().as_uri() + "?mode=ro"
            return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        return sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)

    def _configure(self) -> None:
        """The pragmas of a writable connection (they do not persist across connections)."""
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.execute("PRAGMA foreign_keys = ON")

    def _prepare(self, readonly: bool) -> None:
        db = self.db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path}: written by a newer pollhub (schema version {version}; this one knows "
                f"up to {SCHEMA_VERSION}). Upgrade pollhub, or pick another file with --db."
            )
        if version == 0 and tables:
            raise StorageError(f"{self.path}: this SQLite file is not a pollhub database; it was left untouched")
        self._check_pages()
        if readonly:
            if version < SCHEMA_VERSION:
                raise StorageError(f"{self.path}: schema version {version} needs a pollhub server start to upgrade it")
            return
        # Before anything else writes: a read-only file must fail here, with
        # this message, not at the first vote nor as "not usable" in a migration.
        problem = self._write_problem()
        if problem is not None:
            raise StorageError(_unwritable(self.path, problem))
        self._configure()
        for target in range(version + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _check_pages(self) -> None:
        """Raise StorageError if a page is damaged: the header alone can look fine.

        ``quick_check`` reads every page (not the indexes' agreement with the
        tables, which ``integrity_check`` would add at a much higher cost).
        """
        rows = self.db.execute(f"PRAGMA quick_check({QUICK_CHECK_LIMIT})").fetchall()
        if rows != [("ok",)]:
            problem = str(rows[0][0]) if rows else "quick_check gave no answer"
            # One line: "*** in database main ***" is a heading, then the problem.
            problem = " ".join(line for line in problem.splitlines() if not line.startswith("***"))
            raise StorageError(_unusable(self.path, problem))

    def _write_problem(self) -> Optional[str]:
        """None if a real write transaction commits, else SQLite's reason.

        It re-sets ``user_version`` to its value: a harmless write that still
        goes through the journal and the commit, unlike ``BEGIN IMMEDIATE``
        alone, which succeeds on a read-only file.
        """
        db = self.db
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
            return None
        except sqlite3.Error as exc:
            self._rollback_quietly()
            return str(exc)

    # Reading ---------------------------------------------------------------------

    def load(self) -> Tuple[List[PollState], Optional[str], Set[str], QandA, Players]:
        """Every poll (in the presenter's order), the current poll's id, every poll id ever used, the Q&A and the quiz's players.

        Raises :class:`StorageError` if SQLite finds a damaged page, or for
        rows pollhub cannot have written (a question in an unknown state, two
        voters with one nickname).
        """
        try:
            polls, current, used = self._load_polls()
            return polls, current, used, self._load_qa(), self._load_players()
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise StorageError(_unusable(self.path, exc)) from None

    def _load_polls(self) -> Tuple[List[PollState], Optional[str], Set[str]]:
        db = self.db
        options: Dict[str, List[Tuple[str, str, int]]] = {}
        for poll_id, option_id, label, count in db.execute(
            "SELECT poll_id, id, label, count FROM options ORDER BY poll_id, position"
        ):
            options.setdefault(poll_id, []).append((option_id, label, count))
        ballots: Dict[str, Dict[str, Ballot]] = {}
        for poll_id, voter, ballot in db.execute("SELECT poll_id, voter, ballot FROM ballots"):
            ballots.setdefault(poll_id, {})[voter] = tuple(ballot.split("\n"))
        hidden: Dict[str, List[str]] = {}
        for poll_id, answer in db.execute("SELECT poll_id, answer FROM hidden_answers"):
            hidden.setdefault(poll_id, []).append(answer)
        reveals: Dict[str, int] = dict(db.execute("SELECT poll_id, position FROM quiz_reveals").fetchall())
        polls = [
            PollState.restore(
                poll_id,
                question,
                Settings.from_json({**json.loads(settings), "kind": kind}),
                options.get(poll_id, []),
                ballots.get(poll_id, {}),
                is_open=bool(is_open),
                revealed=bool(revealed),
                closes_at=closes_at,
                hidden=hidden.get(poll_id, ()),
                resets=resets,
                answer_revealed=reveals.get(poll_id, 0),
            )
            for poll_id, question, kind, settings, is_open, revealed, closes_at, resets in db.execute(
                "SELECT id, question, kind, settings, open, revealed, closes_at, resets FROM polls ORDER BY position"
            )
        ]
        row = db.execute("SELECT value FROM state WHERE key = 'current'").fetchone()
        current = row[0] if row else None
        used = {row[0] for row in db.execute("SELECT id FROM used_poll_ids")}
        return polls, current, used

    def _load_qa(self) -> QandA:
        """The questions in asking order, their upvotes and the Q&A settings (the defaults if never set)."""
        db = self.db
        row = db.execute("SELECT moderation, open, highlight, stage FROM qa_settings WHERE id = 1").fetchone()
        settings: Dict[str, Any] = {}
        if row is not None:
            settings = {"moderation": bool(row[0]), "open": bool(row[1]), "highlight": row[2], "stage": row[3]}
        questions = db.execute(
            "SELECT id, voter, name, text, state, asked_at, answered_at FROM questions ORDER BY position"
        ).fetchall()
        upvotes = db.execute("SELECT question_id, voter FROM upvotes").fetchall()
        return QandA.restore_rows(settings, questions, upvotes)

    def _load_players(self) -> Players:
        """Every voter's nickname; ``ValueError`` if two voters have one nickname (ignoring case)."""
        nicknames: Dict[str, str] = dict(self.db.execute("SELECT voter, nickname FROM nicknames ORDER BY voter").fetchall())
        players = Players(nicknames)
        for voter, nickname in nicknames.items():
            if players.owner(nickname) != voter:
                raise ValueError(f"two voters have the nickname {nickname[:40]!r}")
        return players

    # Writing (the hub thread) ----------------------------------------------------

    def save(self, changes: Changes, polls: Sequence[PollState]) -> None:
        """Write ``changes`` (polls, ballots, questions, upvotes) and the counts of ``polls`` in one transaction.

        All or nothing: if it raises (``sqlite3.Error``, ``OSError``), the
        transaction was rolled back and none of the batch is saved; the caller
        may call :meth:`recover` and then save the same ``changes`` again,
        with newer operations appended (replaying them is safe). ``polls``
        must then hold every poll changed since the last successful save.
        The first save that succeeds after a failure also checkpoints the
        WAL, so a file that grew while the disk was full shrinks again.
        """
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            for op in changes.ops:
                _WRITERS[op[0]](db, *op[1:])
            db.executemany(
                "INSERT OR REPLACE INTO ballots (poll_id, voter, ballot) VALUES (?, ?, ?)",
                [(poll_id, voter, "\n".join(ballot)) for (poll_id, voter), ballot in changes.ballots.items()],
            )
            _write_upvotes(db, changes.upvotes)
            for poll in polls:
                # Absolute values, resets included, so that replaying a batch
                # changes nothing that the first attempt already wrote.
                db.execute("UPDATE polls SET total = ?, resets = ? WHERE id = ?", (poll.total, poll.resets, poll.id))
                if poll.options:
                    db.executemany(
                        "UPDATE options SET count = ? WHERE poll_id = ? AND id = ?",
                        [(count, poll.id, option_id) for option_id, count in poll.counts.items()],
                    )
            db.execute("COMMIT")
        except BaseException as exc:
            self._failure = exc
            self._rollback_quietly()
            raise
        if self._failure is not None:
            self._failure = None
            self._checkpoint()

    def recover(self) -> bool:
        """Make the store usable after :meth:`save` raised; True if it can take a write again.

        Rolls back whatever is still open, reopens the connection (same path,
        same pragmas, the process lock kept) if it looks broken, then
        truncates the WAL with a checkpoint: on a full disk the WAL keeps the
        space of the failed writes until a checkpoint runs. Never raises;
        call it again later while it returns False.
        """
        try:
            self._rollback_quietly()
            if self._connection_broken():
                self._reopen()
            problem = self._write_problem()
            self._checkpoint()  # after the probe, which writes to the WAL too
            if problem is not None:
                logger.debug("%s: still cannot write: %s", self.path, problem)  # the hub said so once
            return problem is None
        except Exception as exc:  # the hub thread must keep running
            logger.debug("%s: cannot recover yet: %s", self.path, exc)
            return False

    def writable(self) -> bool:
        """True if a real write transaction commits now (for ``/healthz``); never raises."""
        if self.readonly:
            return False
        try:
            return self._write_problem() is None
        except Exception:  # a closed connection, say
            return False

    def close(self) -> None:
        """Close the connection and release the process lock; idempotent."""
        try:
            self.db.close()
        finally:
            self._release_lock()

    # Recovery helpers ------------------------------------------------------------

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _rollback_quietly(self) -> None:
        """Roll back an open transaction; a failure here must not hide the error that led here."""
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            logger.debug("%s: rollback failed: %s", self.path, exc)

    def _connection_broken(self) -> bool:
        """True if the last save failed in a way that may have broken the connection, or it answers no query."""
        failure = self._failure
        if isinstance(failure, OSError) or any(word in str(failure).lower() for word in BROKEN_CONNECTION_WORDS):
            return True
        try:
            self.db.execute("SELECT 1").fetchone()
            return False
        except sqlite3.Error:
            return True

    def _reopen(self) -> None:
        """A new connection to the same file; the lock file stays locked throughout."""
        try:
            self.db.close()
        except sqlite3.Error as exc:
            logger.debug("%s: close before reopening failed: %s", self.path, exc)
        self.db = self._connect()
        self._configure()
        logger.info("%s: reopened the database connection", self.path)

    def _checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it; a failure is logged, never raised."""
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as exc:
            logger.debug("%s: checkpoint failed: %s", self.path, exc)


def _create(
    db: sqlite3.Connection, poll_id: str, question: str, kind: str, settings: str, options: List[Tuple[str, str]]
) -> None:
    # Poll ids are never reused, so a row with this id is this very poll from
    # a replayed batch whose first commit did reach the disk: keep it as is.
    position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM polls").fetchone()[0]
    db.execute(
        "INSERT OR IGNORE INTO polls (id, position, question, kind, settings, open) VALUES (?, ?, ?, ?, ?, 1)",
        (poll_id, position, question, kind, settings),
    )
    db.executemany(
        "INSERT OR IGNORE INTO options (poll_id, position, id, label) VALUES (?, ?, ?, ?)",
        [(poll_id, i, option_id, label) for i, (option_id, label) in enumerate(options)],
    )
    db.execute("INSERT OR IGNORE INTO used_poll_ids (id) VALUES (?)", (poll_id,))


def _open(db: sqlite3.Connection, poll_id: str, is_open: bool, closes_at: Optional[float]) -> None:
    db.execute("UPDATE polls SET open = ?, closes_at = ? WHERE id = ?", (int(is_open), closes_at, poll_id))


def _settings(db: sqlite3.Connection, poll_id: str, settings: str, revealed: bool) -> None:
    db.execute("UPDATE polls SET settings = ?, revealed = ? WHERE id = ?", (settings, int(revealed), poll_id))


def _hide(db: sqlite3.Connection, poll_id: str, answer_key: str) -> None:
    db.execute("INSERT OR IGNORE INTO hidden_answers (poll_id, answer) VALUES (?, ?)", (poll_id, answer_key))


def _reset(db: sqlite3.Connection, poll_id: str) -> None:
    db.execute("DELETE FROM ballots WHERE poll_id = ?", (poll_id,))
    db.execute("UPDATE options SET count = 0 WHERE poll_id = ?", (poll_id,))
    db.execute("UPDATE polls SET resets = resets + 1 WHERE id = ?", (poll_id,))


def _delete(db: sqlite3.Connection, poll_id: str) -> None:
    db.execute("DELETE FROM polls WHERE id = ?", (poll_id,))


def _current(db: sqlite3.Connection, poll_id: Optional[str]) -> None:
    db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('current', ?)", (poll_id,))


def _order(db: sqlite3.Connection, poll_ids: List[str]) -> None:
    db.executemany("UPDATE polls SET position = ? WHERE id = ?", list(enumerate(poll_ids, 1)))


def _question(
    db: sqlite3.Connection,
    question_id: str,
    voter: str,
    name: Optional[str],
    text: str,
    state: str,
    asked_at: float,
) -> None:
    # Question ids are never reused: an existing row is this question from a replayed batch.
    # The next position is taken in the same statement (one query per question, not two).
    db.execute(
        "INSERT OR IGNORE INTO questions (id, position, voter, name, text, state, asked_at)"
        " SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ?, ? FROM questions",
        (question_id, voter, name, text, state, asked_at),
    )


def _question_state(db: sqlite3.Connection, question_id: str, state: str, answered_at: Optional[float]) -> None:
    db.execute("UPDATE questions SET state = ?, answered_at = ? WHERE id = ?", (state, answered_at, question_id))


def _qa_settings(db: sqlite3.Connection, moderation: bool, is_open: bool, highlight: Optional[str], stage: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO qa_settings (id, moderation, open, highlight, stage) VALUES (1, ?, ?, ?, ?)",
        (int(moderation), int(is_open), highlight, stage),
    )


def _write_upvotes(db: sqlite3.Connection, upvotes: Dict[Tuple[str, str], bool]) -> None:
    """Add the upvotes given (True) and take back the others; either is a no-op when replayed."""
    db.executemany(
        "INSERT OR IGNORE INTO upvotes (question_id, voter) VALUES (?, ?)", [key for key, up in upvotes.items() if up]
    )
    db.executemany(
        "DELETE FROM upvotes WHERE question_id = ? AND voter = ?", [key for key, up in upvotes.items() if not up]
    )


def _nickname(db: sqlite3.Connection, voter: str, nickname: str) -> None:
    db.execute("INSERT OR REPLACE INTO nicknames (voter, nickname) VALUES (?, ?)", (voter, nickname))


def _quiz_reveal(db: sqlite3.Connection, poll_id: str, order: int) -> None:
    """A quiz question's answer revealed as the ``order``-th; 0: taken back (a reset)."""
    if order:
        db.execute("INSERT OR REPLACE INTO quiz_reveals (poll_id, position) VALUES (?, ?)", (poll_id, order))
    else:
        db.execute("DELETE FROM quiz_reveals WHERE poll_id = ?", (poll_id,))


_WRITERS: Dict[str, Callable[..., None]] = {
    "create": _create,
    "open": _open,
    "settings": _settings,
    "hide": _hide,
    "reset": _reset,
    "delete": _delete,
    "current": _current,
    "order": _order,
    "question": _question,
    "question_state": _question_state,
    "qa_settings": _qa_settings,
    "nickname": _nickname,
    "quiz_reveal": _quiz_reveal,
}
