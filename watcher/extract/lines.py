"""Printed lines → paragraphs: what the readers of fixed-layout pages (PDF, OFD) share.

A fixed-layout page has lines, not paragraphs. They are re-joined into paragraphs from their
geometry: a line ends its paragraph when the first word of the next line would have fitted in
the room left before the right margin, when the next line is indented, opens with a heading
number, has another font size, or sits after a larger gap. Lines in larger type (headings) are
joined on font size and gap alone, since they are often centred. Page furniture goes first:
page numbers (— 1 —, - 1 -, 第1页, 1/14) in the top and bottom bands, and lines that repeat at
the same place on most pages. Positions are in points, top down.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from watcher.extract.text import join_all, join_wrapped
from watcher.model import Block
from watcher.normalise import clean_display, comparison_form
from watcher.numbering import HEADING_NUMBER

MAX_PAGES = 2000
# What a page may draw (characters, paths, images): a dense page of text has a few thousand
# characters, a detailed vector map some tens of thousands. Past this the page is refused while it
# is read: a small file can draw a string millions of times.
MAX_PAGE_OBJECTS = 100_000

_PAGE_NUMBER = re.compile(
    r"^[-—―–－~_·•]*(?:第?\d{1,4}页?|\d{1,4}[/／]\d{1,4}|第\d{1,4}页[,，]?共\d{1,4}页|page\d{1,4}(?:of\d{1,4})?)[-—―–－~_·•]*$",
    re.I,
)
_BAND = 0.1  # top and bottom tenth of a page: where headers and footers live
_REPEAT_SHARE = 0.6  # a line at the same place on this share of pages (and at least 3) is furniture
_MIN_REPEAT_PAGES = 3
_MIN_PAGE_LINES = 10  # fewer lines than this: use the whole document's margins for the page
_INDENT = 0.8  # an indent is at least this many characters
_MIN_MARGIN_LINES, _MARGIN_SHARE = 2, 0.1  # lines that start at a left margin: at least so many
_HEADING_SIZE = 1.1  # type this much larger than the body is heading type
_TITLE_SIZE = 1.2
_MAX_TITLE_LINES = 4

_GENERIC_TITLES = re.compile(r"^(?:untitled|无标题|未命名|document\d*|文档\d*)$", re.I)
_WORD_PREFIX = re.compile(r"^microsoft\s+word\s*-\s*", re.I)
_FILE_SUFFIX = re.compile(r"\.(?:docx?|wps|pdf|ofd|txt)$", re.I)


@dataclass
class Line:
    """One printed line of a page."""

    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    text: str
    first_width: float  # width of the first word: what would have had to fit on the line before
    frame: str | None = None  # the box (专栏 frame) the line is printed in, if any


@dataclass
class _Margins:
    left: float
    right: float


@dataclass
class Layout:
    """What the whole document's geometry says: body type size, margins, line gap."""

    body_size: float
    gap: float
    default: _Margins
    pages: dict[int, _Margins] = field(default_factory=dict)
    frames: dict[str, _Margins] = field(default_factory=dict)

    def margins(self, line: Line) -> _Margins:
        if line.frame is not None and line.frame in self.frames:
            return self.frames[line.frame]
        return self.pages.get(line.page, self.default)


def drop_furniture(lines: list[Line], heights: dict[int, float]) -> list[Line]:
    """Page numbers in the top and bottom bands, and band lines repeated on most pages."""

    def in_band(line: Line) -> bool:
        height = heights[line.page]
        return line.top < _BAND * height or line.bottom > (1 - _BAND) * height

    def key(line: Line) -> tuple[str, int]:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text)), round(line.top / 5)

    pages_of: dict[tuple[str, int], set[int]] = {}  # pages, not lines: twice on one page counts once
    for line in lines:
        if in_band(line):
            pages_of.setdefault(key(line), set()).add(line.page)
    limit = max(_MIN_REPEAT_PAGES, _REPEAT_SHARE * len(heights))

    def repeated(line: Line) -> bool:
        return len(pages_of.get(key(line), ())) >= limit

    kept = []
    for line in lines:
        if in_band(line) and (_PAGE_NUMBER.match(re.sub(r"\s+", "", line.text)) or repeated(line)):
            continue
        kept.append(line)
    return kept


