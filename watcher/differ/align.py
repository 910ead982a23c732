"""Old clauses ↔ new clauses.

1. A sequence diff (diff-match-patch's C++ port over one symbol per clause key) pairs identical clauses in
   order; keys carry no numbering, so renumbered items pair as equal.
2. Between two runs of equal clauses, the leftovers (a gap) are paired: first split or merged
   clauses whose concatenated keys are equal, then rewordings by similarity (rapidfuzz), best first.
3. What is still unpaired is paired across gaps: clauses that moved to another place.
4. A pair is `moved` when it is not on the longest in-order chain of pairs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import fast_diff_match_patch
from rapidfuzz import fuzz

from watcher.model import Clause
from watcher.normalise import loose_form

# Similarity (0–100, rapidfuzz ratio on comparison forms) above which two clauses are one reworded
# clause. Inside a gap the neighbours vouch for the pair; across gaps (a move) more is asked.
GAP_THRESHOLD = 60.0
MOVE_THRESHOLD = 80.0
FRAGMENT_THRESHOLD = 90.0  # how much of a split-off half (or a shortened clause) must stand in the other
CONTAINED_SHARE = 0.35  # a shortened clause keeps at least this share of its length
_MIN_CONTAINED = 6  # characters a shortened clause must still have
COHERENCE_BONUS = 10.0  # similarity points for staying in the paragraph a neighbouring clause went to
ROW_WEIGHT = 0.25  # a table row counts this much against a sentence when deciding what moved
_SHORT = 12  # keys this short need to be nearly equal to pair by similarity
_MAX_CELLS = 250_000  # comparisons above which only exact moves are looked for
MOVED_SHARE, MOVED_CONTAINED, MOVED_SHORTEST = 0.6, 95.0, 20  # the same across the document
PARAGRAPH_THRESHOLD = 45.0  # similarity of what is left of two paragraphs in one gap to pair them
ITEM_THRESHOLD = 70.0  # how much of an item must stand in the other when both open with its number


@dataclass(frozen=True)
class Pair:
    """One aligned unit: usually one old and one new clause; several on a side for a split/merge."""

    old: tuple[int, ...]
    new: tuple[int, ...]
    score: float = 100.0
    moved: bool = False

    @property
    def added(self) -> bool:
        return not self.old

    @property
    def removed(self) -> bool:
        return not self.new


def _symbols(old: Sequence[str], new: Sequence[str]) -> tuple[str, str]:
    """Each distinct key becomes one character, so a character diff is a clause diff."""
    table: dict[str, str] = {}

    def encode(keys: Sequence[str]) -> str:
        return "".join(table.setdefault(key, chr(0x100 + len(table))) for key in keys)

    return encode(old), encode(new)


def _sequence_diff(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int, int, int]]:
    """Runs of equal keys as (old start, new start, length, 0) plus the gaps between them.

    The C++ port of diff-match-patch: the same Myers bisection as the Python one, with no time
    limit and no cleanup (so the same runs), without the pure-Python bisect that grew with the
    number of edits times the number of clauses."""
    a, b = _symbols(old, new)
    runs: list[tuple[int, int, int, int]] = []
    i = j = 0
    for op, length in fast_diff_match_patch.diff(a, b, timelimit=0, checklines=False, cleanup="No"):
        if op == "=":
            runs.append((i, j, length, 0))
            i += length
            j += length
        elif op == "-":
            i += length
        else:
            j += length
    return runs


def _threshold(a: str, b: str, base: float) -> float:
    return max(base, 90.0) if min(len(a), len(b)) < _SHORT else base


def _grow(
    a_ids: list[int], b_ids: list[int], akeys: Sequence[str], bkeys: Sequence[str], i: int, j: int
) -> tuple[int, int] | None:
    """From a[i] and b[j], extend the shorter side until both concatenations are equal but for
    punctuation, if they ever are. Loose forms are taken of the concatenations, so a decimal
    point split by a line break ("84." + "7亿元") still counts."""
    a, b = akeys[a_ids[i]], bkeys[b_ids[j]]
    ii, jj = i + 1, j + 1
    la, lb = loose_form(a), loose_form(b)
    while la != lb and (la.startswith(lb) or lb.startswith(la)):
        if len(la) < len(lb) and ii < len(a_ids):
            a += akeys[a_ids[ii]]
            ii += 1
        elif len(lb) < len(la) and jj < len(b_ids):
            b += bkeys[b_ids[jj]]
            jj += 1
        else:
            break
        la, lb = loose_form(a), loose_form(b)
    return (ii, jj) if la == lb and la else None


def _split_merge(old_ids: list[int], new_ids: list[int], okeys: Sequence[str], nkeys: Sequence[str]) -> list[Pair]:
    """Pair runs of clauses whose concatenations are equal (a sentence split, merged or re-wrapped)."""
    oloose = {i: loose_form(okeys[i]) for i in old_ids}
    nloose = {j: loose_form(nkeys[j]) for j in new_ids}
    pairs: list[Pair] = []
    i = j = 0
    while i < len(old_ids) and j < len(new_ids):
        found = None
        # the nearest start on either side where one clause begins the other
        for di in range(len(old_ids) - i):
            for dj in range(len(new_ids) - j):
                a, b = oloose[old_ids[i + di]], nloose[new_ids[j + dj]]
                if a and b and okeys[old_ids[i + di]] != nkeys[new_ids[j + dj]] and (a.startswith(b) or b.startswith(a)):
                    grown = _grow(old_ids, new_ids, okeys, nkeys, i + di, j + dj)
                    if grown:
                        found = (i + di, j + dj, *grown)
                        break
            if found:
                break
        if not found:
            break
        si, sj, ei, ej = found
        pairs.append(Pair(tuple(old_ids[si:ei]), tuple(new_ids[sj:ej])))
        i, j = ei, ej
    return pairs


class _Paragraphs:
    """Which new paragraph each old clause's neighbours went to, as pairs are made: a clause whose
    neighbour in its paragraph went to a paragraph is likelier to have gone there too."""

    def __init__(self, old: Sequence[Clause], new: Sequence[Clause], partner: dict[int, int]) -> None:
        self.old, self.new, self.partner = old, new, partner

    def coherent(self, oi: int, nj: int) -> bool:
        block = self.old[oi].block
        return any(
            k in self.partner and self.old[k].block == block and self.new[self.partner[k]].block == self.new[nj].block
            for k in (oi - 1, oi + 1)
            if 0 <= k < len(self.old)
        )

    def link(self, pairs: Sequence[Pair]) -> None:
        for pair in pairs:
            for i in pair.old:
                self.partner[i] = pair.new[0]


def _best_first(
    old_ids: list[int],
    new_ids: list[int],
    okeys: Sequence[str],
    nkeys: Sequence[str],
    base: float,
    paragraphs: _Paragraphs | None = None,
) -> list[Pair]:
    """Pair by similarity, best first, each clause at most once. Nearly equal clauses go first;
    among the rest, one in the paragraph that the old clause's neighbour went to is preferred."""
    if not old_ids or not new_ids or len(old_ids) * len(new_ids) > _MAX_CELLS:
        return []
    candidates = []
    for r, oi in enumerate(old_ids):
        for c, nj in enumerate(new_ids):
            score = fuzz.ratio(okeys[oi], nkeys[nj], score_cutoff=base)
            if score:
                candidates.append((score, r, c))
    candidates.sort(key=lambda item: (-item[0], abs(item[1] - item[2])))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs: list[Pair] = []

    def accept(ordered: list[tuple[float, int, int]]) -> None:
        for score, r, c in ordered:
            if r in used_old or c in used_new:
                continue
            oi, nj = old_ids[r], new_ids[c]
            if score < _threshold(okeys[oi], nkeys[nj], base):
                continue
            used_old.add(r)
            used_new.add(c)
            pairs.append(Pair((oi,), (nj,), score))

    close = [item for item in candidates if item[0] >= FRAGMENT_THRESHOLD]
    accept(close)
    if paragraphs is not None:
        paragraphs.link(pairs)
        bonus = {
            (r, c): COHERENCE_BONUS
            for score, r, c in candidates
            if r not in used_old and c not in used_new and paragraphs.coherent(old_ids[r], new_ids[c])
        }
        candidates.sort(key=lambda item: (-(item[0] + bonus.get((item[1], item[2]), 0.0)), abs(item[1] - item[2])))
    accept(candidates)
    return pairs


