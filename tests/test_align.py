"""Alignment of old and new clauses: renumbering, insertions, moves, splits and rewordings."""

from __future__ import annotations

import random
from pathlib import Path

from diff_match_patch import diff_match_patch

from watcher.differ.align import _sequence_diff, _symbols, align
from watcher.differ.segment import segment
from watcher.model import Block, Document
from watcher.normalise import clean_display

CORPUS = Path(__file__).parent / "data" / "corpus"


def paragraphs(name: str) -> list[str]:
    lines = (clean_display(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def clauses(lines: list[str]):
    return segment(Document(tuple(Block("paragraph", line) for line in lines))).clauses


def renumber(line: str, number: int) -> str:
    head, _, rest = line.partition(".")
    assert head.isdigit()
    return f"{number}.{rest}"


def items_of_section(lines: list[str], heading: str) -> range:
    start = lines.index(heading) + 1
    end = start
    while end < len(lines) and lines[end][:1].isdigit():
        end += 1
    return range(start, end)


def test_identical_documents_pair_every_clause_in_order() -> None:
    lines = paragraphs("haishu-sti-plan-2021.txt")
    old = new = clauses(lines)
    pairs = align(old, new)
    assert all(p.old == p.new and not p.moved for p in pairs)
    assert len(pairs) == len(old)


def test_an_inserted_item_leaves_the_renumbered_items_paired() -> None:
    lines = paragraphs("haishu-sti-plan-2021.txt")
    section = items_of_section(lines, "(二)面临形势")
    inserted = "1.加快建设科技强区。支持企业牵头组建创新联合体。"
    new_lines = lines[: section.start] + [inserted]
    new_lines += [renumber(lines[k], k - section.start + 2) for k in section] + lines[section.stop :]
    old, new = clauses(lines), clauses(new_lines)
    pairs = align(old, new)
    added = [p for p in pairs if p.added]
    assert [new[j].text for p in added for j in p.new] == ["1.加快建设科技强区。", "支持企业牵头组建创新联合体。"]
    assert not [p for p in pairs if p.removed]
    assert not [p for p in pairs if p.moved]


def test_a_paragraph_moved_to_another_section_is_paired_and_marked_moved() -> None:
    lines = paragraphs("haishu-sti-plan-2021.txt")
    moved = next(k for k, line in enumerate(lines) if line.startswith("创新生态持续优化"))
    target = lines.index("(三)问题短板") + 1
    new_lines = lines[:moved] + lines[moved + 1 : target] + [lines[moved]] + lines[target:]
    old, new = clauses(lines), clauses(new_lines)
    pairs = align(old, new)
    assert not [p for p in pairs if p.added or p.removed]
    moved_pairs = [p for p in pairs if p.moved]
    assert moved_pairs
    assert all(old[p.old[0]].text == new[p.new[0]].text for p in moved_pairs)
    assert {new[p.new[0]].path[-1] for p in moved_pairs} == {"(三)问题短板"}


def test_a_reworded_sentence_pairs_with_its_old_form() -> None:
    lines = paragraphs("haishu-sti-plan-2021.txt")
    k = next(i for i, line in enumerate(lines) if line.startswith("制定落实时间表"))
    reworded = lines[k].replace("鼓励公众参与规划实施的监督", "鼓励公众通过政务服务平台参与规划实施的监督")
    pairs = align(clauses(lines), clauses(lines[:k] + [reworded] + lines[k + 1 :]))
    changed = [p for p in pairs if p.score < 100]
    assert len(changed) == 1 and changed[0].old and changed[0].new
    assert not [p for p in pairs if p.added or p.removed]


def test_a_sentence_split_in_two_pairs_as_one_unit() -> None:
    old = clauses(["到2025年，高新技术企业达到500家，科技型中小企业达到2800家。", "其他内容保持不变。"])
    new = clauses(["到2025年，高新技术企业达到500家，", "科技型中小企业达到2800家。", "其他内容保持不变。"])
    pairs = align(old, new)
    assert pairs[0].old == (0,) and pairs[0].new == (0, 1)


def test_a_sentence_split_in_two_and_reworded_stays_one_pair() -> None:
    old = clauses(["1.加强组织领导。充分发挥创新城市领导小组作用，形成科技部门牵头抓总、各部门协同支持集成联动的工作体系。"])
    new = clauses(["1.加强组织领导。充分发挥创新城市领导小组作用。形成科技部门牵头抓总、各部门协同支持、上下集成联动的工作体系。"])
    pairs = align(old, new)
    assert not [p for p in pairs if p.added or p.removed]
    assert [(p.old, p.new) for p in pairs if p.score < 100] == [((1,), (1, 2))]


def _python_runs(old: list[str], new: list[str]) -> list[tuple[int, int, int, int]]:
    """The equal runs the pure-Python diff-match-patch finds (no time limit, no cleanup)."""
    a, b = _symbols(old, new)
    engine = diff_match_patch()
    engine.Diff_Timeout = 0
    runs, i, j = [], 0, 0
    for op, text in engine.diff_main(a, b, False):
        if op == 0:
            runs.append((i, j, len(text), 0))
        i += len(text) if op <= 0 else 0
        j += len(text) if op >= 0 else 0
    return runs


def test_the_clause_sequence_diff_finds_the_runs_the_python_diff_match_patch_finds() -> None:
    # repeated keys (a small alphabet) are where two diffs of equal length can differ
    rng = random.Random(11)
    for _ in range(300):
        alphabet = rng.choice([2, 3, 10, 1000])
        old = [str(rng.randrange(alphabet)) for _ in range(rng.choice([0, 1, 5, 40, 200]))]
        new = list(old)
        for _ in range(rng.randrange(len(old) // 3 + 3)):
            spot = rng.randrange(len(new) + 1)
            if rng.random() < 0.5 or not new:
                new.insert(spot, str(rng.randrange(alphabet)))
            else:
                del new[min(spot, len(new) - 1)]
        assert _sequence_diff(old, new) == _python_runs(old, new), (old, new)