def _margins(lines: list[Line], body_size: float) -> _Margins | None:
    body = [line for line in lines if abs(line.size - body_size) < 0.6] or lines
    if not body:
        return None
    # the leftmost place where several lines start: on a page of one-line paragraphs (a box, a
    # table as lines) the indent is the most common start, and the margin only the wrapped lines'
    starts = Counter(round(line.x0) for line in body)
    least = max(_MIN_MARGIN_LINES, _MARGIN_SHARE * len(body))
    left = min((x for x, count in starts.items() if count >= least), default=starts.most_common(1)[0][0])
    widest = max(line.x1 for line in body)
    long_lines = sorted(line.x1 for line in body if line.x1 > left + 0.5 * (widest - left))
    right = statistics.median(long_lines) if long_lines else widest
    return _Margins(float(left), float(right))


def measure_layout(lines: list[Line]) -> Layout:
    """Body type size, line gap and margins (the document's, and each page's and frame's)."""
    sizes = Counter(line.size for line in lines for _ in range(max(1, len(line.text))))
    body_size = sizes.most_common(1)[0][0] if sizes else 12.0
    gaps = [
        b.top - a.bottom for a, b in pairwise(lines)
        if a.page == b.page and 0 <= b.top - a.bottom < 3 * body_size and abs(a.size - b.size) < 0.6
    ]
    free = [line for line in lines if line.frame is None]
    layout = Layout(body_size, statistics.median(gaps) if gaps else body_size * 0.5,
                    _margins(free or lines, body_size) or _Margins(0.0, 0.0))
    by_page: dict[int, list[Line]] = {}
    by_frame: dict[str, list[Line]] = {}
    for line in lines:
        if line.frame is None:
            by_page.setdefault(line.page, []).append(line)
        else:
            by_frame.setdefault(line.frame, []).append(line)
    for page, page_lines in by_page.items():
        if len(page_lines) >= _MIN_PAGE_LINES:
            layout.pages[page] = _margins(page_lines, body_size) or layout.default
    for frame, frame_lines in by_frame.items():
        layout.frames[frame] = _margins(frame_lines, body_size) or layout.default
    return layout


def _continues(prev: Line, line: Line, layout: Layout) -> bool:
    """True when `line` goes on with the paragraph that `prev` belongs to."""
    size = max(prev.size, line.size)
    if abs(prev.size - line.size) > 0.6 or HEADING_NUMBER.match(line.text) or prev.frame != line.frame:
        return False
    if prev.page == line.page and line.top - prev.bottom > layout.gap + _INDENT * size:
        return False
    if size > _HEADING_SIZE * layout.body_size:
        return True  # heading type: often centred, so margins say nothing
    if line.x0 > layout.margins(line).left + _INDENT * size:
        return False
    room = layout.margins(prev).right - prev.x1
    return room <= line.first_width + 0.5 * size


def paragraphs(lines: Sequence[Line], layout: Layout) -> list[Block]:
    """Consecutive lines (in reading order, nothing between them) re-joined into paragraphs."""
    blocks: list[Block] = []
    text, previous = "", None
    for line in lines:
        if previous is not None and not _continues(previous, line, layout):
            blocks.append(Block("paragraph", text=text))
            text = ""
        text, previous = join_wrapped(text, line.text), line
    if previous is not None:
        blocks.append(Block("paragraph", text=text))
    return blocks


def printed_title(stated: str, lines: list[Line], layout: Layout) -> tuple[str, int]:
    """The title, from the one the file states (its metadata) and the lines in larger type at the
    top of the first page, and how many leading lines print it (to leave out of the body)."""
    raw = stated.strip()
    meta = _FILE_SUFFIX.sub("", _WORD_PREFIX.sub("", raw)).strip()
    # A file name or a placeholder says less than the title printed on the first page.
    weak = not meta or meta != raw or bool(_GENERIC_TITLES.match(meta))
    count = 0
    if lines and lines[0].size >= _TITLE_SIZE * layout.body_size:
        first = lines[0]
        while (
            count < min(len(lines), _MAX_TITLE_LINES)
            and lines[count].page == first.page
            and abs(lines[count].size - first.size) < 0.6
        ):
            count += 1
    printed = join_all(clean_display(line.text) for line in lines[:count])
    if printed and (weak or comparison_form(printed) == comparison_form(meta)):
        return printed, count
    return ("" if _GENERIC_TITLES.match(meta) else meta), 0