def _pair_gap(
    old_ids: list[int],
    new_ids: list[int],
    okeys: Sequence[str],
    nkeys: Sequence[str],
    paragraphs: _Paragraphs | None = None,
) -> list[Pair]:
    pairs = _split_merge(old_ids, new_ids, okeys, nkeys)
    if paragraphs is not None:
        paragraphs.link(pairs)
    done_old = {i for p in pairs for i in p.old}
    done_new = {j for p in pairs for j in p.new}
    rest_old = [i for i in old_ids if i not in done_old]
    rest_new = [j for j in new_ids if j not in done_new]
    pairs += _best_first(rest_old, rest_new, okeys, nkeys, GAP_THRESHOLD, paragraphs)
    pairs += _contained(_unpaired(rest_old, pairs, True), _unpaired(rest_new, pairs, False), okeys, nkeys)
    return _absorb_fragments(pairs, old_ids, new_ids, okeys, nkeys)


def _unpaired(ids: list[int], pairs: list[Pair], old_side: bool) -> list[int]:
    taken = {k for p in pairs for k in (p.old if old_side else p.new)}
    return [k for k in ids if k not in taken]


def _contained(
    old_ids: list[int],
    new_ids: list[int],
    okeys: Sequence[str],
    nkeys: Sequence[str],
    share: float = CONTAINED_SHARE,
    threshold: float = FRAGMENT_THRESHOLD,
    shortest: int = _MIN_CONTAINED,
) -> list[Pair]:
    """A clause cut short (part of a list dropped) or lengthened: the shorter one stands almost
    whole in the longer, though their plain similarity is low. Inside a gap, where the neighbours
    already agree; across the document (a provision merged into another) with stricter bounds."""
    if len(old_ids) * len(new_ids) > _MAX_CELLS:
        return []
    candidates = []
    new_lengths = [(j, len(nkeys[j])) for j in new_ids]
    for i in old_ids:
        a = okeys[i]
        la = len(a)
        for j, lb in new_lengths:
            low, high = (la, lb) if la <= lb else (lb, la)
            if low < shortest or low < share * high:
                continue  # most pairs end here, before any string work
            b = nkeys[j]
            short, long_ = (a, b) if la <= lb else (b, a)
            score = fuzz.partial_ratio(short, long_, score_cutoff=threshold)
            if score:
                candidates.append((score, fuzz.ratio(a, b), i, j))
    candidates.sort(reverse=True)
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for _, ratio, i, j in candidates:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append(Pair((i,), (j,), ratio))
    return pairs


