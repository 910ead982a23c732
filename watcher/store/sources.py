"""Sources and their checks: who was checked, when, with what outcome, and the body a suspicious
check kept for `watcher accept`."""

from __future__ import annotations

import json
import zlib

from watcher.model import PROBLEM_STATUSES, CheckResult, Fetched, Source
from watcher.store.base import StoreBase, last_pk, serialised, table, utc_now
from watcher.store.records import CheckRecord, LastCheckRecord, SourceRecord

# The statuses in SQL: constants of the code, never input.
_PROBLEMS = "(" + ", ".join(f"'{status}'" for status in PROBLEM_STATUSES) + ")"


class SourcesPart(StoreBase):
    @serialised
    def upsert_source(self, source: Source, parent: str | None = None) -> None:
        now = utc_now()
        with self.db.atomic():
            existing = self._row("SELECT first_seen FROM sources WHERE name = ?", [source.name])
            table(self.db, "sources").upsert(
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

    @serialised
    def sources(self) -> list[SourceRecord]:
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
        return [SourceRecord(**{**row, "tags": tuple(json.loads(row["tags"] or "[]"))}) for row in rows]

    @serialised
    def add_check(
        self,
        result: CheckResult,
        *,
        started_at: str,
        etag: str | None = None,
        last_modified: str | None = None,
        evidence: Fetched | None = None,
        body_key: str | None = None,
    ) -> int:
        """Record one check of one source, whatever it came to; with `evidence`, the body it read
        (kept for `watcher accept`, replacing the source's earlier one); with `body_key`, the key
        of the body it read as its version (watcher.reading.body_key)."""
        with self.db.atomic():
            checks = table(self.db, "checks")
            checks.insert(
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
                    "body_key": body_key,
                }
            )
            check_id = last_pk(checks)
            if evidence is not None:
                table(self.db, "evidence").insert(
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

    @serialised
    def knows_body(self, source: str, version_id: int, body_key: str) -> bool:
        """Whether a check of `source` has read a body with this key as version `version_id`."""
        row = self.db.execute(
            "SELECT 1 FROM checks WHERE source = ? AND body_key = ? AND version_id = ? "
            "AND status IN ('new', 'unchanged') LIMIT 1",
            [source, body_key, version_id],
        ).fetchone()
        return row is not None

    @serialised
    def evidence(self, check_id: int) -> Fetched | None:
        """The body a suspicious check kept, as it was fetched; None when it kept none (or a later
        suspicious check of its source replaced it)."""
        row = self._row("SELECT url, status, headers, raw FROM evidence WHERE check_id = ?", [check_id])
        if row is None:
            return None
        headers = json.loads(row["headers"] or "{}")
        return Fetched(url=row["url"], status=row["status"], body=zlib.decompress(row["raw"]), headers=headers)

    @serialised
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

    @serialised
    def checks(self, source: str | None = None) -> list[CheckRecord]:
        """Every recorded check, oldest first."""
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self.db.query(f"SELECT * FROM checks {where} ORDER BY id", params)
        return [CheckRecord(**row) for row in rows]

    @serialised
    def last_checks(self) -> list[LastCheckRecord]:
        """The latest check of each source, with the source's title and parent (for an
        attachment), and `problem_since`: the id of the first check of its current run of failed,
        suspicious or blocked checks (None when the latest check went well)."""
        rows = self.db.query(
            f"""
            SELECT c.*, s.title, s.parent,
                   (SELECT MIN(p.id) FROM checks p
                    WHERE p.source = c.source AND p.status IN {_PROBLEMS}
                      AND p.id > COALESCE((SELECT MAX(g.id) FROM checks g
                                           WHERE g.source = c.source
                                             AND g.status NOT IN {_PROBLEMS}), 0)
                   ) AS problem_since
            FROM checks c
            JOIN (SELECT source, MAX(id) AS id FROM checks GROUP BY source) m ON m.id = c.id
            LEFT JOIN sources s ON s.name = c.source
            ORDER BY c.source
            """
        )
        return [LastCheckRecord(**row) for row in rows]

