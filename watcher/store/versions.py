"""Versions: each distinct text of a source, with its raw bytes, its blocks and its target ledger."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

from watcher.errors import VersionNotFound
from watcher.model import Block, Document, Indicator, OcrReading, StoredVersion, Target
from watcher.store.base import StoreBase, last_pk, serialised, table, utc_now
from watcher.store.records import FetchInfo

_VERSION_COLUMNS = "id, source, number, fetched_at, sha256, text, url, content_type, title, ocr"


class VersionsPart(StoreBase):
    @serialised
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
            next_number = self._row(
                "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM versions WHERE source = ?", [source]
            )
            assert next_number is not None  # an aggregate always gives one row
            number = next_number["n"]
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
            versions = table(self.db, "versions")
            versions.insert(row)
            version_id = last_pk(versions)
            if ledger is not None:
                self._put_ledger(version_id, ledger)
        return self.version(version_id)

    @serialised
    def update_extraction(
        self, version_id: int, document: Document, sha256: str, ledger: Sequence[Indicator] | None = None
    ) -> None:
        """Replace a version's extracted text and blocks (after the extractor improved), and its
        target ledger when one is given."""
        with self.db.atomic():
            table(self.db, "versions").update(
                version_id, {"sha256": sha256, **_extraction_columns(document)}
            )
            if ledger is not None:
                self._put_ledger(version_id, ledger)

    def _put_ledger(self, version_id: int, ledger: Sequence[Indicator]) -> None:
        self.db.execute("DELETE FROM indicators WHERE version_id = ?", [version_id])
        table(self.db, "indicators").insert_all(
            [{"version_id": version_id, "position": k, **_indicator_row(i)} for k, i in enumerate(ledger)]
        )
        table(self.db, "versions").update(version_id, {"ledger_rows": len(ledger)})

    @serialised
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

    @serialised
    def version(self, version_id: int) -> StoredVersion:
        return _stored(self._version_row(version_id, _VERSION_COLUMNS))

    @serialised
    def versions(self, source: str) -> list[StoredVersion]:
        """Every stored version of a source, oldest first."""
        return [
            _stored(row)
            for row in self.db.query(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE source = ? ORDER BY number", [source]
            )
        ]

    @serialised
    def latest(self, source: str) -> StoredVersion | None:
        row = self._row(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE source = ? ORDER BY number DESC LIMIT 1",
            [source],
        )
        return _stored(row) if row else None

    @serialised
    def search_latest(self, phrase: str, limit: int) -> list[StoredVersion]:
        """The latest version of each source whose text holds `phrase` (exact substring, as SQLite's
        instr), by source name; at most `limit`."""
        rows = self.db.query(
            f"""
            SELECT {_VERSION_COLUMNS} FROM versions v
            WHERE v.number = (SELECT MAX(number) FROM versions WHERE source = v.source)
              AND instr(v.text, ?) > 0
            ORDER BY v.source LIMIT ?
            """,
            [phrase, limit],
        )
        return [_stored(row) for row in rows]

    @serialised
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

    @serialised
    def document(self, version_id: int) -> Document:
        """The stored Document of a version, rebuilt from its blocks (no re-extraction)."""
        row = self._version_row(version_id, "blocks, title, format, attachments, ocr")
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
            ocr=_ocr(row["ocr"]),
        )

    @serialised
    def raw(self, version_id: int) -> bytes:
        """The bytes as fetched."""
        raw: bytes = zlib.decompress(self._version_row(version_id, "raw")["raw"])
        return raw

    @serialised
    def fetch_info(self, version_id: int) -> FetchInfo:
        """What extraction needs besides the bytes: url, content_type, charset."""
        return FetchInfo(**self._version_row(version_id, "url, content_type, charset"))


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
        ocr=_ocr(row["ocr"]),
    )


def _ocr(column: str | None) -> OcrReading | None:
    if not column:
        return None
    data = json.loads(column)
    return OcrReading(tuple(int(page) for page in data.get("pages", ())), int(data.get("unread", 0)))


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
        "ocr": None if document.ocr is None else json.dumps({"pages": list(document.ocr.pages), "unread": document.ocr.unread}),
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
