"""Office files made from ../shared/corpus text for the tests and bench/bench_office.py: a .docx
built with python-docx, an .xlsx indicator table built with openpyxl, and their legacy forms
(.doc, .xls) written by LibreOffice itself, called here directly (not through watcher), so that
watcher's conversion is tested against files it did not make.

A .wps here is a Word 97 document saved under that name: Kingsoft WPS writes .wps files as Word 97
Compound Files, but these are LibreOffice's, not Kingsoft's.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import docx
import openpyxl

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"  # ../shared beside the checkout


def corpus_lines(name: str = "haishu-sti-plan-2021.txt", start: int = 0, count: int = 60) -> list[str]:
    """Non-empty lines of a corpus plan."""
    lines = [line.strip() for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[start : start + count]


def word_document(heading: str, paragraphs: Sequence[str], table: Sequence[Sequence[str]] = ()) -> bytes:
    """A .docx: a Heading 1, the paragraphs, then a table."""
    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def workbook(sheets: dict[str, Sequence[Sequence[object]]], percent: str = "0.0%") -> bytes:
    """An .xlsx with one sheet per entry; a float under 1 is a percentage cell (0.036 → 3.6%)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, float) and cell.value < 1:
                    cell.number_format = percent
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def libreoffice(soffice: str, body: bytes, suffix: str, target: str) -> bytes:
    """`body` (a file ending in `suffix`) saved by LibreOffice as `target` ("doc:MS Word 97",
    "xls:MS Excel 97"), in a private profile."""
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / f"in{suffix}"
        source.write_bytes(body)
        profile = (Path(work) / "profile").as_uri()
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", work, str(source)],
            check=True, capture_output=True, timeout=120,
        )
        return (Path(work) / f"in.{target.split(':')[0]}").read_bytes()


def compound_file(stream: str = "WordDocument", data: bytes = b"\0" * 4096) -> bytes:
    """A minimal Compound File (version 3, 512-byte sectors) holding one stream at its top: what a
    .doc (WordDocument) or .xls (Workbook) is made of, without the document inside."""
    import struct

    sector = 512
    data = data.ljust(max(4096, -(-len(data) // sector) * sector), b"\0")  # at the cut-off or over: regular sectors
    count = len(data) // sector
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    fat = [fat_sector, end] + [2 + n + 1 for n in range(count - 1)] + [end]
    assert len(fat) <= sector // 4, "one FAT sector only"
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(sector, b"\xff")
    difat = struct.pack("<109I", 0, *([free] * 108))
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6,
                         b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0) + difat

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, free, free, child,
                           b"\0" * 16, 0, 0, 0, start, size)

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, free, 2, len(data))
    directory = directory.ljust(sector, b"\0")
    return header + fat_bytes + directory + data
