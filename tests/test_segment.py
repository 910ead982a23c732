"""Segmentation: headings, items, sub-measures, boxes, tables and clause splitting on real plan text."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.differ.segment import marker, segment, sentences
from watcher.model import Block, Document
from watcher.normalise import clean_display

CORPUS = Path(__file__).parent / "data" / "corpus"


def corpus_document(name: str) -> Document:
    """The corpus text as one paragraph per line, as the text extractor yields its paragraphs."""
    lines = (clean_display(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines())
    return Document(tuple(Block("paragraph", line) for line in lines if line))


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("一、现实基础与发展形势", 1),
        ("(一)现实基础", 2),
        ("（二）着力实施以“双倍增”为核心的精兵科技工程", 2),
        ("1.新一轮科技革命和产业变革为海曙科技创新带来新机遇。", 3),
        ("2、强化监测评价。", 3),
        ("（1）加强组织领导", 4),
        ("①新材料", 5),
        ("第一章 总体要求", 0),
        ("第二节 发展目标", 0.5),
        ("3)强化考核评价", 4),
    ],
)
def test_heading_numbers_have_their_rank(text: str, rank: float) -> None:
    found = marker(text)
    assert found is not None and found[0] == rank


@pytest.mark.parametrize(
    "text",
    [
        "3.6%的研发投入强度",
        "2025年，力争科技型中小企业数达3700家。",
        "2022-2025年行动计划",
        "5G基站建设",
        "2.28%同比提升",
    ],
)
def test_decimals_years_and_ranges_are_not_headings(text: str) -> None:
    assert marker(text) is None


def test_sentences_split_at_sentence_marks_and_keep_them() -> None:
    text = "1.加强组织领导。充分发挥创新城市领导小组作用；形成科技部门牵头抓总的工作体系！"
    assert sentences(text) == ["1.加强组织领导。", "充分发挥创新城市领导小组作用；", "形成科技部门牵头抓总的工作体系！"]


def test_a_colon_opening_sub_measures_ends_a_clause() -> None:
    text = "当前慈溪市科技创新面临诸多挑战：一是战略性新兴产业发展有待提速。二是企业群体创新性突破有待加强。"
    assert sentences(text)[0] == "当前慈溪市科技创新面临诸多挑战："
    assert sentences(text)[1].startswith("一是")


def test_clause_keys_ignore_numbering_width_and_script() -> None:
    def keys(*lines: str) -> list[str]:
        return [c.key for c in segment(Document(tuple(Block("paragraph", line) for line in lines))).clauses]

    assert keys("3.加强高新微园区建设。", "三是推进智慧医疗。") == keys("2．加強高新微園區建設。", "四是推進智慧醫療。")


def test_haishu_plan_paths_follow_the_numbering() -> None:
    segmented = segment(corpus_document("haishu-sti-plan-2021.txt"))
    clause = next(c for c in segmented.clauses if c.text.startswith("2.推动企业研发能力提升"))
    assert clause.path == ("三、创新策源,高质量建设特色优势产业创新引领地", "(二)创新企业壮大行动", "2.推动企业研发能力提升")
    assert clause.measure and clause.numbering == "2."
    # the next section's heading closes the items of the previous one
    heading = next(c for c in segmented.clauses if c.text == "(三)创新平台提升行动")
    assert heading.kind == "heading"
    assert heading.path == ("三、创新策源,高质量建设特色优势产业创新引领地", "(三)创新平台提升行动")


def test_sub_measures_are_units_inside_their_item() -> None:
    segmented = segment(corpus_document("cixi-sti-plan-2021.txt"))
    sub = next(c for c in segmented.clauses if c.text.startswith("三是建立完善科研攻关体系"))
    assert sub.measure and sub.numbering == "三是"
    assert sub.path[-2] == "2.完善生命健康科技支撑体系"
    following = segmented.clauses[sub.index + 1]
    assert following.items == sub.items  # the sentences after 三是 belong to it
    item = segmented.items[sub.items[-1]]
    assert item.numbered and item.title.startswith("三是建立完善科研攻关体系")


def test_boxes_open_a_path_element() -> None:
    segmented = segment(corpus_document("haishu-sti-plan-2021.txt"))
    inside = next(c for c in segmented.clauses if c.text.startswith("新材料产业。"))
    assert inside.path[-1].startswith("专栏1")


def test_deadline_year_carries_to_later_sentences_of_the_paragraph() -> None:
    document = Document((Block("paragraph", "到2025年，全区创新能力显著提升。高新技术企业达到500家。"),))
    clauses = segment(document).clauses
    assert clauses[0].year is None
    assert clauses[1].year == 2025


def test_tables_become_rows_with_their_header() -> None:
    table = Block("table", rows=(("指标", "2020年", "2025年"), ("高新技术企业数（家）", "380", "760")))
    clauses = segment(Document((Block("paragraph", "专栏2：主要指标"), table))).clauses
    rows = [c for c in clauses if c.kind == "row"]
    assert rows[1].header == ("指标", "2020年", "2025年")
    assert rows[1].cells == ("高新技术企业数（家）", "380", "760")
    assert rows[1].path == ("专栏2：主要指标",)


def test_a_box_that_holds_only_a_table_closes_after_it() -> None:
    table = Block("table", rows=(("指标", "2025年"), ("高新技术企业数（家）", "760")))
    after = Block("paragraph", "到2035年，建成高水平创新型城市。")
    clauses = segment(Document((Block("paragraph", "专栏2：主要指标"), table, after))).clauses
    assert clauses[-1].path == ()