def _absorb_fragments(
    pairs: list[Pair], old_ids: list[int], new_ids: list[int], okeys: Sequence[str], nkeys: Sequence[str]
) -> list[Pair]:
    """A sentence split in two and reworded pairs one half by similarity; the other half, next to it
    and contained in the counterpart, belongs to the same pair (and likewise for a merge)."""
    done_old = {i for p in pairs for i in p.old}
    done_new = {j for p in pairs for j in p.new}
    result = list(pairs)
    for side_ids, done, own_keys, other_keys, new_side in (
        (new_ids, done_new, nkeys, okeys, True),
        (old_ids, done_old, okeys, nkeys, False),
    ):
        for k in side_ids:
            if k in done or len(own_keys[k]) < _SHORT:
                continue
            for n, pair in enumerate(result):
                own, other = (pair.new, pair.old) if new_side else (pair.old, pair.new)
                if not own or not other or (k + 1 not in own and k - 1 not in own):
                    continue
                counterpart = "".join(other_keys[x] for x in other)
                mine = "".join(own_keys[x] for x in own)
                if len(counterpart) > len(mine) and fuzz.partial_ratio(own_keys[k], counterpart) >= FRAGMENT_THRESHOLD:
                    grown = tuple(sorted((*own, k)))
                    result[n] = Pair(pair.old, grown, pair.score) if new_side else Pair(grown, pair.new, pair.score)
                    done.add(k)
                    break
    return result


