"""Aligned clause pairs → changes of the contract's kinds, with inline diffs.

Paired clauses:
- equal comparison forms (or equal but for punctuation) → formatting; renumbering is formatting;
- indicators that differ (value, unit, comparator, year — also a year inherited from an earlier
  到2026年 or from a column header) → one target_changed per indicator;
- other rewordings → clause_modified; a clause off the document order → clause_moved.
Clauses with no counterpart, reported once per unit:
- a whole numbered item or sub-measure → one measure_added / measure_removed;
- a whole paragraph, or a lone clause → a measure when it is numbered, names a programme (…工程。)
  or holds an action that is not just a quantified aim (figures); else its indicators (target_added /
  target_removed; a table row is one indicator); else clause_added / clause_removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from watcher.differ.align import Pair
from watcher.differ.ledger import Entry, pair_ledgers, provision_scopes
from watcher.differ.matching import match_targets
from watcher.differ.redline import inline_diff
from watcher.differ.segment import Segmented, strip_marker
from watcher.differ.targets import clause_targets
from watcher.kinds import TARGET_KINDS, ChangeKind
from watcher.model import Change, Clause, InlineOp, Item, Target, TargetChange
from watcher.normalise import comparison_forms, loose_form, reading_forms
from watcher.numbering import ARTICLE_RANK
from watcher.vocabulary import (
    DOCUMENT_NUMBER,
    OBLIGATION_WORDS,
    PRINCIPLE_WORDS,
    RECORD_LINE,
    SANCTION_WORDS,
    alternation,
)

# Verbs and adverbs that open an action (a measure) in plan prose.
_ACTION = re.compile(
    r"^(?:[^，,；;：:]{0,12}[，,])?"  # an optional leading adverbial (到2025年，/ 围绕…，)
    r"(?:[^，,；;：:。]{0,8}?(?:要|应|将|须|必须|需))?"  # an optional subject with a modal (各部门要…)
    r"(?:(?:每年|定期|及时|积极|大力|全力|着力|加快|持续|深入|全面|进一步|重点|切实|有序|稳步|扎实|主动|统筹|"
    r"不断|继续|逐步|率先|广泛|协同|联合|分类|逐年|按期|优先)\s*){0,3}"
    r"(?:加强|加快|推进|推动|实施|支持|鼓励|建立|建设|完善|深化|培育|打造|强化|开展|组织|引导|落实|探索|构建|"
    r"健全|提升|优化|促进|发挥|设立|制定|实行|推广|引进|创建|布局|谋划|聚焦|围绕|依托|争取|力争|确保|做好|做强|"
    r"发展|培养|扩大|加大|提高|严格|规范|创新|举办|启动|新建|筹建|组建|成立|召开|开设|搭建|"
    r"推行|编制|出台|修订|设置|配备|选派|遴选|认定|奖励|补助|资助|扶持|保障|提供|整合|"
    r"对接|共建|承办|参与|融入|拓展|打通|畅通|壮大|做大|做优|做精|筑牢|守牢|压实|夯实|释放|激发|营造)"
)
# A paragraph opened by the name of a programme (…工程。…行动。) is a measure, numbered or not.
_PROGRAMME = re.compile(r"^[^，,。；;]{2,24}(?:工程|行动|计划|专项|项目|活动|试点|示范)[。．.：:]?$")
# A provision: an obligation, power, prohibition or sanction; a principle only (…应当坚持…领导…。).
_OBLIGATION = re.compile(alternation(OBLIGATION_WORDS))
_PRINCIPLE_ONLY = re.compile(rf"^[^。；;]*?(?:应当)?(?:{alternation(PRINCIPLE_WORDS)})[^。；;]*[。；;]?$")
_SANCTION = re.compile(alternation(SANCTION_WORDS))


# ---------------------------------------------------------------- helpers on clauses


def _text(clauses: Sequence[Clause]) -> str:
    """Clauses of one paragraph run on; paragraphs, headings and rows go on lines of their own."""
    parts: list[str] = []
    for k, clause in enumerate(clauses):
        if k and (clause.block != clauses[k - 1].block or clause.kind != "sentence"):
            parts.append("\n")
        parts.append(clause.text)
    return "".join(parts)


class _Sides:
    """The two segmented versions, and the indicators of their clauses, read once each: the
    clauses whose indicators may be asked for (all but those of unchanged pairs) are put in their
    reading form in one batch."""

    def __init__(self, old: Segmented, new: Segmented, pairs: Sequence[Pair]) -> None:
        self.old, self.new = old, new
        wanted = [
            clause
            for pair in pairs
            if not _unchanged(pair, old, new)
            for clause in (*(old.clauses[i] for i in pair.old), *(new.clauses[j] for j in pair.new))
            if clause.kind == "sentence"
        ]
        self._readings = dict(zip((c.text for c in wanted), reading_forms([c.text for c in wanted]), strict=True))
        self._targets: dict[tuple[bool, int], tuple[Target, ...]] = {}  # (new side?, clause index)

    def olds(self, pair: Pair) -> list[Clause]:
        return [self.old.clauses[i] for i in pair.old]

    def news(self, pair: Pair) -> list[Clause]:
        return [self.new.clauses[j] for j in pair.new]

    def targets(self, clause: Clause) -> tuple[Target, ...]:
        new_side = clause.index < len(self.new.clauses) and self.new.clauses[clause.index] is clause
        key = (new_side, clause.index)
        found = self._targets.get(key)
        if found is None:
            found = self._targets[key] = clause_targets(clause, self._readings.get(clause.text))
        return found


def _unchanged(pair: Pair, old: Segmented, new: Segmented) -> bool:
    """The same clause, in the same place, under the same header and deadline."""
    if len(pair.old) != 1 or len(pair.new) != 1 or pair.moved:
        return False
    a, b = old.clauses[pair.old[0]], new.clauses[pair.new[0]]
    return a.text == b.text and a.year == b.year and a.header == b.header


# ---------------------------------------------------------------- reports of one aligned unit


@dataclass(frozen=True)
class _Leftover:
    """An indicator of one side that its own clause pair did not account for: a ledger entry that
    the whole-document pairing may still give a counterpart."""

    target: Target
    added: bool  # on the new side
    clause: Clause
    path: tuple[str, ...]
    old: str | None  # the texts a target_added/removed about it shows
    new: str | None
    inline: tuple[InlineOp, ...] = ()
    old_path: tuple[str, ...] | None = None
    absorbed: bool = False  # already part of a reported measure or text: no change of its own


@dataclass(frozen=True)
class _Report:
    """What one aligned pair or one unpaired unit reports: changes of its own, indicators left for
    the ledger, and what it says instead when none of them comes to a change."""

    changes: tuple[Change, ...] = ()
    leftovers: tuple[_Leftover, ...] = ()
    fallback: tuple[Change, ...] = ()


# ---------------------------------------------------------------- paired clauses


def _paired(pair: Pair, sides: _Sides) -> _Report:
    if _unchanged(pair, sides.old, sides.new):
        return _Report()
    olds, news = sides.olds(pair), sides.news(pair)
    old_text, new_text = _text(olds), _text(news)
    path, old_path = news[0].path, olds[0].path
    old_key = "".join(c.key for c in olds)
    new_key = "".join(c.key for c in news)
    moved_from = old_path if pair.moved else None
    inherited_year = None not in (olds[0].year, news[0].year) and olds[0].year != news[0].year
    if _header_changed(olds, news) or inherited_year:
        # The same words under a new column header (2025年 → 2026年), or after a deadline stated
        # earlier in the paragraph that moved (到2026年 → 到2027年): the indicators changed year.
        changed, left_old, left_new = _target_changes(olds, news, sides)
        if changed or left_old or left_new:
            found = changed + [("target_removed", TargetChange(t.metric, t, None)) for t, _ in left_old]
            found += [("target_added", TargetChange(t.metric, None, t)) for t, _ in left_new]
            return _Report(_target_change_list(found, olds, news, old_text, new_text, moved_from))
    if old_key == new_key or loose_form(old_key) == loose_form(new_key) or all(map(_is_metadata, (*olds, *news))):
        if pair.moved and not all(c.kind == "row" for c in (*olds, *news)):
            return _Report((Change("clause_moved", path, old_text, new_text, old_path=old_path),))
        if old_text == new_text and not pair.moved:
            return _Report()
        # width, script, wrapping — or table rows floated by the page or PDF layout. No inline
        # diff: a redline of every width or script change is noise, and costly.
        return _Report((Change("formatting", path, old_text, new_text, old_path=moved_from),))
    changed, left_old, left_new = _target_changes(olds, news, sides)
    inline = inline_diff(old_text, new_text)
    items = tuple(
        _Leftover(t, False, c, olds[0].path, old_text, new_text, inline, moved_from) for t, c in left_old
    ) + tuple(_Leftover(t, True, c, path, old_text, new_text, inline, moved_from) for t, c in left_new)
    return _Report(
        _target_change_list(changed, olds, news, old_text, new_text, moved_from, inline),
        items,
        (Change("clause_modified", path, old_text, new_text, inline=inline, old_path=moved_from),),
    )


def _target_change_list(
    found: list[tuple[ChangeKind, TargetChange]],
    olds: Sequence[Clause],
    news: Sequence[Clause],
    old_text: str,
    new_text: str,
    moved_from: tuple[str, ...] | None,
    inline: tuple[InlineOp, ...] | None = None,
) -> tuple[Change, ...]:
    """One change per indicator of a paired clause; a removal sits at the path it had."""
    if not found:
        return ()
    if inline is None:
        inline = inline_diff(old_text, new_text)
    return tuple(
        Change(kind, olds[0].path if kind == "target_removed" else news[0].path, old_text, new_text, change, inline, moved_from)
        for kind, change in found
    )


def _header_changed(olds: Sequence[Clause], news: Sequence[Clause]) -> bool:
    if not (olds[0].kind == news[0].kind == "row" and olds[0].header and news[0].header):
        return False
    return comparison_forms(list(olds[0].header)) != comparison_forms(list(news[0].header))


def headline_target(targets: Sequence[Target]) -> Target:
    """The indicator a table row stands for: its latest year's value (the target column)."""
    return max(enumerate(targets), key=lambda item: (item[1].year or 0, item[0]))[1]


