"""The JSON contract of a diff (shared/contract/diff-json.md, "watcher.diff/1"): value types ↔ dicts.

The store keeps each change as `change_to_dict(change)`, so digests and queries rebuild the Change
objects with `change_from_dict` and need no recomputation; the JSON renderer prints `diff_to_dict`.
The JSON lists of the watching commands (`check`, `sources`, `history`, `changes --format json`)
are built here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, get_args

from watcher.model import (
    Change,
    CheckResult,
    Diff,
    DocumentNews,
    Indicator,
    InlineOp,
    OcrReading,
    StoredVersion,
    Target,
    TargetChange,
    TargetComparison,
    TargetStatus,
    VersionInfo,
)

if TYPE_CHECKING:  # the store imports this module (and sources the store): no import back at run time
    from watcher.sources import SourceStatus
    from watcher.store.records import ChangeRecord

SCHEMA = "watcher.diff/1"
EDITIONS_SCHEMA = "watcher.targets/1"  # `watcher diff --targets`: two target ledgers compared
LEDGER_SCHEMA = "watcher.ledger/1"  # `watcher targets`: one version's target ledger


def json_number(value: float | int | None) -> float | int | None:
    # A JSON number as a reader writes it: 3700, not 3700.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def target_to_dict(target: Target) -> dict[str, Any]:
    d: dict[str, Any] = {
        "value": json_number(target.value),
        "unit": target.unit,
        "year": target.year,
        "comparator": target.comparator,
        "text": target.text,
    }
    if target.value_max is not None:
        d["value_max"] = json_number(target.value_max)
    d["role"] = target.role
    return d


def target_from_dict(metric: str, d: Mapping[str, Any]) -> Target:
    value, value_max = d.get("value"), d.get("value_max")
    return Target(
        metric=metric,
        value=None if value is None else float(value),
        unit=d.get("unit") or "",
        comparator=d.get("comparator"),
        year=None if d.get("year") is None else int(d["year"]),
        text=d.get("text") or "",
        value_max=None if value_max is None else float(value_max),
        role=d.get("role") or "target",
    )


def change_to_dict(change: Change) -> dict[str, Any]:
    """One change of the contract's "changes" list; target, inline and old_path only when set."""
    d: dict[str, Any] = {
        "kind": change.kind,
        "path": list(change.path),
        "old": change.old,
        "new": change.new,
    }
    if change.target is not None:
        t = change.target
        d["target"] = {
            "metric": t.metric,
            "role": t.role,
            "old": None if t.old is None else target_to_dict(t.old),
            "new": None if t.new is None else target_to_dict(t.new),
        }
    if change.inline:
        d["inline"] = [[op, text] for op, text in change.inline]
    if change.old_path is not None:
        d["old_path"] = list(change.old_path)
    if change.document is not None:
        d["document"] = document_to_dict(change.document)
    return d


def document_to_dict(news: DocumentNews) -> dict[str, Any]:
    """The "document" of a document_added / document_removed change."""
    return {
        "source": news.source,
        "title": news.title,
        "url": news.url,
        "size": news.size,
        "targets": [indicator_to_dict(i) for i in news.targets],
        "total_targets": news.total_targets,
    }


def document_from_dict(d: Mapping[str, Any]) -> DocumentNews:
    return DocumentNews(
        source=d.get("source") or "",
        url=d.get("url") or "",
        title=d.get("title") or "",
        size=d.get("size"),
        targets=tuple(indicator_from_dict(t) for t in d.get("targets") or ()),
        total_targets=int(d.get("total_targets") or 0),
    )


def change_from_dict(d: Mapping[str, Any]) -> Change:
    """The inverse of change_to_dict; unknown extra fields are ignored."""
    target = None
    if d.get("target"):
        t = d["target"]
        metric = t.get("metric") or ""
        target = TargetChange(
            metric=metric,
            old=target_from_dict(metric, t["old"]) if t.get("old") else None,
            new=target_from_dict(metric, t["new"]) if t.get("new") else None,
        )
    inline: tuple[InlineOp, ...] = tuple((op, text) for op, text in d.get("inline") or ())
    old_path = d.get("old_path")
    document = document_from_dict(d["document"]) if d.get("document") else None
    return Change(
        kind=d["kind"],
        path=tuple(d.get("path") or ()),
        old=d.get("old"),
        new=d.get("new"),
        target=target,
        inline=inline,
        old_path=None if old_path is None else tuple(old_path),
        document=document,
    )


