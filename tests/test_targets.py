"""Target extraction on real sentences and tables of the two corpus plans (tests/data/corpus/,
and the plans' indicator tables in tests/data/targets/).

Sentences are quoted from the plans as published (haishu uses half-width punctuation, cixi full-width).
Forms the two plans do not use (不少于十五家, 3～5项, 控制在…) are tested on corpus sentences with that
one edit made, the way the labelled cases are made; such sentences say "edited" next to them.
"""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest

from watcher.differ.matching import match_targets, metric_key
from watcher.differ.targets import extract_targets, row_targets
from watcher.model import Target

DATA = Path(__file__).parent / "data" / "targets"
CORPUS = Path(__file__).parent / "data" / "corpus"
TO_TRADITIONAL = opencc.OpenCC("s2t")
TO_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def summary(targets: tuple[Target, ...]) -> list[tuple[str, float | None, str, str | None, int | None]]:
    return [(t.metric, t.value, t.unit, t.comparator, t.year) for t in targets]


def one(text: str, **kwargs: int) -> Target:
    targets = extract_targets(text, **kwargs)
    assert len(targets) == 1, summary(targets)
    return targets[0]


def corpus_clauses() -> list[str]:
    clauses: list[str] = []
    for name in ("haishu-sti-plan-2021.txt", "cixi-sti-plan-2021.txt"):
        for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
            clauses.extend(c for c in re.split(r"(?<=[。！？])", line) if c.strip())
    return clauses


def table_rows(name: str) -> list[tuple[str, ...]]:
    """The cixi boxes as exported: a cell a line led by a tab, a blank line between rows, and a
    line without the tab continuing the cell above it ("1.34" / "(2019)")."""
    rows: list[tuple[str, ...]] = []
    for block in (DATA / name).read_text(encoding="utf-8").split("\n\n"):
        cells: list[str] = []
        for line in block.splitlines():
            if line.startswith("\t") or not cells:
                cells.append(line.lstrip("\t"))
            else:
                cells[-1] += "\n" + line
        rows.append(("", *cells))  # the leading tab of every row is an empty first column
    return rows


# ---------------------------------------------------------------- prose: metrics and values


def test_contract_example_gives_the_contract_target() -> None:
    assert one("到2025年，力争科技型中小企业数达3700家。") == Target(
        metric="科技型中小企业数", value=3700, unit="家", comparator=">=", year=2025, text="达3700家"
    )


def test_several_indicators_in_one_sentence() -> None:
    sentence = "到2025年,新增各类人才6万人以上,总量达31万人,规上科技服务业营业收入年增长率超8%。"
    assert summary(extract_targets(sentence)) == [
        ("新增各类人才", 6, "万人", ">=", 2025),
        ("总量", 31, "万人", ">=", 2025),
        ("规上科技服务业营业收入年增长率", 8, "%", ">", 2025),
    ]


def test_goals_paragraph_gives_every_indicator_with_its_comparator() -> None:
    sentence = (
        "到2025年,全社会研发与试验经费支出占地区生产总值的比重达到3.6%,规上工业企业研发与试验经费支出"
        "占营业收入比重达到2.8%,高新技术产业增加值占规上工业比重超过60%,每万名就业人员中研发人员达190人,"
        "有效发明专利拥有量达3100件,全社会劳动生产率达到30万元/人,科技进步贡献率超过70%。"
    )
    assert summary(extract_targets(sentence)) == [
        ("全社会研发与试验经费支出占地区生产总值的比重", 3.6, "%", ">=", 2025),
        ("规上工业企业研发与试验经费支出占营业收入比重", 2.8, "%", ">=", 2025),
        ("高新技术产业增加值占规上工业比重", 60, "%", ">", 2025),
        ("每万名就业人员中研发人员", 190, "人", ">=", 2025),  # 每万名 is a denominator, not a value
        ("有效发明专利拥有量", 3100, "件", ">=", 2025),
        ("全社会劳动生产率", 30, "万元/人", ">=", 2025),
        ("科技进步贡献率", 70, "%", ">", 2025),
    ]


