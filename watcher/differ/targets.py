"""Quantified indicators (targets and reported figures) in a clause or an indicator-table row.

A clause is parsed in its reading form (`watcher.normalise.reading_form`): full-width digits,
letters and signs made half-width (the full-width comma is kept: it never is a thousands separator),
Traditional script made Simplified, white space next to Chinese characters removed. `Target.metric`,
`.unit` and `.text` are given in that form, so that the same indicator published in another width or
script is the same Target; the clause itself keeps the words as published.

Conventions (the classifier and the reports rely on them):
- comparator: 达/达到/不少于/不低于/以上 → ">=" (a plan's "达3700家" is a floor to reach);
  超/超过/突破/高于/多/余 → ">"; 不超过/控制在/以内/以下 → "<="; 低于/少于 → "<"; 约/近/左右 → "~";
  nothing (or 为/增至) → "=". A word after the number (以上) wins over one before it.
- value: Arabic numbers keep a following 万/亿 in the unit (31万人 → 31 万人, as indicator tables
  write their columns); Chinese numerals are converted whole with cn2an (两万人 → 20000 人).
  A Chinese numeral counts only with a measure word, and one below ten only with a comparator too
  (不少于三家): 一批, 三大, 两个分中心 are words.
- value None: 翻番/翻一番/倍增/全覆盖/基本覆盖, `text` holding the words (实现…全覆盖).
- ranges: 1-2家 is value 1, value_max 2, comparator "="; bounds X以上Y以下 in one unit are value X,
  value_max Y, comparator ">=" (a lower bound without a unit takes the upper's). Periods (三个月,
  九十日, 3年内), fractions (三分之二) and 过半数 are quantities; an increment (比去年增加1800亿元) is
  none.
- role: from the nearest cue before the figure in the clause (今年, 到2025年 → target; 去年, 过去 →
  reported), else the role in force from the paragraph, section or document (see model.Role).
- year: the nearest year before the number in the clause (到2025年, 2025年底前, 2020年 of a reported
  figure), else the `year` given from context; a year of comparison (较2017年, 同2017年相比) is none.
- not indicators: years, dates, ranks (第7位, 15个位次), numbers in quotes or titles (“123”), numbers
  touching Latin letters or "+" (5G, 3+3+X, G60), document numbers, heading numbers, 每万人, and an
  Arabic number with neither a measure word nor a comparator.
- metric: the words before the number back to the previous delimiter (，,、；;：:。 outside brackets),
  without years, leading modals (力争, 确保 …) and, unless a qualifier (新增, 累计, 全区 …) leads,
  leading verbs (建设, 培育 …); "verb + number + object" gives verb + object (培育新兴产业); a
  comparison (较2017年增长, 高于全市, 占…) continues the previous metric; bare list items (200家、400家)
  share it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import NamedTuple

from rapidfuzz import fuzz

from watcher.model import Clause, Comparator, Role, Target
from watcher.normalise import comparison_form, reading_form
from watcher.numbering import HEADING_NUMBER, INDEX_CELL, SUBMEASURE
from watcher.vocabulary import (
    BASELINE_HEADERS,
    FUTURE_CUES,
    FUTURE_NOT_BEFORE,
    FUTURE_YEAR,
    INCREMENT_BASE,
    INCREMENT_VERBS,
    LEAD_PERIODS,
    METRIC_SYNONYMS,
    ROLE_CUES,
    alternation,
)

__all__ = ["clause_targets", "extract_targets", "row_targets", "metric_key", "match_targets"]

# ---------------------------------------------------------------- vocabulary

_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_AR = r"\d{1,3}(?:,\d{3})+(?![\d])(?:\.\d+)?|\d+(?:\.\d+)?"
_CN = rf"[{_CN_NUM}]+(?:点[零〇一二三四五六七八九]+)?"

# Measure words; longest first. "人" is not a unit in 人才/人员…, "家" not in 家电/家居….
_BASE_UNITS = (
    "个百分点|百分点|个工作日|平方公里|平方千米|平方米|立方米|千瓦时|千瓦|兆瓦|公里|公顷|美元|"
    "人次|人年|人(?![才员口民群工士])|家(?![电具居庭纺乡族])|个月|个(?!人)|项|件|名|位|户|所|座|条|台|套|"
    "次|期|场|倍|亩|吨|篇|部|款|种|支|辆|张|天|小时|分钟|元|米|工作日|周岁|岁|周(?!年)|日(?![报常])|年(?![度底末初均代级])"
)
# Measure words with which a small Chinese numeral is a quantity even without a comparator
# (三个月, 五万元, 两倍, 九十日), where 三年, 两个, 一批 are words.
_STRONG_UNIT = re.compile(r"(?:个月|工作日|日|天|小时|分钟|周|元|倍)(?:/|$)")
_LATIN_UNITS = r"kWh|MWh|GWh|kW|MW|GW|km|kg"
_UNIT = (
    rf"(?:万亿|千万|百万|万|亿)?(?:{_BASE_UNITS})(?:/(?:人|年|户|亩|平方米))?"
    rf"|万亿|万|亿|%|‰|{_LATIN_UNITS}"
)

# Comparator words before a number (matched at the end of the words before it), longest first.
_PRE_CMP: tuple[tuple[str, Comparator], ...] = (
    ("大于等于", ">="), ("小于等于", "<="), ("不少于", ">="), ("不低于", ">="), ("不小于", ">="),
    ("不超过", "<="), ("不高于", "<="), ("不多于", "<="), ("不大于", "<="), ("控制在", "<="),
    ("至少", ">="), ("最少", ">="), ("达到", ">="), ("超过", ">"), ("超出", ">"), ("突破", ">"),
    ("多于", ">"), ("高于", ">"), ("大于", ">"), ("至多", "<="), ("最多", "<="), ("低于", "<"),
    ("少于", "<"), ("小于", "<"), ("大约", "~"), ("接近", "~"), ("将近", "~"), ("约为", "~"),
    (">=", ">="), ("<=", "<="), ("≥", ">="), ("≤", "<="), ("达", ">="), ("超", ">"), ("逾", ">"),
    ("约", "~"), ("近", "~"), (">", ">"), ("<", "<"), ("为", "="),
)
_PRE_CMP_MAP = dict(_PRE_CMP)
_PRE_WORDS = "|".join(re.escape(w) for w, _ in _PRE_CMP)
_PRE_CMP_RE = re.compile(rf"(?:{_PRE_WORDS})\s*$")
# After the number and unit.
_POST_CMP_MAP: dict[str, Comparator] = {
    "及以上": ">=", "或以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<=",
    "之内": "<=", "内": "<=", "左右": "~", "上下": "~",
}
_POST_WORDS = "|".join(sorted(_POST_CMP_MAP, key=len, reverse=True))
# 以上 may follow a bracketed qualifier of the unit: 200台（套）以上
_POST_CMP_RE = re.compile(f"(?:[(（][^()（）]{{1,4}}[)）])?(?P<word>{_POST_WORDS})")

_RANGE_SEP = r"\s*(?:-|~|—|–|至|到)\s*"
_QTY = re.compile(
    rf"(?:百分之(?P<pct>{_CN})"
    rf"|(?P<den>{_CN}|\d+)分之(?P<numer>{_CN}|\d+)"
    rf"|(?P<half>过半数|超过半数|半数)"
    rf"|(?P<num>{_AR}|{_CN})(?:\s*(?P<unit0>%|万|亿)?{_RANGE_SEP}(?P<num2>{_AR}|{_CN}))?"
    rf"\s*(?P<approx>多|余)?\s*(?P<unit>{_UNIT})?)"
)

# Values without a single number; not when they name a programme (倍增行动, “倍增计划”).
_QUAL = re.compile(
    r"(?:翻[一两三四]?番|翻倍|(?<!双)倍增|全覆盖|基本覆盖)(?!行动|计划|工程|专项|提质|试点|工作|机制)"
)

_YEAR_NUM = r"(?P<y>(?<!\d)(?:19|20)\d{2}(?!\d)|[〇零一二三四五六七八九]{4})"
_YEAR = re.compile(
    rf"(?P<pre>到|至|截至|截止到|截止|在|同|较|比|与|由|从|相比|对比)?\s*{_YEAR_NUM}\s*年"
    r"(?:底|末|度|初)?(?:前|以前|之前)?(?P<post>相比|比较|同期|水平)?"
)
_PERIOD_END = re.compile(rf"\s*(?:至|到|-|—|~)\s*{_YEAR_NUM}")
_COMPARE_PRE = frozenset({"同", "较", "比", "与", "由", "从", "相比", "对比"})
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}

_DELIMS = frozenset("，,、；;：:。！？!?\t")
_OPEN, _CLOSE = "(（[【", ")）]】"
_QUOTES = {"“": "”", "《": "》", "「": "」", "『": "』", "‘": "’"}
_MAX_QUOTED_NAME = 30  # a longer quotation is prose, not a name

# Words stripped from the front of a metric: modal particles, then action verbs. A verb is only
# stripped when two characters or more remain (孵化器 stays 孵化器).
_MODALS = (
    "力争|确保|争取|努力|预计|计划|力求|有望|基本|初步|进一步|全面|持续|稳步|加快|大力|积极|着力|"
    "共计|总共|一共|已经|能够|同时|其中|此外|另外|现有|目前|当前|并且|以及|或者|"
    "今年|去年|明年|全年|年末|年内|当年|本年|上年|拟|处以|并处|可处|处|"
    "应当经|应当由|应当有|应当|必须|可以|须经"
)
_VERBS = (
    "新引进|引进培育|联合举办|建设|建成|新建|创建|组建|共建|培育|培养|打造|引进|引育|招引|集聚|聚集|"
    "孵化|形成|设立|布局|争创|创成|认定|开展|实施|完成|申报|承担|遴选|促成|取得|举办|开设|获评|"
    "获得|拥有|建立|带动|推动|吸引|服务|发展|入选|入库|备案|联合|新增|累计|实现|获|发行|安排|罚|给予"
)
# Qualifiers kept in a metric (they change what is counted) but dropped by metric_key.
_QUALIFIERS = "新增|累计|新|全国|全区|全市|全县|全省|全镇|全乡|我区|我市|我县|我省|本区|本市|本县"
_CONNECTORS = "和|及|与|并|且|或|、|等"
# an adverb before a verb (先发行, 再新增): stripped with the modals, never before a noun (先进, 再生)
_ADVERBS = rf"(?:先|再|还|又|也|将)(?={_VERBS})"
_LEAD_WORDS = rf"{_MODALS}|{_ADVERBS}"  # what may open a metric and is no part of it
_LEAD_MODAL = re.compile(rf"^(?:{_LEAD_WORDS})")
_LEAD_VERB = re.compile(rf"^(?:{_VERBS})")
_LEAD_QUAL = re.compile(rf"^(?:{_QUALIFIERS})")
_LEAD_ANY = re.compile(rf"^(?:{_LEAD_WORDS}|{_VERBS}|{_QUALIFIERS}|{_CONNECTORS})")
_LEAD_CONNECTOR = re.compile(rf"^(?:{_CONNECTORS})")
_TRAIL_CONNECTOR = re.compile(r"(?<=[\u4e00-\u9fff])(?:或者|以及)$")  # a second alternative begins
_CONNECTORS_ONLY = re.compile(rf"(?:{_CONNECTORS})+")
# What stands before a metric and is not part of it: a list number, a dash, a plan period.
_LEAD_NOISE = re.compile(
    rf"^(?:——|[-—]+|{HEADING_NUMBER.pattern[1:]}|{SUBMEASURE}|[“\"]?十[一二三四五六七八九]五[”\"]?"
    rf"(?:期间|时期|末|初|以来)?|{alternation(LEAD_PERIODS)})\s*"
)
_TRAIL_FILLER = re.compile(
    r"(?:分别为|分别达到|分别达|分别|仅为|仅占|均为|平均|均|都|为|是|已|将|共计|合计|总计|的|力争|确保|"
    r"争取|实现|基本|初步|由|从|仅|要|等|和|及|、|安排|拟|按|控制在|保持在|稳定在|维持在|在)$"
)
# A phrase that compares with what was said before it: its metric continues the previous one.
_COMPARISON_LEAD = re.compile(r"^(?:同比|较|相比|高于|低于|占)")
_COMPARISON_WORD = re.compile(r"^(?:相比|比较)")  # left after its year: 同2017年相比
# "提升至3.62%": a change of the previous metric, with no subject of its own.
_CHANGE_VERB = re.compile(r"(?:同比|比上年|年均)?(?:增长|下降|提高|降低|增加|减少|上涨|上升)")
_CHANGE_ONLY = re.compile(r"^(?:提升|提高|增长|增加|上升|下降|降低|减少|扩大|缩小)?(?:至|到|为)$")
# where the object of a figure ends: the next figure, a connector, a mark, or a predicate (…的增速可以实现…)
_OBJECT_STOP = re.compile(r"[\d%()（）]|和|及|以及|并|且|或|等|分之|半数|可以|能够|需要|应当|将|要|实现|[，,、；;：:。！？!?\t]")
_NOT_OBJECT = re.compile(r"^(?:提升|提高|增长|增加|下降|降低|减少|达到|达|为|是|占|比|较|至|到)")
_RANK_AFTER = re.compile(r"位次|名次|排名")  # used with match(s, pos): no "^"


# ---------------------------------------------------------------- small parsers


def _number(token: str) -> float | None:
    """An Arabic or Chinese numeral as a float; None when it is not one (千, 十四五)."""
    token = token.replace(",", "")
    if token[0].isdigit():
        return float(token)
    import cn2an  # here: it takes a fifth of a second to import, and most clauses never need it

    try:
        return float(cn2an.cn2an(token, "normal"))
    except (ValueError, KeyError, IndexError):
        return None


def _year_value(token: str) -> int:
    return int("".join(_CN_DIGIT.get(c, c) for c in token))


class _Mark(NamedTuple):
    end: int
    year: int


def _year_marks(s: str) -> tuple[list[_Mark], list[tuple[int, int]]]:
    """Year markers (where they end, which year) and the spans of every year expression."""
    marks: list[_Mark] = []
    spans: list[tuple[int, int]] = []
    for m in _YEAR.finditer(s):
        spans.append(m.span())
        after = s[m.end() : m.end() + 6]
        if m["pre"] in _COMPARE_PRE or m["post"] or after.startswith(("相比", "比较", "同期")):
            continue  # a year of comparison, not the year of the figure
        if _PERIOD_END.match(after):
            continue  # 2021年至2025年: the end of the period is the year
        marks.append(_Mark(m.end(), _year_value(m["y"])))
    return marks, spans


def _quoted_spans(s: str) -> list[tuple[int, int]]:
    """Short quotations and titles: names (“123”产业集群, 《…2035年…》), never indicators."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(s):
        close = _QUOTES.get(s[i])
        if close is None and s[i] == '"':
            close = '"'
        if close is not None:
            j = s.find(close, i + 1)
            if j != -1:
                if j - i <= _MAX_QUOTED_NAME:
                    spans.append((i, j + 1))
                i = j
        i += 1
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _left_phrase(s: str, lo: int, start: int) -> str:
    """The words before `start` back to the previous delimiter (brackets kept whole)."""
    depth = 0
    i = start
    while i > lo:
        c = s[i - 1]
        if c in _CLOSE:
            depth += 1
        elif c in _OPEN:
            if not depth:
                break  # the number is inside these brackets
            depth -= 1
        elif not depth and c in _DELIMS:
            break
        i -= 1
    return s[i:start]


