"""The target ledger of a version, and the pairing of two ledgers.

Every quantified indicator of a version is one entry: its Target (metric, value, unit, year, role)
and the scope it may be compared in. Two ledgers are paired over the whole document by metric
identity and role, with clause alignment as a hint rather than a gate: an indicator whose sentence
was rewritten, moved, split or printed in a new paragraph still finds its counterpart.

- Roles never mix: a planned target is never paired with a reported outcome or a baseline.
- A regulation's thresholds (fines, periods, quorums) are paired only inside one provision (an
  article and its counterpart), since the same 罚款 or 日内 stands in many articles.
- Passes, each best first (metric similarity, then nearness in the document): same metric and
  same quantity; same metric; a close metric of the same dimension; inside one provision, the same
  quantity, then the same dimension in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from watcher.differ.align import Pair, align
from watcher.differ.segment import Segmented, segment
from watcher.differ.targets import clause_targets, dimension, magnitude, metric_key
from watcher.model import Document, Indicator, Role, Target, TargetComparison, TargetStatus
from watcher.numbering import ARTICLE_RANK

CLOSE_METRIC = 80.0  # rapidfuzz ratio of metric keys: one indicator whose name was reworded
LOOSE_METRIC = 50.0  # inside one provision, with the same quantity



@dataclass(frozen=True)
class Entry:
    """One indicator of a version, where it may be compared."""

    target: Target
    position: int  # clause index in its version, for nearness
    scope: int | None = None  # the provision (article) it belongs to, numbered alike on both sides


def _same_quantity(a: Target, b: Target) -> bool:
    return a.same_quantity(b)


def pair_ledgers(old: Sequence[Entry], new: Sequence[Entry]) -> list[tuple[int, int]]:
    """Index pairs (old, new) of the entries that are one indicator; each entry at most once."""
    old_keys = [metric_key(e.target.metric) for e in old]
    new_keys = [metric_key(e.target.metric) for e in new]
    pairs: dict[int, int] = {}
    taken: set[int] = set()

    def allowed(i: int, j: int, any_unit: bool) -> bool:
        a, b = old[i].target, new[j].target
        if a.role != b.role or (not any_unit and dimension(a.unit) != dimension(b.unit)):
            return False
        if a.role == "threshold":
            return old[i].scope is not None and old[i].scope == new[j].scope
        return True

    def run(score: Callable[[int, int], float | None], any_unit: bool = False) -> None:
        candidates = []
        for i in range(len(old)):
            if i in pairs:
                continue
            for j in range(len(new)):
                if j in taken or not allowed(i, j, any_unit):
                    continue
                s = score(i, j)
                if s is not None:
                    candidates.append((-s, abs(old[i].position - new[j].position), i, j))
        for _, _, i, j in sorted(candidates):
            if i not in pairs and j not in taken:
                pairs[i] = j
                taken.add(j)

    def similarity(i: int, j: int) -> float:
        return fuzz.ratio(old_keys[i], new_keys[j])

    def scoped(i: int, j: int) -> bool:
        return old[i].scope is not None and old[i].scope == new[j].scope

    run(lambda i, j: 100.0 if old_keys[i] == new_keys[j] and _same_quantity(old[i].target, new[j].target) else None)
    run(lambda i, j: 100.0 if old_keys[i] == new_keys[j] else None)
    run(lambda i, j: s if (s := similarity(i, j)) >= CLOSE_METRIC else None)
    run(
        lambda i, j: s
        if scoped(i, j) and _same_quantity(old[i].target, new[j].target) and (s := similarity(i, j)) >= LOOSE_METRIC
        else None
    )
    run(lambda i, j: similarity(i, j) if scoped(i, j) and old[i].target.role == "threshold" else None)
    # last, inside one provision: a multiple or a fixed amount that became an amount of another kind
    # (处所需费用3倍的罚款 → 处5万元以上20万元以下的罚款)
    run(lambda i, j: similarity(i, j) if scoped(i, j) and old[i].target.role == "threshold" else None, any_unit=True)
    return sorted(pairs.items())


# ---------------------------------------------------------------- provisions


def _articles(segmented: Segmented) -> list[int | None]:
    """The provision (article) each clause belongs to, if any."""
    return [
        next((u for u in reversed(c.units) if segmented.units[u].level == ARTICLE_RANK), None)
        for c in segmented.clauses
    ]


def provision_scopes(
    old: Segmented, new: Segmented, pairs: Sequence[Pair]
) -> tuple[list[int | None], list[int | None]]:
    """Provision scopes numbered alike on both sides, for each clause: an old article and the new
    article most of its aligned clauses went to (renumbered or not)."""
    old_articles, new_articles = _articles(old), _articles(new)
    votes: Counter[tuple[int, int]] = Counter()
    for pair in pairs:
        for i in pair.old:
            for j in pair.new:
                a, b = old_articles[i], new_articles[j]
                if a is not None and b is not None:
                    votes[(a, b)] += 1
    counterpart: dict[int, int] = {}
    claimed: set[int] = set()
    for (a, b), _ in votes.most_common():
        if a not in counterpart and b not in claimed:
            counterpart[a] = b
            claimed.add(b)
    back = {b: a for a, b in counterpart.items()}
    return old_articles, [back.get(b) if b is not None else None for b in new_articles]


# ---------------------------------------------------------------- a version's ledger, and two compared


def indicators(document: Document) -> tuple[Indicator, ...]:
    """The target ledger of a version: every indicator, in document order, with its role."""
    return tuple(indicator for _, indicator in _ledger(segment(document)))


def _ledger(segmented: Segmented) -> list[tuple[int, Indicator]]:
    return [
        (clause.index, Indicator(target, clause.path, clause.text))
        for clause in segmented.clauses
        for target in clause_targets(clause)
    ]


PLANNED: tuple[Role, ...] = ("target", "threshold")  # what an edition commits to


def compare_editions(old: Document, new: Document, roles: Sequence[Role] = PLANNED) -> tuple[TargetComparison, ...]:
    """Each indicator of the given roles in either edition, with its counterpart and how it fared:
    kept, raised, lowered, changed (unit, comparator or year), new or dropped; in the new edition's
    order, a dropped one after the indicator it followed. For successive editions (this year's work
    report against last year's) as for versions of one text."""
    old_seg, new_seg = segment(old), segment(new)
    old_scope, new_scope = provision_scopes(old_seg, new_seg, align(old_seg.clauses, new_seg.clauses))
    olds = [(k, i) for k, i in _ledger(old_seg) if i.target.role in roles]
    news = [(k, i) for k, i in _ledger(new_seg) if i.target.role in roles]
    pairs = dict(
        pair_ledgers(
            [Entry(i.target, k, old_scope[k]) for k, i in olds],
            [Entry(i.target, k, new_scope[k]) for k, i in news],
        )
    )
    matched = {j: i for i, j in pairs.items()}
    placed: list[tuple[float, TargetComparison]] = []
    for j, (_, after) in enumerate(news):
        i = matched.get(j)
        before = olds[i][1] if i is not None else None
        status = _status(before.target, after.target) if before is not None else "new"
        placed.append((float(j), TargetComparison(after.target.metric, status, before, after)))
    last = -1.0
    for i, (_, before) in enumerate(olds):
        if i in pairs:
            last = float(pairs[i])
        else:
            placed.append((last + 0.5, TargetComparison(before.target.metric, "dropped", before, None)))
    return tuple(c for _, c in sorted(placed, key=lambda p: p[0]))


def _status(before: Target, after: Target) -> TargetStatus:
    """kept; raised or lowered when only the value moved (8000亿元 → 1.35万亿元 is raised); else
    changed (a comparator, a year, a range, a unit of another kind)."""
    if before.same_quantity(after):
        return "kept"
    same_terms = (before.comparator, before.year, before.value_max is None) == (
        after.comparator,
        after.year,
        after.value_max is None,
    )
    if same_terms and before.value_max is None and before.value is not None and after.value is not None:
        if dimension(before.unit) == dimension(after.unit):
            old, new = magnitude(before.value, before.unit), magnitude(after.value, after.unit)
            if old != new:
                return "raised" if new > old else "lowered"
    return "changed"