def _paragraphs(ids: list[int], clauses: Sequence[Clause]) -> list[tuple[int, ...]]:
    """The clauses left in a gap, grouped by the paragraph they come from (rows stay alone)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k in ids:
        clause = clauses[k]
        groups.setdefault((clause.block, k if clause.kind == "row" else -1), []).append(k)
    return [tuple(g) for g in groups.values()]


def _pair_paragraphs(old_ids: list[int], new_ids: list[int], old: Sequence[Clause], new: Sequence[Clause]) -> list[Pair]:
    """What is left of two paragraphs in one gap, rewritten beyond clause similarity (a provision
    whose wording changed throughout, an item cut short), pairs as one when the paragraphs are alike
    as a whole, or open with the same item number and one stands almost whole in the other."""
    olds, news = _paragraphs(old_ids, old), _paragraphs(new_ids, new)
    if not olds or not news or len(olds) * len(news) > _MAX_CELLS:
        return []
    old_items = [_item(old[g[0]]) for g in olds]  # read once: the comparison form is not free
    new_items = [_item(new[g[0]]) for g in news]
    candidates = []
    for r, group_o in enumerate(olds):
        a = "".join(old[k].key for k in group_o)
        for c, group_n in enumerate(news):
            b = "".join(new[k].key for k in group_n)
            score = fuzz.ratio(a, b)
            first_o, first_n = old[group_o[0]], new[group_n[0]]
            same_item = first_o.numbering is not None and old_items[r] == new_items[c]
            # an item and a plain paragraph are alike only as clauses are (the gap pairing had them)
            alike = (
                score >= PARAGRAPH_THRESHOLD
                and min(len(a), len(b)) >= _SHORT
                and (first_o.numbering is None) == (first_n.numbering is None)
            )
            if alike or (same_item and max(score, fuzz.partial_ratio(a, b)) >= ITEM_THRESHOLD):
                candidates.append((score, r, c))
    candidates.sort(key=lambda item: (-item[0], abs(item[1] - item[2])))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for score, r, c in candidates:
        if r not in used_old and c not in used_new:
            used_old.add(r)
            used_new.add(c)
            pairs.append(Pair(olds[r], news[c], score))
    return pairs


def _item(clause: Clause) -> str:
    """An item's number as compared: width folded (（二） and (二) are one); numbers have no script."""
    return loose_form(unicodedata.normalize("NFKC", clause.numbering or ""))


def _pair_moves(old_ids: list[int], new_ids: list[int], okeys: Sequence[str], nkeys: Sequence[str]) -> list[Pair]:
    """Pair what is left across the whole document: exact keys first, then close rewordings."""
    by_key: dict[str, list[int]] = {}
    for j in new_ids:
        by_key.setdefault(nkeys[j], []).append(j)
    pairs: list[Pair] = []
    rest_old: list[int] = []
    for i in old_ids:
        bucket = by_key.get(okeys[i])
        if bucket:
            pairs.append(Pair((i,), (bucket.pop(0),)))
        else:
            rest_old.append(i)
    taken = {j for p in pairs for j in p.new}
    rest_new = [j for j in new_ids if j not in taken]
    pairs += _best_first(rest_old, rest_new, okeys, nkeys, MOVE_THRESHOLD)
    # a clause carried into another provision and cut or lengthened there (an article merged into
    # another as one of its items): nearly whole in its counterpart
    pairs += _contained(
        _unpaired(rest_old, pairs, True), _unpaired(rest_new, pairs, False), okeys, nkeys,
        share=MOVED_SHARE, threshold=MOVED_CONTAINED, shortest=MOVED_SHORTEST,
    )
    return pairs


