"""HTML page → Document: the document, not the page.

Without a configured CSS selector the content container is found the readability way, with no
rule for any one site: boilerplate elements are dropped by tag, by class/id words and by what
their text says (view counters, print/close links, share counts); every paragraph-like run of
text then credits its container with its non-link CJK text, the container's parent with half and
its grandparent with a quarter, and the best-scored element wins. Metadata lists (索引号, 发布机构,
成文日期 …) carry no weight, so they stay outside the chosen container unless the page puts them
inside its content.

The cost is linear in the markup, however deep or wide: the page is parsed no deeper than
markup.MAX_DEPTH (deeper markup is flattened, its text kept); what a pass asks of each element's
subtree is measured once for the whole tree (markup.Subtrees); the walk keeps its own stack.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PageElement, Tag
from soupsieve import SelectorSyntaxError

from watcher.decode import decode
from watcher.errors import ExtractError
from watcher.extract.furniture import without_furniture
from watcher.extract.markup import BLOCK_TAGS, JUNK_TAGS, SKIPPED_STRINGS, Subtrees, cjk_count, parse
from watcher.extract.text import assemble, join_all
from watcher.formats import attachment_format
from watcher.links import followable_link
from watcher.model import Block, Document
from watcher.normalise import clean_display, comparison_form

# ---------------------------------------------------------------- what is not the document

_JUNK_TAGS = tuple(sorted(JUNK_TAGS))  # for find_all
# Page furniture by tag; kept only when it holds most of the page's text (a misused wrapper).
_FURNITURE_TAGS = ("nav", "header", "footer", "aside", "form", "dialog", "menu")
_BOILERPLATE = re.compile(
    r"(?<![a-z])(?:nav|navbar|navigation|menu|menus|crumbs?|breadcrumbs?|footer|foot|share|sharing|bdshare"
    r"|related|relate|relevant|tools?|toolbar|print|prev|next|prevnext|pre-next|hot|links?|friendlinks?"
    r"|position|location|sidebar|side|banner|header|topbar|copyright|comments?|ads?|advert|search|login"
    r"|qrcode|pager|pagination|subscribe|social|dqwz|wzdh|xglj|xgxx|fenxiang|dayin|guanbi)(?![a-z])"
)
_CONTENT_HINT = re.compile(r"(?<![a-z])(?:article|content|main|body|text|zoom|detail|zhengwen|zw|nr|wz)(?![a-z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_GUARD_SHARE = 0.5  # an element holding more of the page's text than this is never dropped as furniture

_META_LABELS = (
    "索引号", "发布机构", "发文机关", "发文单位", "成文日期", "发布日期", "发文字号", "文号", "主题分类", "公开方式",
    "公开范围", "有效性", "文件编号", "发布单位", "所属机构", "信息来源", "生效日期", "废止日期", "组配分类",
    "体裁分类", "主题词", "公开日期", "统一编号",
)
_META_MIN_LABELS = 3
_META_MAX_CHARS = 500

# ---------------------------------------------------------------- structure

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CJK_CHAR = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
# A source line break inside CJK text is not a space (CSS segment-break rules for CJK).
_CJK_BREAK = re.compile(rf"(?<={_CJK_CHAR})[ \t\r\n]*\n[ \t\r\n]*(?={_CJK_CHAR})")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")  # what HTML collapses; &nbsp; and &emsp; are left to clean_display
_MIN_UNIT_CHARS = 5
_MAX_SPAN = 1000
# A table cell with this many paragraphs and CJK characters is a page frame, not a data cell.
_FRAME_PARAGRAPHS = 3
_FRAME_CHARS = 200

_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|\s[-–—]\s|——|--)\s*")


def _attr_words(tag: Tag) -> str:
    value: str | list[str] = tag.get("class") or []  # bs4 gives a multi-valued attribute as a list
    classes = [value] if isinstance(value, str) else [str(word) for word in value]
    return " ".join([*classes, str(tag.get("id") or "")]).lower()


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))


def _is_metadata(tag: Tag, tree: Subtrees) -> bool:
    """A list or table of page metadata (索引号 / 发布机构 / 成文日期 …), not document text."""
    if tag.name not in ("table", "ul", "ol", "dl", "div", "section"):
        return False
    text = tree.bare_text(tag, _META_MAX_CHARS)
    if text is None:
        return False
    text = comparison_form(text)  # Simplified, half-width: one set of labels for every edition
    return sum(1 for label in _META_LABELS if label in text) >= _META_MIN_LABELS


# ---------------------------------------------------------------- cleaning


def _drop_furniture(root: Tag) -> None:
    """Drop furniture below `root`, except an element holding most of root's text (junk tags
    are gone already: _document removes them from the whole page first)."""
    # An element's text is read before anything inside it goes: what went before it in the
    # document lies outside it, so one measure of the tree answers for every element.
    tree = Subtrees(root)
    total = tree.cjk(root)

    def holds_most(tag: Tag) -> bool:
        return total > 0 and tree.cjk(tag) > _GUARD_SHARE * total

    going: list[Tag] = []
    covered = -1  # the last position inside an element that goes (what is inside goes with it)
    for tag in root.find_all(True):
        first, last = tree.span(tag)
        if first <= covered:
            continue
        words = _attr_words(tag)
        furniture = (
            tag.name in _FURNITURE_TAGS
            or _is_hidden(tag)
            or (bool(_BOILERPLATE.search(words)) and not _CONTENT_HINT.search(words))
        )
        if furniture and not holds_most(tag):
            going.append(tag)
            covered = last
    tree.remove(going)


# ---------------------------------------------------------------- walking


def _is_layout_table(table: Tag, tree: Subtrees) -> bool:
    """A table used as a page frame rather than for data: nested tables, one column of
    paragraphs, or a cell holding several paragraphs of running text."""
    if tree.has_table_below(table):
        return True
    cells = table.find_all(["td", "th"])
    widest = max((len(tr.find_all(["td", "th"], recursive=False)) for tr in table.find_all("tr")), default=0)
    if widest <= 1 and table.find(["p", "div", "br"]) is not None:
        return True
    return any(
        len(cell.find_all(["p", "div", "br", "li"])) >= _FRAME_PARAGRAPHS and cjk_count(cell.get_text()) > _FRAME_CHARS
        for cell in cells
    )


def _inline_text(tag: Tag, tree: Subtrees, known: dict[int, str] | None = None) -> str:
    """The text of a cell or heading: its inner lines joined (no space between CJK characters).
    `known` holds the texts of headings already read (a heading inside another is read with it)."""
    known = {} if known is None else known
    if id(tag) not in known:
        known[id(tag)] = _Walker(tree, score=False, headings=known).run(tag).inline()
    return known[id(tag)]


def _table_grid(table: Tag) -> list[list[Tag]]:
    """The cells of each row, as the markup gives them."""
    return [tr.find_all(["td", "th"], recursive=False) for tr in table.find_all("tr")]


def _table_rows(grid: list[list[Tag]], texts: dict[int, str]) -> tuple[tuple[str, ...], ...]:
    """Rows of cell texts (`texts`: id(cell) → its inline text). A cell spanning columns is one
    cell; a cell spanning rows is repeated in every row it spans (the same policy as the DOCX and
    PDF extractors)."""
    rows: list[tuple[str, ...]] = []
    pending: dict[int, tuple[str, int, int]] = {}  # grid column → (text, rows left, columns)
    for index, tr_cells in enumerate(grid):
        cells = iter(tr_cells)
        row: list[str] = []
        column = 0
        while True:
            if column in pending:
                text, left, span = pending[column]
                row.append(text)
                if left <= 1:
                    del pending[column]
                else:
                    pending[column] = (text, left - 1, span)
                column += span
                continue
            cell = next(cells, None)
            if cell is None:
                later = sorted(c for c in pending if c > column)
                if not later:
                    break
                column = later[0]
                continue
            text = texts[id(cell)]
            span = _span(cell.get("colspan"))
            down = min(_span(cell.get("rowspan")), len(grid) - index)
            row.append(text)
            if down > 1:
                pending[column] = (text, down - 1, span)
            column += span
        rows.append(tuple(row))
    return tuple(rows)


def _span(value: object) -> int:
    try:
        return max(1, min(int(str(value).strip()), _MAX_SPAN))
    except (TypeError, ValueError):
        return 1


@dataclass
class _Unit:
    credit: Tag
    weight: int


# What is being walked: the walker it is walked into, the children left, what to do after them.
_Frame = tuple["_Walker", Iterator[PageElement], Callable[[], None] | None]


def _drive(stack: list[_Frame]) -> None:
    """Walk the frames' children depth first, with a stack of our own instead of Python's: the
    walk takes the same turns as a recursive one, and no nesting of the markup can overflow it."""
    while stack:
        walker, children, after = stack[-1]
        for child in children:
            if isinstance(child, NavigableString):
                walker.text(child)
            elif isinstance(child, Tag) and walker.enter(child, stack):
                break  # a frame for the child is on the stack: walk it first
        else:
            stack.pop()
            if after is not None:
                after()


@dataclass
class _Walker:
    """Flattens markup into blocks; with `score`, also records who each paragraph credits."""

    tree: Subtrees
    score: bool = True
    headings: dict[int, str] = field(default_factory=dict)  # id(heading) → its inline text
    blocks: list[Block] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _link_parts: list[str] = field(default_factory=list)
    _owner: Tag | None = None
    _links: int = 0
    _metadata: int = 0

    def flush(self) -> None:
        text = "".join(self._parts)
        link_text = "".join(self._link_parts)
        self._parts, self._link_parts = [], []
        if not text.strip():
            return
        text = _HTML_SPACE.sub(" ", _CJK_BREAK.sub("", text))
        self.blocks.append(Block("paragraph", text=text))
        if self.score and self._owner is not None:
            weight = 0 if self._metadata else cjk_count(text) - cjk_count(link_text)
            if weight >= _MIN_UNIT_CHARS:
                self.units.append(_Unit(_credited(self._owner, self.tree), weight))

    def inline(self) -> str:
        """What was walked as one line of text (a cell's or a heading's)."""
        self.flush()
        return join_all(block.text for block in self.blocks if block.kind != "table")

    def run(self, root: Tag) -> _Walker:
        """Walk the children of `root` as one block: its direct text credits root itself."""
        self._owner = root
        _drive([(self, iter(root.contents), None)])
        self.flush()
        return self

    def run_element(self, root: Tag) -> _Walker:
        """Walk `root` itself: a data table, heading or <pre> chosen as a whole stays one."""
        whole = root.name in _HEADINGS or root.name == "pre"
        if whole or (root.name == "table" and not _is_layout_table(root, self.tree)):
            stack: list[_Frame] = []
            self.enter(root, stack)
            _drive(stack)
            self.flush()
            return self
        return self.run(root)

    def text(self, string: NavigableString) -> None:
        if not isinstance(string, SKIPPED_STRINGS):
            self._parts.append(str(string))
            if self._links:
                self._link_parts.append(str(string))

    def enter(self, tag: Tag, stack: list[_Frame]) -> bool:
        """Read `tag`; True when its children are to be walked next (a frame pushed for them)."""
        name = tag.name
        if name in JUNK_TAGS or name == "img":
            return False
        if name == "br":
            self.flush()
        elif name in _HEADINGS:
            self.flush()
            if id(tag) in self.headings:
                self._heading(tag, self.headings[id(tag)])
                return False
            heading = _Walker(self.tree, score=False, headings=self.headings, _owner=tag)
            stack.append((heading, iter(tag.contents), partial(self._heading_walked, tag, heading)))
            return True
        elif name == "table" and not _is_layout_table(tag, self.tree):
            self.flush()
            grid = _table_grid(tag)
            texts: dict[int, str] = {}
            stack.append((self, iter(()), partial(self._table, tag, grid, texts)))
            for cell in (cell for cells in grid for cell in cells):
                walker = _Walker(self.tree, score=False, headings=self.headings, _owner=cell)
                stack.append((walker, iter(cell.contents), partial(_note, texts, cell, walker)))
            return True
        elif name == "pre":
            self.flush()
            self.blocks.extend(Block("paragraph", text=line) for line in tag.get_text().splitlines())
            self._credit(tag, tag.get_text())
        elif name in BLOCK_TAGS:
            self.flush()
            outer, self._owner = self._owner, tag
            metadata = self.score and _is_metadata(tag, self.tree)
            self._metadata += metadata
            stack.append((self, iter(tag.contents), partial(self._leave_block, outer, metadata)))
            return True
        else:
            link = name == "a"
            self._links += link
            stack.append((self, iter(tag.contents), partial(self._leave_inline, link)))
            return True
        return False

    def _heading_walked(self, tag: Tag, heading: _Walker) -> None:
        self.headings[id(tag)] = heading.inline()
        self._heading(tag, self.headings[id(tag)])

    def _heading(self, tag: Tag, text: str) -> None:
        self.blocks.append(Block("heading", text=text, level=_HEADINGS[tag.name]))
        self._credit(tag, text)

    def _table(self, tag: Tag, grid: list[list[Tag]], texts: dict[int, str]) -> None:
        rows = _table_rows(grid, texts)
        self.blocks.append(Block("table", rows=rows))
        self._credit(tag, " ".join(" ".join(row) for row in rows))

    def _leave_block(self, outer: Tag | None, metadata: bool) -> None:
        self.flush()
        self._metadata -= metadata
        self._owner = outer

    def _leave_inline(self, link: bool) -> None:
        self._links -= link

    def _credit(self, tag: Tag, text: str) -> None:
        weight = 0 if self._metadata else cjk_count(text)
        if self.score and weight >= _MIN_UNIT_CHARS:
            self.units.append(_Unit(_parent(tag), weight))


def _note(texts: dict[int, str], cell: Tag, walker: _Walker) -> None:
    texts[id(cell)] = walker.inline()


def _parent(tag: Tag) -> Tag:
    return tag.parent if isinstance(tag.parent, Tag) else tag


def _credited(owner: Tag, tree: Subtrees) -> Tag:
    """The element a run of text speaks for: an element holding one paragraph (<p>, <li>, a
    leaf <div> or <td>) credits its parent, like a heading or a table; an element whose text
    is several paragraphs (split by <br> or by blocks) is itself the container and credits itself."""
    return owner if tree.has_break_below(owner) else _parent(owner)


# ---------------------------------------------------------------- choosing the content


def _container(body: Tag, tree: Subtrees) -> Tag:
    """The element holding the document's text; `tree` measures the whole page, since a
    paragraph directly in <body> credits <html>."""
    walker = _Walker(tree).run(body)
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    for unit in walker.units:
        tag: Tag | None = unit.credit
        for share in (1.0, 0.5, 0.25):
            if not isinstance(tag, Tag) or tag.name == "[document]":
                break
            scores[id(tag)] = scores.get(id(tag), 0.0) + share * unit.weight
            tags[id(tag)] = tag
            tag = tag.parent
    if not scores:
        return body
    best = tags[max(scores, key=lambda key: scores[key])]

    # the weight credited to an element or below it: the units whose credit falls in its span
    ordered = sorted((tree.span(u.credit)[0], u.weight) for u in walker.units)
    positions = [position for position, _ in ordered]
    running = [0, *accumulate(weight for _, weight in ordered)]

    def total(tag: Tag) -> int:
        first, last = tree.span(tag)
        return running[bisect_right(positions, last)] - running[bisect_left(positions, first)]

    # Content split over sibling containers: climb while the parent adds a real share of text.
    while best is not body and isinstance(best.parent, Tag) and best.parent.name != "[document]":
        if total(best.parent) - total(best) > 0.3 * total(best):
            best = best.parent
        else:
            break
    return best


# ---------------------------------------------------------------- title and attachments


def _title(soup: BeautifulSoup, tree: Subtrees) -> str:
    known: dict[int, str] = {}  # an <h1> inside another is read once, with it

    def _inline(tag: Tag | None) -> str:
        return clean_display(_inline_text(tag, tree, known)) if tag is not None else ""

    meta = soup.find("meta", attrs={"name": re.compile(r"^articletitle$", re.I)})
    if isinstance(meta, Tag) and str(meta.get("content") or "").strip():
        return clean_display(str(meta["content"]))
    page_title = _inline(soup.title) if soup.title else ""
    first_part = next((part for part in _TITLE_SEPARATORS.split(page_title) if part), "")
    headings = [text for text in (_inline(h1) for h1 in soup.find_all("h1")) if len(text) >= 2]
    page_key = comparison_form(page_title)
    for text in headings:
        if comparison_form(text) in page_key:
            return text
    og = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(og, Tag) and str(og.get("content") or "").strip():
        return clean_display(str(og["content"]))
    return first_part or (headings[0] if headings else "")


def _attachments(root: Tag, url: str, text: Tag) -> tuple[str, ...]:
    """Links to document files under `root`, by the extension of the address's path: what a
    link's label says is the page's word, not the address's. A link to a page (.html) counts
    only within `text`, the element holding the document: the site's menus link its pages too."""
    found: dict[str, None] = {}  # in page order, each once
    in_text = {id(link) for link in text.find_all("a", href=True)}
    itself = urldefrag(url).url
    for link in root.find_all("a", href=True):
        href = str(link["href"]).strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = urljoin(url, href) if url else href
            attachment = attachment_format(absolute)
        except ValueError:  # a malformed address (http://[… ) links to nothing
            continue
        if not followable_link(absolute, url):  # also javascript:, mailto:, data: …
            continue
        if attachment is None or urldefrag(absolute).url == itself:  # the page is not its own attachment
            continue
        if attachment.attached_anywhere or id(link) in in_text:
            found.setdefault(absolute)
    return tuple(found)


