"""The target ledger: what each figure of a version is (metric, quantity, role), and how two ledgers
pair over the whole document — rewritten, moved and split sentences, target against reported,
thresholds inside one provision."""

from __future__ import annotations

import pytest

from watcher.differ import diff_documents
from watcher.differ.ledger import Entry, pair_ledgers
from watcher.differ.matching import dimension, magnitude
from watcher.differ.segment import segment
from watcher.differ.targets import extract_targets, role_cue, row_targets
from watcher.extract import extract
from watcher.model import Change, Target


def read(text: str):
    return extract(text.encode("utf-8"), content_type="text/plain")


def changes(old: str, new: str) -> list[Change]:
    return [c for c in diff_documents(read(old), read(new)).changes if c.kind != "formatting"]


def target_changes(old: str, new: str) -> list[tuple[str, str, float | None, float | None]]:
    return [
        (c.kind, c.target.metric, c.target.old and c.target.old.value, c.target.new and c.target.new.value)
        for c in changes(old, new)
        if c.target is not None
    ]


# ---------------------------------------------------------------- metric identity


@pytest.mark.parametrize(
    ("clause", "metric"),
    [
        ("今年赤字率拟按3%安排。", "赤字率"),
        ("今年先发行超长期特别国债1万亿元。", "超长期特别国债"),
        ("城镇调查失业率平均5.1%。", "城镇调查失业率"),
        ("拟安排地方政府专项债券3.9万亿元。", "地方政府专项债券"),
        ("新增企业研究院（省级）10家。", "新增企业研究院(省级)"),
        ("到2025年，力争科技型中小企业数达3700家。", "科技型中小企业数"),
        ("检验人员应当具有中级以上职称或者5年以上质量检验工作经历。", "质量检验工作经历"),
        ("处警告或者50元以上500元以下的罚款。", "罚款"),
        ("拟连续几年发行特别国债，专项用于重大项目建设，今年先发行5000亿元。", "发行特别国债"),
        ("6%左右的增速可以实现比较充分的就业。", "增速"),
    ],
)
def test_the_metric_is_the_subject_not_the_words_just_before_the_number(clause: str, metric: str) -> None:
    (target,) = extract_targets(clause)
    assert target.metric == metric


def test_a_growth_after_a_level_is_the_growth_of_that_indicator() -> None:
    level, growth = extract_targets("一般公共预算支出20万亿元，增长5%。")
    assert (level.metric, growth.metric) == ("一般公共预算支出", "一般公共预算支出增长")


def test_each_number_of_a_clause_is_its_own_indicator() -> None:
    clause = "处100万元以上500万元以下的罚款；情节严重的，处500万元以上1000万元以下的罚款，并处没收。"
    first, second = extract_targets(clause, role="threshold")
    assert (first.value, first.value_max, first.unit) == (100, 500, "万元")
    assert (second.value, second.value_max, second.unit) == (500, 1000, "万元")


# ---------------------------------------------------------------- ranges and quantities


def test_a_range_stated_by_its_bounds_is_one_indicator_from_low_to_high() -> None:
    (fine,) = extract_targets("处1万元以上3万元以下的罚款。")
    assert (fine.value, fine.value_max, fine.unit, fine.comparator) == (1, 3, "万元", ">=")
    (worded,) = extract_targets("处一万元以上五万元以下罚款。")
    assert (worded.value, worded.value_max, worded.unit) == (10000, 50000, "元")
    (dashed,) = extract_targets("培育1-2家新型研发机构。")
    assert (dashed.value, dashed.value_max, dashed.comparator) == (1, 2, "=")


def test_a_lower_bound_without_a_unit_takes_the_upper_bounds() -> None:
    (fine,) = extract_targets("拒不改正的，处三千以上三万元以下罚款。")
    assert (fine.value, fine.value_max, fine.unit) == (3000, 30000, "元")
    assert fine.same_quantity(extract_targets("拒不改正的，处三千元以上三万元以下罚款。")[0])


@pytest.mark.parametrize(
    ("clause", "value", "unit", "comparator"),
    [
        ("应当提前三个月书面告知。", 3, "个月", "="),
        ("应当在合同期限届满前九十日书面通知。", 90, "日", "="),
        ("暂停其任职资格1至3年。", 1, "年", "="),
        ("应当自受理申请之日起20个工作日内作出决定。", 20, "个工作日", "<="),  # 内: within
        ("应当经专有部分面积占比三分之二以上的业主参与表决。", 2 / 3, "", ">="),
        ("应当经专有部分占建筑物总面积过半数的业主同意。", 0.5, "", ">"),
    ],
)
def test_periods_fractions_and_majorities_are_quantities(clause: str, value: float, unit: str, comparator: str) -> None:
    (target,) = extract_targets(clause)
    assert (target.value, target.unit, target.comparator) == (pytest.approx(value), unit, comparator)


