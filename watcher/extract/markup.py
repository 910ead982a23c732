"""The parsed page as a tree the HTML reader can afford: bounded in depth, measured in one pass.

Markup nested deeper than MAX_DEPTH is flattened while it is parsed: no element is built below
that depth, its text goes to the nearest built ancestor in document order, and a block element's
edges become <br> so that its paragraphs stay paragraphs (a table cut at the limit is then read
as a layout table, its text walked, not as a data table without cells). `Subtrees` answers what
the reader asks of every element's whole subtree (the CJK count of its text, its text without
spaces, whether a break or a table lies below) from one pass over the tree, so that asking it of
every element costs no more than reading the page once; `Subtrees.remove` drops elements in time
linear in what goes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable
from typing import Any

from bs4 import BeautifulSoup
from bs4.builder._lxml import LXMLTreeBuilder
from bs4.element import CData, Comment, Declaration, Doctype, NavigableString, PageElement, ProcessingInstruction, Tag

# Deeper than this (counting <html> as 1) nothing is built. Real pages nest a few dozen levels;
# bs4 walks down a branch for many a call (to find an element's last descendant), so the depth
# bounds that cost. libxml2 builds its own trees no deeper either (without its "huge" option).
MAX_DEPTH = 256

JUNK_TAGS = frozenset(
    "script style noscript template iframe frame frameset object embed svg canvas button input select textarea "
    "option link meta map area audio video".split()
)
BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption figure "
    "footer form header hgroup hr html li main menu nav ol p pre section summary table tbody thead tfoot tr td th "
    "caption ul h1 h2 h3 h4 h5 h6".split()
)
BREAKS = BLOCK_TAGS | {"br"}  # what splits an element's text into several paragraphs
SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)

_NOT_CJK = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff]+")
_SPACE = re.compile(r"\s+")
_PLAIN = frozenset({NavigableString, CData})  # the strings get_text() reads in an ordinary element
# elements whose get_text() reads their own kind of string instead (<rt>, <script> …)
_STRING_CONTAINERS = frozenset(LXMLTreeBuilder.DEFAULT_STRING_CONTAINERS)

_BUILT, _FLAT, _MUTE = 0, 1, 2  # an element built; flattened into its built ancestor; dropped with its text


def cjk_count(text: str) -> int:
    # what is left after dropping every run of other characters (no list of matches is built)
    return len(_NOT_CJK.sub("", text))


class ShallowTreeBuilder(LXMLTreeBuilder):
    """bs4's lxml HTML builder, building no element deeper than MAX_DEPTH. lxml reports every
    element's start and end (it closes what the markup leaves open), so a stack of what each
    open element became is all the state there is.

    With `drop_junk`, no JUNK_TAGS element is built at any depth (the HTML reader would remove
    them first thing); the attributes of the <meta> elements it would have built are kept in
    `metas`, in document order."""

    def __init__(self, *args: Any, drop_junk: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_junk = drop_junk
        self.metas: list[dict[str, str]] = []

    def feed(self, markup: Any) -> None:
        self._open: list[tuple[str, int]] = []
        self._broken = False  # the last thing flattened was a break
        self.metas = []
        super().feed(markup)

    def start(self, tag: Any, attrib: Any, nsmap: Any = {}) -> None:  # noqa: B006 (lxml's signature)
        name = str(tag).lower()
        state = self._open[-1][1] if self._open else _BUILT
        if state == _BUILT and len(self._open) < MAX_DEPTH and self.drop_junk and name in JUNK_TAGS:
            if name == "meta":
                self.metas.append({str(key): str(value) for key, value in dict(attrib).items()})
            self._open.append((name, _MUTE))
            return
        if state == _BUILT and len(self._open) < MAX_DEPTH:
            self._open.append((name, _BUILT))
            self._broken = False
            super().start(tag, attrib, nsmap)
            return
        muted = state == _MUTE or name in JUNK_TAGS
        self._open.append((name, _MUTE if muted else _FLAT))
        if not muted and name in BREAKS:
            self._break()

    def end(self, tag: Any) -> None:
        name, state = self._open.pop() if self._open else ("", _BUILT)
        if state == _BUILT:
            self._broken = False
            super().end(tag)
        elif state == _FLAT and name in BLOCK_TAGS:
            self._break()

    def data(self, data: Any) -> None:
        if not self._muted():
            if str(data).strip():
                self._broken = False
            super().data(data)

    def comment(self, text: Any) -> None:
        if not self._muted():
            super().comment(text)

    def pi(self, target: str, data: str) -> None:
        if not self._muted():
            super().pi(target, data)

    def _muted(self) -> bool:
        return bool(self._open) and self._open[-1][1] == _MUTE

    def _break(self) -> None:
        if not self._broken:
            super().start("br", {}, {})
            super().end("br")
            self._broken = True


def parse(markup: str) -> BeautifulSoup:
    """Decoded HTML → a tree no deeper than MAX_DEPTH, but for the <br> that flattening leaves."""
    return BeautifulSoup(markup, builder=ShallowTreeBuilder())


def parse_page(markup: str) -> tuple[BeautifulSoup, list[dict[str, str]]]:
    """Decoded HTML → the tree `parse` builds less every JUNK_TAGS element, and the attributes
    of its <meta> elements (in document order): building junk only to remove it costs more."""
    builder = ShallowTreeBuilder(drop_junk=True)
    return BeautifulSoup(markup, builder=builder), builder.metas


class Subtrees:
    """One pass over the tree below `root`, in document order: for every element, the span of
    positions its subtree covers, and running totals over the positions, so that a question
    about a subtree is a difference of two totals."""

    def __init__(self, root: Tag) -> None:
        self._spans: dict[int, tuple[int, int]] = {}  # id(tag) → first and last position of its subtree
        self._cjk, self._breaks, self._tables = [0], [0], [0]  # totals before each position
        self._texts_at: list[int] = []  # positions of strings with non-space text, and that text
        self._texts: list[str] = []
        self._text_lengths = [0]
        self._odd: set[int] = set()  # elements whose get_text() reads other strings (<rt>, <rp>)
        self._elements: list[Tag] = []  # every element, in document order, and its position
        self._element_at: list[int] = []
        position = -1
        stack: list[tuple[Any, int]] = [(root, -1)]  # (node, its first position when leaving it, else -1)
        while stack:
            node, first = stack.pop()
            if first >= 0:
                self._spans[id(node)] = (first, position)
                continue
            position += 1
            if isinstance(node, Tag):
                self._elements.append(node)
                self._element_at.append(position)
                self._cjk.append(self._cjk[-1])
                self._breaks.append(self._breaks[-1] + (node.name in BREAKS))
                self._tables.append(self._tables[-1] + (node.name == "table"))
                if node.name in _STRING_CONTAINERS:
                    self._odd.add(id(node))
                stack.append((node, position))
                stack.extend((child, -1) for child in reversed(node.contents))
                continue
            self._breaks.append(self._breaks[-1])
            self._tables.append(self._tables[-1])
            text = str(node) if type(node) in _PLAIN else ""
            self._cjk.append(self._cjk[-1] + cjk_count(text))
            bare = _SPACE.sub("", text)
            if bare:
                self._texts_at.append(position)
                self._texts.append(bare)
                self._text_lengths.append(self._text_lengths[-1] + len(bare))

    def cjk(self, tag: Tag) -> int:
        """The CJK count of tag.get_text()."""
        if id(tag) in self._odd:
            return cjk_count(tag.get_text())
        first, last = self._spans[id(tag)]
        return self._cjk[last + 1] - self._cjk[first]

    def bare_text(self, tag: Tag, limit: int) -> str | None:
        """tag.get_text() without whitespace, or None when that is longer than `limit`."""
        if id(tag) in self._odd:
            text = _SPACE.sub("", tag.get_text())
            return text if len(text) <= limit else None
        first, last = self._spans[id(tag)]
        start, end = bisect_right(self._texts_at, first), bisect_right(self._texts_at, last)
        if self._text_lengths[end] - self._text_lengths[start] > limit:
            return None
        return "".join(self._texts[start:end])

    def below(self, tag: Tag, names: Collection[str] | None = None) -> list[Tag]:
        """The elements inside `tag` (not itself), in document order, of those names if given:
        tag.find_all(names) without walking the subtree again."""
        first, last = self._spans[id(tag)]
        start, end = bisect_right(self._element_at, first), bisect_right(self._element_at, last)
        inside = self._elements[start:end]
        return inside if names is None else [element for element in inside if element.name in names]

    def has_break_below(self, tag: Tag) -> bool:
        first, last = self._spans[id(tag)]
        return self._breaks[last + 1] > self._breaks[first + 1]

    def has_table_below(self, tag: Tag) -> bool:
        first, last = self._spans[id(tag)]
        return self._tables[last + 1] > self._tables[first + 1]

    def span(self, tag: Tag) -> tuple[int, int]:
        """The first and last position of the subtree of `tag`: another element is below it when
        its first position falls in between."""
        return self._spans[id(tag)]

    def remove(self, tags: Iterable[Tag]) -> None:
        """Decompose `tags` (in document order; one inside another goes with it). The tree
        changes, so this object is done with: measure again before asking."""
        covered = -1
        by_parent: dict[int, tuple[Tag, list[Tag]]] = {}
        for tag in tags:
            first, last = self._spans[id(tag)]
            if first <= covered:
                continue
            covered = last
            if isinstance(tag.parent, Tag):
                by_parent.setdefault(id(tag.parent), (tag.parent, []))[1].append(tag)
            else:
                tag.decompose()
        for parent, children in by_parent.values():
            # bs4 deletes an extracted element from its parent's list, moving the siblings after
            # it: the children that go are moved to the end first, so that each deletion is the last.
            going = {id(tag) for tag in children}
            kept: list[PageElement] = [c for c in parent.contents if id(c) not in going]
            parent.contents[:] = [*kept, *children]
            for tag in reversed(children):
                tag.extract(_self_index=len(parent.contents) - 1)
                tag.decompose()
