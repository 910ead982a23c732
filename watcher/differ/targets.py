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
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import NamedTuple

from watcher.differ.patterns import (
    AR,
    CN,
    DELIMS,
    LEAD_NOISE,
    POST_CMP_MAP,
    POST_CMP_RE,
    POST_WORDS,
    PRE_CMP,
    PRE_CMP_MAP,
    PRE_CMP_RE,
    PRE_WORDS,
    QTY,
    QUAL,
    RANGE_SEP,
    RANK_AFTER,
    STRONG_UNIT,
    UNIT,
    inside_spans,
    left_phrase,
    object_after,
    parse_number,
    quoted_spans,
    read_left,
    strip_trail,
    year_marks,
)
from watcher.model import Clause, Comparator, Role, Target
from watcher.normalise import reading_form
from watcher.numbering import INDEX_CELL
from watcher.vocabulary import (
    BASELINE_HEADERS,
    FUTURE_CUES,
    FUTURE_NOT_BEFORE,
    FUTURE_YEAR,
    INCREMENT_BASE,
    INCREMENT_VERBS,
    ROLE_CUES,
    alternation,
)

__all__ = ["clause_targets", "extract_targets", "row_targets", "role_cue"]

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
    den, numer = parse_number(m["den"]), parse_number(m["numer"])
    return numer / den if den and numer is not None and numer < den else None


def _fraction_hit(s: str, m: re.Match[str]) -> _Hit | None:
    value = _fraction(m)
    if value is None:
        return None
    a, b = m.span()
    post = POST_CMP_RE.match(s, b)
    pre = PRE_CMP_RE.search(s, max(0, a - 4), a)
    comparator: Comparator = ">" if m["half"] and m["half"] != "半数" else "="
    if post:
        comparator = POST_CMP_MAP[post.group("word")]
    elif pre:
        comparator = PRE_CMP_MAP[pre.group().strip()]
    return _Hit(pre.start() if pre else a, post.end() if post else b, a, value, None, "", comparator, False)


def _numeric_hits(s: str, excluded: list[tuple[int, int]]) -> Iterator[_Hit]:
    for m in QTY.finditer(s):
        a, b = m.span()
        if m["den"] or m["half"]:
            if not inside_spans(a, excluded) and (hit := _fraction_hit(s, m)) is not None:
                yield hit
            continue
        token = m["pct"] or m["num"]
        unit = "%" if m["pct"] else (m["unit"] or "")
        if m["unit0"] and m["unit0"] != unit and not unit.startswith(m["unit0"]):
            continue  # 3%-5家: not one range
        if inside_spans(a, excluded) or not _bounded(s, a, b):
            continue
        value = parse_number(token)
        if value is None:
            continue
        post = POST_CMP_RE.match(s, b)
        if not unit and post and post.group("word") in ("以上", "及以上") and (bound := QTY.match(s, post.end())):
            unit = bound["unit"] or ""  # 五千以上一万元以下: the lower bound is in the upper bound's unit
        value_max = parse_number(m["num2"]) if m["num2"] else None
        if m["num2"] and (value_max is None or value_max <= value):
            continue  # 2022-01: a date, not a range
        pre = PRE_CMP_RE.search(s, max(0, a - 4), a)
        comparator: Comparator | None = None
        if post:
            comparator = POST_CMP_MAP[post.group("word")]
        elif m["approx"]:
            comparator = ">"
        elif pre:
            comparator = PRE_CMP_MAP[pre.group().strip()]
        if s[a - 1 : a] == "前" and s[a - 2 : a] != "提前" and unit in ("名", "位", "年", ""):
            continue  # 前10名, 前三年: a rank or a span, not a quantity
        if not token[0].isdigit() and not m["pct"]:
            strong = bool(STRONG_UNIT.search(unit)) or (unit == "年" and comparator in (">=", "<=", ">", "<"))
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
    return not RANK_AFTER.match(s, b)