def _info_to_dict(info: VersionInfo) -> dict[str, Any]:
    data: dict[str, Any] = {"ref": info.ref, "title": info.title, "fetched_at": info.fetched_at, "sha256": info.sha256}
    if info.ocr is not None:  # only for a text recognised from scanned pages
        data["ocr"] = _ocr_to_dict(info.ocr)
    return data


def _ocr_to_dict(ocr: OcrReading) -> dict[str, Any]:
    return {"pages": list(ocr.pages), "unread": ocr.unread}


def _info_from_dict(d: Mapping[str, Any]) -> VersionInfo:
    return VersionInfo(
        ref=d.get("ref") or "",
        title=d.get("title") or "",
        fetched_at=d.get("fetched_at"),
        sha256=d.get("sha256") or "",
        ocr=_ocr_from_dict(d.get("ocr")),
    )


def _ocr_from_dict(d: Mapping[str, Any] | None) -> OcrReading | None:
    if not d:
        return None
    return OcrReading(tuple(int(page) for page in d.get("pages") or ()), int(d.get("unread") or 0))


def diff_to_dict(diff: Diff) -> dict[str, Any]:
    """The whole diff as the contract's object; every change, formatting included."""
    return {
        "schema": SCHEMA,
        "old": _info_to_dict(diff.old),
        "new": _info_to_dict(diff.new),
        "summary": diff.summary,
        "changes": [change_to_dict(c) for c in diff.changes],
    }


def indicator_to_dict(indicator: Indicator) -> dict[str, Any]:
    """A ledger entry: the target's fields with its metric, heading path and clause."""
    return {
        "metric": indicator.target.metric,
        **target_to_dict(indicator.target),
        "path": list(indicator.path),
        "clause": indicator.clause,
    }


def indicator_from_dict(d: Mapping[str, Any]) -> Indicator:
    """The inverse of indicator_to_dict."""
    metric = d.get("metric") or ""
    return Indicator(target_from_dict(metric, d), tuple(d.get("path") or ()), d.get("clause") or "")


def ledger_to_dict(info: VersionInfo, ledger: Sequence[Indicator]) -> dict[str, Any]:
    return {"schema": LEDGER_SCHEMA, "version": _info_to_dict(info), "targets": [indicator_to_dict(i) for i in ledger]}


def status_counts(comparisons: Sequence[TargetComparison]) -> dict[str, int]:
    """How many indicators of each status, in the order of model.TargetStatus."""
    counts = {status: 0 for status in get_args(TargetStatus)}
    for c in comparisons:
        counts[c.status] += 1
    return {status: n for status, n in counts.items() if n}


def editions_to_dict(old: VersionInfo, new: VersionInfo, comparisons: Sequence[TargetComparison]) -> dict[str, Any]:
    """Two target ledgers compared: each indicator with its status and both sides."""
    return {
        "schema": EDITIONS_SCHEMA,
        "old": _info_to_dict(old),
        "new": _info_to_dict(new),
        "summary": status_counts(comparisons),
        "targets": [
            {
                "metric": c.metric,
                "status": c.status,
                "old": None if c.old is None else indicator_to_dict(c.old),
                "new": None if c.new is None else indicator_to_dict(c.new),
            }
            for c in comparisons
        ],
    }


def diff_from_dict(d: Mapping[str, Any]) -> Diff:
    """A Diff from the contract's object (the summary is derived again, not read)."""
    return Diff(
        old=_info_from_dict(d.get("old") or {}),
        new=_info_from_dict(d.get("new") or {}),
        changes=tuple(change_from_dict(c) for c in d.get("changes") or ()),
    )


# ---------------------------------------------------------------- the watching commands' lists


def check_result_to_dict(result: CheckResult) -> dict[str, Any]:
    """One result of `watcher check --format json`: every field of the CheckResult."""
    return asdict(result)


def source_status_to_dict(status: SourceStatus) -> dict[str, Any]:
    """One source of `watcher sources --format json`."""
    return asdict(status)


def version_to_dict(version: StoredVersion) -> dict[str, Any]:
    """One stored version of `watcher history --format json` (its text left out)."""
    info = _info_to_dict(version.info)
    return {"id": version.id, "number": version.number, **info, "url": version.url}


_STORED_CHANGE_FIELDS = ("id", "source", "version_id", "previous_id", "created_at", "digest_id")


def stored_change_to_dict(record: ChangeRecord) -> dict[str, Any]:
    """One stored change of `watcher changes --format json` (a Store.changes() record): where it
    is kept and, as "change", its contract dict."""
    return {**{key: getattr(record, key) for key in _STORED_CHANGE_FIELDS}, "change": record.payload}
