"""PDF → Document with pdfplumber.

A PDF has lines, not paragraphs: the text outside the table boxes is re-joined into paragraphs
from its geometry by watcher.extract.lines, which also drops page furniture. A ruled box of one
column (a 专栏 drawn around its paragraphs) is not a table: its lines are paragraphs measured
against the box's own margins. Tables come from page.find_tables(); a table continued across a
page break (same column count, the next page opening with a table) is merged, its repeated header
row skipped.

Before pdfplumber reads a file, check_streams inflates every stream once against a cap
(decompression bombs: a few hundred KB of Flate data can inflate to gigabytes).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pdfplumber
from pdfminer.ascii85 import ascii85decode, asciihexdecode
from pdfminer.layout import LAParams, LTPage
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import (
    LITERALS_ASCII85_DECODE,
    LITERALS_ASCIIHEX_DECODE,
    LITERALS_FLATE_DECODE,
    LITERALS_LZW_DECODE,
    LITERALS_RUNLENGTH_DECODE,
    PDFStream,
)
from pdfminer.psparser import PSKeyword

from watcher.errors import ExtractError
from watcher.extract.lines import MAX_PAGE_OBJECTS, MAX_PAGES, Line, drop_furniture, measure_layout, paragraphs, printed_title
from watcher.extract.text import assemble, join_all
from watcher.model import Block, Document
from watcher.normalise import comparison_form

# Decoded stream sizes. A page's content stream is rarely over a few MB; 64 MiB is a lossless
# A4 page image at 600 dpi in grey. Images count too: a stream's use is not known before reading.
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_DECODED_BYTES = 512 * 1024 * 1024  # all streams of a file together

_CJK_CHAR = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_SPACE = re.compile(rf"(?<={_CJK_CHAR}) +(?={_CJK_CHAR})")
_IDEOGRAPH = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TABLE_TOLERANCE = 1.0



@dataclass
class _Table:
    page: int
    top: float
    bottom: float
    rows: list[tuple[str, ...]]


def _cell_text(text: str | None) -> str:
    lines = [_CJK_SPACE.sub("", line.strip()) for line in (text or "").splitlines()]
    return join_all(line for line in lines if line)


def _table_rows(table: pdfplumber.table.Table) -> list[tuple[str, ...]]:
    """Rows of cell texts; a merged cell is one cell across columns and repeated down rows."""
    grid = table.extract()
    boxes = [row.cells for row in table.rows]
    rows: list[tuple[str, ...]] = []
    for i, cells in enumerate(grid):
        row: list[str] = []
        for j, text in enumerate(cells):
            if text is not None:
                row.append(_cell_text(text))
                continue
            top = table.rows[i].bbox[1]
            for k in range(i - 1, -1, -1):  # a cell merged down from a row above is repeated
                box = boxes[k][j] if j < len(boxes[k]) else None
                if box is not None:
                    if box[3] > top + _TABLE_TOLERANCE:
                        row.append(_cell_text(grid[k][j]))
                    break
        rows.append(tuple(row))
    return rows


def _first_width(chars: list[dict[str, Any]]) -> float:
    """Width of a line's first word: up to its first ideograph, or to the first space."""
    if not chars:
        return 0.0
    end = chars[0]
    for char in chars:
        if char["text"].isspace():
            break
        end = char
        if _IDEOGRAPH.match(char["text"]):
            break
    return float(end["x1"] - chars[0]["x0"])


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _is_frame(table: pdfplumber.table.Table) -> bool:
    """A ruled box of one column (a 专栏 drawn around its text) frames paragraphs, not data."""
    return max(sum(1 for cell in row.cells if cell is not None) for row in table.rows) <= 1


def _frame_of(line: dict[str, Any], frames: list[tuple[float, float, float, float]], page: int) -> str | None:
    for index, box in enumerate(frames):
        if _inside(line, [box]):
            return f"{page}:{index}"
    return None


