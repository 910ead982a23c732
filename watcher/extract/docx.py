"""DOCX → Document with python-docx, read at the XML level where python-docx hides things.

Body order is kept with tables interleaved. Text comes from the runs, tracked insertions
included and deletions, field codes and text boxes left out. Word's automatic list numbers
(1. / （一） / ①), which live in numbering.xml and not in the text, are rendered in front of the
paragraph, because the segmenter reads the structure of a plan from them. Heading levels come
from the style name (Heading N, 标题 N) or the outline level; the Title style gives the title.
Tables: a cell spanning columns is one cell, a cell spanning rows is repeated in each row.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import cn2an
import docx
from docx.oxml.ns import qn
from lxml import etree

from watcher.errors import ExtractError
from watcher.extract.package import package_members
from watcher.extract.text import assemble, join_all
from watcher.model import Block, Document

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)
_TITLE_STYLES = frozenset({"title", "标题"})
_BODY_OUTLINE_LEVEL = 9
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_SKIPPED_ANCESTORS = frozenset({qn("w:del"), qn("w:txbxContent"), _MC_FALLBACK, qn("w:moveFrom")})
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _val(element: etree._Element | None, default: str | None = None) -> str | None:
    if element is None:
        return default
    return element.get(qn("w:val"), default)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# ---------------------------------------------------------------- automatic numbering


def _roman(number: int) -> str:
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while number >= value:
            out, number = out + letters, number - value
    return out


def _letters(number: int) -> str:
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def format_number(number: int, fmt: str) -> str:
    """One counter in a Word numbering format (w:numFmt)."""
    if fmt in ("bullet", "none"):
        return ""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "koreanCounting", "ideographLegalTraditional"):
        return cn2an.an2cn(number) if number > 0 else "〇"
    if fmt == "chineseLegalSimplified":
        return cn2an.an2cn(number, "up") if number > 0 else "零"
    if fmt == "ideographTraditional" and 0 < number <= len(_TIANGAN):
        return _TIANGAN[number - 1]
    if fmt.startswith("decimalEnclosedCircle") and 0 < number <= len(_CIRCLED):
        return _CIRCLED[number - 1]
    if fmt.startswith("decimalFullWidth"):
        return str(number).translate(_FULLWIDTH_DIGITS)
    if fmt == "decimalZero":
        return f"{number:02d}"
    if fmt == "decimalEnclosedParen":
        return f"({number})"
    if fmt in ("upperRoman", "lowerRoman"):
        roman = _roman(number)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt in ("upperLetter", "lowerLetter"):
        letters = _letters(number)
        return letters if fmt == "upperLetter" else letters.lower()
    return str(number)


class _Numbering:
    """Renders the automatic list numbers of paragraphs in document order."""

    def __init__(self, document: docx.document.Document) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # abstractNumId → ilvl → (start, fmt, text)
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId → (abstractNumId, start overrides)
        self.counters: dict[str, dict[int, int]] = {}
        self.overridden: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(qn("w:abstractNum")):
            levels: dict[int, tuple[int, str, str]] = {}
            for lvl in abstract.findall(qn("w:lvl")):
                levels[_int(lvl.get(qn("w:ilvl")), 0)] = (
                    _int(_val(lvl.find(qn("w:start"))), 1),
                    _val(lvl.find(qn("w:numFmt")), "decimal") or "decimal",
                    _val(lvl.find(qn("w:lvlText")), "") or "",
                )
            self.levels[abstract.get(qn("w:abstractNumId"), "")] = levels
        for num in root.findall(qn("w:num")):
            overrides = {
                _int(o.get(qn("w:ilvl")), 0): _int(_val(o.find(qn("w:startOverride"))), 1)
                for o in num.findall(qn("w:lvlOverride"))
                if o.find(qn("w:startOverride")) is not None
            }
            self.nums[num.get(qn("w:numId"), "")] = (_val(num.find(qn("w:abstractNumId")), "") or "", overrides)

    def label(self, num_id: str, ilvl: int) -> str:
        """The number of the next paragraph in list `num_id` at level `ilvl` ("" if none)."""
        if num_id not in self.nums:
            return ""
        abstract, overrides = self.nums[num_id]
        levels = self.levels.get(abstract, {})
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract, {})
        if num_id not in self.overridden and overrides:
            # A list instance with a start override restarts its abstract list (Word's "restart numbering").
            self.overridden.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
        start = overrides.get(ilvl, levels[ilvl][0])
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        text = levels[ilvl][2]

        def substitute(found: re.Match[str]) -> str:
            level = int(found.group(1)) - 1
            if level not in levels:
                return ""
            value = counters.get(level, levels[level][0])
            return format_number(value, levels[level][1])

        if levels[ilvl][1] in ("bullet", "none"):
            return ""
        return re.sub(r"%([1-9])", substitute, text)


# ---------------------------------------------------------------- paragraphs


def _style_chain(document: docx.document.Document, style_id: str | None) -> Iterator[etree._Element]:
    seen: set[str] = set()
    styles = document.styles.element
    while style_id and style_id not in seen:
        seen.add(style_id)
        style = next((s for s in styles.findall(qn("w:style")) if s.get(qn("w:styleId")) == style_id), None)
        if style is None:
            return
        yield style
        style_id = _val(style.find(qn("w:basedOn")))


class _Styles:
    """Style look-ups, cached: names, outline levels and list numbering by style id."""

    def __init__(self, document: docx.document.Document) -> None:
        self.document = document
        self.cache: dict[str | None, tuple[str, int | None, tuple[str, int] | None]] = {}

    def get(self, style_id: str | None) -> tuple[str, int | None, tuple[str, int] | None]:
        if style_id not in self.cache:
            name, outline, numbering = "", None, None
            for depth, style in enumerate(_style_chain(self.document, style_id)):
                if depth == 0:
                    name = _val(style.find(qn("w:name")), "") or ""
                ppr = style.find(qn("w:pPr"))
                if ppr is None:
                    continue
                if outline is None and ppr.find(qn("w:outlineLvl")) is not None:
                    outline = _int(_val(ppr.find(qn("w:outlineLvl"))), _BODY_OUTLINE_LEVEL)
                num_pr = ppr.find(qn("w:numPr"))
                if numbering is None and num_pr is not None:
                    num_id = _val(num_pr.find(qn("w:numId")))
                    if num_id:
                        numbering = (num_id, _int(_val(num_pr.find(qn("w:ilvl"))), 0))
            self.cache[style_id] = (name, outline, numbering)
        return self.cache[style_id]


def _run_text(paragraph: etree._Element) -> str:
    parts: list[str] = []
    for element in paragraph.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:noBreakHyphen")):
        parent = element.getparent()
        if parent is None or parent.tag != qn("w:r"):
            continue  # w:tab also defines tab stops in w:pPr/w:tabs
        if any(ancestor.tag in _SKIPPED_ANCESTORS for ancestor in element.iterancestors()):
            continue
        if element.tag == qn("w:t"):
            parts.append(element.text or "")
        elif element.tag == qn("w:tab"):
            parts.append("\t")
        elif element.tag == qn("w:noBreakHyphen"):
            parts.append("-")
        else:
            parts.append("\n")
    return "".join(parts)


class _Reader:
    def __init__(self, document: docx.document.Document) -> None:
        self.document = document
        self.styles = _Styles(document)
        self.numbering = _Numbering(document)
        self.blocks: list[Block] = []
        self.title_lines: list[str] = []
        self.title_closed = False  # the Title-styled run of paragraphs at the top has ended
        self.last_was_title = False

    def paragraph_text(self, p: etree._Element) -> tuple[str, str, int | None]:
        """(text with its list number, style name, outline level or None)."""
        ppr = p.find(qn("w:pPr"))
        style_id = _val(ppr.find(qn("w:pStyle"))) if ppr is not None else None
        name, outline, numbering = self.styles.get(style_id)
        if ppr is not None and ppr.find(qn("w:outlineLvl")) is not None:
            outline = _int(_val(ppr.find(qn("w:outlineLvl"))), _BODY_OUTLINE_LEVEL)
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is not None and num_pr.find(qn("w:numId")) is not None:
            numbering = (_val(num_pr.find(qn("w:numId")), "") or "", _int(_val(num_pr.find(qn("w:ilvl"))), 0))
        text = _run_text(p)
        if numbering and numbering[0] != "0":
            label = self.numbering.label(*numbering)  # counted even when empty, as Word counts it
            text = label + text if text.strip() else text
        return text, name, outline

    def paragraph(self, p: etree._Element) -> None:
        text, name, outline = self.paragraph_text(p)
        lowered = name.strip().lower()
        if lowered in _TITLE_STYLES and not self.title_closed and (self.last_was_title or not self.title_lines):
            if text.strip():
                self.title_lines.append(text)
                self.last_was_title = True
            return
        if text.strip():
            self.title_closed = bool(self.title_lines)
            self.last_was_title = False
        heading = _HEADING_STYLE.match(lowered)
        outlined = outline + 1 if outline is not None and outline < _BODY_OUTLINE_LEVEL else None
        level = int(heading.group(1)) if heading else outlined
        if level is not None:
            self.blocks.append(Block("heading", text=join_all(text.splitlines()), level=level))
        else:
            self.blocks.extend(Block("paragraph", text=line) for line in text.split("\n"))

    def cell_text(self, tc: etree._Element) -> str:
        lines: list[str] = []
        for p in tc.iter(qn("w:p")):
            lines.extend(self.paragraph_text(p)[0].split("\n"))
        return join_all(line.strip() for line in lines)

    def table(self, tbl: etree._Element) -> None:
        rows: list[tuple[str, ...]] = []
        above: dict[int, str] = {}  # grid column → text of the cell that a vertical merge continues
        for tr in tbl.findall(qn("w:tr")):
            row: list[str] = []
            trpr = tr.find(qn("w:trPr"))
            column = _int(_val(trpr.find(qn("w:gridBefore"))), 0) if trpr is not None else 0
            for tc in tr.findall(qn("w:tc")):
                tcpr = tc.find(qn("w:tcPr"))
                span = _int(_val(tcpr.find(qn("w:gridSpan"))), 1) if tcpr is not None else 1
                merge = tcpr.find(qn("w:vMerge")) if tcpr is not None else None
                if merge is not None and _val(merge, "continue") == "continue":
                    text = above.get(column, "")
                else:
                    text = self.cell_text(tc)
                    above[column] = text
                row.append(text)
                column += max(span, 1)
            rows.append(tuple(row))
        self.blocks.append(Block("table", rows=tuple(rows)))

    def body(self, container: etree._Element) -> None:
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                self.paragraph(child)
            elif child.tag == qn("w:tbl"):
                self.title_closed = bool(self.title_lines)
                self.last_was_title = False
                self.table(child)
            elif child.tag in (qn("w:sdt"), qn("w:customXml"), qn("w:sdtContent"), qn("w:smartTag")):
                inner = child.find(qn("w:sdtContent")) if child.tag == qn("w:sdt") else child
                if inner is not None:
                    self.body(inner)


def _checked_package(body: bytes) -> bytes:
    """The package rebuilt (stored, uncompressed) from what its members really inflate to under
    the caps of watcher.extract.package: python-docx is never given the original, since reading
    a member whole inflates everything its compressed data holds before zipfile cuts it."""
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_STORED) as out:
        for name, data in package_members(body, kind="DOCX", required="word/document.xml"):
            out.writestr(name, data)
    return rebuilt.getvalue()


def extract_docx(body: bytes, **_options: object) -> Document:
    """A .docx body → Document (blocks in body order, tables interleaved).

    The keyword options of extract() (selector, encoding …) have no meaning for DOCX."""
    package = _checked_package(body)
    try:
        document = docx.Document(io.BytesIO(package))
    except Exception as exc:  # python-docx raises KeyError, ValueError, XMLSyntaxError … on damaged parts
        raise ExtractError(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    reader = _Reader(document)
    try:
        reader.body(document.element.body)
    except etree.LxmlError as exc:
        raise ExtractError(f"corrupt DOCX: {exc}") from exc
    title = join_all(reader.title_lines) or (document.core_properties.title or "")
    return assemble(reader.blocks, fmt="docx", title=title)
