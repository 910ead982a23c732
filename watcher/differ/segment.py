"""Document → clauses with heading paths.

Chinese plans number their structure in a fixed order (GB/T 9704): 一、 › （一） › 1. › （1） › ①,
with boxes (专栏N) and tables (表N) in between and sub-measures inside paragraphs (一是…二是…).
Regulations number theirs 第一章 › 第一节 › 第一条 › （一）; an article is a provision however short,
and in a regulation a paragraph after an item list belongs to its article, not to its last item.
A clause is one sentence (split at 。；！？), one heading, or one table row. Every clause carries
the heading path it sits under, the numbered items (articles, items, sub-measures) it belongs to,
so the classifier can report a whole new item as one measure, and the role its figures have from
the document, its section and the cues before it in its paragraph (targets.role_cue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from watcher.differ.targets import role_cue
from watcher.model import Block, Clause, Document, Item, Role
from watcher.normalise import KnownForms, comparison_forms
from watcher.numbering import ARTICLE_RANK, BOX_CAPTION, INDEX_CELL, SENTENCE_ENDS, SUBMEASURE, marker
from watcher.vocabulary import CROSS_REFERENCE, DEADLINE_YEAR, MIN_ARTICLES, SECTION_CUES, alternation

_BOX_RANK = 9  # boxes and tables nest under whatever heading is open
_SUBMEASURE = re.compile("^" + SUBMEASURE)

# Sentence ends; a closing quote or bracket right after the end stays with the sentence.
_SENTENCE = re.compile(rf"[^{SENTENCE_ENDS}]*(?:[{SENTENCE_ENDS}]+[”’」』)）]*|$)")
# "．" or "." closing a sentence (after a CJK character or a closing mark, not before a digit)
_STOP_AS_PERIOD = re.compile(r"(?<=[\u3400-\u9fff”’」』)）])[.．](?!\d)")
# "…面临诸多挑战：一是…" — a colon that opens an enumeration of sub-measures ends a clause too.
_ENUM_COLON = re.compile(rf"(?<=[：:])(?={SUBMEASURE})")
_DEADLINE = re.compile(DEADLINE_YEAR)

_MAX_HEADING_CHARS = 60
_SECTION_CUE = re.compile("|".join(f"(?P<{role}>{alternation(words)})" for role, words in SECTION_CUES))


def section_role(title: str) -> Role | None:
    """The role a heading gives the figures under it (…工作回顾 → reported), if it gives one."""
    found = _SECTION_CUE.search(title)
    return found.lastgroup if found else None  # type: ignore[return-value]


@dataclass(frozen=True)
class Segmented:
    clauses: tuple[Clause, ...]
    items: dict[int, Item]


def strip_marker(text: str) -> str:
    """The text without its opening heading number or sub-measure marker (for matching)."""
    found = marker(text)
    if found:
        text = text[len(found[1]) :]
    sub = _SUBMEASURE.match(text)
    return text[sub.end() :] if sub else text


def _split_after(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Cut `text` right after every match of `pattern`."""
    pieces, start = [], 0
    for found in pattern.finditer(text):
        pieces.append(text[start : found.end()])
        start = found.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping each end mark with its sentence."""
    parts: list[str] = []
    for piece in _split_after(text, _STOP_AS_PERIOD):
        for chunk in _ENUM_COLON.split(piece):
            parts.extend(s for s in _SENTENCE.findall(chunk) if s.strip())
    # A fragment of only closing marks or a few characters belongs to the sentence before it.
    merged: list[str] = []
    for part in parts:
        if merged and len(part) <= 3 and sum(ch.isalnum() for ch in part) <= 1:
            merged[-1] += part
        else:
            merged.append(part)
    return [s.strip() for s in merged if s.strip()]


def _title(text: str) -> str:
    """A heading path element: the heading, or the opening sentence of a numbered item."""
    first = sentences(text)[0] if text else text
    return first.rstrip("。；;：:").strip()


class _Builder:
    """Walks the blocks once, keeping the open headings on a stack."""

    def __init__(self, role: Role | None = None) -> None:
        self.document_role = role  # a regulation's figures are all thresholds
        self.roles: dict[int, Role] = {}  # item id → the role its heading gives
        self.sentence_items: set[int] = set()  # items that are a sentence (（一）…；), not a heading
        self.clauses: list[dict[str, Any]] = []  # Clause fields; the key is added in one batch
        self.items: dict[int, Item] = {}
        self.stack: list[tuple[float, int, str]] = []  # (rank, item id, path element)
        self.box_block = -1  # block number of the last box or table caption

    def open_item(self, rank: float, title: str, numbered: bool) -> int:
        while self.stack and self.stack[-1][0] >= rank:
            self.stack.pop()
        item_id = len(self.items)
        self.items[item_id] = Item(item_id, rank, title, numbered)
        self.stack.append((rank, item_id, title))
        if (role := section_role(title)) is not None:
            self.roles[item_id] = role
        return item_id

    @property
    def role(self) -> Role:
        """The role in force: the document's, else the innermost heading's that gives one."""
        if self.document_role is not None:
            return self.document_role
        return next((self.roles[u] for _, u, _ in reversed(self.stack) if u in self.roles), "target")

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, _, title in self.stack)

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(item_id for _, item_id, _ in self.stack)

    def add(self, text: str, kind: str, block: int, **extra: object) -> None:
        self.clauses.append(
            dict(text=text, path=self.path, kind=kind, index=len(self.clauses), block=block, items=self.item_ids, **extra)
        )

    def table(self, block: Block, number: int) -> None:
        rows = [tuple(cell.strip() for cell in row) for row in block.rows if any(c.strip() for c in row)]
        if not rows:
            return
        header = rows[0]
        for row in rows:
            self.add("\t".join(row), "row", number, header=header if row is not header else (), cells=row, role=self.role)
        if self.stack and self.stack[-1][0] == _BOX_RANK and self.box_block == number - 1:
            self.stack.pop()  # a box captioning just this table ends with it

    def paragraph(self, block: Block, number: int) -> None:
        text = block.text.strip()
        if not text:
            return
        found = marker(text)
        # an article (第五条 …) states a provision however short it is; other numbered lines are
        # headings when they state no sentence
        is_heading = block.kind == "heading" or (
            found is not None and found[0] != ARTICLE_RANK and _looks_like_heading(text)
        )
        if BOX_CAPTION.match(text) and len(text) <= _MAX_HEADING_CHARS:
            self.open_item(_BOX_RANK, _title(text), numbered=False)
            self.box_block = number
            self.add(text, "heading", number)
            return
        if found or block.kind == "heading":
            rank = found[0] if found else (block.level or 1)
            item = self.open_item(rank, _title(text), numbered=found is not None)
            if is_heading:
                self.add(text, "heading", number, measure=found is not None, numbering=found[1].strip() if found else None)
                return
            if rank > ARTICLE_RANK:
                self.sentence_items.add(item)
        elif self.document_role == "threshold":
            # in a regulation, a paragraph after a list of items (（一）…；（二）…。) belongs to the
            # article, not to its last item
            while self.stack and self.stack[-1][1] in self.sentence_items:
                self.stack.pop()
        self.body(text, number, numbered=found)

    def body(self, text: str, number: int, numbered: tuple[float, str] | None) -> None:
        year: int | None = None
        role = self.role
        base = len(self.stack)
        for position, sentence in enumerate(sentences(text)):
            sub = _SUBMEASURE.match(sentence)
            if sub:
                del self.stack[base:]
                self.open_item(_BOX_RANK + 1, _title(sentence), numbered=True)
            opens_item = position == 0 and numbered is not None
            self.add(
                sentence,
                "sentence",
                number,
                measure=bool(sub) or opens_item,
                numbering=(numbered[1].strip() if opens_item and numbered else sub.group(0) if sub else None),
                year=year,
                role=role,
            )
            role = role_cue(sentence, role)
            deadline = _DEADLINE.search(sentence)
            if deadline:
                year = int(deadline.group(1))
        del self.stack[base:]


def _row_body(cells: tuple[str, ...]) -> tuple[str, ...]:
    """A row without its sequence number, so that renumbered rows compare equal."""
    return cells[1:] if len(cells) > 1 and INDEX_CELL.match(cells[0]) else cells


def _looks_like_heading(text: str) -> bool:
    """A numbered line that is only a title is a heading; one that ends a sentence (an item of one
    sentence, "（1）到2026年累计建成联合实验室30家。") is an item and states what it says."""
    body = text.rstrip("：: ")
    return len(body) <= _MAX_HEADING_CHARS and not any(end in body for end in SENTENCE_ENDS)


def _is_regulation(document: Document) -> bool:
    """Numbered in articles (第一条 …): a regulation, whose figures are thresholds."""
    articles = sum(
        1
        for b in document.blocks
        if b.kind != "table"
        and b.text.lstrip().startswith("第")
        and (found := marker(b.text.strip()))
        and found[0] == ARTICLE_RANK
    )
    return articles >= MIN_ARTICLES


def _comparable(text: str) -> str:
    """What a clause is compared on before normalisation: without its cross-references, which are
    renumbered with the articles they point at."""
    return CROSS_REFERENCE.sub("§", text) if "第" in text else text


def segment(document: Document, forms: KnownForms | None = None) -> Segmented:
    """`forms`: comparison forms known from the other version of a diff (see comparison_forms)."""
    builder = _Builder("threshold" if _is_regulation(document) else None)
    for number, block in enumerate(document.blocks):
        if block.kind == "table":
            builder.table(block, number)
        else:
            builder.paragraph(block, number)
    texts = [
        "\t".join(_row_body(c["cells"])) if c["kind"] == "row" else _comparable(strip_marker(c["text"].strip()))
        for c in builder.clauses
    ]
    keys = comparison_forms(texts, forms)
    clauses = tuple(Clause(key=key, **fields) for fields, key in zip(builder.clauses, keys, strict=True))
    return Segmented(clauses, builder.items)
