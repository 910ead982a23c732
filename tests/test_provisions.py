"""Regulations (条例, 办法, 规定) as the differ reads them: articles aligned by their content, a new
paragraph that states an obligation is a measure, a principle is not, renumbered articles and
cross-references are formatting, and lines about the document (its history, its number, its
title set again) are no changes; plus the real revision pairs of ../shared/real-cases, scored by
the shared scorer."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.differ import diff_documents
from watcher.extract import extract
from watcher.model import Change

SHARED = Path(__file__).resolve().parents[2] / "shared"
FLAGGED = {"target_changed", "target_added", "target_removed", "measure_added", "measure_removed"}

LAW = (
    "# 示范管理条例\n\n"
    "## 第一章 总则\n\n"
    "第一条 为了规范示范活动，制定本条例。\n\n"
    "第二条 从事示范活动的单位，应当遵守本条例。\n\n"
    "## 第二章 管理\n\n"
    "第三条 示范单位应当建立管理制度，并向主管部门备案。\n\n"
    "第四条 违反本条例第三条规定的，由主管部门责令改正，处1万元以上5万元以下的罚款。\n\n"
    "第五条 本条例自公布之日起施行。\n"
)


def read(text: str):
    return extract(text.encode("utf-8"), content_type="text/plain")


def changes(old: str, new: str) -> list[Change]:
    return [c for c in diff_documents(read(old), read(new)).changes if c.kind != "formatting"]


def kinds(old: str, new: str) -> list[str]:
    return [c.kind for c in changes(old, new)]


def test_a_new_paragraph_that_states_an_obligation_is_a_measure() -> None:
    new = LAW.replace(
        "并向主管部门备案。\n", "并向主管部门备案。\n\n示范单位变更名称的，应当自变更之日起30日内办理变更备案。\n"
    )
    (change,) = changes(LAW, new)
    assert change.kind == "measure_added" and "30日内" in (change.new or "")  # its figure is part of it


def test_a_new_principle_paragraph_is_text() -> None:
    new = LAW.replace("第二条 从事", "第二条 示范工作应当坚持党的领导。\n\n从事")
    assert kinds(LAW, new) == ["clause_added"]


def test_a_new_article_is_one_measure_and_renumbering_with_references_is_formatting() -> None:
    new = (
        LAW.replace("第五条 本条例", "第六条 本条例")
        .replace("第四条 违反本条例第三条", "第五条 违反本条例第四条")
        .replace("第三条 示范单位", "第三条 示范单位应当公开服务标准。\n\n第四条 示范单位")
    )
    (change,) = changes(LAW, new)
    assert change.kind == "measure_added" and "公开服务标准" in (change.new or "")


def test_an_article_whose_first_sentence_is_rewritten_keeps_its_counterpart() -> None:
    new = LAW.replace(
        "第四条 违反本条例第三条规定的，由主管部门责令改正，",
        "第四条 示范单位未建立管理制度或者未按照规定备案的，由主管部门责令限期改正，",
    )
    assert kinds(LAW, new) == ["clause_modified"]


def test_a_fine_that_changes_inside_a_rewritten_article_is_a_target_change() -> None:
    new = LAW.replace(
        "第四条 违反本条例第三条规定的，由主管部门责令改正，处1万元以上5万元以下的罚款。",
        "第四条 示范单位未按照规定备案的，由主管部门责令限期改正；逾期不改正的，处2万元以上5万元以下的罚款。",
    )
    (change,) = changes(LAW, new)
    assert change.kind == "target_changed"
    assert (change.target.old.value, change.target.new.value) == (1, 2)  # type: ignore[union-attr]


def test_a_paragraph_after_an_item_list_belongs_to_its_article() -> None:
    law = LAW.replace(
        "第三条 示范单位应当建立管理制度，并向主管部门备案。",
        "第三条 示范单位应当具备下列条件：\n\n（一）有固定场所；\n\n（二）有管理制度。\n\n示范单位应当向主管部门备案。",
    )
    from watcher.differ.segment import segment

    clauses = segment(read(law)).clauses
    article = next(c for c in clauses if c.text.startswith("第三条"))
    item = next(c for c in clauses if c.text.startswith("（二）"))
    after = next(c for c in clauses if c.text == "示范单位应当向主管部门备案。")
    assert article.items[-1] in after.items and item.items[-1] not in after.items
    assert after.path == article.path


def test_a_removed_item_is_one_measure() -> None:
    law = LAW.replace("第三条 示范单位应当建立管理制度，并向主管部门备案。", "第三条 示范单位应当具备下列条件：\n\n（一）有固定场所；\n\n（二）有管理制度。")
    new = law.replace("\n\n（二）有管理制度。", "").replace("（一）有固定场所；", "（一）有固定场所。")
    (change,) = changes(law, new)
    assert change.kind == "measure_removed" and "管理制度" in (change.old or "")


def test_lines_about_the_document_are_formatting() -> None:
    header = "# 示范管理条例\n\n2010年1月1日 示范市人民代表大会常务委员会第一次会议通过\n\n"
    old = LAW.replace("# 示范管理条例\n\n", header)
    new = LAW.replace(
        "# 示范管理条例\n\n",
        header + "2020年6月1日 示范市人民代表大会常务委员会第九次会议修正\n\n示范\n\n管理条例\n\n示法〔2020〕8号\n\n<!-- note -->\n\n",
    )
    assert kinds(old, new) == []


def test_markdown_headings_are_headings() -> None:
    from watcher.differ.segment import segment

    clauses = segment(read(LAW)).clauses
    article = next(c for c in clauses if c.text.startswith("第三条"))
    assert article.path[0] == "第二章 管理"


@pytest.mark.skipif(not (SHARED / "real-cases").is_dir(), reason="../shared/real-cases is not beside the project")
def test_real_revision_pairs_meet_the_bar_with_the_shared_scorer() -> None:
    command = f"{shlex.quote(sys.executable)} -m watcher diff {{old}} {{new}} --format json"
    run = subprocess.run(
        [sys.executable, str(SHARED / "bench" / "score_cases.py"), "--cases", str(SHARED / "real-cases"),
         "--cmd", command, "--min-recall", "0.90", "--min-precision", "0.85", "--require-clean"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