@pytest.mark.parametrize("clause", ["每年3月1日前报送。", "居全国前10名。", "近三年来发展较快。", "10月31日前完成。"])
def test_dates_ranks_and_spans_are_no_quantities(clause: str) -> None:
    assert extract_targets(clause) == ()


def test_an_increment_belongs_to_its_indicator() -> None:
    deficit, *rest = extract_targets("财政赤字2.38万亿元，比去年增加1800亿元。")
    assert (deficit.metric, deficit.value) == ("财政赤字", 2.38) and rest == []
    assert [t.value for t in extract_targets("就业预期目标比去年多100万人。")] == []
    growth = extract_targets("国内生产总值比上年增长6%。")
    assert [(t.value, t.unit) for t in growth] == [(6, "%")]  # a growth rate stays an indicator


# ---------------------------------------------------------------- roles


def test_roles_come_from_the_cues_before_a_figure() -> None:
    (reported,) = extract_targets("去年城镇新增就业1314万人。")
    (planned,) = extract_targets("今年城镇新增就业1100万人以上。")
    assert (reported.role, planned.role) == ("reported", "target")
    assert extract_targets("比去年增长6%。")[0].role == "target"  # 比去年 compares, it reports nothing


def test_a_reported_section_gives_way_only_to_the_future() -> None:
    assert role_cue("国内生产总值增长6.9%，预期目标", "reported") == "reported"
    assert role_cue("今年要", "reported") == "target"
    assert role_cue("今年要", "threshold") == "threshold"


def test_a_section_and_its_paragraphs_give_their_figures_a_role() -> None:
    text = (
        "一、2016年工作回顾\n"
        "过去一年，经济运行保持在合理区间。国内生产总值增长6.7%。城镇新增就业1314万人。\n"
        "二、2017年经济社会发展总体要求和政策取向\n"
        "今年发展的主要预期目标是：国内生产总值增长6.5%左右；城镇新增就业1100万人以上。\n"
    )
    roles = {
        target.value: target.role
        for clause in segment(read(text)).clauses
        for target in extract_targets(clause.text, role=clause.role)
    }
    assert roles == {6.7: "reported", 1314: "reported", 6.5: "target", 1100: "target"}


def test_a_regulations_figures_are_thresholds() -> None:
    text = "第一条 为了规范管理，制定本条例。\n第二条 违反规定的，处1万元罚款。\n第三条 本条例自公布之日起施行。\n"
    (clause,) = [c for c in segment(read(text)).clauses if "罚款" in c.text]
    assert clause.role == "threshold"
    assert segment(read("一、总体要求\n到2025年，企业达到100家。\n")).clauses[-1].role == "target"


def test_a_tables_earlier_columns_are_baselines() -> None:
    header = ("指标", "2020年完成值", "2025年目标值")
    base, goal = row_targets(header, ("高新技术企业数（家）", "380", "760"))
    assert (base.role, goal.role) == ("baseline", "target")
    (base_column, _) = row_targets(("指标", "基期值", "目标值"), ("研发投入（亿元）", "10", "20"))
    assert base_column.role == "baseline"


# ---------------------------------------------------------------- pairing two ledgers


def entry(metric: str, value: float, unit: str = "万人", role: str = "target", position: int = 0, scope: int | None = None) -> Entry:
    return Entry(Target(metric, value, unit, "=", None, str(value), role=role), position, scope)  # type: ignore[arg-type]


def test_ledgers_pair_by_metric_then_by_quantity_never_across_roles() -> None:
    old = [entry("城镇新增就业", 1314, role="reported"), entry("城镇新增就业", 1000), entry("国内生产总值增长", 6.5, "%")]
    new = [entry("国内生产总值增长", 6.5, "%"), entry("城镇新增就业", 1100), entry("城镇新增就业", 1351, role="reported")]
    assert pair_ledgers(old, new) == [(0, 2), (1, 1), (2, 0)]


def test_hours_and_minutes_are_measured_in_days_too() -> None:
    # 12小时 → 1日 doubles the time allowed; 30分钟 → 2小时 quadruples it
    assert magnitude(12, "小时") < magnitude(1, "日")
    assert magnitude(30, "分钟") < magnitude(2, "小时")
    assert dimension("小时") == dimension("日") == "time"


def test_units_of_one_dimension_pair() -> None:
    assert dimension("亿元") == dimension("万亿元") == "元" and dimension("个月") == dimension("日") == "time"
    old, new = [entry("地方政府专项债券", 8000, "亿元")], [entry("地方专项债券", 1.35, "万亿元")]
    assert pair_ledgers(old, new) == [(0, 0)]
    assert pair_ledgers(old, [entry("地方专项债券", 1.35, "%")]) == []


