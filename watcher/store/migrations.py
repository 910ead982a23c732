"""The schema's history: sqlite-utils' Migrations, an ordered list of functions, each applied once
and recorded in `_sqlite_migrations`. Append only: never edit a released step."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from watcher.store.base import table as _table  # the name the released steps use


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


def m0008_body_keys(db: Database) -> None:
    """Each check keeps the key of the body it read (its bytes and how they are read): a body a
    check has already read as the latest version is that version again, with nothing to read."""
    _table(db, "checks").add_column("body_key", str)
    _table(db, "checks").create_index(["source", "body_key"])


def m0009_documents(db: Database) -> None:
    """The documents each page links to and each column page lists (watcher.documents): so that a
    new one is announced once, never twice, and one that goes is noticed. A page's first survey is
    its baseline: what it already linked is recorded, not announced."""
    documents = _table(db, "documents")
    documents.create(
        {"id": int, "parent": str, "url": str, "source": str, "title": str, "via": str,
         "first_seen": str, "seen_in": int, "baseline": int, "watched": int,
         "announced_id": int, "removed_id": int},
        pk="id",
        not_null={"parent", "url", "source", "via", "first_seen", "baseline", "watched"},
        foreign_keys=[("parent", "sources", "name"), ("seen_in", "versions", "id"),
                      ("announced_id", "changes", "id"), ("removed_id", "changes", "id")],
    )
    documents.create_index(["parent", "url"], unique=True)
    _table(db, "document_surveys").create(
        {"parent": str, "version_id": int, "skipped": int, "surveyed_at": str},
        pk="parent",
        not_null={"version_id", "skipped", "surveyed_at"},
        foreign_keys=[("parent", "sources", "name"), ("version_id", "versions", "id")],
    )


def m0010_ocr(db: Database) -> None:
    """A version whose text OCR recognised from scanned pages says which pages (JSON
    {"pages": [1, 2], "unread": 0}); NULL for a text read from a text layer or markup."""
    _table(db, "versions").add_column("ocr", str)


def m0011_compact_versions(db: Database) -> None:
    """Each text once, compressed: a version's raw body, blocks, and its ledger's paths and clauses
    go into one xz `content` column (watcher.store.content); the plain `text` column, which repeated
    the blocks' text, goes (kept in the content only where it differs from the blocks' text), with
    `text_chars` left for listings. The ledger keeps its queryable columns; the metric index goes
    (a scan of the table is quick, and it cost more than the rows' numbers)."""
    from watcher.model import Block, Document
    from watcher.store.content import VersionContent

    versions = _table(db, "versions")
    versions.add_column("content", bytes)
    versions.add_column("text_chars", int)
    ids = [row["id"] for row in db.query("SELECT id FROM versions ORDER BY id")]
    for version_id in ids:
        row = next(db.query("SELECT raw, blocks, text, ledger_rows FROM versions WHERE id = ?", [version_id]))
        blocks = zlib.decompress(row["blocks"])
        derived = Document(
            blocks=tuple(
                Block(kind=b["kind"], text=b.get("text", ""), rows=tuple(tuple(c) for c in b.get("rows", ())))
                for b in json.loads(blocks)
            )
        ).text
        places = [
            [json.loads(i["path"] or "[]"), i["clause"] or ""]
            for i in db.query("SELECT path, clause FROM indicators WHERE version_id = ? ORDER BY position", [version_id])
        ]
        content = VersionContent(
            raw=zlib.decompress(row["raw"]) if row["raw"] else b"",  # an empty body stays empty
            blocks=blocks,
            ledger=b"" if row["ledger_rows"] is None else json.dumps(places, ensure_ascii=False).encode("utf-8"),
            text=b"" if derived == row["text"] else row["text"].encode("utf-8"),
        )
        versions.update(version_id, {"content": content.pack(), "text_chars": len(row["text"])})
    versions.transform(drop={"raw", "blocks", "text"}, not_null={"content"})
    db.execute("DROP INDEX IF EXISTS idx_indicators_metric")
    _table(db, "indicators").transform(drop={"path", "clause"})


def m0012_reading_views(db: Database) -> None:
    """Views for reading the database in Datasette or any SQL client (config/datasette-metadata.yaml
    labels them): the changes with their metric and values, the sources' state, the versions without
    their bytes and each indicator's value by version. None holds raw bytes, blocks or whole texts.

    Times stay UTC as stored, with a second column in Beijing time: SQLite knows no IANA zones, and
    China keeps one zone, UTC+08:00 without daylight saving, so a fixed offset is exact for it.
    They read no column of bytes or whole texts, nor the ledger's paths and clauses, which storage may
    compact; a later step that drops or renames a column they do read must recreate the view (SQLite
    checks a view only when it is read)."""
    local = "strftime('%Y-%m-%d %H:%M:%S', {0}, '+8 hours')"  # stored '…T06:00:03Z' → '… 14:00:03'
    section = "(SELECT group_concat(value, ' › ') FROM json_each({0}))"  # a heading path, JSON → text
    measure_cap = 1000  # characters of a measure's text in the listing (the whole text is in changes)
    measure = "CASE c.kind WHEN 'measure_added' THEN c.new_text WHEN 'measure_removed' THEN c.old_text END"
    db.execute(f"""
        CREATE VIEW change_list AS
        SELECT c.id AS change_id, c.source, c.kind,
               json_extract(c.payload, '$.target.metric') AS metric,
               json_extract(c.payload, '$.target.old.value') AS old_value,
               json_extract(c.payload, '$.target.old.unit') AS old_unit,
               json_extract(c.payload, '$.target.old.year') AS old_year,
               json_extract(c.payload, '$.target.new.value') AS new_value,
               json_extract(c.payload, '$.target.new.unit') AS new_unit,
               json_extract(c.payload, '$.target.new.year') AS new_year,
               substr({measure}, 1, {measure_cap})
                 || CASE WHEN length({measure}) > {measure_cap} THEN '…' ELSE '' END AS measure,
               {section.format("c.path")} AS section,
               {local.format("v.fetched_at")} AS fetched_at_beijing, v.fetched_at AS fetched_at,
               p.number AS old_version, v.number AS new_version,
               json_extract(c.payload, '$.target.old.value_max') AS old_value_max,
               json_extract(c.payload, '$.target.new.value_max') AS new_value_max,
               c.substantive, s.title AS source_title, c.digest_id
        FROM (SELECT *, json_extract(payload, '$.old') AS old_text, json_extract(payload, '$.new') AS new_text
              FROM changes) c
        LEFT JOIN sources s ON s.name = c.source
        LEFT JOIN versions v ON v.id = c.version_id
        LEFT JOIN versions p ON p.id = c.previous_id
    """)
    db.execute(f"""
        CREATE VIEW source_status AS
        SELECT s.name AS source, s.title, s.url, s.parent,
               k.started_at AS last_check, {local.format("k.started_at")} AS last_check_beijing,
               k.status AS last_status, k.http_status AS last_http_status, k.error AS last_error,
               (SELECT COUNT(*) FROM versions v WHERE v.source = s.name) AS versions,
               (SELECT MAX(v.fetched_at) FROM versions v WHERE v.source = s.name) AS last_version_at,
               COALESCE(n.changes, 0) AS changes, s.first_seen
        FROM sources s
        LEFT JOIN checks k ON k.id = (SELECT MAX(id) FROM checks WHERE source = s.name)
        -- one pass over the changes (they have no index by source)
        LEFT JOIN (SELECT source, COUNT(*) AS changes FROM changes WHERE substantive GROUP BY source) n
               ON n.source = s.name
    """)
    db.execute(f"""
        CREATE VIEW version_list AS
        SELECT v.id AS version_id, v.source, v.number, v.fetched_at,
               {local.format("v.fetched_at")} AS fetched_at_beijing, v.title, v.url, v.content_type,
               v.format, v.raw_size, v.ledger_rows, v.ocr, v.sha256
        FROM versions v
    """)
    db.execute(f"""
        CREATE VIEW indicator_ledger AS
        SELECT v.source, v.number AS version, v.fetched_at, {local.format("v.fetched_at")} AS fetched_at_beijing,
               i.position, i.metric, i.value, i.value_max, i.unit, i.comparator, i.year, i.role,
               i.text, i.version_id
        FROM indicators i
        JOIN versions v ON v.id = i.version_id
    """)


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
    m0008_body_keys,
    m0009_documents,
    m0010_ocr,
    m0011_compact_versions,
    m0012_reading_views,
)
MIGRATIONS = Migrations("watcher")
for _step in MIGRATION_STEPS:
    MIGRATIONS(name=_step.__name__)(_step)
