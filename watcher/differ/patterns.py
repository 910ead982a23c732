"""How quantities are written in Chinese plans and regulations: numbers (Arabic and Chinese), measure
words, comparator words before and after a figure, years and periods, the words that open or close a
metric; and the small parsers that read them. Shared by the prose and table readers
(`watcher.differ.targets`) and by the matching of indicators across versions
(`watcher.differ.matching`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from watcher.model import Comparator
from watcher.numbering import HEADING_NUMBER, SUBMEASURE
from watcher.vocabulary import (
    LEAD_PERIODS,
    alternation,
)

CN_NUM = "零〇一二两三四五六七八九十百千万亿"
AR = r"\d{1,3}(?:,\d{3})+(?![\d])(?:\.\d+)?|\d+(?:\.\d+)?"
CN = rf"[{CN_NUM}]+(?:点[零〇一二三四五六七八九]+)?"

# Measure words; longest first. "人" is not a unit in 人才/人员…, "家" not in 家电/家居….
BASE_UNITS = (
    "个百分点|百分点|个工作日|平方公里|平方千米|平方米|立方米|千瓦时|千瓦|兆瓦|公里|公顷|美元|"
    "人次|人年|人(?![才员口民群工士])|家(?![电具居庭纺乡族])|个月|个(?!人)|项|件|名|位|户|所|座|条|台|套|"
    "次|期|场|倍|亩|吨|篇|部|款|种|支|辆|张|天|小时|分钟|元|米|工作日|周岁|岁|周(?!年)|日(?![报常])|年(?![度底末初均代级])"
)
# Measure words with which a small Chinese numeral is a quantity even without a comparator
# (三个月, 五万元, 两倍, 九十日), where 三年, 两个, 一批 are words.
STRONG_UNIT = re.compile(r"(?:个月|工作日|日|天|小时|分钟|周|元|倍)(?:/|$)")
LATIN_UNITS = r"kWh|MWh|GWh|kW|MW|GW|km|kg"
UNIT = (
    rf"(?:万亿|千万|百万|万|亿)?(?:{BASE_UNITS})(?:/(?:人|年|户|亩|平方米))?"
    rf"|万亿|万|亿|%|‰|{LATIN_UNITS}"
)

# Comparator words before a number (matched at the end of the words before it), longest first.
PRE_CMP: tuple[tuple[str, Comparator], ...] = (
    ("大于等于", ">="), ("小于等于", "<="), ("不少于", ">="), ("不低于", ">="), ("不小于", ">="),
    ("不超过", "<="), ("不高于", "<="), ("不多于", "<="), ("不大于", "<="), ("控制在", "<="),
    ("至少", ">="), ("最少", ">="), ("达到", ">="), ("超过", ">"), ("超出", ">"), ("突破", ">"),
    ("多于", ">"), ("高于", ">"), ("大于", ">"), ("至多", "<="), ("最多", "<="), ("低于", "<"),
    ("少于", "<"), ("小于", "<"), ("大约", "~"), ("接近", "~"), ("将近", "~"), ("约为", "~"),
    (">=", ">="), ("<=", "<="), ("≥", ">="), ("≤", "<="), ("达", ">="), ("超", ">"), ("逾", ">"),
    ("约", "~"), ("近", "~"), (">", ">"), ("<", "<"), ("为", "="),
)
PRE_CMP_MAP = dict(PRE_CMP)
PRE_WORDS = "|".join(re.escape(w) for w, _ in PRE_CMP)
PRE_CMP_RE = re.compile(rf"(?:{PRE_WORDS})\s*$")
# After the number and unit.
POST_CMP_MAP: dict[str, Comparator] = {
    "及以上": ">=", "或以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<=",
    "之内": "<=", "内": "<=", "左右": "~", "上下": "~",
}
POST_WORDS = "|".join(sorted(POST_CMP_MAP, key=len, reverse=True))
# 以上 may follow a bracketed qualifier of the unit: 200台（套）以上
POST_CMP_RE = re.compile(f"(?:[(（][^()（）]{{1,4}}[)）])?(?P<word>{POST_WORDS})")

RANGE_SEP = r"\s*(?:-|~|—|–|至|到)\s*"
QTY = re.compile(
    rf"(?:百分之(?P<pct>{CN})"
    rf"|(?P<den>{CN}|\d+)分之(?P<numer>{CN}|\d+)"
    rf"|(?P<half>过半数|超过半数|半数)"
    rf"|(?P<num>{AR}|{CN})(?:\s*(?P<unit0>%|万|亿)?{RANGE_SEP}(?P<num2>{AR}|{CN}))?"
    rf"\s*(?P<approx>多|余)?\s*(?P<unit>{UNIT})?)"
)

# Values without a single number; not when they name a programme (倍增行动, “倍增计划”).
QUAL = re.compile(
    r"(?:翻[一两三四]?番|翻倍|(?<!双)倍增|全覆盖|基本覆盖)(?!行动|计划|工程|专项|提质|试点|工作|机制)"
)

YEAR_NUM = r"(?P<y>(?<!\d)(?:19|20)\d{2}(?!\d)|[〇零一二三四五六七八九]{4})"
YEAR = re.compile(
    rf"(?P<pre>到|至|截至|截止到|截止|在|同|较|比|与|由|从|相比|对比)?\s*{YEAR_NUM}\s*年"
    r"(?:底|末|度|初)?(?:前|以前|之前)?(?P<post>相比|比较|同期|水平)?"
)
PERIOD_END = re.compile(rf"\s*(?:至|到|-|—|~)\s*{YEAR_NUM}")
COMPARE_PRE = frozenset({"同", "较", "比", "与", "由", "从", "相比", "对比"})
CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}

DELIMS = frozenset("，,、；;：:。！？!?\t")
_OPEN, _CLOSE = "(（[【", ")）]】"
QUOTES = {"“": "”", "《": "》", "「": "」", "『": "』", "‘": "’"}
MAX_QUOTED_NAME = 30  # a longer quotation is prose, not a name

# Words stripped from the front of a metric: modal particles, then action verbs. A verb is only
# stripped when two characters or more remain (孵化器 stays 孵化器).
MODALS = (
    "力争|确保|争取|努力|预计|计划|力求|有望|基本|初步|进一步|全面|持续|稳步|加快|大力|积极|着力|"
    "共计|总共|一共|已经|能够|同时|其中|此外|另外|现有|目前|当前|并且|以及|或者|"
    "今年|去年|明年|全年|年末|年内|当年|本年|上年|拟|处以|并处|可处|处|"
    "应当经|应当由|应当有|应当|必须|可以|须经"
)
VERBS = (
    "新引进|引进培育|联合举办|建设|建成|新建|创建|组建|共建|培育|培养|打造|引进|引育|招引|集聚|聚集|"
    "孵化|形成|设立|布局|争创|创成|认定|开展|实施|完成|申报|承担|遴选|促成|取得|举办|开设|获评|"
    "获得|拥有|建立|带动|推动|吸引|服务|发展|入选|入库|备案|联合|新增|累计|实现|获|发行|安排|罚|给予"
)
# Qualifiers kept in a metric (they change what is counted) but dropped by metric_key.
QUALIFIERS = "新增|累计|新|全国|全区|全市|全县|全省|全镇|全乡|我区|我市|我县|我省|本区|本市|本县"
CONNECTORS = "和|及|与|并|且|或|、|等"
# an adverb before a verb (先发行, 再新增): stripped with the modals, never before a noun (先进, 再生)
ADVERBS = rf"(?:先|再|还|又|也|将)(?={VERBS})"
LEAD_WORDS = rf"{MODALS}|{ADVERBS}"  # what may open a metric and is no part of it
LEAD_MODAL = re.compile(rf"^(?:{LEAD_WORDS})")
LEAD_VERB = re.compile(rf"^(?:{VERBS})")
LEAD_QUAL = re.compile(rf"^(?:{QUALIFIERS})")
LEAD_ANY = re.compile(rf"^(?:{LEAD_WORDS}|{VERBS}|{QUALIFIERS}|{CONNECTORS})")
LEAD_CONNECTOR = re.compile(rf"^(?:{CONNECTORS})")
TRAIL_CONNECTOR = re.compile(r"(?<=[\u4e00-\u9fff])(?:或者|以及)$")  # a second alternative begins
CONNECTORS_ONLY = re.compile(rf"(?:{CONNECTORS})+")
# What stands before a metric and is not part of it: a list number, a dash, a plan period.
LEAD_NOISE = re.compile(
    rf"^(?:——|[-—]+|{HEADING_NUMBER.pattern[1:]}|{SUBMEASURE}|[“\"]?十[一二三四五六七八九]五[”\"]?"
    rf"(?:期间|时期|末|初|以来)?|{alternation(LEAD_PERIODS)})\s*"
)
TRAIL_FILLER = re.compile(
    r"(?:分别为|分别达到|分别达|分别|仅为|仅占|均为|平均|均|都|为|是|已|将|共计|合计|总计|的|力争|确保|"
    r"争取|实现|基本|初步|由|从|仅|要|等|和|及|、|安排|拟|按|控制在|保持在|稳定在|维持在|在)$"
)
# A phrase that compares with what was said before it: its metric continues the previous one.
COMPARISON_LEAD = re.compile(r"^(?:同比|较|相比|高于|低于|占)")
COMPARISON_WORD = re.compile(r"^(?:相比|比较)")  # left after its year: 同2017年相比
# "提升至3.62%": a change of the previous metric, with no subject of its own.
CHANGE_VERB = re.compile(r"(?:同比|比上年|年均)?(?:增长|下降|提高|降低|增加|减少|上涨|上升)")
CHANGE_ONLY = re.compile(r"^(?:提升|提高|增长|增加|上升|下降|降低|减少|扩大|缩小)?(?:至|到|为)$")
# where the object of a figure ends: the next figure, a connector, a mark, or a predicate (…的增速可以实现…)
OBJECT_STOP = re.compile(r"[\d%()（）]|和|及|以及|并|且|或|等|分之|半数|可以|能够|需要|应当|将|要|实现|[，,、；;：:。！？!?\t]")
NOT_OBJECT = re.compile(r"^(?:提升|提高|增长|增加|下降|降低|减少|达到|达|为|是|占|比|较|至|到)")
RANK_AFTER = re.compile(r"位次|名次|排名")  # used with match(s, pos): no "^"


# ---------------------------------------------------------------- small parsers


def parse_number(token: str) -> float | None:
    """An Arabic or Chinese numeral as a float; None when it is not one (千, 十四五)."""
    token = token.replace(",", "")
    if token[0].isdigit():
        return float(token)
    import cn2an  # here: it takes a fifth of a second to import, and most clauses never need it

    try:
        return float(cn2an.cn2an(token, "normal"))
    except (ValueError, KeyError, IndexError):
        return None


def year_value(token: str) -> int:
    return int("".join(CN_DIGIT.get(c, c) for c in token))


class Mark(NamedTuple):
    end: int
    year: int


def year_marks(s: str) -> tuple[list[Mark], list[tuple[int, int]]]:
    """Year markers (where they end, which year) and the spans of every year expression."""
    marks: list[Mark] = []
    spans: list[tuple[int, int]] = []
    for m in YEAR.finditer(s):
        spans.append(m.span())
        after = s[m.end() : m.end() + 6]
        if m["pre"] in COMPARE_PRE or m["post"] or after.startswith(("相比", "比较", "同期")):
            continue  # a year of comparison, not the year of the figure
        if PERIOD_END.match(after):
            continue  # 2021年至2025年: the end of the period is the year
        marks.append(Mark(m.end(), year_value(m["y"])))
    return marks, spans


def quoted_spans(s: str) -> list[tuple[int, int]]:
    """Short quotations and titles: names (“123”产业集群, 《…2035年…》), never indicators."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(s):
        close = QUOTES.get(s[i])
        if close is None and s[i] == '"':
            close = '"'
        if close is not None:
            j = s.find(close, i + 1)
            if j != -1:
                if j - i <= MAX_QUOTED_NAME:
                    spans.append((i, j + 1))
                i = j
        i += 1
    return spans