def test_thresholds_pair_only_inside_one_provision() -> None:
    old = [entry("罚款", 1, "万元", "threshold", scope=7)]
    assert pair_ledgers(old, [entry("罚款", 2, "万元", "threshold", scope=8)]) == []
    assert pair_ledgers(old, [entry("罚款", 2, "万元", "threshold", scope=7)]) == [(0, 0)]
    assert pair_ledgers([entry("罚款", 1, "万元", "threshold")], [entry("罚款", 2, "万元", "threshold")]) == []


def test_a_target_in_a_rewritten_paragraph_still_pairs() -> None:
    old = "三、今年工作\n今年发展的主要预期目标是：国内生产总值增长6.5%－7%，城镇新增就业1000万人以上，居民消费价格涨幅3%左右。\n"
    new = "三、今年工作\n综合考虑各方面因素，经济社会发展的预期目标为：城镇新增就业1100万人以上；居民消费价格涨幅3%左右；国内生产总值增长6.5%左右。\n"
    found = target_changes(old, new)
    assert sorted(found) == [
        ("target_changed", "国内生产总值增长", 6.5, 6.5),  # 6.5%－7% → 6.5%左右
        ("target_changed", "城镇新增就业", 1000, 1100),
    ]


def test_a_target_moved_to_another_section_pairs_with_its_old_value() -> None:
    old = "一、发展目标\n到2025年，高新技术企业达到500家。\n二、主要任务\n（一）培育企业\n推动企业上市。\n"
    new = "一、发展目标\n全面提升创新能力。\n二、主要任务\n（一）培育企业\n推动企业上市，到2025年，高新技术企业达到600家。\n"
    assert [(k, v0, v1) for k, _, v0, v1 in target_changes(old, new)] == [("target_changed", 500, 600)]


def test_a_reported_figure_never_pairs_with_a_target() -> None:
    old = "一、2016年工作回顾\n去年城镇新增就业1314万人。\n二、今年目标\n今年城镇新增就业1100万人以上。\n"
    new = "一、2017年工作回顾\n去年城镇新增就业1351万人。\n二、今年目标\n今年城镇新增就业1100万人以上。\n"
    found = [c for c in changes(old, new) if c.target is not None]
    assert [(c.kind, c.target.role, c.target.old.value, c.target.new.value) for c in found] == [  # type: ignore[union-attr]
        ("target_changed", "reported", 1314, 1351)
    ]


def test_a_fixed_amount_that_becomes_a_range_is_one_change_and_moved_bounds_are_two() -> None:
    law = "第一条 为了规范管理，制定本条例。\n第二条 违反规定的，处{}的罚款。\n第三条 本条例自公布之日起施行。\n"
    (one,) = changes(law.format("100万元"), law.format("100万元以上500万元以下"))
    assert one.kind == "target_changed" and one.target is not None
    assert (one.target.old.value, one.target.old.value_max) == (100, None)  # type: ignore[union-attr]
    assert (one.target.new.value, one.target.new.value_max) == (100, 500)  # type: ignore[union-attr]
    both = target_changes(law.format("2万元以上10万元以下"), law.format("10万元以上50万元以下"))
    assert [(k, v0, v1) for k, _, v0, v1 in both] == [("target_changed", 2, 10), ("target_changed", 10, 50)]


def test_roles_never_mix_inside_one_clause() -> None:
    old = "二、目标\n去年国内生产总值增长6.9%，今年国内生产总值增长6.5%左右。\n"
    new = "二、目标\n去年国内生产总值增长6.7%，今年国内生产总值增长6%左右。\n"
    found = [(c.target.role, c.target.old.value, c.target.new.value) for c in changes(old, new) if c.target]  # type: ignore[union-attr]
    assert found == [("reported", 6.9, 6.7), ("target", 6.5, 6)]


def test_a_fine_in_an_article_rewritten_throughout_pairs_by_the_article_number() -> None:
    law = "第一条 为了规范经营，制定本条例。\n第二条 {}\n第三条 本条例自公布之日起施行。\n"
    old = law.format("违反规定擅自经营的，处1000元罚款。")
    new = law.format("未取得许可从事经营活动的，由主管部门责令停止，并处5000元罚款。")
    assert [(k, v0, v1) for k, _, v0, v1 in target_changes(old, new)] == [("target_changed", 1000, 5000)]


def test_an_article_that_names_a_principle_and_sanctions_is_a_provision() -> None:
    law = "第一条 为了规范经营，制定本条例。\n第二条 经营者应当守法。\n第四条 本条例自公布之日起施行。\n"
    new = law.replace("第四条", "第三条 坚持依法管理，违者处五万元罚款。\n第四条")
    assert [c.kind for c in changes(law, new)] == ["measure_added"]
    assert [c.kind for c in changes(law, law.replace("第四条", "第三条 管理工作应当坚持依法治理。\n第四条"))] == ["clause_added"]