@pytest.mark.parametrize(
    ("sentence", "metric", "value", "unit"),
    [
        ("到2025年，力争建设省级以上重点实验室3家。", "省级以上重点实验室", 3, "家"),
        ("到2025年,培育市级及以上重点实验室超12家,建成省级新型研发机构2家。", "市级及以上重点实验室", 12, "家"),
        ("到2025年，力争建设市级以上新型研发机构10家。", "市级以上新型研发机构", 10, "家"),
        ("到2025年,新建省级以上企业博士后工作站10家以上。", "新建省级以上企业博士后工作站", 10, "家"),
    ],
)
def test_verb_object_number_unit_drops_the_verb(sentence: str, metric: str, value: float, unit: str) -> None:
    target = extract_targets(sentence)[0]
    assert (target.metric, target.value, target.unit) == (metric, value, unit)


def test_verb_number_object_takes_the_object_after_the_number() -> None:
    sentence = (
        "到2025年,孵化30-50家硬科技创业企业,培育各类青年创业人才400名以上,"
        "力争开设或联合举办10期以上科创培训班、5次以上创客大会和10次以上创业营。"
    )
    assert [(t.metric, t.value, t.value_max, t.unit) for t in extract_targets(sentence)] == [
        ("孵化硬科技创业企业", 30, 50, "家"),
        ("各类青年创业人才", 400, None, "名"),
        ("开设或联合举办科创培训班", 10, None, "期"),
        ("创客大会", 5, None, "次"),
        ("创业营", 10, None, "次"),
    ]


def test_annual_growth_metric_keeps_its_growth_words() -> None:
    target = one("巩固向创新倾斜的资源配置机制,确保每年财政科技经费投入年均增长15%以上,优化投入方式,重点支持关键核心技术攻关。")
    assert "财政科技经费投入年均增长" in target.metric and not target.metric.startswith("确保")
    assert (target.value, target.unit, target.comparator, target.text) == (15, "%", ">=", "15%以上")


def test_list_of_values_after_one_verb_shares_metric_and_comparator() -> None:
    sentence = "到2025年，规上企业研发机构实现基本覆盖，省级、宁波市级研发机构数量力争达到200家、400家。"
    coverage, first, second = extract_targets(sentence)
    assert (coverage.value, coverage.text) == (None, "实现基本覆盖")
    assert first.metric == second.metric == "宁波市级研发机构数量"
    assert (first.value, first.comparator, second.value, second.comparator) == (200, ">=", 400, ">=")


def test_comparison_with_an_earlier_year_continues_the_previous_metric() -> None:
    sentence = (
        "高新技术产业不断发展,2020年实现高新技术产业增加值84.7亿元,占全市高新技术产业增加值比重和全区"
        "规上工业增加值比重分别由2017年的2.13%和29.96%提升至3.62%和37.3%,高新技术产业投资额达20亿元,"
        "较2017年增长28.2%。"
    )
    targets = extract_targets(sentence)
    assert [t.value for t in targets] == [84.7, 2.13, 29.96, 3.62, 37.3, 20, 28.2]
    assert {t.year for t in targets} == {2020}  # 2017 is the base of a comparison, never the year
    assert targets[0].metric == "高新技术产业增加值" and targets[0].unit == "亿元"
    assert len({t.metric for t in targets[1:5]}) == 1 and "比重" in targets[1].metric
    assert targets[-1].metric == "高新技术产业投资额增长"


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("sentence", "value", "unit", "comparator"),
    [
        # edited: Chinese numerals for the Arabic ones of the plan
        ("到2025年,新建省级以上企业博士后工作站不少于十五家。", 15, "家", ">="),
        ("到2025年,新增高技能人才两万名以上,建立技能人才继续教育示范基地。", 20000, "名", ">="),
        ("到2025年，力争累计创建双创平台达一百二十家。", 120, "家", ">="),
        ("到2025年，力争建设省级以上重点实验室不少于三家。", 3, "家", ">="),
        ("到2025年，力争对内覆盖到全市百分之七十以上的工业企业。", 70, "%", ">="),
    ],
)
def test_chinese_numerals_are_converted(sentence: str, value: float, unit: str, comparator: str) -> None:
    target = one(sentence)
    assert (target.value, target.unit, target.comparator) == (value, unit, comparator)