def _strip_lead(text: str, pattern: re.Pattern[str], keep: int = 2) -> str:
    while (m := pattern.match(text)) and len(text) - m.end() >= keep:
        text = text[m.end() :]
    return text


def _strip_trail(text: str) -> str:
    while (m := _TRAIL_FILLER.search(text)) and m.start() > 0:
        text = text[: m.start()]
    return text


def _object_after(s: str, pos: int) -> tuple[str, int]:
    """The noun phrase after a number in "verb + number + object" (培育1-2个新兴产业), and its end."""
    start = pos + (len(s[pos:]) - len(s[pos:].lstrip()))
    if s.startswith("的", start):
        start += 1
    m = _OBJECT_STOP.search(s, start)
    end = m.start() if m else len(s)
    obj = s[start:end].strip()
    return ("", pos) if not obj or _NOT_OBJECT.match(obj) else (obj, end)


class _Left(NamedTuple):
    """What the words between the previous indicator (or delimiter) and a number say."""

    subject: str  # the metric named before the number, "" when none
    verb: str  # a verb phrase with no object (培育…): the object follows the number
    compares: bool  # a comparison (较2017年增长, 高于全市): continues the previous metric
    bare: bool  # connectors only (200家、400家): the previous metric and comparator go on


def _read_left(left: str) -> _Left:
    text = _LEAD_NOISE.sub("", left.strip())
    # years go; a year of comparison (同2017年相比, 较2017年) marks a comparison
    text = _YEAR.sub(lambda m: "\0" if m["pre"] in _COMPARE_PRE else "", text)
    compares = text.startswith("\0") or bool(_COMPARISON_LEAD.match(text))
    text = _COMPARISON_WORD.sub("", text.replace("\0", ""))
    text = _LEAD_NOISE.sub("", text).lstrip("的").strip()
    if text.endswith("等") or _TRAIL_CONNECTOR.search(text):
        # A、B等3家单位; 具有本科以上学历或者10年以上工作经历: the object after the number is the metric
        return _Left("", "", compares, False)
    text = _strip_trail(text)
    if not text or _CONNECTORS_ONLY.fullmatch(text):
        return _Left("", "", compares, True)
    if _CHANGE_ONLY.match(text):
        return _Left("", "", True, False)
    if _CHANGE_VERB.fullmatch(text):  # 国内生产总值达到74.4万亿元，增长6.7%: the growth of the same
        return _Left(text, "", True, False)
    modal_free = _strip_lead(text, _LEAD_MODAL)
    if not _strip_lead(modal_free, _LEAD_ANY, keep=0):  # verbs only: 力争培育 | 1-2个新兴产业
        return _Left("", _strip_lead(modal_free, _LEAD_CONNECTOR, keep=0), compares, False)
    if _LEAD_QUAL.match(modal_free):  # 新增各类人才, 累计创建双创平台: kept as said
        return _Left(modal_free, "", compares, False)
    return _Left(_strip_lead(modal_free, _LEAD_VERB), "", compares, False)


