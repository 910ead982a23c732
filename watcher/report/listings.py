"""What the watching commands list, as rich tables for a terminal: the results of a check, the
configured sources, the stored versions of a source. Their JSON is the contract's (watcher.contract).

A check result is worded here once (`check_wording`): the table after `watcher check` shows its
words in columns, the log of `watcher run` as one line (`check_line`).

Every cell is plain text: titles, URLs and server messages are never read as rich markup and lose
their control characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from watcher.model import CheckResult, StoredVersion
from watcher.normalise import printable
from watcher.sources import SourceStatus

# What a check came to, in every report of a run (the keys are model.CheckStatus).
CHECK_LABELS: dict[str, str] = {
    "new": "new version", "unchanged": "unchanged", "failed": "FAILED", "suspicious": "suspicious", "blocked": "BLOCKED",
}
_CHECK_STYLES = {"new": "green", "failed": "red", "suspicious": "yellow", "blocked": "red"}
_SHORT_HASH = 16  # hex digits of a version's hash in a listing


@dataclass(frozen=True)
class CheckWording:
    """One check result in words."""

    source: str
    outcome: str  # CHECK_LABELS of its status
    version: str  # the version it stored or found, "" when none
    changes: str  # changes of substance against the version before, "" unless a later version was stored
    http: str  # the HTTP status, "" when none
    seconds: str  # how long it took, "1.2"
    note: str  # the error, or why it looked suspicious or was blocked, "" when none


def check_wording(result: CheckResult) -> CheckWording:
    later = result.status == "new" and (result.version_number or 0) > 1
    return CheckWording(
        source=result.source,
        outcome=CHECK_LABELS[result.status],
        version=str(result.version_number or ""),
        changes=str(result.changes) if later else "",
        http=str(result.http_status or ""),
        seconds=f"{result.duration:.1f}",
        note=result.error or "",
    )


def check_line(result: CheckResult) -> str:
    """One check on one line: "check plan: new version 2, 3 changes of substance (1.2 s)"."""
    words = check_wording(result)
    what = words.outcome
    if result.status == "new" and words.version:
        what += f" {words.version}"
    if words.changes:
        what += f", {words.changes} change{'' if words.changes == '1' else 's'} of substance"
    if words.note:
        what += f": {words.note}"
    return f"check {words.source}: {what} ({words.seconds} s)"


def _table(title: str, columns: Sequence[str]) -> Table:
    """A table whose title is text, never markup (it may hold a path or a source name)."""
    table = Table(title=Text(printable(title)), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _add_row(table: Table, *cells: object) -> None:
    table.add_row(*(cell if isinstance(cell, Text) else Text(printable(str(cell))) for cell in cells))


def check_table(results: Sequence[CheckResult]) -> Table:
    """The results of `watcher check`, one row a source, with the counts of each outcome below."""
    table = _table("watcher check", ("source", "result", "version", "changes", "HTTP", "seconds", "note"))
    for result in results:
        words = check_wording(result)
        outcome = Text(words.outcome, style=_CHECK_STYLES.get(result.status, ""))
        _add_row(table, words.source, outcome, words.version, words.changes, words.http, words.seconds, words.note)
    counts: Counter[str] = Counter(r.status for r in results)
    table.caption = (
        ", ".join(f"{label.lower()}: {counts[status]}" for status, label in CHECK_LABELS.items() if counts[status])
        or "no sources"
    )
    return table


def source_table(config_path: str, statuses: Sequence[SourceStatus]) -> Table:
    """The configured sources (and the attachments found on them) with their last check."""
    table = _table(f"sources in {config_path}", ("name", "url", "tags", "versions", "last check", "status"))
    for s in statuses:
        _add_row(table, s.name, s.url, ", ".join(s.tags), s.versions, s.last_check or "never", s.last_status or "")
    return table


def version_table(source: str, versions: Sequence[StoredVersion]) -> Table:
    """The stored versions of a source, oldest first."""
    table = _table(f"versions of {source}", ("id", "ref", "fetched at", "sha256", "title"))
    for v in versions:
        _add_row(table, v.id, v.ref, v.fetched_at, v.sha256[:_SHORT_HASH], v.title)
    return table