def _blocks(root: Tag, tree: Subtrees) -> list[Block]:
    walker = _Walker(tree, score=False).run_element(root)
    return without_furniture(walker.blocks)


# ---------------------------------------------------------------- entry point


def extract_html(
    body: bytes,
    *,
    url: str = "",
    selector: str | None = None,
    encoding: str | None = None,
    http_charset: str | None = None,
) -> Document:
    """An HTML page (any encoding) → the Document it publishes."""
    with warnings.catch_warnings():
        # Parsing whatever was served as HTML with the HTML parser is deliberate: XML-looking or
        # URL-looking bodies are read the same way, not warned about.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = parse(decode(body, http_charset=http_charset, override=encoding, markup=True))
    return _document(soup, url, selector)


def _document(soup: BeautifulSoup, url: str, selector: str | None) -> Document:
    # Every pass is linear in the page: what a pass asks of each element's subtree is measured
    # once (Subtrees), again after each change to the tree.
    tree = Subtrees(soup)
    title = _title(soup, tree)
    tree.remove(soup.find_all(_JUNK_TAGS))
    page = soup.body or soup
    if selector:
        try:
            chosen = soup.select_one(selector)
        except SelectorSyntaxError as exc:
            raise ExtractError(f"invalid CSS selector {selector!r}: {exc}") from exc
        if chosen is None:
            raise ExtractError(f"the CSS selector {selector!r} matches nothing on the page")
        _drop_furniture(chosen)
        blocks = _blocks(chosen, Subtrees(chosen))
        links = _attachments(chosen, url, chosen)
        _drop_furniture(page)  # the attachment list often sits just outside the chosen element
        text = chosen
    else:
        _drop_furniture(page)
        tree = Subtrees(soup)
        text = _container(page, tree)
        blocks = _blocks(text, tree)
        links = ()
    attachments = tuple(dict.fromkeys([*links, *_attachments(page, url, text)]))
    return assemble(blocks, fmt="html", title=title, attachments=attachments)
