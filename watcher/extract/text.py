"""Plain text → Document, and the text primitives every extractor shares.

A text version of a plan is what a Word or web page export leaves: one paragraph a line, and
tables in one of three layouts:

- tab-separated rows: ``指标\\t2020年\\t2025年`` (one line a row);
- tab-led cells (Word's "save as text"): each cell on its own line after a TAB, a blank line
  between rows, and a cell that wrapped in Word continuing on a short line of its own
  (``\\t2020年`` + ``目标值`` is the one cell ``2020年目标值``);
- one cell a line (text copied from a web page): after a caption (表N …, 专栏N …), a run of
  short lines without sentence punctuation. Rows are rebuilt from an index column (1, 2, 3 …)
  or, without one, from label lines followed by numeric cells. Header cells split over two
  lines before a row width is known (``2020年`` + ``完成值``) are joined back, so the header has
  the row width and reads like the same table published as HTML or DOCX.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import pairwise

from watcher.decode import decode
from watcher.extract.furniture import without_furniture
from watcher.model import Block, Document
from watcher.normalise import clean_display, comparison_form
from watcher.numbering import BOX_CAPTION, HEADING_NUMBER, SENTENCE_ENDS

# ---------------------------------------------------------------- shared primitives

# Sentence punctuation: a line with any of these is prose, not a table cell.
SENTENCE_PUNCT = re.compile(r"[。；;！!？?，,]")
# The numbering that opens a heading or a numbered item (GB/T 9704 order), not a decimal or year.
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9\u00c0-\u024f]")


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of one line that a layout wrapped: a space only between Latin words."""
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left or right
    a, b = left[-1], right[0]
    if _LATIN_OR_DIGIT.match(a) and _LATIN_OR_DIGIT.match(b) and not (a.isdigit() and b.isdigit()):
        return f"{left} {right}"
    return left + right


def join_all(pieces: Iterable[str]) -> str:
    """Join the lines of one wrapped cell or paragraph (see join_wrapped)."""
    text = ""
    for piece in pieces:
        text = join_wrapped(text, piece)
    return text


def _one_line(text: str) -> str:
    """Display text on one line: a block never spans lines of Document.text."""
    return clean_display(join_all(text.splitlines()))


def assemble(blocks: Iterable[Block], *, fmt: str, title: str = "", attachments: Sequence[str] = ()) -> Document:
    """The Document of some raw blocks: display text cleaned, empty blocks and rows dropped,
    and a first block that only repeats the title left out (the title is Document.title)."""
    kept: list[Block] = []
    for block in blocks:
        if block.kind == "table":
            rows = tuple(tuple(_one_line(cell) for cell in row) for row in block.rows)
            rows = tuple(row for row in rows if any(row))
            if rows:
                kept.append(Block("table", rows=rows))
            continue
        text = _one_line(block.text)
        if text:
            kept.append(Block(block.kind, text=text, level=block.level))
    title = clean_display(title)
    if title and kept and kept[0].kind != "table" and comparison_form(kept[0].text) == comparison_form(title):
        kept.pop(0)
    return Document(blocks=tuple(kept), title=title, format=fmt, attachments=tuple(attachments))


# ---------------------------------------------------------------- table layouts of plain text

_YEAR_HEADER = re.compile(r"^\d{4}\s*年?$")
# A figure: 3.2, >2.8, 60%, 1.34(2019), ≥500, 1,398 — a value cell, not a label or a year header.
_VALUE = re.compile(r"^[<>≤≥＜＞约~～]?\s*[-+]?\d[\d,，.．]*\s*[%％‰]?\s*(?:[（(]\d{4}[)）])?$")
_SENTENCE_ENDS = tuple(SENTENCE_ENDS)
_MAX_FRAGMENT = 10  # a wrapped piece of a tab-led cell is at most this long
_MAX_CELL = 40  # a one-cell-a-line cell is at most this long
_MAX_CAPTION = 60
_MAX_WIDTH = 12


def _is_blank(line: str) -> bool:
    return not line.strip()