# ---------------------------------------------------------------- prose


class _Hit(NamedTuple):
    start: int  # where the value's words begin (comparator included)
    end: int  # where they end (以上 included)
    value_start: int  # where the number (or the qualitative word) begins
    value: float | None
    value_max: float | None
    unit: str
    comparator: Comparator | None  # None: not said
    qual: bool


def _fraction(m: re.Match[str]) -> float | None:
    """三分之二 → 2/3, 过半数 → 1/2; None when a part is not a numeral."""
    if m["half"]:
        return 0.5
    den, numer = _number(m["den"]), _number(m["numer"])
    return numer / den if den and numer is not None and numer < den else None


def _fraction_hit(s: str, m: re.Match[str]) -> _Hit | None:
    value = _fraction(m)
    if value is None:
        return None
    a, b = m.span()
    post = _POST_CMP_RE.match(s, b)
    pre = _PRE_CMP_RE.search(s, max(0, a - 4), a)
    comparator: Comparator = ">" if m["half"] and m["half"] != "半数" else "="
    if post:
        comparator = _POST_CMP_MAP[post.group("word")]
    elif pre:
        comparator = _PRE_CMP_MAP[pre.group().strip()]
    return _Hit(pre.start() if pre else a, post.end() if post else b, a, value, None, "", comparator, False)