def _ends(target: Target) -> tuple[Target, Target]:
    """The two ends of a range as indicators of their own (1万元以上3万元以下: 1万元 and 3万元)."""
    low = replace(target, value_max=None, comparator=">=")
    return low, replace(target, value=target.value_max, value_max=None, comparator="<=")


def _changed_ends(before: Target, after: Target) -> list[tuple[Target, Target]]:
    """One pair per indicator that changed: each bound of a range stated by its bounds that moved is
    one (1万元以上3万元以下: two limits); a fixed amount that became a range, the other way round,
    or a range like 1-2家, is one."""
    if before.same_quantity(after):
        return []
    bounds = before.comparator == after.comparator == ">="
    same_scale = (before.unit, before.year) == (after.unit, after.year)
    if not bounds or before.value_max is None or after.value_max is None or not same_scale:
        return [(before, after)]
    pairs = [(o, n) for o, n in zip(_ends(before), _ends(after), strict=True) if o.value != n.value]
    return pairs or [(before, after)]


def _changed(before: Target, after: Target) -> list[tuple[ChangeKind, TargetChange]]:
    return [
        ("target_changed", TargetChange(after.metric or before.metric, o, n)) for o, n in _changed_ends(before, after)
    ]


_Left = list[tuple[Target, Clause]]