def _read_page(number: int, page: pdfplumber.page.Page) -> tuple[list[Line], list[_Table]]:
    found = [t for t in page.find_tables() if t.rows]
    frames = [t.bbox for t in found if _is_frame(t)]
    tables = [t for t in found if not _is_frame(t)]
    boxes = [t.bbox for t in tables]
    text_page = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes)) if boxes else page
    lines: list[Line] = []
    for line in text_page.extract_text_lines(return_chars=True):
        chars = [c for c in line["chars"] if c["text"].strip()]
        text = _CJK_SPACE.sub("", line["text"]).strip()
        if not chars or not text:
            continue
        sizes = sorted(round(float(c["size"]), 1) for c in chars)
        lines.append(
            Line(number, float(line["x0"]), float(line["x1"]), float(line["top"]), float(line["bottom"]),
                  sizes[len(sizes) // 2], text, _first_width(chars), _frame_of(line, frames, number))
        )
    return lines, [_Table(number, float(t.bbox[1]), float(t.bbox[3]), _table_rows(t)) for t in tables]


def _merge_tables(blocks: list[Block | _Table], table: _Table, previous: object) -> None:
    """Append `table`, or continue the table just before it when it carries on over a page break."""
    last = blocks[-1] if blocks else None
    if (
        isinstance(last, _Table)
        and previous is last  # nothing between: the last thing on one page, the first on the next
        and table.page == last.page + 1
        and table.rows
        and last.rows
        and len(table.rows[0]) == len(last.rows[0])
    ):
        rows = table.rows
        if [comparison_form(c) for c in rows[0]] == [comparison_form(c) for c in last.rows[0]]:
            rows = rows[1:]  # the header row repeated on the new page
        last.rows.extend(rows)
        last.page = table.page
        return
    blocks.append(table)


# ---------------------------------------------------------------- object caps


class _MeteredDevice(pdfplumber.page.PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, counting the objects the page's operators produce."""

    def __init__(self, resources: PDFResourceManager, *, pageno: int, laparams: LAParams | None, limit: int) -> None:
        super().__init__(resources, pageno=pageno, laparams=laparams)
        self.limit, self.count = limit, 0

    def _charge(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise ExtractError(
                f"PDF refused: page {self.pageno} draws more than {self.limit} characters, paths and images"
            )

    def render_char(self, *args: object, **kwargs: object) -> float:
        self._charge()
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args: object, **kwargs: object) -> None:
        self._charge()
        super().paint_path(*args, **kwargs)

    def render_image(self, *args: object, **kwargs: object) -> None:
        self._charge()
        super().render_image(*args, **kwargs)


class _MeteredPage(pdfplumber.page.Page):
    """A page whose layout is read through _MeteredDevice."""

    @property
    def layout(self) -> LTPage:
        if not hasattr(self, "_layout"):
            device = _MeteredDevice(
                self.pdf.rsrcmgr, pageno=self.page_number, laparams=self.pdf.laparams, limit=MAX_PAGE_OBJECTS
            )
            PDFPageInterpreter(self.pdf.rsrcmgr, device).process_page(self.page_obj)
            self._layout: LTPage = device.get_result()
        return self._layout


def _metered(page: pdfplumber.page.Page) -> _MeteredPage:
    return _MeteredPage(page.pdf, page.page_obj, page_number=page.page_number, initial_doctop=page.initial_doctop)


# ---------------------------------------------------------------- decompression caps


class _Budget:
    """Decoded bytes allowed: per stream and for the whole file; each stream is counted once."""

    def __init__(self, stream_cap: int, total_cap: int) -> None:
        self.stream_cap, self.total_cap, self.total = stream_cap, total_cap, 0
        # the streams themselves are kept: an id alone can be taken again by a later stream once
        # the first is freed, and that stream would then go unmeasured
        self._seen: dict[int, PDFStream] = {}

    def charge(self, stream: PDFStream) -> None:
        if id(stream) in self._seen:
            return
        self._seen[id(stream)] = stream
        size = _decoded_size(stream, self.stream_cap)
        if size > self.stream_cap:
            where = f"object {stream.objid}" if stream.objid is not None else "a stream"
            raise ExtractError(f"PDF refused: {where} decodes to more than {self.stream_cap // 2**20} MB")
        self.total += size
        if self.total > self.total_cap:
            raise ExtractError(f"PDF refused: its streams decode to more than {self.total_cap // 2**20} MB")


class _MeteredStream(PDFStream):
    """A stream that charges its decoded size to the budget before pdfminer decodes it."""

    def __init__(self, stream: PDFStream, budget: _Budget) -> None:
        super().__init__(stream.attrs, stream.rawdata or b"", stream.decipher)
        self.budget = budget

    def decode(self) -> None:
        self.budget.charge(self)
        super().decode()


class _MeteredParser(PDFParser):
    """Makes every stream it reads a _MeteredStream, so that the streams pdfminer decodes while
    it loads the file (cross-reference and object streams) are measured first as well."""

    def __init__(self, body: bytes, budget: _Budget) -> None:
        super().__init__(io.BytesIO(body))
        self.budget = budget

    def do_keyword(self, pos: int, token: PSKeyword) -> None:
        super().do_keyword(pos, token)
        if token is self.KEYWORD_STREAM and self.curstack:
            at, stream = self.curstack[-1]
            if type(stream) is PDFStream:
                self.curstack[-1] = (at, _MeteredStream(stream, self.budget))


def _decoded_size(stream: PDFStream, cap: int) -> int:
    """The stream's decoded size, or a number over `cap` as soon as it is known to be over.

    Runs the filters that can inflate (Flate, LZW, RunLength; ASCII85 and hex on the way) a
    piece at a time: the last one is only counted, an earlier one is kept up to cap + 1 bytes.
    Predictors only shrink; image codecs (DCT, JPX, JBIG2, CCITT) end the count, since text
    extraction does not decode images."""
    data = stream.rawdata
    if data is None:
        return len(stream.data or b"")
    if stream.decipher and stream.objid is not None and stream.genno is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    decoders = []
    for name, _params in stream.get_filters():
        decoder = next((d for names, d in _DECODERS if name in names), None)
        if decoder is None:
            break
        decoders.append(decoder)
    limit = cap + 1
    if not decoders:
        return len(data)
    for decoder in decoders[:-1]:
        kept = bytearray()
        for piece in decoder(data):
            kept += piece
            if len(kept) >= limit:
                return len(kept)
        data = bytes(kept)
    size = 0
    for piece in decoders[-1](data):
        size += len(piece)
        if size >= limit:
            break
    return size


_STEP = 1024 * 1024  # inflated bytes held at once while measuring


def _inflate(data: bytes) -> Iterator[bytes]:
    """Flate-decoded pieces of at most _STEP bytes; a damaged stream ends where the damage is."""
    inflater, pending = zlib.decompressobj(), data
    while True:
        try:
            piece = inflater.decompress(pending, _STEP)
        except zlib.error:
            return
        if not piece:
            return
        yield piece
        pending = inflater.unconsumed_tail


def _run_length(data: bytes) -> Iterator[bytes]:
    """RunLengthDecode (PDF 32000 7.4.5) run by run: one byte may be repeated 128 times."""
    index = 0
    while index < len(data) and data[index] != 128:
        length = data[index]
        if length < 128:
            yield data[index + 1 : index + 2 + length]
            index += 2 + length
        else:
            yield data[index + 1 : index + 2] * (257 - length)
            index += 2


_DECODERS: tuple[tuple[tuple[object, ...], Callable[[bytes], Iterable[bytes]]], ...] = (
    (LITERALS_FLATE_DECODE, _inflate),
    (LITERALS_LZW_DECODE, lambda data: LZWDecoder(io.BytesIO(data)).run()),
    (LITERALS_RUNLENGTH_DECODE, _run_length),
    (LITERALS_ASCII85_DECODE, lambda data: (ascii85decode(data),)),
    (LITERALS_ASCIIHEX_DECODE, lambda data: (asciihexdecode(data),)),
)


def check_streams(body: bytes, *, stream_cap: int = MAX_STREAM_BYTES, total_cap: int = MAX_DECODED_BYTES) -> None:
    """Raise ExtractError when a stream of the PDF decodes to more than `stream_cap` bytes, or all
    of them together to more than `total_cap`, without ever holding more than that.

    pdfminer inflates a stream whole and keeps it: a 300 KB file can take gigabytes. Every object
    is visited once, before pdfplumber; objects pdfminer cannot read are left to pdfplumber."""
    budget = _Budget(stream_cap, total_cap)
    document = PDFDocument(_MeteredParser(body, budget))
    for xref in document.xrefs:
        for objid in xref.get_objids():
            try:
                obj = document.getobj(objid)
            except ExtractError:
                raise
            except Exception:  # a damaged object: pdfplumber will say so if it needs it
                continue
            if isinstance(obj, PDFStream):
                budget.charge(obj)


def extract_pdf(body: bytes, **_options: object) -> Document:
    """A PDF body → Document (paragraphs re-joined, tables as table blocks).

    The keyword options of extract() (selector, encoding …) have no meaning for PDF."""
    lines: list[Line] = []
    tables: list[_Table] = []
    heights: dict[int, float] = {}
    try:
        check_streams(body)
        with pdfplumber.open(io.BytesIO(body)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ExtractError(f"PDF refused: {len(pdf.pages)} pages (limit {MAX_PAGES})")
            metadata = dict(pdf.metadata or {})
            for number, listed in enumerate(pdf.pages):
                page = _metered(listed)
                heights[number] = float(page.height)
                page_lines, page_tables = _read_page(number, page)
                lines.extend(page_lines)
                tables.extend(page_tables)
                page.close()
    except ExtractError:
        raise
    except Exception as exc:  # pdfminer raises PDFSyntaxError, PSEOF, KeyError, TypeError … on damaged files
        raise ExtractError(f"corrupt or unreadable PDF: {type(exc).__name__}: {exc}") from exc
    if not lines and not tables:
        raise ExtractError("the PDF has no text layer (a scanned image?); nothing to extract")

    lines = drop_furniture(lines, heights)
    layout = measure_layout(lines)
    title, title_lines = printed_title(str(metadata.get("Title") or ""), lines, layout)
    lines = lines[title_lines:]

    items: list[Line | _Table] = sorted([*lines, *tables], key=lambda item: (item.page, item.top))
    blocks: list[Block | _Table] = []
    run: list[Line] = []  # the lines since the last table
    previous: object = None  # the item placed last: a line, or the table it went into
    for item in items:
        if isinstance(item, _Table):
            blocks.extend(paragraphs(run, layout))
            run.clear()
            _merge_tables(blocks, item, previous)
            previous = blocks[-1]
            continue
        run.append(item)
        previous = item
    blocks.extend(paragraphs(run, layout))
    final = [Block("table", rows=tuple(b.rows)) if isinstance(b, _Table) else b for b in blocks]
    return assemble(final, fmt="pdf", title=title)