def _numeric_hits(s: str, excluded: list[tuple[int, int]]) -> Iterator[_Hit]:
    for m in _QTY.finditer(s):
        a, b = m.span()
        if m["den"] or m["half"]:
            if not _inside(a, excluded) and (hit := _fraction_hit(s, m)) is not None:
                yield hit
            continue
        token = m["pct"] or m["num"]
        unit = "%" if m["pct"] else (m["unit"] or "")
        if m["unit0"] and m["unit0"] != unit and not unit.startswith(m["unit0"]):
            continue  # 3%-5家: not one range
        if _inside(a, excluded) or not _bounded(s, a, b):
            continue
        value = _number(token)
        if value is None:
            continue
        post = _POST_CMP_RE.match(s, b)
        if not unit and post and post.group("word") in ("以上", "及以上") and (bound := _QTY.match(s, post.end())):
            unit = bound["unit"] or ""  # 五千以上一万元以下: the lower bound is in the upper bound's unit
        value_max = _number(m["num2"]) if m["num2"] else None
        if m["num2"] and (value_max is None or value_max <= value):
            continue  # 2022-01: a date, not a range
        pre = _PRE_CMP_RE.search(s, max(0, a - 4), a)
        comparator: Comparator | None = None
        if post:
            comparator = _POST_CMP_MAP[post.group("word")]
        elif m["approx"]:
            comparator = ">"
        elif pre:
            comparator = _PRE_CMP_MAP[pre.group().strip()]
        if s[a - 1 : a] == "前" and s[a - 2 : a] != "提前" and unit in ("名", "位", "年", ""):
            continue  # 前10名, 前三年: a rank or a span, not a quantity
        if not token[0].isdigit() and not m["pct"]:
            strong = bool(_STRONG_UNIT.search(unit)) or (unit == "年" and comparator in (">=", "<=", ">", "<"))
            if not unit or (value < 10 and comparator in (None, "=", "~") and not strong):
                continue  # 一批, 三大, 两个分中心, 近三年: words, not indicators
        elif not unit and (comparator is None or 1900 <= value <= 2100):
            continue  # a bare number: a code, a year or a name
        start, end = (pre.start() if pre else a), (post.end() if post else b)
        yield _Hit(start, end, a, value, value_max, unit, comparator, False)