@pytest.mark.parametrize(
    ("sentence", "value", "unit"),
    [
        ("人才引进成果丰硕,全区人才总量达24.58万人。", 24.58, "万人"),
        ("稳步推进宁波慈溪国家农业科技园区建设，实现总产值66亿元。", 66, "亿元"),
        ("到2025年,研究人员达到35名,仪器设备原值达到2500万元。", 35, "名"),
        ("各类众创空间数量达25个,建成可用双创载体总面积接近60万平方米。", 25, "个"),
        ("2020年全区规上工业企业研发费用占营业收入比重2.48%,高于全市0.3个百分点。", 2.48, "%"),
        ("到2025年,全区技术交易额达2,500,000万元。", 2500000, "万元"),  # edited: thousands separators
    ],
)
def test_arabic_values_keep_wan_and_yi_in_the_unit(sentence: str, value: float, unit: str) -> None:
    first = extract_targets(sentence)[0]
    assert (first.value, first.unit) == (value, unit)


def test_wan_yi_and_percentage_points_across_one_clause() -> None:
    sentence = "2020年全区规上工业企业研发费用占营业收入比重2.48%,高于全市0.3个百分点,全区拥有省级重点农业企业研究院1家。"
    assert [(t.value, t.unit) for t in extract_targets(sentence)] == [(2.48, "%"), (0.3, "个百分点"), (1, "家")]
    area = extract_targets("各类众创空间数量达25个(其中国家级3家),建成可用双创载体总面积接近60万平方米。")[-1]
    assert (area.value, area.unit, area.comparator, area.text) == (60, "万平方米", "~", "接近60万平方米")


@pytest.mark.parametrize(
    ("sentence", "value", "value_max", "unit"),
    [
        ("到2025年，力争培育1-2个新兴产业，高新技术产业投资达到50亿元。", 1, 2, "个"),
        ("到2025年,孵化30-50家硬科技创业企业。", 30, 50, "家"),
        ("到2025年,引进重点产业化项目3～5项。", 3, 5, "项"),  # edited: full-width tilde
        ("到2025年,力争建成1至2个国家级创新科研平台。", 1, 2, "个"),  # edited
    ],
)
def test_ranges_give_value_and_value_max(sentence: str, value: float, value_max: float, unit: str) -> None:
    target = extract_targets(sentence)[0]
    assert (target.value, target.value_max, target.unit) == (value, value_max, unit)


@pytest.mark.parametrize(
    ("sentence", "metric", "text"),
    [
        ("到2025年，力争遴选30家独角兽企业，并培育1-2家科创板、创业板上市，实现创新能力上台阶、规模实力翻一番。", "规模实力", "翻一番"),
        ("到2025年,全区军民融合产业总产值实现翻番,成为省级军民融合产业创新示范区。", "全区军民融合产业总产值", "实现翻番"),
        ("到2025年,力争规上工业企业研发机构全覆盖。", "规上工业企业研发机构", "全覆盖"),
        ("到2025年，“123”千百亿级产业集群实现产业创新服务综合体全覆盖。", "“123”千百亿级产业集群", "实现产业创新服务综合体全覆盖"),
        ("到2025年,全区军民融合产业总产值翻两番。", "全区军民融合产业总产值", "翻两番"),  # edited
        ("到2025年,全区军民融合产业总产值实现倍增。", "全区军民融合产业总产值", "实现倍增"),  # edited
    ],
)
def test_values_without_a_single_number_keep_their_words(sentence: str, metric: str, text: str) -> None:
    target = extract_targets(sentence)[-1]
    assert (target.metric, target.value, target.text, target.year) == (metric, None, text, 2025)


# ---------------------------------------------------------------- comparators


