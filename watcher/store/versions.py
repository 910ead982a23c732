"""Versions: each distinct text of a source, with its raw bytes, its blocks and its target ledger."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from watcher.errors import VersionNotFound
from watcher.model import Block, Document, Indicator, OcrReading, StoredVersion, Target
from watcher.store.base import StoreBase, last_pk, serialised, table, utc_now
from watcher.store.content import VersionContent, unpack
from watcher.store.records import FetchInfo

# Not the content: a listing of versions decompresses nothing (StoredVersion.text reads it when asked).
_VERSION_COLUMNS = "id, source, number, fetched_at, sha256, url, content_type, title, ocr"


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
                "raw_size": len(raw),
                **_extraction_columns(document, raw, ledger),
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
            stored = self._content(version_id)
            if ledger is None and stored.ledger:
                ledger = self._indicators(version_id)  # kept: its path and clause travel in the content
            table(self.db, "versions").update(
                version_id, {"sha256": sha256, **_extraction_columns(document, stored.raw, ledger)}
            )
            if ledger is not None:
                self._put_ledger(version_id, ledger)

    def _put_ledger(self, version_id: int, ledger: Sequence[Indicator]) -> None:
        # The queryable columns, one row an indicator; its path and clause are in the content.
        self.db.execute("DELETE FROM indicators WHERE version_id = ?", [version_id])
        table(self.db, "indicators").insert_all(
            [{"version_id": version_id, "position": k, **_indicator_row(i)} for k, i in enumerate(ledger)]
        )
        table(self.db, "versions").update(version_id, {"ledger_rows": len(ledger)})

    @serialised
    def indicators(self, version_id: int) -> tuple[Indicator, ...] | None:
        """A version's target ledger as stored, in document order; None when it has none stored
        (a version from before the ledger, until `watcher reextract`)."""
        return self._indicators(version_id)

    def _indicators(self, version_id: int) -> tuple[Indicator, ...] | None:
        has = self._version_row(version_id, "ledger_rows")
        if has["ledger_rows"] is None:
            return None
        rows = list(
            self.db.query("SELECT * FROM indicators WHERE version_id = ? ORDER BY position", [version_id])
        )
        if not rows:
            return ()
        places = json.loads(self._content(version_id).ledger or b"[]")
        return tuple(_indicator(row, places[k] if k < len(places) else ([], "")) for k, row in enumerate(rows))

    @serialised
    def version(self, version_id: int) -> StoredVersion:
        return self._stored(self._version_row(version_id, _VERSION_COLUMNS))

    @serialised
    def versions(self, source: str) -> list[StoredVersion]:
        """Every stored version of a source, oldest first."""
        return [
            self._stored(row)
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
        return self._stored(row) if row else None

    @serialised
    def search_latest(self, phrase: str, limit: int) -> list[StoredVersion]:
        """The latest version of each source whose text holds `phrase` (exact substring), by source
        name; at most `limit`. Texts are compressed, so each is read in turn (about 1.5 ms for the
        66 KiB test page) until `limit` are found."""
        rows = self.db.query(
            f"""
            SELECT {_VERSION_COLUMNS} FROM versions v
            WHERE v.number = (SELECT MAX(number) FROM versions WHERE source = v.source)
            ORDER BY v.source
            """
        )
        found: list[StoredVersion] = []
        for row in list(rows):
            version = self._stored(row)
            if phrase in version.text:
                found.append(version)
                if len(found) >= limit:
                    break
        return found

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
        return self._stored(row)

    @serialised
    def document(self, version_id: int) -> Document:
        """The stored Document of a version, rebuilt from its blocks (no re-extraction)."""
        row = self._version_row(version_id, "title, format, attachments, ocr")
        return _document(self._content(version_id), row)

    def _content(self, version_id: int) -> VersionContent:
        return unpack(self._version_row(version_id, "content")["content"])

    @serialised
    def _text(self, version_id: int) -> str:
        # What StoredVersion.text reads when first asked; a version kept past its Store's close
        # reads the file again.
        if self.closed:
            from watcher.store import Store

            with Store(self.path, read_only=self.read_only) as store:
                return store._text(version_id)
        content = self._content(version_id)
        if content.text:
            return content.text.decode("utf-8")
        return _document(content, self._version_row(version_id, "title, format, attachments, ocr")).text

    @serialised
    def raw(self, version_id: int) -> bytes:
        """The bytes as fetched."""
        return self._content(version_id).raw

    @serialised
    def fetch_info(self, version_id: int) -> FetchInfo:
        """What extraction needs besides the bytes: url, content_type, charset."""
        return FetchInfo(**self._version_row(version_id, "url, content_type, charset"))

    def _stored(self, row: dict[str, Any]) -> StoredVersion:
        return StoredVersion(
            id=row["id"],
            source=row["source"],
            number=row["number"],
            fetched_at=row["fetched_at"],
            sha256=row["sha256"],
            url=row["url"] or "",
            content_type=row["content_type"] or "",
            title=row["title"] or "",
            ocr=_ocr(row["ocr"]),
            load_text=functools.partial(self._text, row["id"]),
        )


def _document(content: VersionContent, row: dict[str, Any]) -> Document:
    blocks = tuple(
        Block(
            kind=b["kind"],
            text=b.get("text", ""),
            level=b.get("level"),
            rows=tuple(tuple(cells) for cells in b.get("rows", ())),
        )
        for b in json.loads(content.blocks)
    )
    return Document(
        blocks=blocks,
        title=row["title"] or "",
        format=row["format"] or "text",
        attachments=tuple(json.loads(row["attachments"] or "[]")),
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
    }


def _ledger_places(ledger: Sequence[Indicator]) -> bytes:
    # Per indicator, in position order: its heading path and clause (the bulk of a ledger).
    return json.dumps([[list(i.path), i.clause] for i in ledger], ensure_ascii=False).encode("utf-8")


def _indicator(row: dict[str, Any], place: Sequence[Any]) -> Indicator:
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
    path, clause = place
    return Indicator(target, tuple(path), clause or "")


def _extraction_columns(document: Document, raw: bytes, ledger: Sequence[Indicator] | None) -> dict[str, Any]:
    blocks = json.dumps([_block_dict(b) for b in document.blocks], ensure_ascii=False).encode("utf-8")
    return {
        "content": VersionContent(raw, blocks, b"" if ledger is None else _ledger_places(ledger)).pack(),
        "text_chars": len(document.text),
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