def _target_changes(
    olds: Sequence[Clause], news: Sequence[Clause], sides: _Sides
) -> tuple[list[tuple[ChangeKind, TargetChange]], _Left, _Left]:
    """The indicators of two aligned clauses: those that changed, and those left without a
    counterpart on each side (for the ledger)."""
    old_targets = [(t, c) for c in olds for t in sides.targets(c)]
    new_targets = [(t, c) for c in news for t in sides.targets(c)]
    old_clause = {id(t): c for t, c in old_targets}
    new_clause = {id(t): c for t, c in new_targets}
    found: list[tuple[ChangeKind, TargetChange]] = []
    left_old: _Left = []
    left_new: _Left = []
    for before, after in match_targets([t for t, _ in old_targets], [t for t, _ in new_targets]):
        if before is not None and after is not None:
            found.extend(_changed(before, after))
        elif after is not None:
            left_new.append((after, new_clause[id(after)]))
        elif before is not None:
            left_old.append((before, old_clause[id(before)]))
    return found, left_old, left_new


# ---------------------------------------------------------------- unpaired clauses


def _whole_items(unpaired: set[int], segmented: Segmented, members: dict[int, list[int]]) -> dict[int, int]:
    """Map each unpaired clause to the outermost numbered item all of whose clauses are unpaired."""
    whole = {
        item
        for item, indices in members.items()
        if segmented.items[item].numbered and all(i in unpaired for i in indices)
    }
    owner: dict[int, int] = {}
    for index in unpaired:
        for item in segmented.clauses[index].items:
            if item in whole:
                owner[index] = item
                break
    return owner