@pytest.mark.parametrize(
    ("sentence", "comparator", "text"),
    [
        ("到2025年,高新技术企业达到500家。", ">=", "达到500家"),
        ("人才引进成果丰硕,全区人才总量达24.58万人。", ">=", "达24.58万人"),
        ("到2025年,新建省级以上企业博士后工作站10家以上。", ">=", "10家以上"),
        ("到2025年,与区外团队协同承担重大项目的比例超过50%。", ">", "超过50%"),
        ("到2025年,开展对接超30次。", ">", "超30次"),
        ("引导企业开展研发活动，规上企业研发机构覆盖率突破90%。", ">", "突破90%"),
        ("首批集聚高端创业创新人才300多名，入驻各类团队或初创型企业19个。", ">", "300多名"),
        ("到2025年,全区技术交易额不超过25亿元。", "<=", "不超过25亿元"),  # edited
        ("到2025年,全区技术交易额控制在25亿元。", "<=", "控制在25亿元"),  # edited
        ("到2025年,与区外团队协同承担重大项目的比例50%以内。", "<=", "50%以内"),  # edited
        ("到2025年,与区外团队协同承担重大项目的比例低于50%。", "<", "低于50%"),  # edited
        ("到2025年,全区技术交易额25亿元左右。", "~", "25亿元左右"),  # edited
        ("到2025年,全区技术交易额约25亿元。", "~", "约25亿元"),  # edited
        ("到2025年,研究人员≥200名。", ">=", "≥200名"),  # edited
        ("到2025年，力争建设省级以上重点实验室3家。", "=", "3家"),
    ],
)
def test_comparators(sentence: str, comparator: str, text: str) -> None:
    target = extract_targets(sentence)[0]
    assert (target.comparator, target.text) == (comparator, text)


# ---------------------------------------------------------------- years


def test_year_in_the_clause_and_from_context() -> None:
    assert one("力争科技型中小企业数达3700家。", year=2025).year == 2025
    assert one("到2027年，力争科技型中小企业数达3700家。", year=2025).year == 2027  # cixi-target-year edit
    assert one("2025年底前,力争科技型中小企业数达3700家。").year == 2025  # edited
    assert one("力争至2027年科技型中小企业数达3700家。").year == 2027  # edited
    assert one("力争科技型中小企业数达3700家。").year is None


def test_reported_figure_takes_its_baseline_year_and_not_the_comparison_year() -> None:
    sentence = (
        "2020年全区全社会研发投入占地区生产总值比重达到2.28%,同2017年相比实现翻番;有效国家高新技术企业总数"
        "达247家,同2017年相比实现翻番,科技型中小企业总数达1398家;2020年度众创空间获评省级优秀4家,数量为全市第一。"
    )
    targets = extract_targets(sentence, year=2025)
    assert [(t.metric, t.value, t.year) for t in targets] == [
        ("全区全社会研发投入占地区生产总值比重", 2.28, 2020),
        ("全区全社会研发投入占地区生产总值比重", None, 2020),  # 实现翻番 of the same figure
        ("有效国家高新技术企业总数", 247, 2020),
        ("有效国家高新技术企业总数", None, 2020),
        ("科技型中小企业总数", 1398, 2020),
        ("众创空间获评省级优秀", 4, 2020),  # 全市第一 is a rank
    ]


def test_later_deadline_in_the_clause_applies_from_where_it_stands() -> None:
    # edited: a second deadline in the same sentence
    first, second = extract_targets("到2025年,高新技术企业达到500家,到2027年达到600家。")
    assert (first.year, second.year, second.metric) == (2025, 2027, "高新技术企业")


# ---------------------------------------------------------------- what is not an indicator


