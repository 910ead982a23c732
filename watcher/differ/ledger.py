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
  quantity under a reworded metric, then the same dimension, then any unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from watcher.differ.align import Pair, align
from watcher.differ.matching import dimension, magnitude, metric_key
from watcher.differ.segment import Segmented, segment
from watcher.differ.targets import clause_targets
from watcher.model import Document, Indicator, Role, Target, TargetComparison, TargetStatus
from watcher.numbering import ARTICLE_RANK, marker

CLOSE_METRIC = 80.0  # rapidfuzz ratio of metric keys: one indicator whose name was reworded
LOOSE_METRIC = 50.0  # inside one provision, with the same quantity


@dataclass(frozen=True)
class Entry:
    """One indicator of a version, where it may be compared."""

    target: Target
    position: int  # clause index in its version, for nearness
    scope: int | None = None  # the provision (article) it belongs to, numbered alike on both sides


def _bucket(entry: Entry) -> tuple[object, ...] | None:
    """Entries can pair only inside one bucket: a role and a dimension, or for a regulation's
    thresholds one provision (any unit: a multiple may become an amount); None pairs with nothing."""
    t = entry.target
    if t.role == "threshold":
        return None if entry.scope is None else ("threshold", entry.scope)
    return (t.role, dimension(t.unit))


def pair_ledgers(old: Sequence[Entry], new: Sequence[Entry]) -> list[tuple[int, int]]:
    """Index pairs (old, new) of the entries that are one indicator; each entry at most once.

    Work is done bucket by bucket (role and dimension, or provision), exact metric keys through a
    dictionary and close ones through rapidfuzz's batch scorer, so that two ledgers of thousands of
    indicators pair in well under a second."""
    old_keys = [metric_key(e.target.metric) for e in old]
    new_keys = [metric_key(e.target.metric) for e in new]
    buckets: dict[tuple[object, ...], tuple[list[int], list[int]]] = {}
    for i, e in enumerate(old):
        if (b := _bucket(e)) is not None:
            buckets.setdefault(b, ([], []))[0].append(i)
    for j, e in enumerate(new):
        if (b := _bucket(e)) is not None and b in buckets:
            buckets[b][1].append(j)
    pairs: dict[int, int] = {}
    for bucket, (olds, news) in buckets.items():
        if news:
            _pair_bucket(old, new, old_keys, new_keys, olds, news, bucket[0] == "threshold", pairs)
    return sorted(pairs.items())


def _pair_bucket(
    old: Sequence[Entry],
    new: Sequence[Entry],
    old_keys: list[str],
    new_keys: list[str],
    olds: list[int],
    news: list[int],
    scoped: bool,
    pairs: dict[int, int],
) -> None:
    taken: set[int] = set()

    def same_dimension(i: int, j: int) -> bool:
        return dimension(old[i].target.unit) == dimension(new[j].target.unit)

    def accept(candidates: list[tuple[float, int, int, int]]) -> None:
        for _, _, i, j in sorted(candidates):
            if i not in pairs and j not in taken:
                pairs[i] = j
                taken.add(j)

    def near(score: float, i: int, j: int) -> tuple[float, int, int, int]:
        return (-score, abs(old[i].position - new[j].position), i, j)

    by_key: dict[str, list[int]] = {}
    for j in news:
        by_key.setdefault(new_keys[j], []).append(j)

    def exact(quantity: bool) -> None:
        accept(
            [
                near(100.0, i, j)
                for i in olds
                if i not in pairs
                for j in by_key.get(old_keys[i], ())
                if j not in taken
                and same_dimension(i, j)
                and (not quantity or old[i].target.same_quantity(new[j].target))
            ]
        )

    exact(quantity=True)
    exact(quantity=False)
    free = [j for j in news if j not in taken]
    choices = [new_keys[j] for j in free]
    close = []
    for i in olds:
        if i in pairs or not free:
            continue
        for _, score, k in process.extract(old_keys[i], choices, scorer=fuzz.ratio, score_cutoff=CLOSE_METRIC, limit=None):
            if same_dimension(i, free[k]):
                close.append(near(score, i, free[k]))
    accept(close)
    if not scoped:
        return
    # inside one provision (few entries): the same quantity under a reworded metric, then any
    # threshold of the same dimension, then — last — a multiple or a fixed amount that became an
    # amount of another kind (处所需费用3倍的罚款 → 处5万元以上20万元以下的罚款)
    rest_old = [i for i in olds if i not in pairs]
    rest = [(i, j, fuzz.ratio(old_keys[i], new_keys[j])) for i in rest_old for j in news if j not in taken]
    accept([
        near(s, i, j) for i, j, s in rest
        if s >= LOOSE_METRIC and same_dimension(i, j) and old[i].target.same_quantity(new[j].target)
    ])
    accept([near(s, i, j) for i, j, s in rest if same_dimension(i, j)])
    accept([near(s, i, j) for i, j, s in rest])


# ---------------------------------------------------------------- provisions


def _articles(segmented: Segmented) -> list[int | None]:
    """The provision (article) each clause belongs to, if any."""
    return [
        next((u for u in reversed(c.items) if segmented.items[u].rank == ARTICLE_RANK), None)
        for c in segmented.clauses
    ]


def _number(segmented: Segmented, item: int | None) -> str:
    """The numbering of an article (第十五条), as its heading path element opens with it."""
    found = marker(segmented.items[item].title) if item is not None else None
    return found[1].strip() if found else ""


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
    # an article rewritten throughout has no aligned clause to vote: the unclaimed article of the
    # same number is its counterpart
    by_number = {_number(new, b): b for b in {b for b in new_articles if b is not None} - claimed}
    for a in {a for a in old_articles if a is not None} - set(counterpart):
        b = by_number.pop(_number(old, a), None)
        if b is not None:
            counterpart[a] = b
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


# ---------------------------------------------------------------- a source's ledgers over time

LedgerRow = tuple[Indicator | None, ...]


def ledger_history(ledgers: Sequence[Sequence[Indicator]]) -> list[LedgerRow]:
    """One row per indicator across successive versions' stored ledgers: its entry in each version
    (None where it is absent), each ledger paired with the one before as `pair_ledgers` does.

    A stored ledger keeps no clause alignment, so an entry's place in its ledger stands for its
    clause, and a threshold is scoped by its heading path rather than by its article. Rows come in
    the order their indicators first appeared."""
    scopes: dict[tuple[str, ...], int] = {}

    def entries(ledger: Sequence[Indicator]) -> list[Entry]:
        return [Entry(i.target, k, scopes.setdefault(tuple(i.path), len(scopes))) for k, i in enumerate(ledger)]

    rows: list[list[Indicator | None]] = []
    row_of: dict[int, int] = {}  # an entry of the previous ledger → its row
    previous: list[Entry] = []
    for v, ledger in enumerate(ledgers):
        current = entries(ledger)
        pairs = dict((j, i) for i, j in pair_ledgers(previous, current))
        now: dict[int, int] = {}
        for j, indicator in enumerate(ledger):
            i = pairs.get(j)
            if i is None:
                rows.append([None] * len(ledgers))
                now[j] = len(rows) - 1
            else:
                now[j] = row_of[i]
            rows[now[j]][v] = indicator
        row_of, previous = now, current
    return [tuple(row) for row in rows]
