"""Spreadsheets → Document: each sheet a heading (its name) and a table of its rows, so that an
indicator table published as a spreadsheet (指标 | 2020年 | 2025年目标) is read like a table of a
.docx or a page, and yields its targets.

.xlsx is read with openpyxl (read-only, the values a formula last computed), from the package the
DOCX reader's zip caps rebuilt. .xls and .et (Kingsoft's, an .xls Compound File) are converted by
LibreOffice to .xlsx first (watcher.extract.office), so that one reader renders every cell.
Merged cells are not repeated: openpyxl's read-only mode does not see them.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl

from watcher.errors import ExtractError
from watcher.extract.office import convert, input_suffix
from watcher.extract.package import rebuilt_package
from watcher.extract.text import assemble
from watcher.model import Block, Document

MAX_CELLS = 200_000  # cells read from a workbook (all sheets): a larger one is refused
MAX_COLUMNS = 256  # columns of a row kept: a row wider than this is a layout, not a table
_PERCENT_DECIMALS = re.compile(r"0\.(0+)%")


def _cell_text(value: object, number_format: str) -> str:
    """A cell's value as a reader sees it: a percentage as one (0.036 in 0.0% → 3.6%), a whole
    number without its .0, a date as a date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if "%" in number_format:
            decimals = _PERCENT_DECIMALS.search(number_format)
            return f"{value * 100:.{len(decimals.group(1)) if decimals else 0}f}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return format(value, ".15g") if isinstance(value, float) else str(value)
    return str(value).strip()


def _rows(sheet: Any, budget: list[int]) -> Iterator[tuple[str, ...]]:
    """The sheet's rows as cell texts, trailing empty cells dropped; counts cells against the
    workbook's budget. (`sheet` is a read-only worksheet: openpyxl's stubs type its rows as a
    Worksheet's.)"""
    for row in sheet.iter_rows():
        cells = [_cell_text(cell.value, getattr(cell, "number_format", "") or "") for cell in row[:MAX_COLUMNS]]
        budget[0] -= len(row)
        if budget[0] < 0:
            raise ExtractError(f"spreadsheet refused: more than {MAX_CELLS} cells")
        while cells and not cells[-1]:
            cells.pop()
        yield tuple(cells)


def read_xlsx(body: bytes, fmt: str = "spreadsheet") -> Document:
    """An .xlsx body → Document: per sheet, its name as a heading and its rows as a table."""
    package = rebuilt_package(body, kind="XLSX", required="xl/workbook.xml")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(package), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors … on damaged parts
        raise ExtractError(f"corrupt XLSX: {type(exc).__name__}: {exc}") from exc
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    try:
        for sheet in workbook.worksheets:
            rows = tuple(row for row in _rows(sheet, budget) if row)
            if rows:
                blocks.append(Block("heading", text=sheet.title, level=1))
                blocks.append(Block("table", rows=rows))
        title = workbook.properties.title or ""
    except ExtractError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError) as exc:
        raise ExtractError(f"corrupt XLSX: {type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    return assemble(blocks, fmt=fmt, title=title)


def extract_spreadsheet(body: bytes, *, url: str = "", **_options: object) -> Document:
    """A spreadsheet body (.xlsx, or .xls/.et through LibreOffice) → Document."""
    if zipfile.is_zipfile(io.BytesIO(body)):
        return read_xlsx(body)
    return read_xlsx(convert(body, input_suffix(url, "spreadsheet"), "xlsx"))