def _bounded(s: str, a: int, b: int) -> bool:
    """Whether the number stands on its own (not 5G, 3+3+X, 第7位, 〔2021〕52号, 每万人, 15个位次)."""
    before = s[a - 1] if a else " "
    after = s[b] if b < len(s) else " "
    if before.isascii() and (before.isalnum() or before in "+.#/_-&"):
        return False
    if before in "第每〔[【月":  # 月: the day of a date (3月1日)
        return False
    if after.isascii() and (after.isalpha() or after in "+#_&"):
        return False
    return not _RANK_AFTER.match(s, b)


def _qual_hits(s: str, excluded: list[tuple[int, int]]) -> Iterator[_Hit]:
    for m in _QUAL.finditer(s):
        if _inside(m.start(), excluded):
            continue
        # 实现…全覆盖: the words from 实现 belong to the value's text
        start = m.start()
        window = s[max(0, start - 20) : start]
        cut = max((window.rfind(d) for d in _DELIMS), default=-1)
        at = window.rfind("实现")
        if at > cut:
            start = max(0, m.start() - 20) + at
        yield _Hit(start, m.end(), start, None, None, "", None, True)


# 比去年, 较上年: a comparison with the past, not a figure of the past
_CUE_FIRST = "".join(sorted({w[0] for _, words in ROLE_CUES for w in words} | {"到", "至"}))
_ROLE_CUE = re.compile(
    f"(?=[{_CUE_FIRST}])(?:"  # a cheap first test: most positions start no cue
    + "|".join(f"(?<![比较同与和])(?P<{role}>{alternation(words)})" for role, words in ROLE_CUES)
    + f"|(?P<future>{FUTURE_YEAR}))"
)
_FUTURE_CUE = re.compile(f"(?:{alternation(FUTURE_CUES)})(?!{alternation(FUTURE_NOT_BEFORE)})|{FUTURE_YEAR}")
_INCREMENT = re.compile(rf"(?:比|较)(?:{alternation(INCREMENT_BASE)})?(?:{alternation(INCREMENT_VERBS)})了?$")
_RATE_UNITS = ("%", "‰")


def role_cue(text: str, in_force: Role = "target") -> Role:
    """The role that the last cue of `text` gives the figures after it, or `in_force` when it has none.

    A reported or baseline role in force (a review section) gives way only to a cue of the future
    (今年, 到2025年); a threshold (a regulation) to none."""
    if in_force == "threshold":
        return in_force
    if in_force in ("reported", "baseline"):
        return "target" if _FUTURE_CUE.search(text) else in_force
    role = in_force
    for m in _ROLE_CUE.finditer(text):
        role = "reported" if m.lastgroup == "reported" else "target"
    return role


def _ranges(s: str, hits: list[_Hit]) -> list[_Hit]:
    """X以上Y以下 in one unit (一万元以上五万元以下) is one indicator from X to Y."""
    merged: list[_Hit] = []
    for hit in hits:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.comparator == ">="
            and hit.comparator == "<="
            and prev.value_max is None
            and hit.value_max is None
            and prev.unit == hit.unit
            and prev.value is not None
            and hit.value is not None
            and prev.value < hit.value
            and not s[prev.end : hit.start].strip()
        ):
            merged[-1] = prev._replace(end=hit.end, value_max=hit.value)  # ">=": bounds, see model.Target
            continue
        merged.append(hit)
    return merged