def _item_members(segmented: Segmented) -> dict[int, list[int]]:
    """The clauses of each item, leaving out boxes and tables nested in it: a box printed after an
    item is often about the item before, so it does not decide whether an item is new."""
    members: dict[int, list[int]] = {}
    boxes = {u for u, item in segmented.items.items() if not item.numbered}
    for clause in segmented.clauses:
        items = clause.items
        # the items from the innermost box or table inwards (that box included)
        start = 0
        if boxes:
            for depth in range(len(items) - 1, -1, -1):
                if items[depth] in boxes:
                    start = depth
                    break
        for item in items[start:]:
            members.setdefault(item, []).append(clause.index)
    return members


def _is_action(clause: Clause, items: dict[int, Item]) -> bool:
    inside_numbered = any(items[u].numbered for u in clause.items)
    return clause.kind == "sentence" and inside_numbered and bool(_ACTION.match(clause.text))


def _whole_paragraphs(unpaired: set[int], segmented: Segmented, owned: set[int]) -> dict[int, list[int]]:
    """Map the first clause of each paragraph that is new (or gone) as a whole to its clauses."""
    blocks: dict[int, list[int]] = {}
    for clause in segmented.clauses:
        if clause.kind == "sentence":
            blocks.setdefault(clause.block, []).append(clause.index)
    return {
        members[0]: members
        for members in blocks.values()
        if all(i in unpaired and i not in owned for i in members)
    }


def _one_side(kind_added: ChangeKind, kind_removed: ChangeKind, added: bool) -> ChangeKind:
    return kind_added if added else kind_removed


def _one_sided(kind: ChangeKind, path: tuple[str, ...], text: str, added: bool) -> Change:
    """A change with text on one side only: the new side when `added`."""
    return Change(kind, path, new=text) if added else Change(kind, path, old=text)


def _absorbed(
    members: Sequence[Clause], added: bool, path: tuple[str, ...], text: str, sides: _Sides
) -> tuple[_Leftover, ...]:
    """The indicators of clauses already reported as a measure or as text: part of that change,
    paired elsewhere only when they are not thresholds (a regulation's new provision brings its
    own amounts)."""
    side = {"new": text} if added else {"old": text}
    return tuple(
        _Leftover(t, added, c, path, side.get("old"), side.get("new"), absorbed=True)
        for c in members
        if c.role != "threshold"
        for t in sides.targets(c)
    )


def _is_metadata(clause: Clause) -> bool:
    """A line about the document (its history, its number), not of it."""
    return clause.kind != "row" and bool(RECORD_LINE.match(clause.key) or DOCUMENT_NUMBER.match(clause.key))


def _title_blocks(indices: list[int], segmented: Segmented, titles: Sequence[str]) -> set[int]:
    """Runs of consecutive clauses that together print a title again (a title block set on three
    lines: 最高人民法院 / 关于审理…案件 / 适用法律…的解释)."""
    forms = {loose_form(t) for t in titles if t}
    forms.discard("")
    found: set[int] = set()
    if not forms:
        return found
    runs: list[list[int]] = []
    for k in indices:
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    for run in runs:
        for a in range(len(run)):
            text = ""
            for b in range(a, min(len(run), a + 6)):
                text += loose_form(segmented.clauses[run[b]].key)
                if text in forms:
                    found.update(run[a : b + 1])
                    break
    return found


def _unpaired(
    indices: Iterable[int], segmented: Segmented, added: bool, sides: _Sides, titles: Sequence[str] = ()
) -> list[tuple[int, _Report]]:
    """Reports for the clauses of one side that have no counterpart, with their position:
    a whole numbered item is one measure, a whole paragraph one report, a lone clause its own.
    `titles` are the comparison forms of the two versions' titles."""
    indices = sorted(indices)
    if not indices:
        return []
    title_blocks = _title_blocks(indices, segmented, titles)
    unpaired = set(indices)
    item_members = _item_members(segmented)
    owner = _whole_items(unpaired, segmented, item_members)
    paragraphs = _whole_paragraphs(unpaired, segmented, set(owner))
    in_paragraph = {i for members in paragraphs.values() for i in members[1:]}
    reports: list[tuple[int, _Report]] = []
    reported_items: set[int] = set()
    measure = _one_side("measure_added", "measure_removed", added)
    for index in indices:
        clause = segmented.clauses[index]
        loose = loose_form(clause.key)
        if not loose or index in title_blocks or _is_metadata(clause):
            # numbering left alone on a line by wrapping, the title printed again (in one edition,
            # kept as metadata in the other), or a line of the document's history
            reports.append((index, _Report((_one_sided("formatting", clause.path, clause.text, added),))))
            continue
        item = owner.get(index)
        if item is not None:
            if item not in reported_items:
                reported_items.add(item)
                members = [segmented.clauses[i] for i in item_members[item]]
                text = _text(members)
                # items and path elements are pushed together, so the item's depth cuts the path
                item_path = clause.path[: clause.items.index(item) + 1]
                kind = measure
                if segmented.items[item].rank == ARTICLE_RANK and _principle_only(members, sides):
                    kind = _one_side("clause_added", "clause_removed", added)  # a principle, not a provision
                change = _one_sided(kind, item_path, text, added)
                reports.append((index, _Report((change,), _absorbed(members, added, item_path, text, sides))))
            continue
        if index in in_paragraph:
            continue
        if index in paragraphs:
            members = [segmented.clauses[i] for i in paragraphs[index]]
            reports.append((index, _lone(members, segmented, added, sides, whole=True)))
        else:
            reports.append((index, _lone([clause], segmented, added, sides, whole=False)))
    return reports


