"""OFD (GB/T 33190, the national fixed-layout document format) → Document.

An OFD is a zip package of XML: OFD.xml names each document's root (DocBody/DocRoot →
Document.xml), which lists its pages (Pages/Page, BaseLoc → Content.xml) and the templates they
draw on (CommonData/TemplatePage). A page's Content holds layers of objects; the text is in each
TextObject's TextCodes: X/Y (the baseline of the first character, inside the object's Boundary,
through its CTM when it has one) and DeltaX (the advance of each character but the last).

The reader places every TextCode on its page, groups the pieces into lines by baseline (pages in
order; within a page by line position, then x), and hands the lines to watcher.extract.lines,
which drops page furniture and re-joins wrapped lines into paragraphs as it does for a PDF.
Elements are matched by local name, with or without the ofd: prefix and namespace.

Caps: the members are read under the zip caps of watcher.extract.package, and their tags are
counted before parsing; XML is parsed without DTDs, entities, network or huge-tree mode (libxml2
then refuses more than 256 levels of nesting); pages and the characters and objects a page draws
are counted. Not read: images (scanned pages
need OCR), annotations, attachments; vertical writing (DeltaY) is placed as if horizontal, and a
page in columns is read across them.
"""

from __future__ import annotations

import math
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from watcher.errors import ExtractError
from watcher.extract.lines import (
    MAX_PAGE_OBJECTS,
    MAX_PAGES,
    Line,
    drop_furniture,
    measure_layout,
    paragraphs,
    printed_title,
)
from watcher.extract.package import package_members
from watcher.extract.text import assemble
from watcher.model import Document

_POINTS_PER_MM = 72 / 25.4  # OFD measures in millimetres; the line geometry is in points
_DEFAULT_PAGE = (0.0, 0.0, 210.0, 297.0)  # A4, when neither the page nor the document says
_MAX_NESTING = 16  # PageBlocks inside PageBlocks
# Tags ("<") in one XML member, counted before parsing: two for each object a page may draw;
# libxml2 takes some 500 bytes an element, so at most about 100 MB once parsed.
_MAX_TAGS = 2 * MAX_PAGE_OBJECTS
_DEFAULT_SIZE = 3.7  # mm, 五号 (10.5 pt): for a TextObject without the Size the standard requires
_SAME_LINE = 0.5  # baselines nearer than this share of the type size are one line
_WORD_GAP = 0.25  # pieces of one line further apart than this share of the size get a space
_ASCENT, _DESCENT = 0.88, 0.12  # of the type size, above and below the baseline
_IDEOGRAPH = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")

_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class _Piece:
    """One TextCode as placed on its page (millimetres, top down)."""

    text: str
    starts: tuple[float, ...]  # x of each character
    x1: float
    baseline: float
    size: float


# ---------------------------------------------------------------- package and XML


def _local(element: etree._Element) -> str:
    """The element's name without namespace or prefix ("ofd:Page" when its prefix is undeclared)."""
    tag: object = element.tag
    if not isinstance(tag, str):
        return ""  # a comment or processing instruction
    return tag.rpartition("}")[2].rpartition(":")[2]


