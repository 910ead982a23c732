"""The snapshot database: sources, checks, distinct versions, stored changes and digests.

The Store is composed of one part per thing it keeps (watcher.store.sources: sources and checks;
.versions: versions and their ledgers; .changes: changes and digests; .documents: the documents
pages link to and column pages list; .lock: the run lock;
.migrations: the schema). Every read returns frozen records (watcher.store.records).

One SQLite file through sqlite-utils, in WAL mode. Every write that belongs together (a version,
its changes and the check that found it) is one transaction, so a run killed at any point leaves
either all of it or none of it. The schema grows by migrations (sqlite-utils' Migrations: an
ordered list of functions, each applied once and recorded in `_sqlite_migrations`).

A Store may be shared by the threads of one run: its methods are serialised by a lock.

`Store(path, read_only=True)` (the web view) opens an existing file with SQLite's mode=ro: it never
creates, migrates or writes, and a database that still needs a migration is refused.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from watcher.errors import StoreError
from watcher.store.base import utc_now
from watcher.store.changes import ChangesPart
from watcher.store.documents import DocumentsPart
from watcher.store.lock import LockPart
from watcher.store.migrations import MIGRATION_STEPS, MIGRATIONS
from watcher.store.records import (
    ChangeRecord,
    CheckRecord,
    DigestRecord,
    DocumentFacts,
    DocumentRecord,
    FetchInfo,
    LastCheckRecord,
    SourceRecord,
    UndeliveredChange,
)
from watcher.store.sources import SourcesPart
from watcher.store.versions import VersionsPart

__all__ = [
    "BUSY_TIMEOUT",
    "MIGRATION_STEPS",
    "ChangeRecord",
    "CheckRecord",
    "DigestRecord",
    "DocumentFacts",
    "DocumentRecord",
    "FetchInfo",
    "LastCheckRecord",
    "SourceRecord",
    "Store",
    "UndeliveredChange",
    "utc_now",
]

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's transaction


class Store(LockPart, SourcesPart, VersionsPart, ChangesPart, DocumentsPart):
    """The snapshot database at `path` (created, and migrated, on first use)."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self._mutex = threading.RLock()
        try:
            if read_only:
                # mode=ro: SQLite itself refuses every write; a missing file is an error, not created
                uri = Path(self.path).as_uri() + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, check_same_thread=False)
            else:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        self.db = Database(conn, execute_plugins=False)
        try:
            if read_only:
                self._check_schema()
            else:
                self.db.enable_wal()
                self.db.execute("PRAGMA foreign_keys = ON")
                self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: consistent after a crash
                self._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a usable watcher database: {exc}") from None
        except StoreError:
            conn.close()
            raise

    def _check_newer(self) -> None:
        known = {step.__name__ for step in MIGRATION_STEPS}
        unknown = [m.name for m in MIGRATIONS.applied(self.db) if m.name not in known]
        if unknown:
            raise StoreError(
                f"{self.path} was written by a newer watcher (schema {unknown[-1]}); upgrade watcher"
            )

    def _check_schema(self) -> None:
        """A read-only Store reads only a database of exactly this watcher's schema."""
        self._check_newer()
        if MIGRATIONS.pending(self.db):
            raise StoreError(f"{self.path} has an older schema: run `watcher check` once to upgrade it")

    def _migrate(self) -> None:
        self._check_newer()
        if not MIGRATIONS.pending(self.db):
            return
        # BEGIN IMMEDIATE: two processes opening a new file at once migrate one after the other.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS.apply(self.db)
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them are stored or none (nested blocks are savepoints)."""
        with self._mutex, self.db.atomic():
            yield