def _mark_moves(pairs: list[Pair], weight: Callable[[Pair], float]) -> list[Pair]:
    """A pair is moved when it is off the heaviest chain of pairs that keeps document order.

    Weighted, so that what a layout floats (a table) is the thing that moved, not the text
    it floated past: a paragraph outweighs the rows of a small table."""
    matched = sorted((p for p in pairs if p.old and p.new), key=lambda p: p.old[0])
    size = max((p.new[0] for p in matched), default=0) + 2
    # Fenwick tree over new positions holding (best chain weight, its last pair) for prefix maxima.
    tree: list[tuple[float, int]] = [(0.0, -1)] * size
    best = [0.0] * len(matched)
    prev = [-1] * len(matched)
    for k, pair in enumerate(matched):
        position = pair.new[0] + 1
        found, i = (0.0, -1), position - 1
        while i > 0:
            found = max(found, tree[i])
            i -= i & -i
        best[k], prev[k] = found[0] + weight(pair), found[1]
        i = position
        while i < size:
            tree[i] = max(tree[i], (best[k], k))
            i += i & -i
    in_order: set[int] = set()
    k = max(range(len(matched)), key=best.__getitem__) if matched else -1
    while k >= 0:
        in_order.add(k)
        k = prev[k]
    result = [p for p in pairs if not (p.old and p.new)]
    for k, pair in enumerate(matched):
        result.append(pair if k in in_order else Pair(pair.old, pair.new, pair.score, moved=True))
    return result


def align(old: Sequence[Clause], new: Sequence[Clause]) -> list[Pair]:
    """Every old and every new clause appears in exactly one Pair; sorted in new-document order."""
    okeys = [c.key for c in old]
    nkeys = [c.key for c in new]
    pairs: list[Pair] = []
    leftover_old: list[int] = []
    leftover_new: list[int] = []
    i = j = 0
    runs = _sequence_diff(okeys, nkeys)
    paragraphs = _Paragraphs(old, new, {oi + d: nj + d for oi, nj, length, _ in runs for d in range(length)})
    for oi, nj, length, _ in runs + [(len(okeys), len(nkeys), 0, 0)]:
        gap = _pair_gap(list(range(i, oi)), list(range(j, nj)), okeys, nkeys, paragraphs)
        gap += _pair_paragraphs(_unpaired(list(range(i, oi)), gap, True), _unpaired(list(range(j, nj)), gap, False), old, new)
        pairs.extend(gap)
        gap_old = {k for p in gap for k in p.old}
        gap_new = {k for p in gap for k in p.new}
        leftover_old.extend(k for k in range(i, oi) if k not in gap_old)
        leftover_new.extend(k for k in range(j, nj) if k not in gap_new)
        pairs.extend(Pair((oi + d,), (nj + d,)) for d in range(length))
        i, j = oi + length, nj + length
    moves = _pair_moves(leftover_old, leftover_new, okeys, nkeys)
    pairs.extend(moves)
    paired_old = {k for p in moves for k in p.old}
    paired_new = {k for p in moves for k in p.new}
    pairs.extend(Pair((k,), ()) for k in leftover_old if k not in paired_old)
    pairs.extend(Pair((), (k,)) for k in leftover_new if k not in paired_new)
    pairs = _mark_moves(pairs, lambda p: ROW_WEIGHT if all(old[i].kind == "row" for i in p.old) else 1.0)
    anchor = _removal_anchors(pairs, len(okeys))
    return sorted(pairs, key=lambda p: (p.new[0], 0) if p.new else (anchor[p.old[0]], 1))


def _removal_anchors(pairs: list[Pair], old_count: int) -> list[float]:
    """Where each old clause sits in new-document order: just after its nearest kept predecessor."""
    kept = {p.old[-1]: p.new[-1] for p in pairs if p.old and p.new and not p.moved}
    anchors: list[float] = []
    last = -1
    for k in range(old_count):
        if k in kept:
            last = kept[k]
        anchors.append(last + 0.5)
    return anchors
