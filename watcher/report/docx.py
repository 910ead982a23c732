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
from watcher.kinds import KIND_LABELS_ZH, SUBSTANTIVE_KINDS, TARGET_KINDS, count_phrase_zh
from watcher.model import Change, Diff, InlineOp, Target, VersionInfo, summarise
from watcher.normalise import xml_text
from watcher.report.layout import moved_from, quantity, section_title

RED = RGBColor(0xC0, 0x00, 0x00)
GREY = RGBColor(0x59, 0x59, 0x59)
SECTION_SHADE = "F2F2F2"
BODY_FONT = "宋体"  # what a Chinese government memo is set in; LibreOffice falls back to Noto CJK
HEADING_FONT = "黑体"
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = Cm(21), Cm(29.7), Cm(2)  # A4
TARGET_COLUMNS = (("指标", 5.6), ("原值", 4.4), ("新值", 4.4), ("变化", 2.6))  # cm
CLAUSE_COLUMNS = (("原文", 8.5), ("修改后", 8.5))
LEGEND = (
    "说明：原文栏中删去的文字以红色删除线标出，修改后栏中新增的文字以红色下划线标出；"
    "仅改动标点、空格、繁简等格式的条文不列入。"
)


def render_docx(diff: Diff, show_all: bool = False) -> bytes:
    """The comparison table of `diff` as the bytes of a .docx file."""
    document = _new_document()
    name = _name(diff.new) or _name(diff.old)
    document.core_properties.title = xml_text(f"{name}新旧对照表")
    _heading(document, f"{name}新旧对照表", level=0)
    for label, info in (("原文", diff.old), ("修改后", diff.new)):
        _paragraph(document, f"{label}：{_describe(info)}")
    shown = [c for c in diff.changes if show_all or c.kind in SUBSTANTIVE_KINDS]
    _paragraph(document, _summary(diff.changes, show_all))
    targets = [c for c in shown if c.kind in TARGET_KINDS]
    if targets:
        _heading(document, "一、目标对照", level=1)
        _target_table(document, targets)
    clauses = _clause_changes(shown)
    if clauses:
        _heading(document, ("二、" if targets else "一、") + "条文对照", level=1)
        _paragraph(document, LEGEND, size=9, color=GREY)
        _clause_table(document, clauses)
    if not shown:
        _paragraph(document, "无实质性变化。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the parts


def _name(info: VersionInfo) -> str:
    return xml_text(info.title or "").strip()


def _describe(info: VersionInfo) -> str:
    """"《title》（plan@2，2026-11-20 06:00 UTC）"; the ref alone for an untitled file."""
    when = info.fetched_at.replace("T", " ")[:16] + " UTC" if info.fetched_at else ""
    details = "，".join(x for x in (info.ref, when) if x)
    return f"《{_name(info)}》（{details}）" if _name(info) else details


def _summary(changes: Sequence[Change], show_all: bool) -> str:
    substantive = summarise([c for c in changes if c.kind in SUBSTANTIVE_KINDS])
    text = "变化：" + (count_phrase_zh(substantive) or "无实质性变化")
    formatting = len(changes) - sum(substantive.values())
    if formatting and not show_all:
        text += f"；另有格式变化 {formatting} 处，未列出"
    return text + "。"


def _value(target: Target) -> str:
    """"≥3700家（2025年）": the value with its unit and year, so each column says it all."""
    text = quantity(target)
    if target.value is not None:
        text += target.unit
    if target.year is not None:
        text += f"（{target.year}年）"
    return text


def _target_table(document: Document, targets: Sequence[Change]) -> None:
    table = _table(document, TARGET_COLUMNS)
    for change in targets:
        tc = change.target
        cells = _add_row(table, TARGET_COLUMNS)
        old, new = (tc.old, tc.new) if tc else (None, None)
        _write(cells[0], tc.metric if tc else "", bold=True)
        # the values compared as the clauses are: what differs is red, struck or underlined
        old_ops, new_ops = two_sides(_value(old) if old else "", _value(new) if new else "")
        _write_ops(cells[1], old_ops, "-", "—")
        _write_ops(cells[2], new_ops, "+", "—")
        _write(cells[3], KIND_LABELS_ZH.get(change.kind, change.kind))
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
        _write_ops(cells[0], old_ops, "-", "（无）")
        _write_ops(cells[1], new_ops, "+", "（删除）")
        _note(cells[1], change)


def _note(cell: _Cell, change: Change) -> None:
    """The kind of change, and where a moved clause was, in small grey type under the new text."""
    words = KIND_LABELS_ZH.get(change.kind, change.kind)
    origin = moved_from(change)
    if origin:
        words += f"：原在「{origin}」"
    _run(cell.add_paragraph(), f"［{words}］", size=8, color=GREY)


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
        _write(cell, name, bold=True)
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
