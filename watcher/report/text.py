"""A Diff for a terminal: target table first, then measures, then a redline, by section (rich).

On a terminal the redline is in colour (deleted red and struck through, inserted green); elsewhere
(a pipe, a file) the output is plain, with no ANSI codes, and the redline is marked
`[-deleted-]{+inserted+}` as in `git diff --word-diff`.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from typing import cast

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from watcher.kinds import kind_label
from watcher.language import _, pgettext, shown_time
from watcher.model import Change, Diff, VersionInfo
from watcher.normalise import printable
from watcher.report.layout import (
    Layout,
    Section,
    arrange,
    document_line,
    marked,
    moved_from,
    redline,
    summary_line,
    target_row,
)

PLAIN_WIDTH = 120  # wide enough for a target table of Chinese metric names in a file or pipe


def _console(color: bool, width: int | None) -> Console:
    if width is None:
        width = shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns if color else PLAIN_WIDTH
    return Console(
        file=io.StringIO(),
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=None if color else True,  # None: rich honours NO_COLOR
        width=width,
        highlight=False,
        emoji=False,
        soft_wrap=not color,  # a file keeps one clause a line, for grep
    )


def _text(value: str, style: str = "") -> Text:
    """Document text for the terminal: never markup (a Text), never a control sequence."""
    return Text(printable(value), style=style)


def _marked(part: str, op: str, color: bool) -> Text:
    if color and op != "=":
        return _text(part, style="red strike" if op == "-" else "green")
    return _text(marked(op, part))


def redline_text(change: Change, color: bool) -> Text:
    """The inline diff as a rich Text; never parsed as markup, so document text stays literal."""
    text = Text()
    for op, part in redline(change):
        text.append_text(_marked(part, op, color))
    return text


def _header(old: VersionInfo, new: VersionInfo, layout: Layout) -> list[Text]:
    lines = [_text(f"{old.ref} → {new.ref}", style="bold")]
    for label, info in ((_("old"), old), (_("new"), new)):
        details = " · ".join(x for x in (info.title, shown_time(info.fetched_at), info.ocr.note if info.ocr else "") if x)
        if details:
            lines.append(_text(f"  {label}: {details}"))
    line = _("Changes: {summary}").format(summary=summary_line(layout.summary, layout.hidden))
    if layout.hidden:
        line += _("; --all lists them")
    lines.append(Text(line))
    return lines


def target_table(changes: tuple[Change, ...], color: bool) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD if color else box.ASCII,
        show_edge=not color,
        header_style="bold" if color else "",
        safe_box=True,
    )
    # The nearest heading only: a terminal is too narrow for whole paths (the lists below have them).
    old, new = pgettext("value", "old"), pgettext("value", "new")
    for column in (_("metric"), old, new, _("unit"), _("year"), _("change"), _("under")):
        table.add_column(column, overflow="fold")
    for change in changes:
        row = target_row(change)
        old_style = "red" if color and change.kind != "target_added" else ""
        new_style = "green" if color and change.kind != "target_removed" else ""
        table.add_row(
            _text(row.metric, style="bold" if color else ""),
            _text(row.old, style=old_style),
            _text(row.new, style=new_style),
            _text(row.unit),
            _text(row.year),
            Text(row.change),
            _text(change.path[-1] if change.path else ""),
        )
    return table


def _section_lines(section: Section, color: bool) -> list[Text]:
    lines = [_text(section.title, style="bold cyan" if color else "")]
    for change in section.changes:
        line = Text(f"  {kind_label(change.kind)}: ", style="")
        if color:
            line.stylize("dim")  # the label only: a base style would dim the redline too
        lines.append(line.append_text(redline_text(change, color)))
        origin = moved_from(change)
        if origin:
            lines.append(_text("    " + _("(was under {section})").format(section=origin)))
    return lines


def document_lines(change: Change) -> list[str]:
    """A new or removed document in plain lines: label and title, address and size, first targets."""
    line = document_line(change)
    lines = [f"  {line.label}: {line.title}"]
    where = " · ".join(part for part in (line.url, line.size) if part)
    if where:
        lines.append(f"    {where}")
    if line.targets:
        more = _(" (and {n} more)").format(n=line.more) if line.more else ""
        lines.append("    " + _("targets: {targets}").format(targets="; ".join(line.targets)) + more)
    return lines


def print_body(console: Console, layout: Layout, color: bool) -> None:
    """Print the body shared by a diff and a digest on `console`: targets, measures, then clauses
    by section."""
    if layout.documents:
        console.print(Text(_("New and removed documents"), style="bold underline" if color else ""))
        for change in layout.documents:
            for plain in document_lines(change):
                console.print(_text(plain, style="bold" if color and not plain.startswith("    ") else ""))
        console.print()
    if layout.targets:
        console.print(Text(_("Targets"), style="bold underline" if color else ""))
        console.print(target_table(layout.targets, color))
    for title, sections in (
        (_("New and removed measures"), layout.measures),
        (_("Changed clauses"), layout.clauses),
    ):
        if sections:
            console.print(Text(title, style="bold underline" if color else ""))
            for section in sections:
                for line in _section_lines(section, color):
                    console.print(line)
            console.print()


def render_body(layout: Layout, *, color: bool = False, width: int | None = None) -> str:
    """The body alone, without the diff's header: what a text digest shows of each source."""
    console = _console(color, width)
    print_body(console, layout, color)
    return cast(io.StringIO, console.file).getvalue().rstrip()


def render_text(
    diff: Diff, show_all: bool = False, *, color: bool | None = None, width: int | None = None
) -> str:
    """The diff for reading; `color` defaults to whether stdout is a terminal and NO_COLOR is not
    set (without color, insertions and deletions keep their {+ +} and [- -] marks)."""
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    console = _console(color, width)
    layout = arrange(diff.changes, show_all)
    for line in _header(diff.old, diff.new, layout):
        console.print(line)
    console.print()
    if layout.empty:
        console.print(Text(_("No changes of substance.")))
    print_body(console, layout, color)
    return cast(io.StringIO, console.file).getvalue().rstrip()
