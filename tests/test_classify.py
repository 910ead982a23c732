"""Classification of small edits in the shapes plans and work summaries take: one-sentence items,
comparison signs, shortened lists, inherited deadlines, programme names, full-width figures."""

from __future__ import annotations

from watcher.differ import diff_documents
from watcher.extract import extract
from watcher.model import Change

FLAGGED = {"target_changed", "target_added", "target_removed", "measure_added", "measure_removed"}
TASKS = "二、主要任务\n（一）提升成果供给能力\n"


def changes(old: str, new: str) -> list[Change]:
    def read(text: str):
        return extract(text.encode("utf-8"), content_type="text/plain")

    return [c for c in diff_documents(read(old), read(new)).changes if c.kind != "formatting"]


def quantities(change: Change) -> tuple:
    assert change.target is not None
    old, new = change.target.old, change.target.new
    return (old and (old.value, old.year, old.comparator), new and (new.value, new.year, new.comparator))


def test_a_one_sentence_numbered_item_states_its_target() -> None:
    old = TASKS + "（1）到2026年累计建成联合实验室30家。\n（2）推动企业开放应用场景。\n"
    (change,) = changes(old, old.replace("30家", "40家"))
    assert change.kind == "target_changed"
    assert quantities(change) == ((30, 2026, "="), (40, 2026, "="))


def test_a_comparison_sign_alone_is_a_target_change() -> None:
    table = "表1 主要指标\n指标\t2023年\t2024年目标值\n研发经费占比（%）\t2.9\t3.1\n"
    (change,) = changes(table, table.replace("\t3.1", "\t≥3.1"))
    assert change.kind == "target_changed" and quantities(change) == ((3.1, 2024, "="), (3.1, 2024, ">="))
    (prose,) = changes("全区研发经费占比>2.8%。\n", "全区研发经费占比≥2.8%。\n")
    assert prose.kind == "target_changed"


def test_one_indicator_dropped_from_a_list_is_one_removed_target() -> None:
    old = "到2026年，技术合同成交额突破80亿元；新增省级以上科技企业孵化器3家，建成概念验证中心5个；培育技术经纪人200名。\n"
    new = "到2026年，技术合同成交额突破80亿元；建成概念验证中心5个；培育技术经纪人200名。\n"
    (change,) = changes(old, new)
    assert change.kind == "target_removed" and change.target and "孵化器" in change.target.metric


def test_a_shortened_sentence_is_modified_not_removed_and_added() -> None:
    old = "1.打造技术市场。建设区级科技大市场，实现与省市技术市场互联互通。\n"
    assert [c.kind for c in changes(old, "1.打造技术市场。建设区级科技大市场。\n")] == ["clause_modified"]


def test_a_moved_deadline_changes_the_year_of_every_indicator_under_it() -> None:
    old = "（二）主要目标\n到2026年，全区技术合同成交额突破80亿元；新增省级以上科技企业孵化器3家。\n"
    found = changes(old, old.replace("2026", "2027"))
    assert [c.kind for c in found] == ["target_changed", "target_changed"]
    assert all(quantities(c)[0][1] == 2026 and quantities(c)[1][1] == 2027 for c in found)


def test_a_comparison_word_after_a_bracketed_unit_counts() -> None:
    (change,) = changes("开放共享中试设备200台（套）以上。\n", "开放共享中试设备200台（套）以内。\n")
    assert change.kind == "target_changed" and quantities(change) == ((200, None, ">="), (200, None, "<="))


def test_half_width_full_stops_are_formatting() -> None:
    old = "（四）深化改革\n一是深化项目管理改革，扩大项目范围。二是完善科技金融服务体系。三是推进放管服改革。\n"
    assert changes(old, old.replace("。", "．")) == []
    assert changes(old, old.replace("。", ".")) == []


def test_a_table_in_full_width_figures_is_formatting() -> None:
    old = "表1 指标\n序号\n指标\n2020年\n2025年\n1\n研发经费占比(%)\n2.28\n3.6\n2\n高新技术企业(家)\n247\n500\n"
    new = "表1 指标\n序号\n指标\n2020年\n2025年\n１\n研发经费占比(%)\n２．２８\n３．６\n２\n高新技术企业(家)\n２４７\n５００\n"
    assert changes(old, new) == []


def test_an_added_action_sentence_is_a_measure() -> None:
    old = "1.打造技术市场。建设区级科技大市场。\n"
    found = changes(old, old.replace("。\n", "。定期举办科技成果拍卖会和路演活动。\n"))
    assert [(c.kind, c.new) for c in found] == [("measure_added", "定期举办科技成果拍卖会和路演活动。")]


def test_a_dropped_programme_of_a_box_is_one_measure() -> None:
    box = "专栏1 重点工程\n概念验证中心建设工程。建设概念验证中心5个。\n"
    old = box + "中试熟化平台建设工程。新建中试基地3个，开放共享中试设备200台（套）以上。\n"
    found = changes(old, box)
    assert [c.kind for c in found] == ["measure_removed"]
    assert found[0].old and found[0].old.startswith("中试熟化平台建设工程")


def test_work_summary_figures_are_targets() -> None:
    old = "一、2023年工作成效\n2023年，全区新增高新技术企业85家，累计达到520家；技术合同成交额达到36.5亿元。\n"
    found = changes(old, old.replace("520家", "526家"))
    assert [c.kind for c in found] == ["target_changed"]
    assert quantities(found[0]) == ((520, 2023, ">="), (526, 2023, ">="))


def test_a_table_floated_past_a_paragraph_by_the_layout_is_formatting() -> None:
    table = "指标\t2020年\t2025年\n高新技术企业数（家）\t380\t760\n科技型中小企业数（家）\t2043\t3700\n"
    para = "到2035年，建成高水平创新型城市，为基本实现高水平社会主义现代化奠定坚实基础。\n"
    assert changes("专栏2：主要指标\n" + table + para, "专栏2：主要指标\n" + para + table) == []


def test_a_paragraph_moved_is_reported_as_moved() -> None:
    first = "1.加强组织领导。充分发挥创新城市领导小组作用。\n"
    second = "2.强化监测评价。建立健全规划实施的监测评估制度。\n"
    third = "3.营造创新氛围。加强科学教育和科技普及。\n"
    found = changes(first + second + third, second + third + first)
    assert {c.kind for c in found} == {"clause_moved"}


def test_an_action_with_a_qualitative_aim_is_a_measure_and_one_with_figures_a_target() -> None:
    tasks = TASKS + "1.实施科技企业梯度培育工程。\n2.开展企业创新能力评价。\n"
    action = "支持企业建设研发机构，推动规上企业研发机构全覆盖。"
    aim = "到2025年，力争规上企业研发机构达到800家。"
    assert [c.kind for c in changes(tasks, tasks + action + "\n")] == ["measure_added"]
    assert [c.kind for c in changes(tasks, tasks + aim + "\n")] == ["target_added"]


def test_a_redline_shows_no_difference_that_is_formatting_only() -> None:
    from watcher.differ.redline import inline_diff

    ops = inline_diff("到2025年,力争科技型中小企业数达3700家.", "到2025年，力争科技型中小企業數達4000家。")
    assert [op for op in ops if op[0] != "="] == [("-", "3700"), ("+", "4000")]
    assert "".join(text for op, text in ops if op != "-") == "到2025年，力争科技型中小企業數達4000家。"
    (change,) = changes("推动企业开放应用场景, 建立清单.\n", "推动企业开放应用场景，建立需求清单。\n")
    assert [op for op in change.inline if op[0] != "="] == [("+", "需求")]