@pytest.mark.parametrize(
    "sentence",
    [
        "• 文件编号:海政办发〔2021〕52号",
        "• 成文日期:2021-12-31",
        "发布日期:2022-01-19 14:53 来源:区政府办公室 浏览次数:",
        "• 索 引 号:002943395/2021-42705",
        "2021年12月31日",
        "制定本规划,规划期限为2021年至2025年。",
        "在全省科技进步统计监测中排名中,2019年度综合排名较2017年提升15个位次,其中科技投入方面提升50个位次。",
        "2020年，慈溪市科技创新指数居全省县（市、区）第7位，科技投入指数居全省县（市、区）第5位。",
        "1.核心技术引领产业优势提升。",
        "（一）着力实施以上林科创走廊为核心的硬核科技工程，构建硬核科技创新平台",
        " 一是坚持产业赋能导向。聚焦“123”产业集群建设，进一步加强新型研发机构、实验室建设。",
        "在智能家电、关键基础件、汽车制造、生命健康、高端装备、新材料等“3+3+X”硬核产业领域形成一批突破性标志性创新成果。",
        "7.布局建设“2+N”产业高质量发展平台。",
        "推进“5G+工业互联网”融合应用,加快5G网络、大数据中心建设,积极支持3D人体测量、虚拟试衣等技术开发与应用。",
        "以长三角一体化战略为引领，加强与G60科创走廊、杭州城西科创大走廊及宁波甬江科创大走廊互动融合发展。",
        "申报实施市关键核心技术登峰计划、“前沿引领技术2035”计划。",
        "支持实验室与企业共同承担宁波市“科技创新 2025”重大专项、国家科技创新2030重大项目，开展科技成果转移转化。",
        "实施“新业态青年人才1550”工程,培育直播经济、网红经济等新业态新模式人才。",
        "在“152”的大框架下,以做实“三张清单”为抓手,积极参与“81890”平台改造提升。",
        "结合“放管服”和“最多跑一次、最多100天”改革，大胆探索创新。",
        "根据国家、省、市“十四五”科技创新规划和《宁波市海曙区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》等部署要求。",
        "深入贯彻党的十九大和十九届历次全会精神,按照“四个面向”的要求,坚持创新驱动发展战略。",
        "每园选派一名科技特派员，开展科技服务；每园引进一家综合性中介服务机构；每园建设一个检验检测服务点。",
        "即一个协调中芬两地合作的创新服务中心，两个分中心，打造一批标杆性应用场景，突破一批“卡脖子”关键核心技术。",
        "以企业成立年限、私募融资与估值、近三年收入或净利润的平均增速等为主要指标。",
        "大力实施顶尖特优人才倍增行动，实施科技型中小企业培育倍增行动，积极推动科技企业双倍增。",
        "深入推进两化融合，建设科技大脑。",  # edited: 两化融合 is a name
        "深入实施科技大市场 3.0 版，着力推进宁波科技大市场慈溪分市场建设。",
    ],
)
def test_no_indicator(sentence: str) -> None:
    assert extract_targets(sentence) == ()


def test_numbers_that_are_parts_of_names_stay_out_beside_real_ones() -> None:
    sentence = "加强“海蓝宝”众创空间、创客157创业创新园等现有众创空间建设,到2025年,各类创新创业平台面积达到100万平方米。"
    assert summary(extract_targets(sentence)) == [("各类创新创业平台面积", 100, "万平方米", ">=", 2025)]


# ---------------------------------------------------------------- publication noise


@pytest.mark.parametrize(
    "sentence",
    [
        "到2025年,新增各类人才6万人以上,总量达31万人,规上科技服务业营业收入年增长率超8%。",
        "到2025年，规上企业研发机构实现基本覆盖，省级、宁波市级研发机构数量力争达到200家、400家。",
        "到2025年,全区军民融合产业总产值实现翻番,成为省级军民融合产业创新示范区。",
    ],
)
def test_traditional_script_and_full_width_give_the_same_targets(sentence: str) -> None:
    expected = extract_targets(sentence)
    assert expected
    assert extract_targets(TO_TRADITIONAL.convert(sentence)) == expected
    assert extract_targets(sentence.translate(TO_FULL_WIDTH)) == expected
    assert extract_targets(sentence.replace("万人", "万\n人").replace("，", "， ")) == expected


def test_whole_corpus_in_traditional_script_gives_the_same_targets() -> None:
    clauses = corpus_clauses()
    simplified = [extract_targets(c) for c in clauses]
    assert sum(map(len, simplified)) > 120
    assert [extract_targets(TO_TRADITIONAL.convert(c)) for c in clauses] == simplified


def test_every_corpus_target_has_a_metric_and_words_and_no_year_value() -> None:
    for clause in corpus_clauses():
        for target in extract_targets(clause):
            assert target.metric and target.text, (clause, target)
            assert target.value is not None or target.comparator is None
            assert not (target.unit == "" and target.value is not None and 1900 <= target.value <= 2100), clause
            assert "第" not in target.text, (clause, target)
            # 年 is a unit of duration (1至3年, 5年培育计划), never a year taken as a value
            assert target.unit != "年" or (target.value or 0) < 100, (clause, target)


# ---------------------------------------------------------------- indicator tables

