"""The snapshot database: sources, checks, distinct versions, stored changes and digests.

One SQLite file through sqlite-utils, in WAL mode. Every write that belongs together (a version,
its changes and the check that found it) is one transaction, so a run killed at any point leaves
either all of it or none of it. The schema grows by migrations (sqlite-utils' Migrations: an
ordered list of functions, each applied once and recorded in `_sqlite_migrations`).

A Store may be shared by the threads of one run: its methods are serialised by a lock.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence, TypeVar

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

from watcher.errors import LockedError, StoreError, VersionNotFound
from watcher.model import Block, CheckResult, Diff, Document, Fetched, Indicator, Source, StoredVersion, Target
from watcher.contract import change_to_dict

BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's transaction

F = TypeVar("F", bound=Callable[..., Any])


def utc_now() -> str:
    """The current time as stored: ISO 8601, UTC, seconds (e.g. 2026-11-20T06:00:03Z)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- migrations (append only)


def m0001_initial(db: Database) -> None:
    _table(db, "sources").create(
        {"name": str, "url": str, "title": str, "tags": str, "parent": str,
         "first_seen": str, "last_seen": str},
        pk="name",
        not_null={"url"},
    )
    _table(db, "versions").create(
        {"id": int, "source": str, "number": int, "fetched_at": str, "sha256": str, "url": str,
         "content_type": str, "charset": str, "raw": bytes, "raw_size": int, "text": str,
         "blocks": str, "title": str, "format": str, "attachments": str},
        pk="id",
        not_null={"source", "number", "fetched_at", "sha256", "raw", "text", "blocks"},
        foreign_keys=[("source", "sources", "name")],
    )
    _table(db, "versions").create_index(["source", "number"], unique=True)
    _table(db, "checks").create(
        {"id": int, "source": str, "url": str, "started_at": str, "duration": float,
         "http_status": int, "bytes": int, "status": str, "error": str, "version_id": int,
         "etag": str, "last_modified": str},
        pk="id",
        not_null={"source", "started_at", "status"},
        foreign_keys=[("source", "sources", "name"), ("version_id", "versions", "id")],
    )
    _table(db, "checks").create_index(["source", "id"])
    _table(db, "digests").create(
        {"id": int, "created_at": str, "sent_at": str, "subject": str, "recipients": str,
         "status": str, "error": str},
        pk="id",
        not_null={"created_at", "status"},
    )
    _table(db, "changes").create(
        {"id": int, "source": str, "version_id": int, "previous_id": int, "kind": str,
         "path": str, "payload": str, "substantive": int, "created_at": str, "digest_id": int},
        pk="id",
        not_null={"source", "version_id", "kind", "payload", "substantive", "created_at"},
        foreign_keys=[
            ("source", "sources", "name"),
            ("version_id", "versions", "id"),
            ("previous_id", "versions", "id"),
            ("digest_id", "digests", "id"),
        ],
    )
    _table(db, "changes").create_index(["version_id"])
    _table(db, "changes").create_index(["digest_id"])


def m0002_compress_blocks(db: Database) -> None:
    """The blocks JSON repeats the text: keep it zlib-compressed (about a fifth of the size)."""
    versions = _table(db, "versions")
    versions.transform(types={"blocks": bytes})
    for row in db.query("SELECT id, blocks FROM versions"):
        if isinstance(row["blocks"], str):
            versions.update(row["id"], {"blocks": zlib.compress(row["blocks"].encode("utf-8"), 6)})


def m0003_digest_changes(db: Database) -> None:
    """A change goes out in one digest per recipient set: which digests covered which changes."""
    links = _table(db, "digest_changes")
    links.create(
        {"digest_id": int, "change_id": int},
        pk=("digest_id", "change_id"),
        foreign_keys=[("digest_id", "digests", "id"), ("change_id", "changes", "id")],
    )
    links.create_index(["change_id"])
    db.execute(
        "INSERT INTO digest_changes (digest_id, change_id) SELECT digest_id, id FROM changes WHERE digest_id IS NOT NULL"
    )


