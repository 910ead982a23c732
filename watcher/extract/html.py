"""HTML page → Document: the document, not the page.

Without a configured CSS selector the content container is found the readability way, with no
rule for any one site: boilerplate elements are dropped by tag, by class/id words and by what
their text says (view counters, print/close links, share counts); every paragraph-like run of
text then credits its container with its non-link CJK text, the container's parent with half and
its grandparent with a quarter, and the best-scored element wins. Metadata lists (索引号, 发布机构,
成文日期 …) carry no weight, so they stay outside the chosen container unless the page puts them
inside its content.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from soupsieve import SelectorSyntaxError

from watcher.decode import decode
from watcher.errors import ExtractError
from watcher.extract.text import assemble, join_all
from watcher.model import Block, Document
from watcher.extract.furniture import without_furniture
from watcher.normalise import clean_display, comparison_form

# ---------------------------------------------------------------- what is not the document

_JUNK_TAGS = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "svg",
    "canvas", "button", "input", "select", "textarea", "option", "link", "meta", "map", "area", "audio", "video",
)
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
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure "
    "footer form header hgroup hr html li main menu nav ol p pre section summary table tbody thead tfoot tr td th "
    "caption ul h1 h2 h3 h4 h5 h6".split()
)
_BREAKS = _BLOCK_TAGS | {"br"}  # what splits an element's text into several paragraphs
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_CHAR = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
# A source line break inside CJK text is not a space (CSS segment-break rules for CJK).
_CJK_BREAK = re.compile(rf"(?<={_CJK_CHAR})[ \t\r\n]*\n[ \t\r\n]*(?={_CJK_CHAR})")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")  # what HTML collapses; &nbsp; and &emsp; are left to clean_display
_MIN_UNIT_CHARS = 5
_MAX_SPAN = 1000
# A table cell with this many paragraphs and CJK characters is a page frame, not a data cell.
_FRAME_PARAGRAPHS = 3
_FRAME_CHARS = 200

_ATTACHMENT_EXTS = (".docx", ".doc", ".pdf", ".wps", ".xls", ".xlsx", ".et", ".ofd")
_WEB_SCHEMES = frozenset({"http", "https"})
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|\s[-–—]\s|——|--)\s*")


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def _attr_words(tag: Tag) -> str:
    classes = tag.get("class") or []
    if isinstance(classes, str):
        classes = [classes]
    return " ".join([*classes, str(tag.get("id") or "")]).lower()


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))


def _is_metadata(tag: Tag) -> bool:
    """A list or table of page metadata (索引号 / 发布机构 / 成文日期 …), not document text."""
    if tag.name not in ("table", "ul", "ol", "dl", "div", "section"):
        return False
    text = re.sub(r"\s+", "", tag.get_text())
    if len(text) > _META_MAX_CHARS:
        return False
    text = comparison_form(text)  # Simplified, half-width: one set of labels for every edition
    return sum(1 for label in _META_LABELS if label in text) >= _META_MIN_LABELS


# ---------------------------------------------------------------- cleaning


def _drop_furniture(root: Tag) -> None:
    """Drop junk and furniture below `root`, except an element holding most of root's text."""
    for tag in root.find_all(_JUNK_TAGS):
        tag.decompose()
    total = _cjk_count(root.get_text())

    def holds_most(tag: Tag) -> bool:
        return total > 0 and _cjk_count(tag.get_text()) > _GUARD_SHARE * total

    for tag in root.find_all(True):
        if tag.decomposed or tag is root:
            continue
        words = _attr_words(tag)
        furniture = (
            tag.name in _FURNITURE_TAGS
            or _is_hidden(tag)
            or (bool(_BOILERPLATE.search(words)) and not _CONTENT_HINT.search(words))
        )
        if furniture and not holds_most(tag):
            tag.decompose()


# ---------------------------------------------------------------- walking


