"""Stored changes for reading: as one Diff per new version, and the `--since` time that bounds them.

The store keeps each change as a row (its contract dict, the version it came with and the one
before); a reader wants the Diff of each new version against the previous one, with the versions'
refs, titles and times, so every renderer can print it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from watcher.contract import change_from_dict
from watcher.model import Diff
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


def stored_diffs(store: Store, source: str | None = None, since: str | None = None) -> list[Diff]:
    """The stored changes (of `source`, or of every source; stored since `since`) as one Diff per
    new version against the version before it, in the order they were stored."""
    by_version: dict[tuple[int, int], list[ChangeRecord]] = {}
    for row in store.changes(source=source, since=since):
        by_version.setdefault((row.previous_id, row.version_id), []).append(row)
    infos = {i: store.version(i).info for pair in by_version for i in pair}
    return [
        Diff(infos[previous_id], infos[version_id], tuple(change_from_dict(row.payload) for row in rows))
        for (previous_id, version_id), rows in by_version.items()
    ]
