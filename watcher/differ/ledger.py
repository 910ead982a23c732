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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from watcher.model import Target
from watcher.differ.targets import dimension, metric_key

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
