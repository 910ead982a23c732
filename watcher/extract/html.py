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
from watcher.extract.markup import BLOCK_TAGS, JUNK_TAGS, SKIPPED_STRINGS, Subtrees, cjk_count, parse_page
from watcher.extract.text import assemble, join_all
from watcher.formats import attachment_format
from watcher.links import followable_link
from watcher.model import Block, Document
from watcher.normalise import clean_display, comparison_form, comparison_forms

# ---------------------------------------------------------------- what is not the document

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
_META_TAGS = frozenset({"table", "ul", "ol", "dl", "div", "section"})
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
_CELL_TAGS = frozenset({"td", "th"})
_TEXT_BREAKS = frozenset({"p", "div", "br"})  # a one-column table holding these is a frame
_PARAGRAPH_TAGS = _TEXT_BREAKS | {"li"}

_TITLE_TAGS = frozenset({"title", "h1"})
_ARTICLE_TITLE = re.compile(r"^articletitle$", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|\s[-–—]\s|——|--)\s*")


def _attr_words(tag: Tag) -> str:
    value: str | list[str] = tag.get("class") or []  # bs4 gives a multi-valued attribute as a list
    classes = [value] if isinstance(value, str) else [str(word) for word in value]
    return " ".join([*classes, str(tag.get("id") or "")]).lower()


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))


def _metadata(root: Tag, tree: Subtrees) -> set[int]:
    """The lists and tables of page metadata (索引号 / 发布机构 / 成文日期 …) below `root`, not
    document text: their ids. Read in comparison form (Simplified, half-width: one set of labels
    for every edition), all in one pass through the script converter."""
    candidates = [
        (tag, text)
        for tag in tree.below(root, _META_TAGS)
        if (text := tree.bare_text(tag, _META_MAX_CHARS)) is not None
    ]
    forms = comparison_forms([text for _, text in candidates])
    return {
        id(tag)
        for (tag, _), form in zip(candidates, forms, strict=True)
        if sum(1 for label in _META_LABELS if label in form) >= _META_MIN_LABELS
    }


# ---------------------------------------------------------------- cleaning


def _drop_furniture(root: Tag, tree: Subtrees | None = None) -> None:
    """Drop furniture below `root`, except an element holding most of root's text (junk tags
    are gone already: parse_page builds none). `tree` measures root's tree as it is, if at hand."""
    # An element's text is read before anything inside it goes: what went before it in the
    # document lies outside it, so one measure of the tree answers for every element.
    tree = Subtrees(root) if tree is None else tree
    total = tree.cjk(root)

    def holds_most(tag: Tag) -> bool:
        return total > 0 and tree.cjk(tag) > _GUARD_SHARE * total

    going: list[Tag] = []
    covered = -1  # the last position inside an element that goes (what is inside goes with it)
    for tag in tree.below(root):
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
    inside = tree.below(table)
    widest = max((len(_row_cells(tr)) for tr in inside if tr.name == "tr"), default=0)
    if widest <= 1 and any(tag.name in _TEXT_BREAKS for tag in inside):
        return True
    return any(
        len(tree.below(cell, _PARAGRAPH_TAGS)) >= _FRAME_PARAGRAPHS and tree.cjk(cell) > _FRAME_CHARS
        for cell in inside
        if cell.name in _CELL_TAGS
    )


def _row_cells(tr: Tag) -> list[Tag]:
    """The cells of a row, as the markup gives them (not those of a table inside a cell)."""
    return [cell for cell in tr.contents if isinstance(cell, Tag) and cell.name in _CELL_TAGS]


def _inline_text(tag: Tag, tree: Subtrees, known: dict[int, str] | None = None) -> str:
    """The text of a cell or heading: its inner lines joined (no space between CJK characters).
    `known` holds the texts of headings already read (a heading inside another is read with it)."""
    known = {} if known is None else known
    if id(tag) not in known:
        known[id(tag)] = _Walker(tree, score=False, headings=known).run(tag).inline()
    return known[id(tag)]