def m0004_digest_checks(db: Database) -> None:
    """Which checks a digest knew of, so a failure it reported is not news for the next one."""
    _table(db, "digests").add_column("last_check_id", int)
    # Earlier digests knew of every check recorded before they were created.
    db.execute(
        "UPDATE digests SET last_check_id = (SELECT MAX(c.id) FROM checks c WHERE c.started_at <= digests.created_at)"
    )


def m0005_check_hashes(db: Database) -> None:
    """Each check keeps the content hash of what it read: a shrunken text seen on several checks
    in a row is recognised by it."""
    _table(db, "checks").add_column("sha256", str)


def m0006_indicators(db: Database) -> None:
    """Each version's target ledger, one row an indicator, for queries over versions (the value of
    a metric version by version). Versions stored before it get theirs from `watcher reextract`."""
    table = _table(db, "indicators")
    table.create(
        {
            "id": int,
            "version_id": int,
            "position": int,
            "metric": str,
            "value": float,
            "value_max": float,
            "unit": str,
            "comparator": str,
            "year": int,
            "role": str,
            "text": str,
            "path": str,
            "clause": str,
        },
        pk="id",
        foreign_keys=[("version_id", "versions", "id")],
    )
    table.create_index(["version_id", "position"])
    table.create_index(["metric"])
    _table(db, "versions").add_column("ledger_rows", int)  # NULL: no ledger stored yet


def m0007_evidence(db: Database) -> None:
    """The body of each source's last suspicious check, kept so that `watcher accept` can take it
    as a version on purpose (one row a source: a newer suspicious body replaces it)."""
    _table(db, "evidence").create(
        {"source": str, "check_id": int, "url": str, "status": int, "headers": str, "raw": bytes},
        pk="source",
        foreign_keys=[("check_id", "checks", "id")],
    )


# The schema's history, in order. Append a function to change the schema; never edit one that
# has been released (databases in the field have already applied it).
MIGRATION_STEPS: tuple[Callable[[Database], None], ...] = (
    m0001_initial,
    m0002_compress_blocks,
    m0003_digest_changes,
    m0004_digest_checks,
    m0005_check_hashes,
    m0006_indicators,
    m0007_evidence,
)
MIGRATIONS = Migrations("watcher")
for _step in MIGRATION_STEPS:
    MIGRATIONS(name=_step.__name__)(_step)


def _table(db: Database, name: str) -> Table:
    return db.table(name)  # type: ignore[return-value]


# ---------------------------------------------------------------- the run lock

# One flock per database per process. Holders in the same process (a scheduler job around
# check_all, which takes it too) share it; other processes get LockedError.
_held: dict[str, list[int]] = {}  # lock path → [fd, holders]
_held_guard = threading.Lock()


