"""What the watching commands list, as rich tables for a terminal: the results of a check, the
configured sources, the stored versions of a source. Their JSON is the contract's (watcher.contract).

A check result is worded here once (`check_wording`): the table after `watcher check` shows its
words in columns, the log of `watcher run` as one line (`check_line`).

Every cell is plain text: titles, URLs and server messages are never read as rich markup and lose
their control characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.box import HEAVY_HEAD, Box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from watcher.language import N_, _, ngettext, shown_time
from watcher.model import CheckResult, StoredVersion
from watcher.normalise import printable
from watcher.sources import SourceStatus

# What a check came to, in every report of a run (the keys are model.CheckStatus).
# English msgids, shown through the rendering's catalog (watcher.language).
CHECK_LABELS: dict[str, str] = {
    "new": N_("new version"), "unchanged": N_("unchanged"), "failed": N_("FAILED"), "suspicious": N_("suspicious"),
    "interrupted": N_("interrupted"), "blocked": N_("BLOCKED"),
}
_CHECK_STYLES = {"new": "green", "failed": "red", "suspicious": "yellow", "interrupted": "yellow", "blocked": "red"}
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
        outcome=_(CHECK_LABELS[result.status]),
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
        n = int(words.changes)
        what += ngettext(", {n} change of substance", ", {n} changes of substance", n).format(n=n)
    if words.note:
        what += f": {words.note}"
    return _("check {source}: {what} ({seconds} s)").format(source=words.source, what=what, seconds=words.seconds)


def _table(title: str, columns: Sequence[str], prose: Sequence[str], box: Box = HEAVY_HEAD) -> Table:
    """A table whose title is text, never markup (it may hold a path or a source name). On a
    narrow terminal the `prose` columns (a note, an address, a title) wrap; the others hold names,
    numbers and times, which are kept whole (_add_row) unless longer than _WHOLE_WIDTH."""
    table = Table(title=Text(printable(title)), title_justify="left", box=box)
    for column in columns:  # English msgids: shown in the rendering's language
        header = _(column)
        table.add_column(header, overflow="fold", min_width=None if column in prose else cell_len(header))
    return table


_WHOLE_WIDTH = 32  # a name longer than this may still be folded, so that the prose keeps some room


def _add_row(table: Table, *cells: object) -> None:
    texts = [cell if isinstance(cell, Text) else Text(printable(str(cell))) for cell in cells]
    for column, text in zip(table.columns, texts, strict=True):
        if column.min_width is not None:  # a column kept whole: at least as wide as its cells
            column.min_width = max(column.min_width, min(text.cell_len, _WHOLE_WIDTH))
    table.add_row(*texts)


def check_table(results: Sequence[CheckResult]) -> RenderableType:
    """The results of `watcher check`, one row a source, with the counts of each outcome below.
    Where the console is too narrow for the notes (errors, reasons) beside the names, the table
    drops the timings, numbers the notes and lists them under it."""
    counts: Counter[str] = Counter(r.status for r in results)
    caption = (
        ", ".join(f"{_(label).lower()}: {counts[status]}" for status, label in CHECK_LABELS.items() if counts[status])
        or _("no sources")
    )
    rows = [(check_wording(result), result.status, _CHECK_STYLES.get(result.status, "")) for result in results]

    columns = (N_("source"), N_("result"), N_("version"), N_("changes"), N_("HTTP"), N_("seconds"), N_("note"))
    wide = _table("watcher check", columns, prose=("note",))
    for words, _status, style in rows:
        outcome = Text(words.outcome, style=style)
        _add_row(wide, words.source, outcome, words.version, words.changes, words.http, words.seconds, words.note)
    wide.caption = caption

    def narrow() -> RenderableType:
        table = _table("watcher check", ("source", "result", "version", "changes", "note"), prose=(), box=box.SIMPLE_HEAD)
        notes: list[Text] = []
        for words, status, style in rows:
            http = words.http if status != "new" else ""  # a 200 says nothing here
            outcome = Text(" ".join(filter(None, (words.outcome, http))), style=style)
            if words.note:
                notes.append(Text(printable(f"[{len(notes) + 1}] {words.source}: {words.note}")))
            _add_row(table, words.source, outcome, words.version, words.changes, f"[{len(notes)}]" if words.note else "")
        table.caption = caption
        return Group(table, *notes)

    return _Fitted(wide, narrow)


_PROSE_WIDTH = 30  # a note or an address narrower than this reads badly: the narrow layout then


class _Fitted:
    """A renderable that is `wide` where the console gives its whole columns their width and its
    prose columns _PROSE_WIDTH, else `narrow()`."""

    def __init__(self, wide: Table, narrow: Callable[[], RenderableType]) -> None:
        self.wide, self.narrow = wide, narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = self.wide.columns
        needed = sum(_PROSE_WIDTH if c.min_width is None else c.min_width for c in columns) + 3 * len(columns) + 1
        yield self.wide if needed <= options.max_width else self.narrow()


def source_table(config_path: str, statuses: Sequence[SourceStatus]) -> RenderableType:
    """The configured sources (and the attachments found on them) with their last check; on a
    narrow console each source's address, tags and last check go on numbered lines under it."""
    title = _("sources in {path}").format(path=config_path)
    columns = (N_("name"), N_("url"), N_("tags"), N_("versions"), N_("last check"), N_("status"))
    wide = _table(title, columns, prose=("url", "tags"))
    for s in statuses:
        _add_row(wide, s.name, s.url, ", ".join(s.tags), s.versions, _checked(s), _status(s))

    def narrow() -> RenderableType:
        table = _table(title, ("name", "versions", "status", N_("see")), prose=(), box=box.SIMPLE_HEAD)
        notes: list[Text] = []
        for n, s in enumerate(statuses, 1):
            _add_row(table, s.name, s.versions, _status(s), f"[{n}]")
            tags = _(", tags {tags}").format(tags=", ".join(s.tags)) if s.tags else ""
            checked = _(", last check {time}").format(time=_checked(s))
            notes.append(Text(printable(f"[{n}] {s.url}{tags}{checked}")))
        return Group(table, *notes)

    return _Fitted(wide, narrow)


def _checked(status: SourceStatus) -> str:
    return shown_time(status.last_check) if status.last_check else _("never")


def _status(status: SourceStatus) -> str:
    return _(CHECK_LABELS[status.last_status]) if status.last_status in CHECK_LABELS else status.last_status or ""


def version_table(source: str, versions: Sequence[StoredVersion]) -> Table:
    """The stored versions of a source, oldest first."""
    columns = (N_("id"), N_("ref"), N_("fetched at"), N_("sha256"), N_("title"))
    table = _table(_("versions of {source}").format(source=source), columns, prose=("title",))
    for v in versions:
        _add_row(table, v.id, v.ref, shown_time(v.fetched_at), v.sha256[:_SHORT_HASH], v.title)
    return table