def _table_grid(table: Tag, tree: Subtrees) -> list[list[Tag]]:
    """The cells of each row, as the markup gives them."""
    return [_row_cells(tr) for tr in tree.below(table, ("tr",))]


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
    metadata: set[int] = field(default_factory=set)  # ids of the metadata lists (see _metadata)
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
            grid = _table_grid(tag, self.tree)
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
            metadata = self.score and id(tag) in self.metadata
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
    walker = _Walker(tree, metadata=_metadata(body, tree)).run(body)
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


def _title(soup: BeautifulSoup, metas: list[dict[str, str]], tree: Subtrees) -> str:
    known: dict[int, str] = {}  # an <h1> inside another is read once, with it

    def _inline(tag: Tag | None) -> str:
        return clean_display(_inline_text(tag, tree, known)) if tag is not None else ""

    elements = tree.below(soup, _TITLE_TAGS)
    meta = next((tag for tag in metas if _ARTICLE_TITLE.search(tag.get("name") or "")), None)
    if meta is not None and str(meta.get("content") or "").strip():
        return clean_display(str(meta["content"]))
    page_title = next((_inline(tag) for tag in elements if tag.name == "title"), "")
    first_part = next((part for part in _TITLE_SEPARATORS.split(page_title) if part), "")
    headings = [text for text in (_inline(h1) for h1 in elements if h1.name == "h1") if len(text) >= 2]
    page_key = comparison_form(page_title)
    for text in headings:
        if comparison_form(text) in page_key:
            return text
    og = next((tag for tag in metas if tag.get("property") == "og:title"), None)
    if og is not None and str(og.get("content") or "").strip():
        return clean_display(str(og["content"]))
    return first_part or (headings[0] if headings else "")


def _links(elements: list[Tag]) -> list[Tag]:
    """The links among `elements` (tag.find_all("a", href=True) of what they were taken from)."""
    return [tag for tag in elements if tag.name == "a" and tag.has_attr("href")]


def _attachments(links: list[Tag], url: str, in_text: list[Tag]) -> tuple[str, ...]:
    """Of `links` (the links of a part of the page), those to document files, by the extension of
    the address's path: what a link's label says is the page's word, not the address's. A link to a
    page (.html) counts only among `in_text`, the links of the element holding the document: the
    site's menus link its pages too."""
    found: dict[str, None] = {}  # in page order, each once
    in_text_ids = {id(link) for link in in_text}
    itself = urldefrag(url).url
    for link in links:
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
        if attachment.attached_anywhere or id(link) in in_text_ids:
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
        soup, metas = parse_page(decode(body, http_charset=http_charset, override=encoding, markup=True))
    return _document(soup, metas, url, selector)


def _document(soup: BeautifulSoup, metas: list[dict[str, str]], url: str, selector: str | None) -> Document:
    # Every pass is linear in the page: what a pass asks of each element's subtree is measured
    # once (Subtrees), again after each change to the tree. Junk was never built (parse_page).
    tree = Subtrees(soup)
    title = _title(soup, metas, tree)
    page = soup.body or soup
    if selector:
        try:
            chosen = soup.select_one(selector)
        except SelectorSyntaxError as exc:
            raise ExtractError(f"invalid CSS selector {selector!r}: {exc}") from exc
        if chosen is None:
            raise ExtractError(f"the CSS selector {selector!r} matches nothing on the page")
        _drop_furniture(chosen)
        chosen_tree = Subtrees(chosen)
        blocks = _blocks(chosen, chosen_tree)
        chosen_links = _links(chosen_tree.below(chosen))
        links = _attachments(chosen_links, url, chosen_links)
        _drop_furniture(page)  # the attachment list often sits just outside the chosen element
        # measured again: that may have dropped links inside the chosen element too
        page_links, text_links = _links(Subtrees(page).below(page)), _links(Subtrees(chosen).below(chosen))
    else:
        _drop_furniture(page, tree)
        tree = Subtrees(soup)
        text = _container(page, tree)
        blocks = _blocks(text, tree)
        links = ()
        page_links, text_links = _links(tree.below(page)), _links(tree.below(text))
    attachments = tuple(dict.fromkeys([*links, *_attachments(page_links, url, text_links)]))
    return assemble(blocks, fmt="html", title=title, attachments=attachments)