def extract_targets(
    text: str, *, year: int | None = None, role: Role = "target", reading: str | None = None
) -> tuple[Target, ...]:
    """Every indicator in one clause (display text, full- or half-width, Simplified or Traditional).

    `year` is the deadline year in force from context (e.g. an earlier "到2025年" in the paragraph);
    a year inside the clause (到2025年 / 2025年底前 / 至2027年) overrides it. `role` is the role in
    force from context; a cue in the clause before a figure (今年, 去年, 力争 …) overrides it.
    An increment (比去年增加1800亿元) is said of the indicator before it and is none of its own.
    `reading` is the text's reading form when the caller has it already (read in a batch).
    """
    s = reading_form(text) if reading is None else reading
    if not s:
        return ()
    marks, year_spans = _year_marks(s)
    excluded = _quoted_spans(s) + year_spans
    quals = list(_qual_hits(s, excluded))
    taken = [(h.start, h.end) for h in quals]
    hits = [h for h in _numeric_hits(s, excluded) if not _inside(h.value_start, taken)]
    hits = _ranges(s, sorted(hits + quals, key=lambda h: h.start))

    targets: list[Target] = []
    lo = 0
    for hit in hits:
        if hit.start < lo:
            continue  # inside the object of the previous indicator
        raw_left = _left_phrase(s, lo, hit.start)
        if _INCREMENT.search(raw_left) and hit.unit not in _RATE_UNITS:
            lo = hit.end
            continue
        left = _read_left(raw_left)
        prev = targets[-1] if targets else None
        metric, comparator = left.subject, hit.comparator
        lo = hit.end
        if left.compares and prev is not None:
            metric = prev.metric + metric
        elif not metric:
            obj, obj_end = _object_after(s, hit.end) if not hit.qual else ("", hit.end)
            if obj:
                metric, lo = left.verb + obj, obj_end
            elif prev is not None:
                metric = prev.metric
                if left.bare and comparator is None:
                    comparator = prev.comparator
            else:
                metric = _earlier_object(s, left.verb, hit.start) or left.verb or _fallback_metric(s, hit)
        elif s.startswith("的", hit.end):  # 覆盖到全市70%以上的工业企业
            obj, lo = _object_after(s, hit.end)
            metric += obj
        if not hit.qual and comparator is None:
            comparator = "="
        in_force = [mark.year for mark in marks if mark.end <= hit.value_start]
        targets.append(
            Target(
                metric=metric,
                value=hit.value,
                unit=hit.unit,
                comparator=comparator,
                year=in_force[-1] if in_force else year,
                text=s[hit.start : hit.end].strip(),
                value_max=hit.value_max,
                role=role_cue(s[: hit.start], role),
            )
        )
    return tuple(targets)


def _earlier_object(s: str, verb: str, before: int) -> str:
    """A verb with no object after its figure names the object it took earlier in the clause:
    拟发行超长期特别国债，…，今年先发行1万亿元 → 发行超长期特别国债."""
    if not verb:
        return ""
    at = s.rfind(verb, 0, max(0, before - len(verb)))
    while at >= 0:
        obj, _ = _object_after(s, at + len(verb))
        if obj:
            return verb + obj
        at = s.rfind(verb, 0, at)
    return ""


def _fallback_metric(s: str, hit: _Hit) -> str:
    """Never an empty metric: the clause's words before the value, else the value's own words."""
    before = _strip_trail(_LEAD_NOISE.sub("", s[: hit.start]).strip())
    return before[-_SHORT_CELL:] or s[hit.start : hit.end]


def clause_targets(clause: Clause, reading: str | None = None) -> tuple[Target, ...]:
    """The indicators of one clause: a sentence's, a table row's (under its header); a heading has
    none. `reading` is the sentence's reading form when the caller read it in a batch."""
    if clause.kind == "row":
        return row_targets(clause.header, clause.cells, role=clause.role) if clause.header else ()
    if clause.kind == "heading":
        return ()
    return extract_targets(clause.text, year=clause.year, role=clause.role, reading=reading)


# ---------------------------------------------------------------- indicator tables

_EMPTY_CELL = re.compile(r"^[-—–/\\─_~·.、无]*$")
_HEADER_WORDS = re.compile(
    r"指标|目标|名称|序号|编号|单位|备注|属性|类别|年份|完成|预期|规划|现状|基期|基准|年度|数值|责任|内容|项目"
)
_SKIP_COLUMN = re.compile(r"备注|说明|单位|责任|牵头|来源|属性|类型|性质|序号|编号|依托|名称|类别|分类")
_UNIT_COLUMN = re.compile(r"^(?:计量)?单位$")
_HEADER_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_PAREN_UNIT = re.compile(rf"[(（]\s*({_UNIT})\s*[)）]")
_TRAILING_PAREN_UNIT = re.compile(rf"[(（]\s*({_UNIT})\s*[)）]\s*$")
_CELL = re.compile(
    rf"^(?P<pre>{_PRE_WORDS})?\s*"
    rf"(?P<num>{_AR}|{_CN})(?:{_RANGE_SEP}(?P<num2>{_AR}|{_CN}))?\s*(?P<approx>多|余)?\s*"
    rf"(?P<unit>{_UNIT})?\s*(?P<post>{_POST_WORDS})?\s*"
    rf"(?:[(（]\s*(?P<y>(?:19|20)\d{{2}})\s*年?\s*[)）])?$"
)
# A column that holds values (2025年, 目标值, 预期) and words that state one (不低于…, 全覆盖).
_VALUE_HEADER = re.compile(r"(?:19|20)\d{2}|目标|指标值|预期|规划值|完成值|现状值|基期值|数值")
_WORDED_VALUE = re.compile(
    "|".join(w for w, _ in _PRE_CMP if len(w) > 1 and not w.isascii()) + f"|{_POST_WORDS}|{_QUAL.pattern}"
)
_SHORT_CELL = 40  # a longer cell is prose: its indicators are read as prose