def _tab_cells(line: str) -> list[str]:
    cells = [cell.strip() for cell in line.rstrip().split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    if line.startswith("\t") and cells and not cells[0]:
        cells.pop(0)
    return cells


def _is_tab_row(line: str) -> bool:
    """One line a row: at least two non-empty cells separated by tabs — but not "1.\t加强…",
    which is how Word exports an automatically numbered paragraph."""
    if "\t" not in line:
        return False
    cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
    if len(cells) < 2:
        return False
    return not (HEADING_NUMBER.fullmatch(cells[0]) and SENTENCE_PUNCT.search("".join(cells[1:])))


def _is_tab_led_cell(line: str) -> bool:
    return line.startswith("\t") and not _is_tab_row(line) and bool(line.strip())


def _is_fragment(line: str) -> bool:
    """A short, non-indented line without sentence punctuation: the wrapped end of a cell."""
    text = line.strip()
    return (
        bool(text)
        and not line[0].isspace()
        and len(text) <= _MAX_FRAGMENT
        and not SENTENCE_PUNCT.search(text)
        and not HEADING_NUMBER.match(text)
    )


def _is_cell_line(line: str) -> bool:
    text = line.strip()
    return (
        0 < len(text) <= _MAX_CELL
        and "\t" not in text
        and not SENTENCE_PUNCT.search(text)
        and not (HEADING_NUMBER.match(text) and not text.isdigit())
        and not BOX_CAPTION.match(text)
    )


def _tab_rows(lines: Sequence[str], start: int) -> tuple[Block, int]:
    end = start
    while end < len(lines) and _is_tab_row(lines[end]):
        end += 1
    return Block("table", rows=tuple(tuple(_tab_cells(line)) for line in lines[start:end])), end


def _tab_led(lines: Sequence[str], start: int) -> tuple[Block, int]:
    rows: list[list[str]] = []
    row: list[str] = []
    after_cell = False
    i = start
    while i < len(lines):
        line = lines[i]
        if _is_blank(line):
            if row:
                rows.append(row)
                row = []
            after_cell = False
        elif _is_tab_led_cell(line):
            row.append(line.strip())
            after_cell = True
        elif after_cell and _is_fragment(line) and not row[-1].endswith(_SENTENCE_ENDS):
            row[-1] = join_wrapped(row[-1], line.strip())
        else:
            break
        i += 1
    if row:
        rows.append(row)
    return Block("table", rows=tuple(tuple(r) for r in rows)), i


def _join_header(header: list[str], width: int) -> list[str]:
    """Join a year split from the rest of its header cell ("2020年" + "完成值") until the header fits."""
    header = list(header)
    while len(header) > width:
        for k in range(len(header) - 1):
            if _YEAR_HEADER.match(header[k]) and not _YEAR_HEADER.match(header[k + 1]) and not _VALUE.match(header[k + 1]):
                header[k : k + 2] = [header[k] + header[k + 1]]
                break
        else:
            break
    return header


def _rows_by_index(cells: list[str]) -> tuple[list[str], list[list[str]], list[str]] | None:
    """Rows that each open with the next number of an index column (1, 2, 3 …)."""
    digits = [unicodedata.normalize("NFKC", cell) for cell in cells]  # "１" is an index too
    starts = [k for k, cell in enumerate(digits) if cell == "1" and k >= 1]
    if not starts:
        return None
    first = starts[0]
    body, body_digits = cells[first:], digits[first:]
    best: tuple[int, int] | None = None  # (rows, width)
    for width in range(2, _MAX_WIDTH + 1):
        count = 0
        while (count + 1) * width <= len(body) and body_digits[count * width] == str(count + 1):
            count += 1
        rest = body_digits[count * width :]
        if count >= 2 and len(rest) < width and (not rest or rest[0] != str(count + 1)):
            if best is None or count * width > best[0] * best[1]:
                best = (count, width)
    if best is None:
        return None
    count, width = best
    rows = [body[k * width : (k + 1) * width] for k in range(count)]
    return cells[:first], rows, body[count * width :]


def _rows_by_label(cells: list[str]) -> tuple[list[str], list[list[str]], list[str]] | None:
    """Rows that each open with a label line followed by a figure."""
    starts = [
        k for k in range(len(cells) - 1)
        if not _VALUE.match(cells[k]) and not _YEAR_HEADER.match(cells[k]) and _VALUE.match(cells[k + 1])
    ]
    if len(starts) < 2:
        return None
    width = starts[1] - starts[0]
    if width < 2 or any(b - a != width for a, b in pairwise(starts)):
        return None
    last = starts[-1]
    rows = [cells[k : k + width] for k in starts[:-1]]
    tail = cells[last : last + width]
    if len(tail) == width:
        rows.append(tail)
        rest = cells[last + width :]
    else:
        rest = cells[last:]
    return cells[: starts[0]], rows, rest


def _one_cell_a_line(lines: Sequence[str], start: int) -> tuple[list[Block], int] | None:
    """After the caption at `start`: a table rebuilt from one cell a line, or None."""
    cells: list[str] = []
    i = start + 1
    last_cell = i
    while i < len(lines) and (_is_blank(lines[i]) or _is_cell_line(lines[i])):
        if not _is_blank(lines[i]):
            cells.append(lines[i].strip())
            last_cell = i + 1
        i += 1
    found = _rows_by_index(cells) or _rows_by_label(cells)
    if found is None:
        return None
    header, rows, rest = found
    width = len(rows[0])
    header = _join_header(header, width)
    table = Block("table", rows=tuple(tuple(r) for r in ([header] if header else []) + rows))
    return [table] + [Block("paragraph", text=cell) for cell in rest], last_cell


# Markdown: "## 第一章 总则" is a heading of level 2; an HTML comment line is not text.
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*\s*$")
_COMMENT_LINE = re.compile(r"^\s*<!--.*-->\s*$")


def _title_line(lines: Sequence[str]) -> str:
    """A first line that reads as a title: short, CJK, no sentence punctuation, no label or number."""
    for line in lines:
        text = line.strip()
        if not text or _COMMENT_LINE.match(text):
            continue
        if heading := _MARKDOWN_HEADING.match(text):
            text = heading.group(2)
        plain = clean_display(text)
        if (
            0 < len(plain) <= _MAX_CAPTION
            and re.search(r"[\u4e00-\u9fff]", plain)
            and not SENTENCE_PUNCT.search(plain)
            and not re.search(r"[:：\t]", text)
            and not HEADING_NUMBER.match(plain)
            and not BOX_CAPTION.match(plain)
        ):
            return plain
        return ""
    return ""


def parse_lines(lines: Sequence[str]) -> list[Block]:
    """Blocks of a plain-text document: one paragraph a non-blank line, tables as described above."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_blank(line) or _COMMENT_LINE.match(line):
            i += 1
        elif heading := _MARKDOWN_HEADING.match(line.strip()):
            blocks.append(Block("heading", text=heading.group(2), level=len(heading.group(1))))
            i += 1
        elif _is_tab_row(line):
            table, i = _tab_rows(lines, i)
            blocks.append(table)
        elif _is_tab_led_cell(line):
            table, i = _tab_led(lines, i)
            if max(len(row) for row in table.rows) >= 2:
                blocks.append(table)
            else:  # tab-indented paragraphs, not cells
                blocks.extend(Block("paragraph", text=row[0]) for row in table.rows)
        else:
            text = line.strip()
            blocks.append(Block("paragraph", text=text))
            caption = clean_display(text)
            if BOX_CAPTION.match(caption) and len(caption) <= _MAX_CAPTION:
                rebuilt = _one_cell_a_line(lines, i)
                if rebuilt is not None:
                    found, i = rebuilt
                    blocks.extend(found)
                    continue
            i += 1
    return blocks


def extract_text(
    body: bytes, *, encoding: str | None = None, http_charset: str | None = None, **_options: object
) -> Document:
    """A plain-text body (any encoding) → Document; `encoding` is the source's configured one."""
    lines = decode(body, http_charset=http_charset, override=encoding).splitlines()
    blocks = without_furniture(parse_lines(lines))
    return assemble(blocks, fmt="text", title=_title_line(lines))
