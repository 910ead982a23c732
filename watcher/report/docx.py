"""A Diff as a 新旧对照表: a Word document (python-docx) that a policy team pastes into a memo.

The target comparison table comes first (indicator and where it stands, old value, new value,
change), then a two-column table, 原文 | 修改后, clause by clause for the changes of substance, under
their section. Changes are in red: deleted text struck through in the 原文 column, inserted text underlined in the
修改后 column (watcher.differ.redline.two_sides, the inline diff shown side by side). Formatting
changes are left out (counted in the summary) unless `show_all`.

Document text goes through `xml_text`: a control character or a non-character is not valid in the
XML of a .docx.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import docx
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from watcher.differ.redline import two_sides
from watcher.kinds import SUBSTANTIVE_KINDS, TARGET_KINDS, kind_label
from watcher.language import N_, _, ngettext, shown_time
from watcher.model import Change, Diff, InlineOp, Target, VersionInfo, summarise
from watcher.normalise import xml_text
from watcher.report.layout import as_published, moved_from, quantity, section_title, summary_line

RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x59, 0x59, 0x59)
SECTION_SHADE = "F2F2F2"
BODY_FONT = "宋体"  # what a Chinese government memo is set in; LibreOffice falls back to Noto CJK
HEADING_FONT = "黑体"
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = Cm(21), Cm(29.7), Cm(2)  # A4
# Column names (English msgids, translated when written) and widths in cm.
TARGET_COLUMNS = ((N_("Indicator"), 5.6), (N_("Old value"), 4.4), (N_("New value"), 4.4), (N_("Change"), 2.6))
CLAUSE_COLUMNS = ((N_("Original text"), 8.5), (N_("Amended text"), 8.5))
LEGEND = N_(
    "Note: text deleted from the original is struck through in red, text inserted in the amended "
    "column is underlined in red; clauses that only changed punctuation, spaces or script are not listed."
)


def render_docx(diff: Diff, show_all: bool = False) -> bytes:
    """The comparison table of `diff` as the bytes of a .docx file."""
    document = _new_document()
    name = _name(diff.new) or _name(diff.old)
    title = _("{name} comparison table").format(name=name)
    document.core_properties.title = xml_text(title)
    _heading(document, title, level=0)
    for label, info in ((_("Original text"), diff.old), (_("Amended text"), diff.new)):
        _paragraph(document, _("{label}: {details}").format(label=label, details=_describe(info)))
    shown = [c for c in diff.changes if show_all or c.kind in SUBSTANTIVE_KINDS]
    _paragraph(document, _summary(diff.changes, show_all))
    targets = [c for c in shown if c.kind in TARGET_KINDS]
    if targets:
        _heading(document, _("1. Targets compared"), level=1)
        _target_table(document, targets)
    clauses = _clause_changes(shown)
    if clauses:
        _heading(document, _("2. Clauses compared") if targets else _("1. Clauses compared"), level=1)
        _paragraph(document, _(LEGEND), size=9, color=GREY)
        _clause_table(document, clauses)
    if not shown:
        _paragraph(document, _("No changes of substance."))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the parts


def _name(info: VersionInfo) -> str:
    return xml_text(info.title or "").strip()


def _describe(info: VersionInfo) -> str:
    """"《title》（plan@2，2026-11-20 14:00 (UTC+08:00)）"; the ref alone for an untitled file."""
    details = _("{ref}, {time}").format(ref=info.ref, time=shown_time(info.fetched_at)) if info.fetched_at else info.ref
    return _("《{title}》 ({details})").format(title=_name(info), details=details) if _name(info) else details


def _summary(changes: Sequence[Change], show_all: bool) -> str:
    substantive = summarise([c for c in changes if c.kind in SUBSTANTIVE_KINDS])
    text = _("Changes: {summary}").format(summary=summary_line(substantive) if substantive else _("none of substance"))
    formatting = len(changes) - sum(substantive.values())
    if formatting and not show_all:
        text += ngettext("; {n} formatting change not listed", "; {n} formatting changes not listed", formatting).format(
            n=formatting
        )
    return text + _(".")


def _value(target: Target) -> str:
    """"≥3700家（2025年）": the value with its unit and year, so each column says it all."""
    text = quantity(target)
    if target.value is not None:
        text += target.unit
    if target.year is not None:
        text += _(" ({year})").format(year=target.year)
    return text


def _target_table(document: Document, targets: Sequence[Change]) -> None:
    table = _table(document, TARGET_COLUMNS)
    for change in targets:
        tc = change.target
        cells = _add_row(table, TARGET_COLUMNS)
        old, new = (tc.old, tc.new) if tc else (None, None)
        _write(cells[0], as_published(tc.metric, change.new or change.old) if tc else "", bold=True)
        # the values compared as the clauses are: what differs is red, struck or underlined
        old_ops, new_ops = two_sides(_value(old) if old else "", _value(new) if new else "")
        _write_ops(cells[1], old_ops, "-", "—")
        _write_ops(cells[2], new_ops, "+", "—")
        _write(cells[3], kind_label(change.kind))
        # where it stands, small under the metric: the values keep the width to stay on one line
        _run(cells[0].add_paragraph(), section_title(change.path[-1:]), size=8, color=GREY)


def _clause_changes(changes: Iterable[Change]) -> list[Change]:
    """The changes with text, in document order; a clause with two target changes is shown once."""
    seen: set[tuple[tuple[str, ...], str | None, str | None]] = set()
    kept = []
    for change in changes:
        key = (tuple(change.path), change.old, change.new)
        if (change.old or change.new) and key not in seen:
            seen.add(key)
            kept.append(change)
    return kept


def _clause_table(document: Document, changes: Sequence[Change]) -> None:
    table = _table(document, CLAUSE_COLUMNS)
    path: tuple[str, ...] | None = None
    for change in changes:
        if tuple(change.path) != path:  # a row across both columns names the section
            path = tuple(change.path)
            cell = _spanning_row(table, CLAUSE_COLUMNS)
            _shade(cell, SECTION_SHADE)
            _write(cell, section_title(path), bold=True, size=9)
        old_ops, new_ops = two_sides(change.old or "", change.new or "")
        cells = _add_row(table, CLAUSE_COLUMNS)
        _write_ops(cells[0], old_ops, "-", _("(none)"))
        _write_ops(cells[1], new_ops, "+", _("(deleted)"))
        _note(cells[1], change)


def _note(cell: _Cell, change: Change) -> None:
    """The kind of change, and where a moved clause was, in small grey type under the new text."""
    words = kind_label(change.kind)
    origin = moved_from(change)
    if origin:
        words += _(": was under “{section}”").format(section=origin)
    _run(cell.add_paragraph(), _("[{words}]").format(words=words), size=8, color=GREY)


# ---------------------------------------------------------------- python-docx


def _new_document() -> Document:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    for style_name, font in (("Normal", BODY_FONT), ("Title", HEADING_FONT), ("Heading 1", HEADING_FONT)):
        style = document.styles[style_name]
        style.font.name = font
        # Word takes Chinese text from the East Asian font of the style, which the theme sets otherwise
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi"):
            fonts.set(qn(attribute), font)
        for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(attribute), None)
    document.styles["Normal"].font.size = Pt(10.5)  # 五号, the size of a memo's tables
    title = document.styles["Title"]
    title.font.size = Pt(18)
    title.font.color.rgb = RGBColor(0, 0, 0)
    document.styles["Heading 1"].font.size = Pt(14)
    document.styles["Heading 1"].font.color.rgb = RGBColor(0, 0, 0)
    return document


def _heading(document: Document, text: str, level: int) -> None:
    paragraph = document.add_heading(xml_text(text), level=level)
    if level == 0:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _paragraph(document: Document, text: str, size: float | None = None, color: RGBColor | None = None) -> None:
    _run(document.add_paragraph(), text, size=size, color=color)


def _table(document: Document, columns: Sequence[tuple[str, float]]) -> Table:
    """A bordered table whose header row repeats on every page."""
    table: Table = document.add_table(rows=0, cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, (_name, width) in zip(table.columns, columns, strict=True):
        column.width = Cm(width)  # the table grid, which LibreOffice reads
    header = _add_row(table, columns)
    header_row = table.rows[-1]._tr
    header_row.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, (name, _width) in zip(header, columns, strict=True):
        _shade(cell, SECTION_SHADE)
        _write(cell, _(name), bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def _add_row(table: Table, columns: Sequence[tuple[str, float]]) -> list[_Cell]:
    cells = list(table.add_row().cells)  # type: ignore[no-untyped-call]
    for cell, (_name, width) in zip(cells, columns, strict=True):
        cell.width = Cm(width)  # Word reads the width of each cell, not of the column
    return cells


def _spanning_row(table: Table, columns: Sequence[tuple[str, float]]) -> _Cell:
    """A row of one cell across every column (set as a span: merging cells reads the whole table
    each time, which makes a long comparison quadratic)."""
    row = table.add_row()  # type: ignore[no-untyped-call]
    first, *rest = row._tr.tc_lst
    for tc in rest:
        row._tr.remove(tc)
    first.grid_span = len(columns)
    cell = _Cell(first, table)
    cell.width = Cm(sum(width for _name, width in columns))
    return cell


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _write(
    cell: _Cell, text: str, *, bold: bool = False, size: float | None = None,
    color: RGBColor | None = None, strike: bool = False,
) -> None:
    _run(cell.paragraphs[0], text, bold=bold, size=size, color=color, strike=strike)


def _write_ops(cell: _Cell, ops: Sequence[InlineOp], marked: str, empty: str) -> None:
    """One side of a clause: its equal runs plain, its changed runs (`marked`) in red, struck
    through on the old side and underlined on the new one."""
    paragraph = cell.paragraphs[0]
    if not ops:
        _run(paragraph, empty, color=GREY)
        return
    for op, part in ops:
        changed = op == marked
        _run(
            paragraph, part,
            color=RED if changed else None,
            strike=changed and op == "-",
            underline=changed and op == "+",
        )


def _run(
    paragraph: Paragraph, text: str, *, bold: bool = False, size: float | None = None,
    color: RGBColor | None = None, strike: bool = False, underline: bool = False,
) -> None:
    run = paragraph.add_run(xml_text(text))
    run.bold = bold or None
    run.font.strike = strike or None
    run.font.underline = underline or None
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
