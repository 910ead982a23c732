"""Target ledgers for a reader: one version's (`watcher targets`) and two editions compared
(`watcher diff --targets`), as text for a terminal, Markdown, one HTML page or JSON (the contract's
watcher.ledger/1 and watcher.targets/1 objects).

Document text goes through `printable` (text), the Markdown escape, or the autoescaping template
(HTML); a table cell is never markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from watcher.contract import editions_to_dict, ledger_to_dict, status_counts
from watcher.language import N_, _, ngettext, pgettext
from watcher.model import Indicator, TargetComparison, VersionInfo
from watcher.normalise import printable
from watcher.report.json import json_text
from watcher.report.layout import either, quantity, render_template, role_label, section_title, status_label
from watcher.report.markdown import escape, row
from watcher.report.text import PLAIN_WIDTH

_SECTION_WIDTH = 30
_MIN_WIDTH = {"metric": 16, "status": 7, "role": 9, "old": 6, "new": 6, "value": 6}


def _cell(value: object) -> Text:
    """Document text in one table cell: never markup, never a control, never a line break."""
    return Text(" ".join(printable("" if value is None else str(value)).split()))


# The column names (English msgids, translated when shown).
_COLUMNS = {
    "status": N_("status"), "metric": N_("metric"), "old": N_("old"), "new": N_("new"), "unit": N_("unit"),
    "year": N_("year"), "section": N_("section"), "role": N_("role"), "value": N_("value"),
}


def _column(name: str) -> str:
    # "old" and "new" of a value (原值, 新值), as in every target table (msgids of report/text.py)
    return pgettext("value", name) if name in ("old", "new") else _(_COLUMNS[name])


def _header(names: Sequence[str]) -> list[str]:
    return [_column(name) for name in names]


def _table(header: Sequence[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name in header:
        # the section (the innermost heading) is cut rather than wrapped: one indicator a line
        if name == "section":
            table.add_column(_column(name), no_wrap=True, overflow="ellipsis", max_width=_SECTION_WIDTH)
        else:
            table.add_column(_column(name), overflow="fold", min_width=_MIN_WIDTH.get(name))
    return table


def _render(table: Table, heading: str) -> str:
    console = Console(file=io.StringIO(), width=PLAIN_WIDTH, no_color=True, highlight=False, emoji=False)
    console.print(Text(printable(heading)))
    console.print(table)
    return cast(io.StringIO, console.file).getvalue().rstrip()


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [row(_header(header)), row(["---"] * len(header))]
    lines += [row([escape("" if v is None else str(v)) for v in cells]) for cells in rows]
    return "\n".join(lines)


def _summary(comparisons: Sequence[TargetComparison]) -> str:
    counts = status_counts(comparisons)
    return _(", ").join(f"{n} {status_label(s)}" for s, n in counts.items()) or _("no targets")


def _side(indicator: Indicator | None) -> tuple[str, str, str]:
    if indicator is None:
        return "—", "", ""
    t = indicator.target
    return quantity(t), t.unit, "" if t.year is None else str(t.year)


def render_editions(old: VersionInfo, new: VersionInfo, comparisons: Sequence[TargetComparison], fmt: str) -> str:
    """Two editions' targets side by side: what was raised, lowered, changed, new, dropped, kept."""
    if fmt == "json":
        return json_text(editions_to_dict(old, new, comparisons))
    header = ("status", "metric", "old", "new", "unit", "year", "section")
    rows = []
    for c in comparisons:
        o, n = _side(c.old), _side(c.new)
        unit, year = either(o[1] or None, n[1] or None), either(o[2] or None, n[2] or None)
        shown = c.new or c.old
        where = shown.path if shown is not None else ()
        rows.append((status_label(c.status), c.metric, o[0], n[0], unit, year, section_title(where[-1:])))
    return _titled_table(f"{old.ref} → {new.ref}: {_summary(comparisons)}", header, rows, fmt)


def render_ledger(info: VersionInfo, ledger: Sequence[Indicator], fmt: str) -> str:
    """One version's indicators in document order, with their roles."""
    if fmt == "json":
        return json_text(ledger_to_dict(info, ledger))
    header = ("role", "metric", "value", "unit", "year", "section")
    rows = [
        (role_label(i.target.role), i.target.metric, quantity(i.target), i.target.unit,
         "" if i.target.year is None else i.target.year, section_title(i.path[-1:]))
        for i in ledger
    ]
    heading = ngettext("{ref}: {n} indicator", "{ref}: {n} indicators", len(ledger)).format(ref=info.ref, n=len(ledger))
    return _titled_table(heading, header, rows, fmt)


def _titled_table(heading: str, header: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> str:
    """A heading line and a table: as Markdown, as one escaped HTML page, or for a terminal."""
    if fmt == "markdown":
        return f"**{escape(heading)}**\n\n" + _markdown_table(header, rows)
    if fmt == "html":
        cells = [["" if v is None else str(v) for v in row_] for row_ in rows]
        return render_template("targets.html.j2", heading=heading, header=_header(header), rows=cells).rstrip()
    table = _table(header)
    for values in rows:
        table.add_row(*(_cell(v) for v in values))
    return _render(table, heading)

