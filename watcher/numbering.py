"""The numbering of Chinese official documents (GB/T 9704 and common practice):
第一章 › 第一节 › 第一条 › 一、 › （一） › 1. › （1） / 1) › ①.

Shared by the extractors (a numbered line is not a wrapped continuation or a table cell) and the
segmenter (the rank of a heading is the depth of its numbering).
"""

from __future__ import annotations

import re

CN_DIGITS = "一二三四五六七八九十"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

ARTICLE_RANK = 0.75  # 第一条: the provision of a regulation

# (rank, pattern without anchor); a smaller rank is a higher level.
_PATTERNS: tuple[tuple[float, str], ...] = (
    (0, rf"第[{CN_DIGITS}百]+[章部篇]\s*"),
    (0.5, rf"第[{CN_DIGITS}百]+节\s*"),
    (ARTICLE_RANK, rf"第[{CN_DIGITS}百零〇]+条\s*"),
    (1, rf"[{CN_DIGITS}]{{1,3}}\s*[、.．]\s*"),
    (2, rf"[（(]\s*[{CN_DIGITS}]{{1,3}}\s*[)）]\s*[、.．]?\s*"),
    # 1. / 1、 / 1． — but not a decimal (3.6%, ２．２８), a year (2025年) or a date (1.19)
    (3, r"\d{1,2}\s*(?:、|[.．](?!\d))\s*"),
    (4, r"[（(]\s*\d{1,2}\s*[)）]\s*[、.．]?\s*"),
    (4, r"\d{1,2}\s*[)）](?!\d)\s*"),
    (5, rf"[{_CIRCLED}]\s*"),
)
MARKERS: tuple[tuple[float, re.Pattern[str]], ...] = tuple((rank, re.compile("^" + p)) for rank, p in _PATTERNS)
# Any heading number at the start of a line.
HEADING_NUMBER = re.compile(r"^\s*(?:" + "|".join(p for _, p in _PATTERNS) + ")")


# 一是… / 第一是…: a sub-measure opened inside a paragraph.
SUBMEASURE = rf"(?:[{CN_DIGITS}]{{1,3}}|第[{CN_DIGITS}]{{1,3}})是"
# 专栏3, 表一, 附表2: the caption of a box or a table (not 表示…, not 表3.2's decimal).
BOX_CAPTION = re.compile(rf"^(?:专栏|專欄|附表|表)\s*(?:[0-9０-９]+|[{CN_DIGITS}]+)(?![0-9０-９.．])")
# The sequence number of a table row: 1, 1., （1）, 一、, ①, A.
INDEX_CELL = re.compile(
    rf"^\s*(?:\d{{1,3}}\s*[.、．]?|[(（]\d{{1,3}}[)）]|[{CN_DIGITS}]+[、.．]?|[(（][{CN_DIGITS}]+[)）]|[①-⑳]|[A-Za-z][.、]?)\s*$"
)
# What ends a sentence.
SENTENCE_ENDS = "。；;！!？?"


# What a marker can open with (every pattern of _PATTERNS starts with one of these or a \d, a
# Unicode decimal digit, which is what str.isdecimal tells): most lines are skipped on their first character.
_MARKER_STARTS = frozenset("第（(" + CN_DIGITS + _CIRCLED)


def marker(text: str) -> tuple[float, str] | None:
    """The numbering that opens `text` (with text after it), as (rank, marker text), or None."""
    if not text or (text[0] not in _MARKER_STARTS and not text[0].isdecimal()):
        return None
    for rank, pattern in MARKERS:
        found = pattern.match(text)
        if found and len(text) > found.end():
            return rank, found.group(0)
    return None