def _states_provision(members: Sequence[Clause], sides: _Sides) -> bool:
    """A paragraph that states an obligation, a power, a prohibition or a sanction, and not only a
    principle (坚持…领导)."""
    return bool(_OBLIGATION.search("".join(c.text for c in members))) and not _principle_only(members, sides)


def _principle_only(members: Sequence[Clause], sides: _Sides) -> bool:
    """One sentence that only states a principle (…应当坚持…的领导): no sanction, no figure."""
    text = strip_marker(_text(members))
    return (
        bool(_PRINCIPLE_ONLY.match(text))
        and not _SANCTION.search(text)
        and not any(sides.targets(c) for c in members)
    )


def _lone(members: list[Clause], segmented: Segmented, added: bool, sides: _Sides, whole: bool) -> _Report:
    """One paragraph or one clause with no counterpart: a measure when it is numbered, holds an
    action that is not just a quantified aim, or is a whole paragraph that states a provision;
    otherwise its indicators when it states some; otherwise descriptive text."""
    first = members[0]
    text = _text(members)
    measure = _one_sided(_one_side("measure_added", "measure_removed", added), first.path, text, added)
    text_change = _one_sided(_one_side("clause_added", "clause_removed", added), first.path, text, added)
    if whole and first.kind == "sentence" and _principle_only(members, sides):
        return _Report((text_change,), _absorbed(members, added, first.path, text, sides))  # a principle
    targets_of = {c.index: sides.targets(c) for c in members}
    # an action whose only aim is qualitative (…实现全覆盖) is a measure; one with figures is an aim
    quantified = {i for i, targets in targets_of.items() if any(t.value is not None for t in targets)}
    if (
        (first.measure and first.kind != "heading")  # a heading alone is renamed or new text; a whole new unit is one measure
        or (len(members) > 1 and _PROGRAMME.match(first.text))
        or any(_is_action(c, segmented.items) and c.index not in quantified for c in members)
        or (whole and first.kind == "sentence" and _states_provision(members, sides))
    ):
        return _Report((measure,), _absorbed(members, added, first.path, text, sides))
    pairs = [(t, c) for c in members for t in targets_of[c.index]]
    if pairs and first.kind == "row":
        pairs = [(headline_target([t for t, _ in pairs]), first)]  # a new row is one new indicator
    if pairs and first.kind != "heading":
        side_text = {"new": text} if added else {"old": text}
        items = tuple(_Leftover(t, added, c, first.path, side_text.get("old"), side_text.get("new")) for t, c in pairs)
        fallback = (measure,) if any(_is_action(c, segmented.items) for c in members) else (text_change,)
        return _Report((), items, fallback)
    if any(_is_action(c, segmented.items) for c in members):
        return _Report((measure,), _absorbed(members, added, first.path, text, sides))
    return _Report((text_change,), _absorbed(members, added, first.path, text, sides))


# ---------------------------------------------------------------- the ledger across the document