def inside_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def left_phrase(s: str, lo: int, start: int) -> str:
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
        elif not depth and c in DELIMS:
            break
        i -= 1
    return s[i:start]


def strip_lead(text: str, pattern: re.Pattern[str], keep: int = 2) -> str:
    while (m := pattern.match(text)) and len(text) - m.end() >= keep:
        text = text[m.end() :]
    return text


def strip_trail(text: str) -> str:
    while (m := TRAIL_FILLER.search(text)) and m.start() > 0:
        text = text[: m.start()]
    return text


def object_after(s: str, pos: int) -> tuple[str, int]:
    """The noun phrase after a number in "verb + number + object" (培育1-2个新兴产业), and its end."""
    start = pos + (len(s[pos:]) - len(s[pos:].lstrip()))
    if s.startswith("的", start):
        start += 1
    m = OBJECT_STOP.search(s, start)
    end = m.start() if m else len(s)
    obj = s[start:end].strip()
    return ("", pos) if not obj or NOT_OBJECT.match(obj) else (obj, end)


class Left(NamedTuple):
    """What the words between the previous indicator (or delimiter) and a number say."""

    subject: str  # the metric named before the number, "" when none
    verb: str  # a verb phrase with no object (培育…): the object follows the number
    compares: bool  # a comparison (较2017年增长, 高于全市): continues the previous metric
    bare: bool  # connectors only (200家、400家): the previous metric and comparator go on