def _is_header_cell(cell: str) -> bool:
    short = bool(cell) and len(cell) <= 16
    return short and bool(_HEADER_WORDS.search(cell) or _HEADER_YEAR.fullmatch(cell.rstrip("年")))


def _column_header(header: Sequence[str], cells: Sequence[str], j: int) -> str:
    # Merged or missing header cells: value columns are the last ones, so align on the right.
    k = j + len(header) - len(cells)
    return reading_form(header[k]) if 0 <= k < len(header) else ""


def row_targets(
    header: Sequence[str], cells: Sequence[str], *, year: int | None = None, role: Role = "target"
) -> tuple[Target, ...]:
    """Indicators of one indicator-table row.

    The metric is the row's label cell (not an index column like 1, 2, 3); each numeric-ish value
    cell gives one Target whose year comes from its column header (2025年, 2025年目标值, 2020年完成值,
    or a "(2019)" in the cell itself; `year` when the header has none), whose unit comes from the
    cell, the label's parentheses (家), （%）, (亿元), the header, or a 单位 column; comparator from
    the cell (>70, ≥, 以上 …); a short cell with no single number (提高幅度不低于…) gives value None
    with the text kept; a long cell is read as prose. Header rows themselves give nothing.
    """
    folded = [reading_form(c) for c in cells]
    if [reading_form(h) for h in header] == folded:
        return ()
    label_at = next(
        (j for j, c in enumerate(folded) if c and not INDEX_CELL.match(c) and not _CELL.match(c)), None
    )
    if label_at is None:
        return ()
    label = folded[label_at]
    values = [(j, c) for j, c in enumerate(folded) if j > label_at and not _EMPTY_CELL.match(c)]
    if _is_header_cell(label) and all(_is_header_cell(c) for _, c in values):
        return ()  # a header row (指标 | 2020年 | 2025年目标值)

    label_unit = m.group(1) if (m := _TRAILING_PAREN_UNIT.search(label)) else ""
    row_unit = next(
        (c for j, c in values if _UNIT_COLUMN.match(_column_header(header, cells, j))), ""
    )
    targets: list[Target] = []
    for j, cell in values:
        head = _column_header(header, cells, j)
        if _SKIP_COLUMN.search(head) and not _HEADER_YEAR.search(head):
            continue
        col_year = int(y.group(1)) if (y := _HEADER_YEAR.search(head)) else year
        head_unit = m.group(1) if (m := _PAREN_UNIT.search(head)) else ""
        fallback_unit = label_unit or head_unit or row_unit
        value_column = bool(_VALUE_HEADER.search(head))
        col_role: Role = "baseline" if role != "threshold" and _BASELINE_HEADER.search(head) else role
        target = _cell_target(label, cell, col_year, fallback_unit, value_column)
        if target is not None:
            targets.append(replace(target, role=col_role))
        elif len(cell) > _SHORT_CELL:
            targets.extend(extract_targets(cell, year=col_year, role=col_role))
    return tuple(_earlier_columns(targets))


_BASELINE_HEADER = re.compile(alternation(BASELINE_HEADERS))


def _earlier_columns(targets: list[Target]) -> list[Target]:
    """A planned value under an earlier year than the row's latest (2020年完成值 beside 2025年目标值)
    is the row's baseline."""
    latest = max((t.year for t in targets if t.year is not None), default=None)
    return [
        replace(t, role="baseline") if t.role == "target" and t.year is not None and latest and t.year < latest else t
        for t in targets
    ]


def _cell_target(
    label: str, cell: str, year: int | None, unit: str, value_column: bool
) -> Target | None:
    m = _CELL.match(cell)
    if m is None:
        if len(cell) > _SHORT_CELL:
            return None
        hits = list(_numeric_hits(cell, _quoted_spans(cell)))
        if not hits:  # 提高幅度不低于宁波平均水平
            if not (value_column or _WORDED_VALUE.search(cell)):
                return None  # a name or a remark in a table without year columns
            return Target(metric=label, value=None, text=cell, year=year)
        h = hits[0]  # "3.7（力争4）": the first figure is the value
        return Target(label, h.value, h.unit or unit, h.comparator or "=", year, cell, h.value_max)
    value = _number(m["num"])
    value_max = _number(m["num2"]) if m["num2"] else None
    if value is None or (m["num2"] and (value_max is None or value_max <= value)):
        return Target(metric=label, value=None, text=cell, year=year)
    cell_unit = m["unit"] or ""
    if cell_unit in ("万", "亿") and unit and not unit.startswith(("万", "亿")):
        cell_unit += unit  # 2.5万 in a (人) row
    comparator: Comparator = "="
    if m["post"]:
        comparator = _POST_CMP_MAP[m["post"]]
    elif m["approx"]:
        comparator = ">"
    elif m["pre"]:
        comparator = _PRE_CMP_MAP[m["pre"]]
    return Target(
        metric=label,
        value=value,
        unit=cell_unit or unit,
        comparator=comparator,
        year=int(m["y"]) if m["y"] else year,
        text=cell,
        value_max=value_max,
    )


