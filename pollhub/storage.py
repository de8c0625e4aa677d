"""Durable state in SQLite: loaded when the hub starts, committed once per batch.

Only the hub thread writes. It collects what a batch changed as a list of
operations (:class:`Changes`) and :meth:`Store.save` writes them and the new
counts of every changed poll in one transaction, so persistence costs one
commit per batch, not one per vote. The database runs in WAL mode with
``synchronous=FULL``: once ``save`` returns, the batch survives ``kill -9``
and a power cut, and readers (``python -m pollhub export``) never block the
writer.

The schema has a version (``PRAGMA user_version``); :class:`Store` migrates
an older database forward and refuses one written by a newer pollhub. A file
that is not a pollhub database is an error, never replaced.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .polls import Ballot, PollState, Settings

SCHEMA_VERSION = 2

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

#: Scripts that take a database from version N-1 to version N, by N.
MIGRATIONS: Dict[int, str] = {1: SCHEMA_V1, 2: SCHEMA_V2}


class StorageError(Exception):
    """The database cannot be used: unreadable, not pollhub's, or from a newer pollhub."""


def default_path() -> Path:
    """Where ``python -m pollhub`` keeps its database by default."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "pollhub" / "pollhub.db"


class Changes:
    """What one batch of the hub changed; the hub thread fills it.

    Operations are kept in order. Ballots are kept apart, the last one per
    voter and poll, and written after the operations: a voter who votes fifty
    times in a batch costs one row. A reset or a delete drops the poll's
    ballots gathered before it.
    """

    def __init__(self) -> None:
        self.ops: List[Tuple[Any, ...]] = []
        self.ballots: Dict[Tuple[str, str], Ballot] = {}

    def created(self, poll: PollState) -> None:
        options = [(o.id, o.label) for o in poll.options]
        self.ops.append(("create", poll.id, poll.question, poll.kind, _settings_json(poll.settings), options))

    def ballot(self, poll_id: str, voter: str, ballot: Ballot) -> None:
        self.ballots[poll_id, voter] = ballot

    def opened(self, poll_id: str, is_open: bool, closes_at: Optional[float]) -> None:
        self.ops.append(("open", poll_id, is_open, closes_at))

    def settings(self, poll_id: str, settings: Settings, revealed: bool) -> None:
        self.ops.append(("settings", poll_id, _settings_json(settings), revealed))

    def hidden(self, poll_id: str, answer_key: str) -> None:
        self.ops.append(("hide", poll_id, answer_key))

    def reset(self, poll_id: str) -> None:
        self._drop_ballots(poll_id)
        self.ops.append(("reset", poll_id))

    def deleted(self, poll_id: str) -> None:
        self._drop_ballots(poll_id)
        self.ops.append(("delete", poll_id))

    def current(self, poll_id: Optional[str]) -> None:
        self.ops.append(("current", poll_id))

    def order(self, poll_ids: Sequence[str]) -> None:
        self.ops.append(("order", list(poll_ids)))

    def _drop_ballots(self, poll_id: str) -> None:
        self.ballots = {key: ballot for key, ballot in self.ballots.items() if key[0] != poll_id}

    def __bool__(self) -> bool:
        return bool(self.ops or self.ballots)

    def clear(self) -> None:
        self.ops.clear()
        self.ballots.clear()


def _settings_json(settings: Settings) -> str:
    return json.dumps(settings.to_json(), separators=(",", ":"))


class Store:
    """One SQLite database, opened (and migrated) by the constructor.

    Raises :class:`StorageError` for a file that cannot be used. After that,
    only one thread may use it at a time (the hub thread, once started).
    """

    def __init__(self, path: "os.PathLike[str] | str", readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.exists():
                    raise StorageError(f"{self.path}: no such database")
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"{self.path}: cannot open the database: {exc}") from None
        try:
            self._prepare(readonly)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StorageError(f"{self.path}: not a usable pollhub database ({exc}); it was left untouched") from None
        except StorageError:
            self.db.close()
            raise

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
        if readonly:
            if version < SCHEMA_VERSION:
                raise StorageError(f"{self.path}: schema version {version} needs a pollhub server start to upgrade it")
            return
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
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

    # Reading ---------------------------------------------------------------------

    def load(self) -> Tuple[List[PollState], Optional[str], Set[str]]:
        """Every poll (in the presenter's order), the current poll's id and every poll id ever used."""
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
            )
            for poll_id, question, kind, settings, is_open, revealed, closes_at, resets in db.execute(
                "SELECT id, question, kind, settings, open, revealed, closes_at, resets FROM polls ORDER BY position"
            )
        ]
        row = db.execute("SELECT value FROM state WHERE key = 'current'").fetchone()
        current = row[0] if row else None
        used = {row[0] for row in db.execute("SELECT id FROM used_poll_ids")}
        return polls, current, used

    # Writing (the hub thread) ----------------------------------------------------

    def save(self, changes: Changes, polls: Sequence[PollState]) -> None:
        """Write ``changes`` and the counts of ``polls`` in one transaction."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for op in changes.ops:
                _WRITERS[op[0]](db, *op[1:])
            db.executemany(
                "INSERT OR REPLACE INTO ballots (poll_id, voter, ballot) VALUES (?, ?, ?)",
                [(poll_id, voter, "\n".join(ballot)) for (poll_id, voter), ballot in changes.ballots.items()],
            )
            for poll in polls:
                db.execute("UPDATE polls SET total = ? WHERE id = ?", (poll.total, poll.id))
                if poll.options:
                    db.executemany(
                        "UPDATE options SET count = ? WHERE poll_id = ? AND id = ?",
                        [(count, poll.id, option_id) for option_id, count in poll.counts.items()],
                    )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def writable(self) -> bool:
        """True while a write transaction can be started (for ``/healthz``)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        self.db.close()


def _create(
    db: sqlite3.Connection, poll_id: str, question: str, kind: str, settings: str, options: List[Tuple[str, str]]
) -> None:
    position = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM polls").fetchone()[0]
    db.execute(
        "INSERT INTO polls (id, position, question, kind, settings, open) VALUES (?, ?, ?, ?, ?, 1)",
        (poll_id, position, question, kind, settings),
    )
    db.executemany(
        "INSERT INTO options (poll_id, position, id, label) VALUES (?, ?, ?, ?)",
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


_WRITERS: Dict[str, Callable[..., None]] = {
    "create": _create,
    "open": _open,
    "settings": _settings,
    "hide": _hide,
    "reset": _reset,
    "delete": _delete,
    "current": _current,
    "order": _order,
}
