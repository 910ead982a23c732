"""Page furniture recognised by what a line says: view counters, page actions, publication
metadata, prev/next links. The HTML reader drops such paragraphs; a text copy of a page carries
the same lines, so the text reader drops them too and the two editions compare alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

from watcher.model import Block
from watcher.normalise import clean_display, comparison_forms
from watcher.numbering import SENTENCE_ENDS

# "浏览次数:311", "阅读量 1024", "已分享 12 次": counters that change on every visit.
# A counter label needs its colon or its number: "提升网站访问量" is prose.
_COUNTER = re.compile(
    r"(?:浏览|阅读|点击|访问)(?:次数|量|数)\s*(?:[:：]|\d)|已?分享\s*\d+\s*次|(?:views?|hits|clicks)\s*[:：]\s*\d", re.I
)
_PAGE_META_LABEL = re.compile(r"(?:发布日期|发布时间|更新时间|来源|信息来源|作者|编辑|责任编辑|字号|时间)\s*[:：]")
_MAX_META_LINE = 120
_SENTENCE_END = re.compile(f"[{SENTENCE_ENDS}]")
_MAX_FURNITURE_CHARS = 2 * _MAX_META_LINE  # longer paragraphs are document text
# Page actions: a paragraph made of nothing else is furniture (【打印本页】【关闭窗口】, 字号：大 中 小).
_ACTIONS = re.compile(
    r"打印本页|打印此页|打印正文|打印|关闭窗口|关闭本页|关闭|返回顶部|回到顶部|返回首页|返回|收藏本页|加入收藏|收藏"
    r"|分享到|分享|字号|字体|默认|扫一扫|手机阅读|微信|微博|QQ空间|复制链接|我要纠错|纠错|[大中小]"
)
_ACTION_REST = re.compile(r"[\s\[\]【】()（）:：|｜/·•>»<«\-]+")
_PREV_NEXT_OPENERS = "上下"  # what _PREV_NEXT's labels open with, in either script
_PREV_NEXT = re.compile(r"^\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[:：]")


def without_furniture(blocks: Iterable[Block]) -> list[Block]:
    """The blocks less the furniture paragraphs. Furniture is a short line; only short paragraphs
    that may be furniture are read in comparison form, in one pass (the script converter is the cost)."""
    blocks = list(blocks)
    paragraphs = [
        (b, text)
        for b in blocks
        if b.kind != "table" and len(b.text) <= _MAX_FURNITURE_CHARS and _may_be_furniture(text := clean_display(b.text))
    ]
    forms = comparison_forms([text for _, text in paragraphs])
    furniture = {id(b) for (b, _), form in zip(paragraphs, forms, strict=True) if _is_furniture_form(form)}
    return [b for b in blocks if id(b) not in furniture]


def _may_be_furniture(text: str) -> bool:
    """False for a line that states a sentence and does not open with a prev/next label: the
    comparison form keeps sentence punctuation (width folding maps ！ to ! and both are ends), so
    only _PREV_NEXT could still match it. Most of a document's short paragraphs are such lines."""
    return not _SENTENCE_END.search(text) or any(c in _PREV_NEXT_OPENERS for c in text.lstrip()[:1])


def _is_furniture_form(text: str) -> bool:
    """Read in comparison form, so Traditional and full-width editions match the same patterns."""
    # page chrome states no sentence: "访问量10万人次以上。" is a target, not a counter
    if len(text) <= _MAX_META_LINE and not _SENTENCE_END.search(text) and (
        _COUNTER.search(text) or len(_PAGE_META_LABEL.findall(text)) >= 2
    ):
        return True
    if _PREV_NEXT.match(text):
        return True
    return not _ACTION_REST.sub("", _ACTIONS.sub("", text))