# ---------------------------------------------------------------- matching across versions

# Scale words of a unit (亿元 is 1e8 元) and days of a period (三个月 is about 90 日): one table each.
_SCALES = {"万亿": 1e12, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2}
_DAYS = {"年": 365.0, "个月": 30.0, "月": 30.0, "周": 7.0, "日": 1.0, "天": 1.0, "工作日": 1.4, "个工作日": 1.4}
_SCALE = re.compile(f"^(?:{alternation(tuple(_SCALES))})")
_TIME_UNITS = frozenset({*_DAYS, "小时", "分钟"})


def dimension(unit: str) -> str:
    """What a unit measures, so that 8000亿元 and 1.35万亿元, or 三个月 and 九十日, compare."""
    base = _SCALE.sub("", unit) or unit
    return "time" if base in _TIME_UNITS else base


def magnitude(value: float, unit: str) -> float:
    """`value` in the base unit of its dimension (8000亿元 → 8e11 元, 三个月 → about 90 日), for
    telling a raised figure from a lowered one across units."""
    scale = _SCALE.match(unit)
    factor = _SCALES[scale.group(0)] if scale and unit != scale.group(0) else 1.0
    base = unit[scale.end() :] if scale and unit != scale.group(0) else unit
    return value * factor * _DAYS.get(base, 1.0)


_KEY_TRAIL = re.compile(r"(?:总数|数量|总量|数)$")
_KEY_UNIT = re.compile(rf"\((?:{_UNIT})\)")
_KEY_DROP = re.compile(r"[的\"'“”‘’\s]")
_KEY_SYNONYMS = METRIC_SYNONYMS
_FUZZY_CUTOFF = 60.0
_SAME_QUANTITY_CUTOFF = 40.0


def metric_key(metric: str) -> str:
    """A normalised key to match one metric across versions.

    Comparison form, parenthesised units removed, 的 and quotes dropped, 规模以上 read as 规上,
    leading verbs/particles (力争, 确保, 实现, 新增, 累计, 全区, 全市 …) and trailing 数/数量/总数
    removed.
    """
    key = comparison_form(metric)
    key = _KEY_DROP.sub("", _KEY_UNIT.sub("", key))
    for long, short in _KEY_SYNONYMS:
        key = key.replace(long, short)
    key = _YEAR.sub("", _LEAD_NOISE.sub("", key))
    key = _strip_lead(key, _LEAD_ANY)
    key = _KEY_TRAIL.sub("", key) if len(key) > 2 else key
    return key or comparison_form(metric)


def match_targets(
    old: Sequence[Target], new: Sequence[Target]
) -> list[tuple[Target | None, Target | None]]:
    """Pair the indicators of two aligned clauses (or rows).

    By metric_key equality first (same year preferred, then in order), then by metric similarity
    (rapidfuzz ratio ≥ 60, best first), then by order among what is left with the same unit;
    unpaired ones pair with None. Pairs come in document order (new side first).
    """
    old_keys = [metric_key(t.metric) for t in old]
    new_keys = [metric_key(t.metric) for t in new]
    pairs: dict[int, int] = {}  # old index → new index

    def free_new() -> list[int]:
        used = set(pairs.values())
        return [j for j in range(len(new)) if j not in used]

    def pair_where(same: Callable[[int, int], bool]) -> None:
        for i in range(len(old)):
            if i in pairs:
                continue
            for j in free_new():
                if old[i].role == new[j].role and same(i, j):  # a target never pairs with an outcome
                    pairs[i] = j
                    break

    pair_where(lambda i, j: old_keys[i] == new_keys[j] and old[i].year == new[j].year)
    pair_where(lambda i, j: old_keys[i] == new_keys[j])
    # the same quantity under a reworded metric is the same indicator (过半数 … 过半数)
    pair_where(lambda i, j: old[i].same_quantity(new[j]) and fuzz.ratio(old_keys[i], new_keys[j]) >= _SAME_QUANTITY_CUTOFF)
    scored = sorted(
        (
            (-fuzz.ratio(old_keys[i], new_keys[j]), i, j)
            for i in range(len(old))
            for j in range(len(new))
            if i not in pairs and j not in pairs.values() and old[i].role == new[j].role
        ),
    )
    for negative, i, j in scored:
        if -negative < _FUZZY_CUTOFF:
            break
        if i not in pairs and j not in pairs.values():
            pairs[i] = j
    pair_where(lambda i, j: dimension(old[i].unit) == dimension(new[j].unit))

    # document order: a pair stands where its new side stands, a dropped one after its predecessor
    result: list[tuple[float, Target | None, Target | None]] = []
    last = -1.0
    for i, t in enumerate(old):
        match = pairs.get(i)
        if match is None:
            result.append((last + 0.25, t, None))
        else:
            result.append((float(match), t, new[match]))
            last = float(match)
    result.extend((float(j), None, new[j]) for j in free_new())
    result.sort(key=lambda r: r[0])
    return [(o, n) for _, o, n in result]
