"""The differ on edits made to the corpus plans: each kind of change, in text and on a web page.

Each test takes a real plan, makes one realistic edit, and checks that the diff reports exactly the
change an analyst would name (and no other target or measure change).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import opencc
import pytest

from watcher.differ import diff_documents
from watcher.extract import extract
from watcher.model import Diff

CORPUS = Path(__file__).parent / "data" / "corpus"
FLAGGED = {"target_changed", "target_added", "target_removed", "measure_added", "measure_removed"}
PLANS = ["haishu-sti-plan-2021.txt", "cixi-sti-plan-2021.txt"]


def plan(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def as_text(text: str) -> bytes:
    return text.encode("utf-8")


def as_page(text: str) -> bytes:
    """The text as a government web page: site chrome around one <p> per line."""
    paragraphs = "\n".join(f'<p style="text-indent:2em">{html.escape(line.strip())}</p>' for line in text.splitlines() if line.strip())
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>规划_政务公开</title></head><body>'
        '<div class="nav"><a href="/">首页</a><a href="/zwgk">政务公开</a></div>'
        '<div class="main"><h1>规划</h1><div class="info">浏览次数:<span>42</span></div>'
        f'<div class="content">{paragraphs}</div></div>'
        '<div class="footer">主办单位:某区人民政府 版权所有</div></body></html>'
    ).encode()


FORMATS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "text": (as_text, "text/plain"),
    "page": (as_page, "text/html"),
}


def run(old: str, new: str, fmt: str) -> Diff:
    render, content_type = FORMATS[fmt]
    return diff_documents(extract(render(old), content_type=content_type), extract(render(new), content_type=content_type))


def flagged(diff: Diff) -> list[tuple[str, str]]:
    return [(c.kind, c.new or c.old or "") for c in diff.changes if c.kind in FLAGGED]


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


@pytest.fixture(params=sorted(FORMATS))
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_changed_percentage_is_one_target_change(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    new = replace_once(old, "占地区生产总值的比重达到3.6%", "占地区生产总值的比重达到3.8%")
    diff = run(old, new, fmt)
    assert [c.kind for c in diff.changes if c.kind in FLAGGED] == ["target_changed"]
    change = next(c for c in diff.changes if c.kind == "target_changed")
    assert change.target is not None and change.target.old is not None and change.target.new is not None
    assert (change.target.old.value, change.target.new.value, change.target.new.unit) == (3.6, 3.8, "%")
    assert change.target.new.year == 2025
    assert "比重" in change.target.metric


def test_one_of_several_targets_in_a_sentence_changes(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    new = replace_once(old, "新增各类人才6万人以上,总量达31万人", "新增各类人才6万人以上,总量达35万人")
    diff = run(old, new, fmt)
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_changed"]
    assert changes[0].target and changes[0].target.new and changes[0].target.new.value == 35


def test_an_item_inserted_mid_list_is_one_new_measure_and_the_renumbering_is_formatting(fmt: str) -> None:
    old = plan("cixi-sti-plan-2021.txt")
    lines = old.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("4.打造标杆型产业创新服务综合体"))
    new_item = "4.建设概念验证中心。支持高校院所与龙头企业共建概念验证中心，推动科技成果熟化。"
    renumbered = [re.sub(r"^(\d+)\.", lambda m: f"{int(m.group(1)) + 1}.", line) for line in lines[start : start + 4]]
    new = "\n".join(lines[:start] + [new_item] + renumbered + lines[start + 4 :])
    diff = run(old, new, fmt)
    assert flagged(diff) == [("measure_added", new_item)]
    assert not [c for c in diff.changes if c.kind in {"clause_modified", "clause_added", "clause_removed"}]


def test_a_dropped_sub_measure_is_one_removed_measure(fmt: str) -> None:
    old = plan("cixi-sti-plan-2021.txt")
    start = old.index("二是加强生命健康科技成果转移转化")
    end = old.index("三是建立完善科研攻关体系")
    new = old[:start] + "二是" + old[end + 2 :]
    diff = run(old, new, fmt)
    kinds = flagged(diff)
    assert [k for k, _ in kinds] == ["measure_removed"]
    assert kinds[0][1].startswith("二是加强生命健康科技成果转移转化")


def test_a_new_target_sentence_is_a_target_added(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    anchor = "全区技术交易额达25亿元。"
    new = replace_once(old, anchor, anchor + "到2025年,全区技术合同登记额达到40亿元。")
    diff = run(old, new, fmt)
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_added"]
    assert changes[0].target and changes[0].target.new and changes[0].target.new.value == 40


def test_a_deadline_moved_is_a_target_change_of_year(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    new = replace_once(old, "到2025年,新增高技能人才2万名以上", "到2027年,新增高技能人才2万名以上")
    diff = run(old, new, fmt)
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert changes and all(c.kind == "target_changed" for c in changes)
    first = changes[0].target
    assert first and first.old and first.new and (first.old.year, first.new.year) == (2025, 2027)


def test_a_chinese_numeral_target_change_is_read_as_numbers(fmt: str) -> None:
    base = plan("haishu-sti-plan-2021.txt")
    anchor = "全区技术交易额达25亿元。"
    old = replace_once(base, anchor, anchor + "力争培育省级以上新型研发机构不少于十五家。")
    new = replace_once(base, anchor, anchor + "力争培育省级以上新型研发机构不少于二十家。")
    diff = run(old, new, fmt)
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_changed"]
    target = changes[0].target
    assert target and target.old and target.new and (target.old.value, target.new.value) == (15, 20)
    assert target.new.comparator == ">="


def test_a_reworded_sentence_without_numbers_is_a_modified_clause(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    new = replace_once(old, "鼓励公众参与规划实施的监督", "鼓励社会公众通过多种渠道参与规划实施的监督")
    diff = run(old, new, fmt)
    assert flagged(diff) == []
    assert [c.kind for c in diff.changes if c.substantive] == ["clause_modified"]


@pytest.mark.parametrize("name", PLANS)
def test_a_traditional_full_width_edition_is_only_formatting(name: str, fmt: str) -> None:
    old = plan(name)
    new = opencc.OpenCC("s2t").convert(old).replace(",", "，").replace(";", "；").replace("(", "（").replace(")", "）")
    diff = run(old, new, fmt)
    assert not diff.substantive, [c for c in diff.changes if c.substantive][:3]


@pytest.mark.parametrize("name", PLANS)
def test_rewrapped_lines_are_only_formatting(name: str) -> None:
    old = plan(name)
    # a hard wrap every 38 characters inside long paragraphs, as in a text taken from a PDF
    unmarked = re.sub(r"\[bookmark: [^\]]*\]", "", old)
    new = "\n".join(
        "\n".join(line[k : k + 38] for k in range(0, len(line), 38)) if len(line) > 80 and "\t" not in line else line
        for line in unmarked.splitlines()
    )
    diff = diff_documents(extract(as_text(old), content_type="text/plain"), extract(as_text(new), content_type="text/plain"))
    assert not diff.substantive, [c for c in diff.changes if c.substantive][:3]


# ---------------------------------------------------------------- indicator tables on a real page

PAGE = Path(__file__).parent / "data" / "cases" / "haishu-noise-page" / "old.html"


def page_diff(edit: Callable[[str], str]) -> Diff:
    page = PAGE.read_text(encoding="utf-8")
    edited = edit(page)
    assert edited != page
    return diff_documents(extract(page.encode(), content_type="text/html"), extract(edited.encode(), content_type="text/html"))


def test_a_changed_table_cell_is_one_target_change_of_that_row() -> None:
    diff = page_diff(lambda p: p.replace("<td>科技型中小企业(家)</td><td>1398</td><td>2800</td>", "<td>科技型中小企业(家)</td><td>1398</td><td>3000</td>"))
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_changed"]
    target = changes[0].target
    assert target and target.old and target.new
    assert (target.old.value, target.new.value, target.new.year, target.new.unit) == (2800, 3000, 2025, "家")


def test_a_new_table_row_is_one_new_target_for_its_target_year() -> None:
    row = "<tr><td>9</td><td>省级重点实验室(家)</td><td>3</td><td>8</td></tr></table>"
    diff = page_diff(lambda p: p.replace("</table>", row, 1))
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_added"]
    target = changes[0].target
    assert target and target.new and (target.new.value, target.new.year) == (8, 2025)


def test_a_dropped_row_with_the_rows_below_renumbered_is_one_removed_target() -> None:
    def drop_row_four(page: str) -> str:
        page = re.sub(r"<tr><td>4</td>.*?</tr>", "", page, count=1)
        for number in range(5, 9):
            page = page.replace(f"<tr><td>{number}</td>", f"<tr><td>{number - 1}</td>", 1)
        return page

    diff = page_diff(drop_row_four)
    assert [c.kind for c in diff.changes if c.substantive] == ["target_removed"]


def test_a_new_target_year_in_the_column_header_moves_every_row() -> None:
    diff = page_diff(lambda p: p.replace("<td>2025年目标值</td>", "<td>2026年目标值</td>"))
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert len(changes) == 8 and {c.kind for c in changes} == {"target_changed"}
    assert all(c.target and c.target.old and c.target.new and (c.target.old.year, c.target.new.year) == (2025, 2026) for c in changes)


# ---------------------------------------------------------------- editions of one document


def test_a_title_printed_in_one_edition_and_kept_as_metadata_in_the_other_is_formatting() -> None:
    from watcher.model import Block, Document

    body = tuple(Block("paragraph", line) for line in plan("haishu-sti-plan-2021.txt").splitlines()[30:60] if line.strip())
    title = "海曙区科技创新“十四五”规划"
    printed = Document((Block("paragraph", title), *body))
    metadata = Document(body, title=title)
    assert not diff_documents(printed, metadata).substantive
    assert not diff_documents(metadata, printed).substantive


def test_a_mark_lost_where_a_paragraph_was_broken_is_formatting() -> None:
    from watcher.model import Block, Document

    old = Document((Block("paragraph", "重点实施“揭榜挂帅·全球引智”行动、“未来产业·数智赋能”行动等重大人才兴曙“九大行动”。"),))
    new = Document(
        (Block("paragraph", "重点实施“揭榜挂帅全球引智”行动、“未来产业数"), Block("paragraph", "智赋能”行动等重大人才兴曙“九大行动”。"))
    )
    diff = diff_documents(old, new)
    assert [c.kind for c in diff.changes] == ["formatting"]


def test_a_new_unnumbered_paragraph_of_actions_is_one_new_measure(fmt: str) -> None:
    old = plan("haishu-sti-plan-2021.txt")
    anchor = "3.着力加强知识产权保护。"
    paragraph = "加强科技伦理治理。建立科技伦理审查制度,开展科研人员伦理培训。"
    new = replace_once(old, anchor, paragraph + "\n" + anchor)
    diff = run(old, new, fmt)
    assert flagged(diff) == [("measure_added", paragraph)]


def test_a_new_paragraph_stating_a_quantified_aim_is_a_target_added_not_a_measure(fmt: str) -> None:
    old = plan("cixi-sti-plan-2021.txt")
    anchor = "2.大力发展科技金融。"
    sentence = "到2027年，力争科技型中小企业数达5000家。"
    new = replace_once(old, anchor, sentence + "\n" + anchor)
    diff = run(old, new, fmt)
    changes = [c for c in diff.changes if c.kind in FLAGGED]
    assert [c.kind for c in changes] == ["target_added"]
    target = changes[0].target
    assert target and target.new and (target.new.value, target.new.year) == (5000, 2027)
