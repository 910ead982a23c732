"""Documents found on pages and column pages (m0009): which are known, which were announced as new
and which went (watcher.documents decides; this part only keeps)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watcher.model import Change
from watcher.store.base import StoreBase, last_pk, serialised, table, utc_now
from watcher.store.changes import change_row
from watcher.store.records import DocumentFacts, DocumentRecord


class DocumentsPart(StoreBase):
    @serialised
    def page_documents(self, parent: str) -> list[DocumentRecord]:
        """Every document ever found on the page `parent`, in the order they were found."""
        rows = self.db.query("SELECT * FROM documents WHERE parent = ? ORDER BY id", [parent])
        return [_record(row) for row in rows]

    @serialised
    def survey(self, parent: str) -> tuple[int, int] | None:
        """The page's version its documents were last surveyed on and how many new ones that survey
        left for later (over the cap); None before its first survey."""
        row = self._row("SELECT version_id, skipped FROM document_surveys WHERE parent = ?", [parent])
        return (row["version_id"], row["skipped"]) if row else None

    @serialised
    def record_survey(
        self,
        parent: str,
        version_id: int,
        found: Sequence[tuple[str, str, str | None]],
        *,
        via: str,
        baseline: bool,
        watched: bool,
        restored: Sequence[int] = (),
        skipped: int = 0,
    ) -> None:
        """Record the documents newly `found` (url, source, title) on version `version_id` of the
        page, those found again after they had gone (`restored` ids), and the survey itself."""
        now = utc_now()
        with self.db.atomic():
            table(self.db, "documents").insert_all(
                {
                    "parent": parent,
                    "url": url,
                    "source": source,
                    "title": title,
                    "via": via,
                    "first_seen": now,
                    "seen_in": version_id,
                    "baseline": int(baseline),
                    "watched": int(watched),
                    "announced_id": None,
                    "removed_id": None,
                }
                for url, source, title in found
            )
            for document_id in restored:
                table(self.db, "documents").update(document_id, {"removed_id": None})
            table(self.db, "document_surveys").upsert(
                {"parent": parent, "version_id": version_id, "skipped": skipped, "surveyed_at": now}, pk="parent"
            )

    @serialised
    def add_document_change(self, document_id: int, version_id: int, previous_id: int, change: Change) -> int:
        """Store a document_added or document_removed change of the page (previous_id → version_id)
        and mark the document announced or gone, together: a change is stored once, never twice."""
        column = "announced_id" if change.kind == "document_added" else "removed_id"
        with self.db.atomic():
            row = self._row(f"SELECT parent, {column} AS done FROM documents WHERE id = ?", [document_id])
            if row is None or row["done"] is not None:
                return 0  # announced (or noticed) already, by an earlier run
            changes = table(self.db, "changes")
            changes.insert(change_row(row["parent"], version_id, previous_id, change, utc_now()))
            change_id = last_pk(changes)
            table(self.db, "documents").update(document_id, {column: change_id})
        return change_id

    @serialised
    def version_before(self, version_id: int) -> int:
        """The id of the version of the same source before this one (itself for a first version)."""
        row = self._row(
            """
            SELECT p.id FROM versions v JOIN versions p ON p.source = v.source AND p.number < v.number
            WHERE v.id = ? ORDER BY p.number DESC LIMIT 1
            """,
            [version_id],
        )
        return int(row["id"]) if row else version_id

    @serialised
    def document_facts(self, source: str, *, first: bool) -> DocumentFacts | None:
        """The first (or latest) stored version of `source`: its id, title and size in bytes."""
        order = "ASC" if first else "DESC"
        row = self._row(
            f"SELECT id, title, raw_size FROM versions WHERE source = ? ORDER BY number {order} LIMIT 1", [source]
        )
        return DocumentFacts(row["id"], row["title"] or "", row["raw_size"] or 0) if row else None


def _record(row: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(**{**row, "baseline": bool(row["baseline"]), "watched": bool(row["watched"])})