def _serialised(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> Any:
        with self._mutex:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Store:
    """The snapshot database at `path` (created, and migrated, on first use)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self._mutex = threading.RLock()
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        self.db = Database(conn, execute_plugins=False)
        try:
            self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: consistent after a crash
            self._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a usable watcher database: {exc}") from None

    def _migrate(self) -> None:
        known = {step.__name__ for step in MIGRATION_STEPS}
        unknown = [m.name for m in MIGRATIONS.applied(self.db) if m.name not in known]
        if unknown:
            raise StoreError(
                f"{self.path} was written by a newer watcher (schema {unknown[-1]}); upgrade watcher"
            )
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

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ lock and transactions

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock on this database; LockedError when another process holds it."""
        lock_path = self.path + ".lock"
        with _held_guard:
            entry = _held.get(lock_path)
            if entry is None:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    os.close(fd)
                    raise LockedError(
                        f"another watcher run holds the lock on {self.path} (pid {holder})"
                    ) from None
                os.ftruncate(fd, 0)
                try:  # the pid only tells a waiting run who holds the lock: a full disk must not stop this one
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                except OSError:
                    pass
                entry = _held[lock_path] = [fd, 0]
            entry[1] += 1
        try:
            yield
        finally:
            with _held_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    os.ftruncate(entry[0], 0)
                    fcntl.flock(entry[0], fcntl.LOCK_UN)
                    os.close(entry[0])
                    del _held[lock_path]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them are stored or none (nested blocks are savepoints)."""
        with self._mutex, self.db.atomic():
            yield

    # ------------------------------------------------------------ writing

    @_serialised
    def upsert_source(self, source: Source, parent: str | None = None) -> None:
        now = utc_now()
        with self.db.atomic():
            existing = self._row("SELECT first_seen FROM sources WHERE name = ?", [source.name])
            _table(self.db, "sources").upsert(
                {
                    "name": source.name,
                    "url": source.url,
                    "title": source.title,
                    "tags": json.dumps(list(source.tags), ensure_ascii=False),
                    "parent": parent,
                    "first_seen": existing["first_seen"] if existing else now,
                    "last_seen": now,
                },
                pk="name",
            )

    @_serialised
    def add_version(
        self,
        source: str,
        document: Document,
        *,
        sha256: str,
        raw: bytes,
        url: str = "",
        content_type: str = "",
        charset: str | None = None,
        fetched_at: str | None = None,
        ledger: Sequence[Indicator] | None = None,
    ) -> StoredVersion:
        """Store a new distinct version (number = the source's last number + 1), with its target
        ledger when one is given."""
        with self.db.atomic():
            number = self._row(
                "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM versions WHERE source = ?", [source]
            )["n"]
            row = {
                "source": source,
                "number": number,
                "fetched_at": fetched_at or utc_now(),
                "sha256": sha256,
                "url": url,
                "content_type": content_type,
                "charset": charset,
                "raw": zlib.compress(raw, 6),
                "raw_size": len(raw),
                **_extraction_columns(document),
            }
            table = _table(self.db, "versions")
            table.insert(row)
            version_id = table.last_pk
            if ledger is not None:
                self._put_ledger(int(version_id), ledger)
        return self.version(int(version_id))

    @_serialised
    def update_extraction(
        self, version_id: int, document: Document, sha256: str, ledger: Sequence[Indicator] | None = None
    ) -> None:
        """Replace a version's extracted text and blocks (after the extractor improved), and its
        target ledger when one is given."""
        with self.db.atomic():
            _table(self.db, "versions").update(
                version_id, {"sha256": sha256, **_extraction_columns(document)}
            )
            if ledger is not None:
                self._put_ledger(version_id, ledger)

    def _put_ledger(self, version_id: int, ledger: Sequence[Indicator]) -> None:
        self.db.execute("DELETE FROM indicators WHERE version_id = ?", [version_id])
        _table(self.db, "indicators").insert_all(
            [{"version_id": version_id, "position": k, **_indicator_row(i)} for k, i in enumerate(ledger)]
        )
        _table(self.db, "versions").update(version_id, {"ledger_rows": len(ledger)})

    def indicators(self, version_id: int) -> tuple[Indicator, ...] | None:
        """A version's target ledger as stored, in document order; None when it has none stored
        (a version from before the ledger, until `watcher reextract`)."""
        rows = list(
            self.db.query("SELECT * FROM indicators WHERE version_id = ? ORDER BY position", [version_id])
        )
        if not rows:
            has = self._row("SELECT ledger_rows FROM versions WHERE id = ?", [version_id])
            return () if has and has["ledger_rows"] == 0 else None
        return tuple(_indicator(row) for row in rows)

    @_serialised
    def add_check(
        self,
        result: CheckResult,
        *,
        started_at: str,
        etag: str | None = None,
        last_modified: str | None = None,
        evidence: Fetched | None = None,
    ) -> int:
        """Record one check of one source, whatever it came to; with `evidence`, the body it read
        (kept for `watcher accept`, replacing the source's earlier one)."""
        with self.db.atomic():
            table = _table(self.db, "checks")
            table.insert(
                {
                    "source": result.source,
                    "url": result.url,
                    "started_at": started_at,
                    "duration": round(result.duration, 3),
                    "http_status": result.http_status,
                    "bytes": result.bytes,
                    "status": result.status,
                    "error": result.error,
                    "version_id": result.version_id,
                    "etag": etag,
                    "last_modified": last_modified,
                    "sha256": result.sha256,
                }
            )
            check_id = int(table.last_pk)
            if evidence is not None:
                _table(self.db, "evidence").insert(
                    {
                        "source": result.source,
                        "check_id": check_id,
                        "url": evidence.url,
                        "status": evidence.status,
                        "headers": json.dumps(dict(evidence.headers), ensure_ascii=False),
                        "raw": zlib.compress(evidence.body),
                    },
                    replace=True,
                )
            return check_id

    @_serialised
    def evidence(self, check_id: int) -> Fetched | None:
        """The body a suspicious check kept, as it was fetched; None when it kept none (or a later
        suspicious check of its source replaced it)."""
        row = self._row("SELECT url, status, headers, raw FROM evidence WHERE check_id = ?", [check_id])
        if row is None:
            return None
        headers = json.loads(row["headers"] or "{}")
        return Fetched(url=row["url"], status=row["status"], body=zlib.decompress(row["raw"]), headers=headers)

    @_serialised
    def add_changes(self, version_id: int, previous_id: int, diff: Diff) -> int:
        """Store the changes of `diff` (previous_id → version_id); returns how many are of substance."""
        source = self.version(version_id).source
        now = utc_now()
        rows = [
            {
                "source": source,
                "version_id": version_id,
                "previous_id": previous_id,
                "kind": change.kind,
                "path": json.dumps(list(change.path), ensure_ascii=False),
                "payload": json.dumps(change_to_dict(change), ensure_ascii=False),
                "substantive": int(change.substantive),
                "created_at": now,
                "digest_id": None,
            }
            for change in diff.changes
        ]
        with self.db.atomic():
            if rows:
                _table(self.db, "changes").insert_all(rows)
        return sum(row["substantive"] for row in rows)

    @_serialised
    def create_digest(
        self,
        subject: str,
        recipients: Sequence[str],
        change_ids: Sequence[int],
        last_check_id: int | None = None,
    ) -> int:
        """A digest about to be sent to `recipients`, covering these changes (status "pending")
        and reporting the failures known up to check `last_check_id`.

        A change's `digest_id` names the last digest that covered it; every digest that did is kept
        in `digest_changes`, since each recipient set gets its own."""
        with self.db.atomic():
            table = _table(self.db, "digests")
            table.insert(
                {
                    "created_at": utc_now(),
                    "sent_at": None,
                    "subject": subject,
                    "recipients": _recipients_key(recipients),
                    "status": "pending",
                    "error": None,
                    "last_check_id": last_check_id,
                }
            )
            digest_id = int(table.last_pk)
            ids = [int(i) for i in change_ids]
            _table(self.db, "digest_changes").insert_all(
                ({"digest_id": digest_id, "change_id": i} for i in ids), ignore=True
            )
            for chunk in _chunks(ids):
                self.db.execute(
                    f"UPDATE changes SET digest_id = ? WHERE id IN ({','.join('?' * len(chunk))})",
                    [digest_id, *chunk],
                )
        return digest_id

    @_serialised
    def mark_digest_sent(self, digest_id: int) -> None:
        with self.db.atomic():
            _table(self.db, "digests").update(
                digest_id, {"status": "sent", "sent_at": utc_now(), "error": None}
            )

    @_serialised
    def mark_digest_failed(self, digest_id: int, error: str) -> None:
        with self.db.atomic():
            _table(self.db, "digests").update(digest_id, {"status": "failed", "error": error})

    # ------------------------------------------------------------ reading

    def _row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    @_serialised
    def version(self, version_id: int) -> StoredVersion:
        row = self._row(f"SELECT {_VERSION_COLUMNS} FROM versions WHERE id = ?", [version_id])
        if row is None:
            raise VersionNotFound(f"no version with id {version_id}")
        return _stored(row)

    @_serialised
    def versions(self, source: str) -> list[StoredVersion]:
        """Every stored version of a source, oldest first."""
        return [
            _stored(row)
            for row in self.db.query(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE source = ? ORDER BY number", [source]
            )
        ]

    @_serialised
    def latest(self, source: str) -> StoredVersion | None:
        row = self._row(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE source = ? ORDER BY number DESC LIMIT 1",
            [source],
        )
        return _stored(row) if row else None

    @_serialised
    def resolve(self, ref: str) -> StoredVersion:
        """SOURCE, SOURCE@latest, SOURCE@N (1…), SOURCE@-K (K before the latest) or a version id."""
        ref = ref.strip()
        if ref.isdigit():
            return self.version(int(ref))
        name, _, which = ref.rpartition("@") if "@" in ref else (ref, "", "latest")
        if not self._row("SELECT name FROM sources WHERE name = ?", [name]):
            raise VersionNotFound(f"no source named {name!r} in {self.path}")
        latest = self.latest(name)
        if latest is None:
            raise VersionNotFound(f"source {name!r} has no stored version yet")
        if which == "latest":
            return latest
        try:
            number = int(which)
        except ValueError:
            raise VersionNotFound(
                f"bad version reference {ref!r}: use SOURCE, SOURCE@N, SOURCE@latest, SOURCE@-1 or an id"
            ) from None
        if number < 0:
            number += latest.number
        row = self._row(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE source = ? AND number = ?", [name, number]
        )
        if row is None:
            raise VersionNotFound(
                f"no version {ref!r}: {name!r} has versions 1 to {latest.number}"
            )
        return _stored(row)

    @_serialised
    def document(self, version_id: int) -> Document:
        """The stored Document of a version, rebuilt from its blocks (no re-extraction)."""
        row = self._row(
            "SELECT blocks, title, format, attachments FROM versions WHERE id = ?", [version_id]
        )
        if row is None:
            raise VersionNotFound(f"no version with id {version_id}")
        blocks = tuple(
            Block(
                kind=b["kind"],
                text=b.get("text", ""),
                level=b.get("level"),
                rows=tuple(tuple(cells) for cells in b.get("rows", ())),
            )
            for b in json.loads(zlib.decompress(row["blocks"]))
        )
        return Document(
            blocks=blocks,
            title=row["title"] or "",
            format=row["format"] or "text",
            attachments=tuple(json.loads(row["attachments"] or "[]")),
        )

    @_serialised
    def raw(self, version_id: int) -> bytes:
        """The bytes as fetched."""
        row = self._row("SELECT raw FROM versions WHERE id = ?", [version_id])
        if row is None:
            raise VersionNotFound(f"no version with id {version_id}")
        return zlib.decompress(row["raw"])

    @_serialised
    def fetch_info(self, version_id: int) -> dict[str, Any]:
        """What extraction needs besides the bytes: url, content_type, charset."""
        row = self._row("SELECT url, content_type, charset FROM versions WHERE id = ?", [version_id])
        if row is None:
            raise VersionNotFound(f"no version with id {version_id}")
        return row

    @_serialised
    def validators(self, source: str, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the last check that confirmed the latest version of `url`.

        Validators of a suspicious or failed fetch are never reused: a 304 against an error page
        would hide the real document.
        """
        row = self._row(
            """
            SELECT c.etag, c.last_modified FROM checks c
            WHERE c.source = ? AND c.url = ? AND c.status IN ('new', 'unchanged')
              AND c.version_id = (SELECT id FROM versions WHERE source = ? ORDER BY number DESC LIMIT 1)
            ORDER BY c.id DESC LIMIT 1
            """,
            [source, url, source],
        )
        return (row["etag"], row["last_modified"]) if row else (None, None)

    @_serialised
    def sources(self) -> list[dict[str, Any]]:
        """Every source ever checked, with its version count and last check; the title is the
        configured one, else the latest version's own."""
        rows = self.db.query(
            """
            SELECT s.name, s.url, s.tags, s.parent, s.first_seen,
                   COALESCE(NULLIF(s.title, ''), (SELECT v.title FROM versions v WHERE v.source = s.name
                                                 ORDER BY v.number DESC LIMIT 1)) AS title,
                   (SELECT COUNT(*) FROM versions v WHERE v.source = s.name) AS versions,
                   (SELECT MAX(number) FROM versions v WHERE v.source = s.name) AS latest,
                   c.started_at AS last_check, c.status AS last_status, c.error AS last_error
            FROM sources s
            LEFT JOIN checks c ON c.id = (SELECT MAX(id) FROM checks WHERE source = s.name)
            ORDER BY s.name
            """
        )
        return [{**row, "tags": json.loads(row["tags"] or "[]")} for row in rows]

    @_serialised
    def last_checks(self) -> list[dict[str, Any]]:
        """The latest check of each source, with the source's title and parent (for an
        attachment), and `problem_since`: the id of the first check of its current run of failed
        or suspicious checks (None when the latest check went well)."""
        return list(
            self.db.query(
                """
                SELECT c.*, s.title, s.parent,
                       (SELECT MIN(p.id) FROM checks p
                        WHERE p.source = c.source AND p.status IN ('failed', 'suspicious')
                          AND p.id > COALESCE((SELECT MAX(g.id) FROM checks g
                                               WHERE g.source = c.source
                                                 AND g.status NOT IN ('failed', 'suspicious')), 0)
                       ) AS problem_since
                FROM checks c
                JOIN (SELECT source, MAX(id) AS id FROM checks GROUP BY source) m ON m.id = c.id
                LEFT JOIN sources s ON s.name = c.source
                ORDER BY c.source
                """
            )
        )

    @_serialised
    def reported_checks(self) -> dict[tuple[str, ...], int]:
        """Per recipient set, the newest check that a digest sent to it knew of (0 if none did)."""
        rows = self.db.query(
            "SELECT recipients, MAX(COALESCE(last_check_id, 0)) AS last FROM digests WHERE status = 'sent' GROUP BY recipients"
        )
        return {tuple(json.loads(row["recipients"])): int(row["last"]) for row in rows}

    @_serialised
    def checks(self, source: str | None = None) -> list[dict[str, Any]]:
        """Every recorded check, oldest first."""
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        return list(self.db.query(f"SELECT * FROM checks {where} ORDER BY id", params))

    @_serialised
    def changes(
        self, source: str | None = None, since: str | None = None, unsent_only: bool = False
    ) -> list[dict[str, Any]]:
        """Stored changes, oldest first; `since` is an ISO 8601 UTC time (or date); `unsent_only`
        keeps those that no sent digest covered."""
        return self._changes(source, since, _NEVER_SENT if unsent_only else None)

    @_serialised
    def undelivered_changes(self, since: str | None = None) -> list[dict[str, Any]]:
        """The changes some recipients still wait for, oldest first: those no sent digest covered,
        and those of a digest that was not accepted whose recipients have not had them since.

        Each row has `sent_to`: the recipient lists of the sent digests that covered it, so a retry
        goes only to the recipients who missed it."""
        rows = self._changes(None, since, f"({_NEVER_SENT} OR {_MISSED_BY_SOME})")
        sent_to: dict[int, list[list[str]]] = {}
        for chunk in _chunks([row["id"] for row in rows]):
            for link in self.db.query(
                f"""
                SELECT l.change_id, d.recipients FROM digest_changes l JOIN digests d ON d.id = l.digest_id
                WHERE d.status = 'sent' AND l.change_id IN ({','.join('?' * len(chunk))})
                """,
                chunk,
            ):
                sent_to.setdefault(link["change_id"], []).append(json.loads(link["recipients"]))
        return [{**row, "sent_to": sent_to.get(row["id"], [])} for row in rows]

    def _changes(self, source: str | None, since: str | None, condition: str | None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if source:
            clauses.append("c.source = ?")
            params.append(source)
        if since:
            clauses.append("c.created_at >= ?")
            params.append(since)
        if condition:
            clauses.append(condition)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(f"SELECT c.* FROM changes c {where} ORDER BY c.id", params)
        return [
            {
                **row,
                "path": json.loads(row["path"] or "[]"),
                "payload": json.loads(row["payload"]),
                "substantive": bool(row["substantive"]),
            }
            for row in rows
        ]

    @_serialised
    def digests(self) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM digests ORDER BY id")
        return [{**row, "recipients": json.loads(row["recipients"] or "[]")} for row in rows]


_VERSION_COLUMNS = "id, source, number, fetched_at, sha256, text, url, content_type, title"

# A change no sent digest covered; a change that a digest not accepted covered and that its
# recipients have not had in a sent digest since.
_NEVER_SENT = """NOT EXISTS (SELECT 1 FROM digest_changes l JOIN digests d ON d.id = l.digest_id
                  WHERE l.change_id = c.id AND d.status = 'sent')"""
_MISSED_BY_SOME = """EXISTS (SELECT 1 FROM digest_changes l JOIN digests d ON d.id = l.digest_id
               WHERE l.change_id = c.id AND d.status != 'sent'
                 AND NOT EXISTS (SELECT 1 FROM digest_changes l2 JOIN digests d2 ON d2.id = l2.digest_id
                                 WHERE l2.change_id = c.id AND d2.status = 'sent' AND d2.recipients = d.recipients))"""


def _recipients_key(recipients: Sequence[str]) -> str:
    # Stored as given; digests to one recipient set compare equal on this text.
    return json.dumps(list(recipients), ensure_ascii=False)


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    # SQLite limits the number of bound parameters of one statement.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _stored(row: dict[str, Any]) -> StoredVersion:
    return StoredVersion(
        id=row["id"],
        source=row["source"],
        number=row["number"],
        fetched_at=row["fetched_at"],
        sha256=row["sha256"],
        text=row["text"],
        url=row["url"] or "",
        content_type=row["content_type"] or "",
        title=row["title"] or "",
    )


def _indicator_row(indicator: Indicator) -> dict[str, Any]:
    t = indicator.target
    return {
        "metric": t.metric,
        "value": t.value,
        "value_max": t.value_max,
        "unit": t.unit,
        "comparator": t.comparator,
        "year": t.year,
        "role": t.role,
        "text": t.text,
        "path": json.dumps(list(indicator.path), ensure_ascii=False),
        "clause": indicator.clause,
    }


def _indicator(row: dict[str, Any]) -> Indicator:
    target = Target(
        metric=row["metric"],
        value=row["value"],
        unit=row["unit"] or "",
        comparator=row["comparator"],
        year=row["year"],
        text=row["text"] or "",
        value_max=row["value_max"],
        role=row["role"] or "target",
    )
    return Indicator(target, tuple(json.loads(row["path"] or "[]")), row["clause"] or "")


def _extraction_columns(document: Document) -> dict[str, Any]:
    return {
        "text": document.text,
        "blocks": zlib.compress(
            json.dumps([_block_dict(b) for b in document.blocks], ensure_ascii=False).encode("utf-8"), 6
        ),
        "title": document.title,
        "format": document.format,
        "attachments": json.dumps(list(document.attachments), ensure_ascii=False),
    }


def _block_dict(block: Block) -> dict[str, Any]:
    # Only what differs from the defaults: keeps the column about the size of the text.
    data: dict[str, Any] = {"kind": block.kind}
    if block.text:
        data["text"] = block.text
    if block.level is not None:
        data["level"] = block.level
    if block.rows:
        data["rows"] = block.rows
    return data
