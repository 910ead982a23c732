"""Stored changes for reading: as one Diff per new version, and the `--since` time that bounds them.

The store keeps each change as a row (its contract dict, the version it came with and the one
before); a reader wants the Diff of each new version against the previous one, with the versions'
refs, titles and times, so every renderer can print it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from watcher.contract import change_from_dict
from watcher.model import Diff, StoredVersion
from watcher.store import ChangeRecord, Store

_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str, now: datetime | None = None) -> str:
    """`30m`, `12h`, `7d`, `2w` (that long before `now`) or an ISO 8601 date or time → the UTC time
    as the store writes it (2026-11-20T06:00:03Z). A time without a zone is taken as UTC, as stored.

    Raises ValueError when the value is neither."""
    text = value.strip()
    match = _DURATION.fullmatch(text)
    if match:
        when = (now or datetime.now(UTC)) - timedelta(seconds=int(match[1]) * _SECONDS[match[2]])
    else:
        try:
            when = datetime.fromisoformat(text)  # 3.11 reads a trailing Z
        except ValueError:
            raise ValueError(f"{value!r} is neither a duration (30m, 12h, 7d, 2w) nor an ISO date") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ChangeSet:
    """The changes stored with one new version of a source: the Diff against the version before,
    the two stored versions, and when the changes were stored."""

    diff: Diff
    previous: StoredVersion
    version: StoredVersion
    stored_at: str  # ISO 8601, UTC

    @property
    def substantive(self) -> bool:
        return self.diff.substantive


def stored_change_sets(store: Store, source: str | None = None, since: str | None = None) -> list[ChangeSet]:
    """The stored changes (of `source`, or of every source; stored since `since`) as one ChangeSet
    per new version, in the order they were stored."""
    by_version: dict[tuple[int, int], list[ChangeRecord]] = {}
    for row in store.changes(source=source, since=since):
        by_version.setdefault((row.previous_id, row.version_id), []).append(row)
    versions = {i: store.version(i) for pair in by_version for i in pair}
    return [
        ChangeSet(
            Diff(versions[previous_id].info, versions[version_id].info, tuple(change_from_dict(r.payload) for r in rows)),
            versions[previous_id],
            versions[version_id],
            rows[0].created_at,
        )
        for (previous_id, version_id), rows in by_version.items()
    ]


def stored_diffs(store: Store, source: str | None = None, since: str | None = None) -> list[Diff]:
    """The stored changes as one Diff per new version against the version before it (see
    stored_change_sets)."""
    return [change_set.diff for change_set in stored_change_sets(store, source, since)]