HAISHU_HEADER, *HAISHU_ROWS = [
    tuple(line.split("\t")) for line in (DATA / "haishu-table1.tsv").read_text(encoding="utf-8").splitlines()
]


def test_haishu_table_header_row_gives_nothing() -> None:
    assert HAISHU_HEADER == ("序号", "目标名称", "2020年完成值", "2025年目标值")
    assert row_targets(HAISHU_HEADER, HAISHU_HEADER) == ()


def test_haishu_table_rows_give_baseline_and_target_with_label_units() -> None:
    by_label = {row[1]: row_targets(HAISHU_HEADER, row) for row in HAISHU_ROWS}
    assert len(by_label) == 8 and all(len(targets) == 2 for targets in by_label.values())
    assert by_label["有效国家高新技术企业数(家)"] == (
        Target("有效国家高新技术企业数(家)", 247, "家", "=", 2020, "247", role="baseline"),
        Target("有效国家高新技术企业数(家)", 500, "家", "=", 2025, "500"),
    )
    assert [(t.value, t.unit, t.year) for t in by_label["技术交易额(亿元)"]] == [(17.5, "亿元", 2020), (25, "亿元", 2025)]
    assert {t.unit for t in by_label["研发与试验发展经费支出占地区生产总值比重(%)"]} == {"%"}


def test_cixi_box2_rows() -> None:
    header, *rows = table_rows("cixi-box2.txt")
    assert header == ("", "指标", "2020年", "2025年")
    assert row_targets(header, header) == ()
    by_label = {row[1]: row_targets(header, row) for row in rows}
    assert len(by_label) == 10
    assert summary(by_label["科技型中小企业数（家）"]) == [
        ("科技型中小企业数(家)", 2043, "家", "=", 2020),
        ("科技型中小企业数(家)", 3700, "家", "=", 2025),
    ]
    baseline, wording = by_label["规模以上工业企业R&D经费支出占营业收入比重（%）"]
    assert (baseline.value, baseline.unit, baseline.year, baseline.text) == (1.34, "%", 2019, "1.34 (2019)")
    assert (wording.value, wording.year, wording.text) == (None, 2025, "提高幅度不低于宁波平均水平")
    above = by_label["高新技术产业增加值占规模以上工业增加值比重（%）"][1]
    assert (above.value, above.comparator, above.text) == (70, ">", ">70")
    assert by_label["每万名就业人员中R&D人员数（人年）"][1].unit == "人年"
    assert by_label["国际专利（PCT）申请量（件）"][1].unit == "件"
    assert by_label["高新技术产业投资（亿元）"][1].unit == "亿元"


def test_cixi_box1_two_columns_of_one_year_and_a_remarks_column() -> None:
    header, *rows = table_rows("cixi-box1.txt")
    assert row_targets(header, header) == ()
    targets = row_targets(header, rows[0])
    assert [(t.value, t.comparator, t.year) for t in targets] == [(2.63, "=", 2015), (2.8, ">", 2020), (3.2, "=", 2020)]
    assert all("完成" not in t.text for row in rows for t in row_targets(header, row))


def test_unit_column_and_year_from_context() -> None:
    # constructed on the corpus's indicators: a 单位 column and a header without a year
    header = ("序号", "指标", "单位", "目标值")
    assert summary(row_targets(header, ("1", "高新技术企业数", "家", "760"), year=2025)) == [
        ("高新技术企业数", 760, "家", "=", 2025)
    ]
    assert row_targets(header, ("2", "高新技术企业数", "家", "≥760"))[0].comparator == ">="


def test_text_table_row_without_figures_gives_nothing() -> None:
    header = ("综合体名称", "建设依托单位", "建设目标")
    row = (
        "浙江省时尚服装服饰产业创新服务综合体",
        "宁波嘉乐投资控股有限公司",
        "建设集创意设计、原材料供应、企业孵化、产教融合、成果转化、金融合作、纺织服装设备制造、时尚服装服饰生产、"
        "品牌推广发布、新零售等全产业链服务为一体的专业化、标准化、品质化产业创新服务综合体。",
    )
    assert row_targets(header, row) == ()


