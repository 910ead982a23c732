"""Matching indicators across versions: what a unit measures and the size of a value in its base
unit (亿元 ≡ 万亿元, 个月 ≡ 日), the key a metric is matched by, and the pairing of the indicators of
two aligned clauses or rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rapidfuzz import fuzz

from watcher.differ.patterns import (
    LEAD_ANY,
    LEAD_NOISE,
    UNIT,
    YEAR,
    strip_lead,
)
from watcher.model import Target
from watcher.normalise import comparison_form
from watcher.vocabulary import (
    METRIC_SYNONYMS,
    alternation,
)

__all__ = ["dimension", "magnitude", "metric_key", "match_targets"]

# Scale words of a unit (亿元 is 1e8 元) and days of a period (三个月 is about 90 日): one table each.
_SCALES = {"万亿": 1e12, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2}
_DAYS = {
    "年": 365.0, "个月": 30.0, "月": 30.0, "周": 7.0, "日": 1.0, "天": 1.0, "工作日": 1.4, "个工作日": 1.4,
    "小时": 1 / 24, "分钟": 1 / 1440,
}
_SCALE = re.compile(f"^(?:{alternation(tuple(_SCALES))})")
_TIME_UNITS = frozenset(_DAYS)


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
_KEY_UNIT = re.compile(rf"\((?:{UNIT})\)")
_KEY_DROP = re.compile(r"[的\"'“”‘’\s]")
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
    for long, short in METRIC_SYNONYMS:
        key = key.replace(long, short)
    key = YEAR.sub("", LEAD_NOISE.sub("", key))
    key = strip_lead(key, LEAD_ANY)
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