def _is_layout_table(table: Tag) -> bool:
    """A table used as a page frame rather than for data: nested tables, one column of
    paragraphs, or a cell holding several paragraphs of running text."""
    if table.find("table") is not None:
        return True
    cells = table.find_all(["td", "th"])
    widest = max((len(tr.find_all(["td", "th"], recursive=False)) for tr in table.find_all("tr")), default=0)
    if widest <= 1 and table.find(["p", "div", "br"]) is not None:
        return True
    return any(
        len(cell.find_all(["p", "div", "br", "li"])) >= _FRAME_PARAGRAPHS and _cjk_count(cell.get_text()) > _FRAME_CHARS
        for cell in cells
    )


def _inline_text(tag: Tag) -> str:
    """The text of a cell or heading: its inner lines joined (no space between CJK characters)."""
    walker = _Walker(score=False).run(tag)
    return join_all(block.text for block in walker.blocks if block.kind != "table")


def _table_rows(table: Tag) -> tuple[tuple[str, ...], ...]:
    """Rows of cell texts. A cell spanning columns is one cell; a cell spanning rows is repeated
    in every row it spans (the same policy as the DOCX and PDF extractors)."""
    rows: list[tuple[str, ...]] = []
    pending: dict[int, tuple[str, int, int]] = {}  # grid column → (text, rows left, columns)
    trs = table.find_all("tr")
    for index, tr in enumerate(trs):
        cells = iter(tr.find_all(["td", "th"], recursive=False))
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
            text = _inline_text(cell)
            span = _span(cell.get("colspan"))
            down = min(_span(cell.get("rowspan")), len(trs) - index)
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


@dataclass
class _Walker:
    """Flattens markup into blocks; with `score`, also records who each paragraph credits."""

    score: bool = True
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
            weight = 0 if self._metadata else _cjk_count(text) - _cjk_count(link_text)
            if weight >= _MIN_UNIT_CHARS:
                self.units.append(_Unit(_credited(self._owner), weight))

    def run(self, root: Tag) -> "_Walker":
        """Walk the children of `root` as one block: its direct text credits root itself."""
        self._owner = root
        self.walk(root)
        self.flush()
        return self

    def run_element(self, root: Tag) -> "_Walker":
        """Walk `root` itself: a data table, heading or <pre> chosen as a whole stays one."""
        if root.name in _HEADINGS or root.name == "pre" or (root.name == "table" and not _is_layout_table(root)):
            self._tag(root)
            self.flush()
            return self
        return self.run(root)

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _SKIPPED_STRINGS):
                    self._parts.append(str(child))
                    if self._links:
                        self._link_parts.append(str(child))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag: Tag) -> None:
        name = tag.name
        if name in _JUNK_TAGS or name == "img":
            return
        if name == "br":
            self.flush()
        elif name in _HEADINGS:
            self.flush()
            text = _inline_text(tag)
            self.blocks.append(Block("heading", text=text, level=_HEADINGS[name]))
            self._credit(tag, text)
        elif name == "table" and not _is_layout_table(tag):
            self.flush()
            rows = _table_rows(tag)
            self.blocks.append(Block("table", rows=rows))
            self._credit(tag, " ".join(" ".join(row) for row in rows))
        elif name == "pre":
            self.flush()
            self.blocks.extend(Block("paragraph", text=line) for line in tag.get_text().splitlines())
            self._credit(tag, tag.get_text())
        elif name in _BLOCK_TAGS:
            self.flush()
            outer, self._owner = self._owner, tag
            metadata = self.score and _is_metadata(tag)
            self._metadata += metadata
            self.walk(tag)
            self.flush()
            self._metadata -= metadata
            self._owner = outer
        else:
            self._links += name == "a"
            self.walk(tag)
            self._links -= name == "a"

    def _credit(self, tag: Tag, text: str) -> None:
        weight = 0 if self._metadata else _cjk_count(text)
        if self.score and weight >= _MIN_UNIT_CHARS:
            self.units.append(_Unit(_parent(tag), weight))


def _parent(tag: Tag) -> Tag:
    return tag.parent if isinstance(tag.parent, Tag) else tag