def _ledger_changes(
    old_items: list[tuple[float, _Leftover]], new_items: list[tuple[float, _Leftover]], old_scope: list[int | None],
    new_scope: list[int | None],
) -> tuple[list[tuple[float, Change]], set[int]]:
    """Pair the indicators left over on both sides over the whole document; the changes they come
    to, at their place, and which items (by id) yielded one. (A regulation's new provision keeps
    its amounts: `_absorbed` gives no items for thresholds.)"""
    old_entries = [Entry(item.target, item.clause.index, old_scope[item.clause.index]) for _, item in old_items]
    new_entries = [Entry(item.target, item.clause.index, new_scope[item.clause.index]) for _, item in new_items]
    changes: list[tuple[float, Change]] = []
    reported: set[int] = set()
    settled: set[int] = set()  # paired, with or without a change
    for i, j in pair_ledgers(old_entries, new_entries):
        (_, before), (order, after) = old_items[i], new_items[j]
        settled.update((id(before), id(after)))
        found = _changed(before.target, after.target)
        if not found:
            continue
        reported.update((id(before), id(after)))
        same_pair = before.old == after.old and before.new == after.new
        # across the document, the sentences that state the figures (not the whole units)
        old_text, new_text = (before.old, after.new) if same_pair else (before.clause.text, after.clause.text)
        inline = after.inline if same_pair else inline_diff(old_text or "", new_text or "")
        old_path = after.old_path if same_pair else (before.path if before.path != after.path else None)
        changes.extend(
            (order, Change(kind, after.path, old_text, new_text, change, inline, old_path)) for kind, change in found
        )
    for order, item in (*old_items, *new_items):
        if id(item) in settled or item.absorbed:
            continue
        reported.add(id(item))
        kind = _one_side("target_added", "target_removed", item.added)
        change = TargetChange(item.target.metric, None if item.added else item.target, item.target if item.added else None)
        changes.append((order, Change(kind, item.path, item.old, item.new, change, item.inline, item.old_path)))
    return changes, reported


# ---------------------------------------------------------------- entry point


def classify(
    old: Segmented, new: Segmented, pairs: Sequence[Pair], titles: tuple[str, str] = ("", "")
) -> list[Change]:
    """`titles` are the two versions' document titles (metadata, not clauses)."""
    sides = _Sides(old, new, pairs)
    removed = [i for p in pairs if p.removed for i in p.old]
    added = [j for p in pairs if p.added for j in p.new]
    old_title, new_title = comparison_forms(list(titles))
    removed_reports = dict(_group_by_index(_unpaired(removed, old, False, sides, titles=(old_title, new_title))))
    added_reports = dict(_group_by_index(_unpaired(added, new, True, sides, titles=(old_title, new_title))))
    reports: list[tuple[float, _Report]] = []
    for at, pair in enumerate(pairs):
        if pair.old and pair.new:
            reports.append((at, _paired(pair, sides)))
        elif pair.new:
            reports.extend((at, r) for r in added_reports.pop(pair.new[0], []))
        else:
            reports.extend((at, r) for r in removed_reports.pop(pair.old[0], []))
    old_items = [(order, item) for order, r in reports for item in r.leftovers if not item.added]
    new_items = [(order, item) for order, r in reports for item in r.leftovers if item.added]
    if any(item.target.role == "threshold" for _, item in (*old_items, *new_items)):
        old_scope, new_scope = provision_scopes(old, new, pairs)
    else:  # only a regulation's thresholds are scoped
        old_scope, new_scope = [None] * len(old.clauses), [None] * len(new.clauses)
    ledger, reported = _ledger_changes(old_items, new_items, old_scope, new_scope)
    placed: list[tuple[float, int, Change]] = []
    for order, report in reports:
        own = list(report.changes)
        if not any(c.kind in TARGET_KINDS for c in own) and not any(id(i) in reported for i in report.leftovers):
            own.extend(report.fallback)
        placed.extend((order, len(placed), change) for change in own)
    placed.extend((order + 0.5, len(placed) + n, change) for n, (order, change) in enumerate(ledger))
    changes: list[Change] = []
    for _, _, change in sorted(placed, key=lambda p: (p[0], p[1])):
        _append_merging_moves(changes, change)
    return changes


def _append_merging_moves(changes: list[Change], change: Change) -> None:
    """Sentences of one paragraph that moved together are one move."""
    previous = changes[-1] if changes else None
    if (
        change.kind == "clause_moved"
        and previous is not None
        and previous.kind == "clause_moved"
        and previous.path == change.path
        and previous.old_path == change.old_path
    ):
        changes[-1] = Change(
            "clause_moved",
            change.path,
            (previous.old or "") + (change.old or ""),
            (previous.new or "") + (change.new or ""),
            old_path=change.old_path,
        )
        return
    changes.append(change)


def _group_by_index(items: list[tuple[int, _Report]]) -> Iterable[tuple[int, list[_Report]]]:
    grouped: dict[int, list[_Report]] = {}
    for index, report in items:
        grouped.setdefault(index, []).append(report)
    return grouped.items()