def test_prose_cell_of_a_table_is_read_as_prose() -> None:
    header = ("研究院", "发展目标")
    row = (
        "上海交大宁波人工智能研究院",
        "到2025年,研究人员达到200名,取得7项国家重大科技项目和成果,申报发明专利40件,引进重点产业化项目7项,力争建成1个国家级创新科研平台。",
    )
    assert [(t.metric, t.value) for t in row_targets(header, row)][:2] == [("研究人员", 200), ("取得国家重大科技项目", 7)]


# ---------------------------------------------------------------- matching across versions


def test_metric_key_reads_prose_and_table_labels_alike() -> None:
    assert metric_key("科技型中小企业数(家)") == metric_key("力争科技型中小企业数") == metric_key("科技型中小企业")
    assert metric_key("有效国家高新技术企业数(家)") == metric_key("有效国家高新技术企业总数")
    assert metric_key("新增高技能人才") == metric_key("全区高技能人才") == "高技能人才"
    assert metric_key("规模以上工业企业研发机构") == metric_key("规上工业企业研发机构")
    assert metric_key("科技型中小企业數（家）") == metric_key("科技型中小企业数")  # script and width
    assert metric_key("高新技术企业") != metric_key("科技型中小企业")


def test_match_pairs_a_changed_value() -> None:
    old = extract_targets("到2025年,高新技术企业达到500家、科技型中小企业达到2800家,规模以上工业企业研发机构力争实现全覆盖。")
    new = extract_targets("到2025年,高新技术企业达到600家、科技型中小企业达到2800家,规模以上工业企业研发机构力争实现全覆盖。")
    pairs = match_targets(old, new)
    assert [(o.value, n.value) for o, n in pairs if o and n] == [(500, 600), (2800, 2800), (None, None)]
    assert [o.same_quantity(n) for o, n in pairs if o and n] == [False, True, True]


def test_match_pairs_a_changed_deadline() -> None:
    (pair,) = match_targets(
        extract_targets("到2025年，力争科技型中小企业数达3700家。"), extract_targets("到2027年，力争科技型中小企业数达3700家。")
    )
    assert (pair[0].year, pair[1].year) == (2025, 2027)


def test_match_by_key_survives_reordering_and_reports_additions_and_removals() -> None:
    old = extract_targets("到2025年,促成国际科技合作项目3项,引进国外科技项目2项。")
    new = extract_targets("到2025年,引进国外科技项目4项,开展对接超30次,促成国际科技合作项目3项。")
    pairs = [(o and o.metric, n and n.metric, o and o.value, n and n.value) for o, n in match_targets(old, new)]
    assert pairs == [
        ("国外科技项目", "国外科技项目", 2, 4),
        (None, "对接", None, 30),
        ("国际科技合作项目", "国际科技合作项目", 3, 3),
    ]
    dropped = match_targets(new, old)
    assert ("对接", None) in [(o and o.metric, n and n.metric) for o, n in dropped]


def test_match_reworded_metric_by_similarity_then_by_order_within_a_unit() -> None:
    old = extract_targets("到2025年,培育市级及以上重点实验室超12家,建成省级新型研发机构2家。")
    new = extract_targets("到2025年,培育市级以上重点实验室超15家,建成省级新型研发机构和研究院3家。")
    assert [(o.value, n.value) for o, n in match_targets(old, new) if o and n] == [(12, 15), (2, 3)]
    # unlike units are not paired by order
    pairs = match_targets(extract_targets("全区人才总量达24.58万人。"), extract_targets("科技进步贡献率超过70%。"))
    assert [(o is None, n is None) for o, n in pairs] == [(False, True), (True, False)]


def test_match_table_row_whose_baseline_column_was_dropped() -> None:
    old = row_targets(("指标", "2020年", "2025年"), ("高新技术企业数（家）", "380", "760"))
    new = row_targets(("指标", "2025年"), ("高新技术企业数（家）", "800"))
    pairs = match_targets(old, new)
    assert [(o and o.year, n and n.year, n and n.value) for o, n in pairs] == [(2020, None, None), (2025, 2025, 800)]


def test_match_of_nothing() -> None:
    assert match_targets((), ()) == []
    (pair,) = match_targets((), extract_targets("到2025年,建成创新联合体1家。"))
    assert pair[0] is None and pair[1] is not None and pair[1].metric == "创新联合体"