def _qual_hits(s: str, excluded: list[tuple[int, int]]) -> Iterator[_Hit]:
    for m in QUAL.finditer(s):
        if inside_spans(m.start(), excluded):
            continue
        # 实现…全覆盖: the words from 实现 belong to the value's text
        start = m.start()
        window = s[max(0, start - 20) : start]
        cut = max((window.rfind(d) for d in DELIMS), default=-1)
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
    marks, year_spans = year_marks(s)
    excluded = quoted_spans(s) + year_spans
    quals = list(_qual_hits(s, excluded))
    taken = [(h.start, h.end) for h in quals]
    hits = [h for h in _numeric_hits(s, excluded) if not inside_spans(h.value_start, taken)]
    hits = _ranges(s, sorted(hits + quals, key=lambda h: h.start))

    targets: list[Target] = []
    lo = 0
    for hit in hits:
        if hit.start < lo:
            continue  # inside the object of the previous indicator
        raw_left = left_phrase(s, lo, hit.start)
        if _INCREMENT.search(raw_left) and hit.unit not in _RATE_UNITS:
            lo = hit.end
            continue
        left = read_left(raw_left)
        prev = targets[-1] if targets else None
        metric, comparator = left.subject, hit.comparator
        lo = hit.end
        if left.compares and prev is not None:
            metric = prev.metric + metric
        elif not metric:
            obj, obj_end = object_after(s, hit.end) if not hit.qual else ("", hit.end)
            if obj:
                metric, lo = left.verb + obj, obj_end
            elif prev is not None:
                metric = prev.metric
                if left.bare and comparator is None:
                    comparator = prev.comparator
            else:
                metric = _earlier_object(s, left.verb, hit.start) or left.verb or _fallback_metric(s, hit)
        elif s.startswith("的", hit.end):  # 覆盖到全市70%以上的工业企业
            obj, lo = object_after(s, hit.end)
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
        obj, _ = object_after(s, at + len(verb))
        if obj:
            return verb + obj
        at = s.rfind(verb, 0, at)
    return ""


def _fallback_metric(s: str, hit: _Hit) -> str:
    """Never an empty metric: the clause's words before the value, else the value's own words."""
    before = strip_trail(LEAD_NOISE.sub("", s[: hit.start]).strip())
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
_PAREN_UNIT = re.compile(rf"[(（]\s*({UNIT})\s*[)）]")
_TRAILING_PAREN_UNIT = re.compile(rf"[(（]\s*({UNIT})\s*[)）]\s*$")
_CELL = re.compile(
    rf"^(?P<pre>{PRE_WORDS})?\s*"
    rf"(?P<num>{AR}|{CN})(?:{RANGE_SEP}(?P<num2>{AR}|{CN}))?\s*(?P<approx>多|余)?\s*"
    rf"(?P<unit>{UNIT})?\s*(?P<post>{POST_WORDS})?\s*"
    rf"(?:[(（]\s*(?P<y>(?:19|20)\d{{2}})\s*年?\s*[)）])?$"
)
# A column that holds values (2025年, 目标值, 预期) and words that state one (不低于…, 全覆盖).
_VALUE_HEADER = re.compile(r"(?:19|20)\d{2}|目标|指标值|预期|规划值|完成值|现状值|基期值|数值")
_WORDED_VALUE = re.compile(
    "|".join(w for w, _ in PRE_CMP if len(w) > 1 and not w.isascii()) + f"|{POST_WORDS}|{QUAL.pattern}"
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
        hits = list(_numeric_hits(cell, quoted_spans(cell)))
        if not hits:  # 提高幅度不低于宁波平均水平
            if not (value_column or _WORDED_VALUE.search(cell)):
                return None  # a name or a remark in a table without year columns
            return Target(metric=label, value=None, text=cell, year=year)
        h = hits[0]  # "3.7（力争4）": the first figure is the value
        return Target(label, h.value, h.unit or unit, h.comparator or "=", year, cell, h.value_max)
    value = parse_number(m["num"])
    value_max = parse_number(m["num2"]) if m["num2"] else None
    if value is None or (m["num2"] and (value_max is None or value_max <= value)):
        return Target(metric=label, value=None, text=cell, year=year)
    cell_unit = m["unit"] or ""
    if cell_unit in ("万", "亿") and unit and not unit.startswith(("万", "亿")):
        cell_unit += unit  # 2.5万 in a (人) row
    comparator: Comparator = "="
    if m["post"]:
        comparator = POST_CMP_MAP[m["post"]]
    elif m["approx"]:
        comparator = ">"
    elif m["pre"]:
        comparator = PRE_CMP_MAP[m["pre"]]
    return Target(
        metric=label,
        value=value,
        unit=cell_unit or unit,
        comparator=comparator,
        year=int(m["y"]) if m["y"] else year,
        text=cell,
        value_max=value_max,
    )