def _credited(owner: Tag) -> Tag:
    """The element a run of text speaks for: an element holding one paragraph (<p>, <li>, a
    leaf <div> or <td>) credits its parent, like a heading or a table; an element whose text
    is several paragraphs (split by <br> or by blocks) is itself the container and credits itself."""
    # a plain walk: bs4's find() with a list of names rebuilds its matcher on every call
    splits = any(isinstance(node, Tag) and node.name in _BREAKS for node in owner.descendants)
    return owner if splits else _parent(owner)


# ---------------------------------------------------------------- choosing the content


def _container(body: Tag) -> Tag:
    walker = _Walker().run(body)
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

    def total(tag: Tag) -> int:
        return sum(u.weight for u in walker.units if u.credit is tag or any(p is tag for p in u.credit.parents))

    # Content split over sibling containers: climb while the parent adds a real share of text.
    while best is not body and isinstance(best.parent, Tag) and best.parent.name != "[document]":
        if total(best.parent) - total(best) > 0.3 * total(best):
            best = best.parent
        else:
            break
    return best


# ---------------------------------------------------------------- title and attachments


def _inline(tag: Tag | None) -> str:
    return clean_display(_inline_text(tag)) if tag is not None else ""


def _title(soup: BeautifulSoup) -> str:
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


def followable_link(link: str, page_url: str) -> bool:
    """Whether a link found on the page at `page_url` may be fetched: a web page leads to web
    addresses only and a local (file://) page to local files only, so that a page on the web can
    never make watcher read a local file. A page without an address (a local path) keeps web and
    relative links; nothing fetches those."""
    try:
        page, scheme = urlsplit(page_url).scheme.lower(), urlsplit(link).scheme.lower()
    except ValueError:  # a malformed address (http://[… )
        return False
    if page in _WEB_SCHEMES:
        return scheme in _WEB_SCHEMES
    if page == "file":
        return scheme == "file"
    return scheme in _WEB_SCHEMES or scheme == ""


def _attachments(root: Tag, url: str) -> tuple[str, ...]:
    """Links to document files, by the extension of the address's path: what a link's label
    says is the page's word, not the address's."""
    found: list[str] = []
    for link in root.find_all("a", href=True):
        href = str(link["href"]).strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = urljoin(url, href) if url else href
            path = urlsplit(absolute).path.lower()
        except ValueError:  # a malformed address (http://[… ) links to nothing
            continue
        if not followable_link(absolute, url):  # also javascript:, mailto:, data: …
            continue
        if path.endswith(_ATTACHMENT_EXTS) and absolute not in found:
            found.append(absolute)
    return tuple(found)


def _blocks(root: Tag) -> list[Block]:
    walker = _Walker(score=False).run_element(root)
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
        soup = BeautifulSoup(decode(body, http_charset=http_charset, override=encoding, markup=True), "lxml")
    try:
        return _document(soup, url, selector)
    except RecursionError:
        # the walk is recursive; markup nested hundreds of levels deep is not a document
        raise ExtractError("markup nested too deeply to read") from None


def _document(soup: BeautifulSoup, url: str, selector: str | None) -> Document:
    title = _title(soup)
    for tag in soup.find_all(_JUNK_TAGS):
        tag.decompose()
    page = soup.body or soup
    if selector:
        try:
            chosen = soup.select_one(selector)
        except SelectorSyntaxError as exc:
            raise ExtractError(f"invalid CSS selector {selector!r}: {exc}") from exc
        if chosen is None:
            raise ExtractError(f"the CSS selector {selector!r} matches nothing on the page")
        _drop_furniture(chosen)
        blocks = _blocks(chosen)
        links = _attachments(chosen, url)
        _drop_furniture(page)  # the attachment list often sits just outside the chosen element
    else:
        _drop_furniture(page)
        blocks = _blocks(_container(page))
        links = ()
    attachments = tuple(dict.fromkeys([*links, *_attachments(page, url)]))
    return assemble(blocks, fmt="html", title=title, attachments=attachments)