def _children(element: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if element is not None:
        yield from (child for child in element if _local(child) == name)


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _parse(data: bytes, name: str) -> etree._Element:
    """A member's XML root. Undeclared prefixes and GBK text (undeclared, or declared as GB2312)
    are tolerated, as some producers write them; any other damage, and any DTD, is refused."""
    if data.count(b"<") > _MAX_TAGS:
        raise ExtractError(f"OFD refused: {name} has more than {_MAX_TAGS} tags")
    try:
        return _tolerant(data, name)
    except _Refused as refused:
        decoded = _chinese_text(data) if refused.domains == {"IO"} else None
        if decoded is None:
            raise ExtractError(f"corrupt OFD: {name}: {refused.error}") from refused.error
    try:
        return _tolerant(decoded, name)
    except _Refused as refused:
        raise ExtractError(f"corrupt OFD: {name}: {refused.error}") from refused.error


class _Refused(Exception):
    """A parse that failed, with the domains of its errors (libxml2's: IO, PARSER, NAMESPACE …)."""

    def __init__(self, error: etree.XMLSyntaxError, domains: set[str]) -> None:
        super().__init__(str(error))
        self.error, self.domains = error, domains


def _tolerant(source: bytes | str, name: str) -> etree._Element:
    """Parsed strictly; again, recovering, when the only errors are undeclared prefixes. The
    errors are the parser's own: an exception's error_log holds the thread's earlier ones too."""
    parser = _parser(recover=False)
    try:
        return _checked_root(etree.fromstring(source, parser), name)
    except etree.XMLSyntaxError as exc:
        domains = {entry.domain_name for entry in cast("Iterable[Any]", parser.error_log)}
        if domains != {"NAMESPACE"}:
            raise _Refused(exc, domains) from exc
    root = etree.fromstring(source, _parser(recover=True))
    if root is None:
        raise ExtractError(f"corrupt OFD: {name} is not XML")
    return _checked_root(root, name)


def _chinese_text(data: bytes) -> str | None:
    """The XML as GB18030 text (GB2312 and GBK are subsets of it), its declaration left out, or
    None when it is not that either."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return _DECLARATION.sub("", text, count=1)


def _parser(*, recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover
    )


def _checked_root(root: etree._Element, name: str) -> etree._Element:
    if root.getroottree().docinfo.internalDTD is not None:
        raise ExtractError(f"OFD refused: {name} declares a DTD")
    return root


class _Package:
    """The members of an OFD, found the way producers write their locations."""

    def __init__(self, body: bytes) -> None:
        self.members = {  # the XML: images, fonts and signatures are inflated (and counted), not kept
            _normal(name): data
            for name, data in package_members(body, kind="OFD", required="OFD.xml")
            if name.lower().endswith(".xml")
        }
        self.folded = {name.casefold(): name for name in self.members}

    def resolve(self, base: str, location: str) -> str | None:
        """A location written in member `base`: relative to its folder, or to the root when it
        starts with "/"; producers also write root-relative paths without the "/", and get the
        case wrong."""
        location = location.strip().replace("\\", "/")
        if not location:
            return None
        tried = [location] if location.startswith("/") else [posixpath.join(posixpath.dirname(base), location), location]
        for candidate in tried:
            name = _normal(posixpath.normpath(candidate.lstrip("/")))
            found = name if name in self.members else self.folded.get(name.casefold())
            if found is not None:
                return found
        return None

    def xml(self, name: str) -> etree._Element:
        return _parse(self.members[name], name)


def _normal(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith(("/", "./")):
        name = name[1:] if name.startswith("/") else name[2:]
    return name


# ---------------------------------------------------------------- numbers and geometry


def _numbers(value: str | None) -> list[float]:
    try:
        numbers = [float(part) for part in (value or "").replace(",", " ").split()]
    except ValueError:
        return []
    return numbers if all(math.isfinite(n) for n in numbers) else []


def _box(value: str | None) -> tuple[float, float, float, float] | None:
    numbers = _numbers(value)
    return (numbers[0], numbers[1], numbers[2], numbers[3]) if len(numbers) >= 4 else None


def _deltas(value: str | None, count: int) -> list[float]:
    """The first `count` advances of a DeltaX; "g 3 4.2" stands for 4.2 three times."""
    tokens = (value or "").split()
    out: list[float] = []
    at = 0
    try:
        while at < len(tokens) and len(out) < count:
            if tokens[at] == "g" and at + 2 < len(tokens):
                repeat, step = int(float(tokens[at + 1])), float(tokens[at + 2])
                out.extend([step] * max(0, min(repeat, count - len(out))))
                at += 3
            else:
                out.append(float(tokens[at]))
                at += 1
    except (ValueError, OverflowError):
        pass  # the advances up to a damaged one; the others are estimated
    return [d if math.isfinite(d) else 0.0 for d in out]


def _advance(char: str, size: float) -> float:
    """A character's width without the font's metrics: full width for CJK, half otherwise."""
    return size if unicodedata.east_asian_width(char) in ("W", "F") else size / 2


def _compose(outer: _Matrix, inner: _Matrix) -> _Matrix:
    """Apply `inner` first, then `outer`."""
    a, b, c, d, e, f = outer
    p, q, r, s, t, u = inner
    return (a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s, a * t + c * u + e, b * t + d * u + f)


def _object_matrix(element: etree._Element) -> _Matrix:
    """Object space → its parent: the CTM, then the move to the Boundary's corner."""
    box = _box(element.get("Boundary")) or (0.0, 0.0, 0.0, 0.0)
    ctm = _numbers(element.get("CTM"))
    a, b, c, d, e, f = ctm[:6] if len(ctm) >= 6 else _IDENTITY
    return (a, b, c, d, e + box[0], f + box[1])


# ---------------------------------------------------------------- pages


class _Counter:
    """The objects and characters a page draws, against MAX_PAGE_OBJECTS."""

    def __init__(self, page: int) -> None:
        self.page, self.count = page, 0

    def charge(self, count: int) -> None:
        self.count += count
        if self.count > MAX_PAGE_OBJECTS:
            raise ExtractError(
                f"OFD refused: page {self.page} draws more than {MAX_PAGE_OBJECTS} characters and objects"
            )


def _text_object(element: etree._Element, outer: _Matrix, counter: _Counter) -> Iterator[_Piece]:
    a, b, c, d, e, f = _compose(outer, _object_matrix(element))
    declared = _numbers(element.get("Size"))
    size = (declared[0] if declared and declared[0] > 0 else _DEFAULT_SIZE) * (math.sqrt(abs(a * d - b * c)) or 1.0)
    x = y = 0.0
    for code in _children(element, "TextCode"):
        x = (_numbers(code.get("X")) or [x])[0]  # a TextCode without X or Y goes on from the last
        y = (_numbers(code.get("Y")) or [y])[0]
        text = "".join(ch for ch in (code.text or "") if unicodedata.category(ch) != "Cc" or ch == "\t")
        if not text.strip():
            continue
        counter.charge(len(text))
        deltas = _deltas(code.get("DeltaX"), len(text) - 1)
        local = [x]
        for index, char in enumerate(text[:-1]):
            local.append(local[-1] + (deltas[index] if index < len(deltas) else _advance(char, size)))
        starts = tuple(a * at + c * y + e for at in local)
        yield _Piece(text, starts, starts[-1] + _advance(text[-1], size) * (math.hypot(a, b) or 1.0),
                     b * x + d * y + f, size)


def _objects(
    elements: etree._Element, matrix: _Matrix, units: Mapping[str, etree._Element], counter: _Counter, depth: int
) -> Iterator[_Piece]:
    """The pieces of text of a layer, page block or composite unit, and of those inside it."""
    for element in elements:
        name = _local(element)
        counter.charge(1)
        if name == "TextObject":
            yield from _text_object(element, matrix, counter)
        elif depth >= _MAX_NESTING:
            raise ExtractError(f"OFD refused: page {counter.page} nests objects more than {_MAX_NESTING} deep")
        elif name == "PageBlock":
            yield from _objects(element, matrix, units, counter, depth + 1)
        elif name == "CompositeObject":
            content = _child(units.get(element.get("ResourceID", "").strip()), "Content")
            if content is not None:
                yield from _objects(content, _compose(matrix, _object_matrix(element)), units, counter, depth + 1)


def _content_pieces(root: etree._Element, units: Mapping[str, etree._Element], counter: _Counter) -> list[_Piece]:
    pieces: list[_Piece] = []
    for layer in _children(_child(root, "Content"), "Layer"):
        pieces.extend(_objects(layer, _IDENTITY, units, counter, 0))
    return pieces


def _lines(page: int, pieces: list[_Piece]) -> list[Line]:
    """The pieces of a page as lines: by baseline, then left to right (in points)."""
    rows: list[list[_Piece]] = []
    for piece in sorted(pieces, key=lambda p: (p.baseline, p.starts[0])):
        row = rows[-1] if rows else None
        if row and abs(piece.baseline - row[0].baseline) < _SAME_LINE * max(piece.size, row[0].size, 0.1):
            row.append(piece)
        else:
            rows.append([piece])
    return [_line(page, sorted(row, key=lambda p: p.starts[0])) for row in rows]


def _line(page: int, row: list[_Piece]) -> Line:
    size = max(piece.size for piece in row)
    text = row[0].text
    for before, piece in zip(row, row[1:], strict=False):
        gap = piece.starts[0] - before.x1
        text += (" " if gap > _WORD_GAP * size and not text.endswith(" ") else "") + piece.text
    first = row[0]
    end = next((i for i, ch in enumerate(first.text) if ch.isspace()), len(first.text)) - 1
    ideograph = _IDEOGRAPH.search(first.text)
    if ideograph and ideograph.start() <= end:
        end = ideograph.start()
    end = max(end, 0)
    word_end = first.starts[end + 1] if end + 1 < len(first.starts) else first.x1
    baseline = row[0].baseline
    return Line(
        page,
        first.starts[0] * _POINTS_PER_MM,
        max(piece.x1 for piece in row) * _POINTS_PER_MM,
        (baseline - _ASCENT * size) * _POINTS_PER_MM,
        (baseline + _DESCENT * size) * _POINTS_PER_MM,
        round(size * _POINTS_PER_MM, 1),
        text.strip(),
        (word_end - first.starts[0]) * _POINTS_PER_MM,
    )


# ---------------------------------------------------------------- documents


def _units(package: _Package, document: str, locations: list[str]) -> dict[str, etree._Element]:
    """Composite graphic units by ID, from the document's resource files."""
    units: dict[str, etree._Element] = {}
    for location in locations:
        found = package.resolve(document, location)
        if found is None:
            continue
        root = package.xml(found)
        for unit in _children(_child(root, "CompositeGraphicUnits"), "CompositeGraphicUnit"):
            units.setdefault(unit.get("ID", "").strip(), unit)
    return units


def _pages(package: _Package, document: str, first: int) -> Iterator[tuple[float, list[Line]]]:
    """(height in points, lines) of each page of a document, numbered on from `first`."""
    root = package.xml(document)
    common = _child(root, "CommonData")
    default_box = _box(_text(_child(_child(common, "PageArea"), "PhysicalBox"))) or _DEFAULT_PAGE
    templates = {
        template.get("ID", "").strip(): template.get("BaseLoc", "") for template in _children(common, "TemplatePage")
    }
    resources = [_text(e) for e in (common if common is not None else ()) if _local(e) in ("PublicRes", "DocumentRes")]
    units = _units(package, document, resources)
    drawn: dict[str, tuple[list[_Piece], int]] = {}  # a template's pieces and what it draws, read once
    for number, page in enumerate(_children(_child(root, "Pages"), "Page"), start=first):
        if number >= MAX_PAGES:
            raise ExtractError(f"OFD refused: more than {MAX_PAGES} pages")
        counter = _Counter(number + 1)
        written = page.get("BaseLoc") or _text(_child(page, "BaseLoc"))  # some producers write an element
        location = package.resolve(document, written)
        if location is None:
            raise ExtractError(f"corrupt OFD: page {number + 1} ({written!r}) is not in the package")
        content = package.xml(location)
        box = _box(_text(_child(_child(content, "Area"), "PhysicalBox"))) or default_box
        pieces: list[_Piece] = []
        for use in _children(content, "Template"):
            template = package.resolve(document, templates.get(use.get("TemplateID", "").strip(), ""))
            if template is None:
                continue
            if template not in drawn:
                alone = _Counter(number + 1)
                drawn[template] = (_content_pieces(package.xml(template), units, alone), alone.count)
            template_pieces, cost = drawn[template]
            counter.charge(cost)
            pieces.extend(template_pieces)
        pieces.extend(_content_pieces(content, units, counter))
        yield box[3] * _POINTS_PER_MM, _lines(number, pieces)


def extract_ofd(body: bytes, **_options: object) -> Document:
    """An .ofd body → Document (paragraphs re-joined from the printed lines).

    The keyword options of extract() (selector, encoding …) have no meaning for OFD."""
    package = _Package(body)
    root = package.xml("OFD.xml")
    if _local(root) != "OFD":
        raise ExtractError(f"corrupt OFD: OFD.xml holds <{_local(root)}>, not <OFD>")
    lines: list[Line] = []
    heights: dict[int, float] = {}  # page → height in points
    stated = ""  # the title in the document's metadata
    for doc_body in _children(root, "DocBody"):
        location = _text(_child(doc_body, "DocRoot"))
        document = package.resolve("OFD.xml", location)
        if document is None:
            raise ExtractError(f"corrupt OFD: its document root {location!r} is not in the package")
        stated = stated or _text(_child(_child(doc_body, "DocInfo"), "Title"))
        for height, page_lines in _pages(package, document, len(heights)):
            heights[len(heights)] = height
            lines.extend(page_lines)
    if not heights:
        raise ExtractError("corrupt OFD: OFD.xml names no document with pages")
    if not lines:
        raise ExtractError("the OFD has no text (scanned images?); nothing to extract")
    lines = drop_furniture(lines, heights)
    layout = measure_layout(lines)
    title, title_lines = printed_title(stated, lines, layout)
    return assemble(paragraphs(lines[title_lines:], layout), fmt="ofd", title=title)