def read_left(left: str) -> Left:
    text = LEAD_NOISE.sub("", left.strip())
    # years go; a year of comparison (同2017年相比, 较2017年) marks a comparison
    text = YEAR.sub(lambda m: "\0" if m["pre"] in COMPARE_PRE else "", text)
    compares = text.startswith("\0") or bool(COMPARISON_LEAD.match(text))
    text = COMPARISON_WORD.sub("", text.replace("\0", ""))
    text = LEAD_NOISE.sub("", text).lstrip("的").strip()
    if text.endswith("等") or TRAIL_CONNECTOR.search(text):
        # A、B等3家单位; 具有本科以上学历或者10年以上工作经历: the object after the number is the metric
        return Left("", "", compares, False)
    text = strip_trail(text)
    if not text or CONNECTORS_ONLY.fullmatch(text):
        return Left("", "", compares, True)
    if CHANGE_ONLY.match(text):
        return Left("", "", True, False)
    if CHANGE_VERB.fullmatch(text):  # 国内生产总值达到74.4万亿元，增长6.7%: the growth of the same
        return Left(text, "", True, False)
    modal_free = strip_lead(text, LEAD_MODAL)
    if not strip_lead(modal_free, LEAD_ANY, keep=0):  # verbs only: 力争培育 | 1-2个新兴产业
        return Left("", strip_lead(modal_free, LEAD_CONNECTOR, keep=0), compares, False)
    if LEAD_QUAL.match(modal_free):  # 新增各类人才, 累计创建双创平台: kept as said
        return Left(modal_free, "", compares, False)
    return Left(strip_lead(modal_free, LEAD_VERB), "", compares, False)
