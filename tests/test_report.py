"""Renderers of a Diff (json, text, markdown, html) on changes made of real plan sentences."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from sample_changes import (  # tests/sample_changes.py (pytest puts tests/ on sys.path)
    DIFF,
    FORMATTING,
    MEASURE,
    MODIFIED,
    NEW_MEASURE,
    NEW_TARGET,
    OLD_CLAUSE,
    OLD_TARGET,
    PATH,
    SCRIPT,
    TARGET_CHANGE,
)

from watcher.contract import change_from_dict, diff_from_dict, diff_to_dict
from watcher.model import Change, Diff, Target, TargetChange
from watcher.report import RENDERERS
from watcher.report.json import render_json
from watcher.report.markdown import render_markdown
from watcher.report.text import render_text

pytestmark = pytest.mark.usefixtures("english")  # the wording asserted here is the English catalog's

# ---------------------------------------------------------------- json


def test_json_is_the_contract_form():
    d = diff_to_dict(DIFF)
    assert d["schema"] == "watcher.diff/1"
    assert d["old"] == {
        "ref": "cixi-plan@3",
        "title": "慈溪市科技创新“十四五”规划",
        "fetched_at": "2026-11-20T06:00:03Z",
        "sha256": "a" * 64,
    }
    assert d["summary"] == {
        "target_changed": 1,
        "measure_added": 1,
        "clause_modified": 1,
        "clause_added": 1,
        "formatting": 1,
    }
    assert d["changes"][0] == {
        "kind": "target_changed",
        "path": list(PATH),
        "old": OLD_TARGET,
        "new": NEW_TARGET,
        "target": {
            "metric": "科技型中小企业数",
            "role": "target",
            "old": {"value": 3700, "unit": "家", "year": 2025, "comparator": ">=", "text": "达3700家", "role": "target"},
            "new": {"value": 4000, "unit": "家", "year": 2025, "comparator": ">=", "text": "达4000家", "role": "target"},
        },
        "inline": [["=", "到2025年，力争科技型中小企业数达"], ["-", "3700"], ["+", "4000"], ["=", "家。"]],
    }
    assert d["changes"][1] == {"kind": "measure_added", "path": list(PATH), "old": None, "new": NEW_MEASURE}


def test_json_values_are_numbers_and_ints_stay_ints():
    text = render_json(DIFF, False)
    assert '"value": 3700,' in text and "3700.0" not in text
    fraction = Change(
        "target_added",
        PATH,
        None,
        "比重达到3.6%。",
        TargetChange("比重", None, Target("比重", 3.6, "%", ">=", 2025, "达到3.6%")),
    )
    d = json.loads(render_json(Diff(DIFF.old, DIFF.new, (fraction,)), False))
    assert d["changes"][0]["target"]["new"]["value"] == 3.6
    assert d["changes"][0]["target"]["old"] is None
    assert "target" not in d["changes"][0]["target"]["new"]  # no stray keys


def test_json_keeps_every_change_even_without_show_all():
    kinds = [c["kind"] for c in json.loads(RENDERERS["json"](DIFF, False))["changes"]]
    assert "formatting" in kinds


@pytest.mark.parametrize(
    "change",
    [
        TARGET_CHANGE,
        MEASURE,
        MODIFIED,
        FORMATTING,
        Change(
            "target_changed",
            PATH,
            "建设1-2家新型研发机构。",
            "建设3-5家新型研发机构。",
            TargetChange(
                "新型研发机构",
                Target("新型研发机构", 1.0, "家", None, None, "1-2家", value_max=2.0),
                Target("新型研发机构", 3.0, "家", None, None, "3-5家", value_max=5.0),
            ),
        ),
        Change(
            "target_removed",
            PATH,
            "研发投入翻一番。",
            None,
            TargetChange("研发投入", Target("研发投入", None, "", None, None, "翻一番"), None),
        ),
        Change("clause_moved", PATH, OLD_CLAUSE, OLD_CLAUSE, old_path=("三、重点任务", "（四）强化科技金融")),
    ],
)
def test_a_stored_change_round_trips(change):
    # What the store keeps is json.dumps of the dict; what digests read back must be the same Change.
    assert change_from_dict(json.loads(json.dumps(diff_to_dict(Diff(DIFF.old, DIFF.new, (change,)))["changes"][0]))) == change


def test_a_diff_round_trips_and_value_max_is_an_extra_field():
    d = diff_to_dict(DIFF)
    assert diff_from_dict(json.loads(json.dumps(d))) == DIFF
    ranged = Target("新型研发机构", 1.0, "家", None, None, "1-2家", value_max=2.0)
    one = Change("target_added", PATH, None, "建设1-2家新型研发机构。", TargetChange("新型研发机构", None, ranged))
    assert change_from_dict(diff_to_dict(Diff(DIFF.old, DIFF.new, (one,)))["changes"][0]).target.new.value_max == 2.0


# ---------------------------------------------------------------- text


def test_plain_text_has_no_ansi_and_puts_targets_first():
    out = render_text(DIFF, False, color=False)
    assert "\x1b[" not in out
    assert out.index("科技型中小企业数") < out.index("New and removed measures") < out.index("Changed clauses")
    row = next(line for line in out.splitlines() if "科技型中小企业数" in line)
    assert row.index("3700") < row.index("4000") and "家" in row and "2025" in row
    assert "{+" + NEW_MEASURE + "+}" in out
    assert "知识产权质押[-贷款-]{+融资+}等科技[-信贷-]{+金融+}产品" in out
    assert "（四）强化科技金融" in out  # grouped under its section


def test_formatting_is_hidden_but_counted_unless_show_all():
    hidden = render_text(DIFF, False, color=False)
    assert "1 formatting change (hidden)" in hidden
    assert "积极推动科技企业双倍增" not in hidden
    shown = render_text(DIFF, True, color=False)
    assert "积极推动科技企业双倍增" in shown and "(hidden)" not in shown


def test_colour_redline_on_a_terminal():
    out = render_text(DIFF, False, color=True, width=160)
    assert "\x1b[" in out
    assert "[-" not in out  # colour replaces the plain markers
    # "贷款" deleted: red and struck through; "融资" inserted: green.
    assert "\x1b[9;31m贷款" in out or "\x1b[31;9m贷款" in out
    assert "\x1b[32m融资" in out


def test_text_never_reads_document_text_as_markup():
    odd = Change("clause_added", ("二、总体要求",), None, "坚持[bold]创新[/bold]驱动[link=x]。")
    out = render_text(Diff(DIFF.old, DIFF.new, (odd,)), False, color=True)
    assert "坚持[bold]创新[/bold]驱动[link=x]。" in out


def test_no_changes_says_so():
    out = render_text(Diff(DIFF.old, DIFF.new, (FORMATTING,)), False, color=False)
    assert "No changes of substance." in out


# ---------------------------------------------------------------- markdown


def test_markdown_escapes_document_text_and_marks_the_redline():
    out = render_markdown(DIFF, False)
    assert "<script>" not in out and "\\<script\\>" in out
    assert "| 科技型中小企业数 | ≥3700 | ≥4000 | 家 | 2025 | target changed |" in out
    assert "知识产权质押<del>贷款</del><ins>融资</ins>等科技" in out
    assert out.index("## Targets") < out.index("## New and removed measures") < out.index("## Changed clauses")
    pipe = Change("clause_added", ("二、总体要求",), None, "a|b *c* _d_")
    assert "a\\|b \\*c\\* \\_d\\_" in render_markdown(Diff(DIFF.old, DIFF.new, (pipe,)), False)


# ---------------------------------------------------------------- html


def test_html_is_one_escaped_self_contained_page():
    page = RENDERERS["html"](DIFF, False)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    soup = BeautifulSoup(page, "lxml")
    assert soup.find_all("script") == []
    assert soup.find_all("link") == [] and soup.find_all(src=True) == []
    assert soup.find("style") is not None  # inline CSS
    assert soup.title.get_text() == "Changes: cixi-plan@3 → cixi-plan@4"
    rows = soup.select("table.targets tbody tr")
    assert [[td.get_text() for td in r.find_all("td")] for r in rows] == [
        ["科技型中小企业数", "≥3700", "≥4000", "家", "2025", "target changed", " › ".join(PATH)],
        ["到2025年，力争科技型中小企业数达" + "3700" + "4000" + "家。"],  # its clause: <del>3700</del><ins>4000</ins>
    ]
    assert [d.get_text() for d in soup.find_all("del")] == ["3700", "贷款", "信贷"]
    assert [i.get_text() for i in soup.find_all("ins")] == ["4000", NEW_MEASURE, "融资", "金融", SCRIPT]
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert headings == ["Targets", "New and removed measures", "Changed clauses"]
    assert "积极推动科技企业双倍增" not in page and "1 formatting change (hidden)" in page


def test_html_text_cannot_open_elements_or_attributes():
    breakout = "\"><img src=x onerror=alert(1)>'<b>"
    change = Change("target_changed", (breakout,), breakout, breakout + "。", TARGET_CHANGE.target)
    soup = BeautifulSoup(RENDERERS["html"](Diff(DIFF.old, DIFF.new, (change,)), False), "lxml")
    assert soup.find_all("img") == [] and soup.find_all("b") == []
    assert breakout in soup.select_one("td.section").get_text()


def test_every_renderer_takes_diff_and_show_all():
    assert sorted(RENDERERS) == ["html", "json", "markdown", "text"]
    for render in RENDERERS.values():
        out = render(DIFF, True)
        assert "4000" in out and not out.endswith("\n")


# ---------------------------------------------------------------- control characters

CONTROLS = "\x1b\x07\x9b\r\x00"
HOSTILE = Change(
    "clause_modified",
    ("二、总体要求\x1b[2J",),
    "坚持创新\x1b]0;title\x07驱动。",
    "坚持创新\x1b[31m引领\r驱动。",
    inline=(("=", "坚持创新"), ("-", "\x1b]0;title\x07"), ("+", "\x1b[31m引领\r"), ("=", "驱动。")),
)


@pytest.mark.parametrize("render", ["text", "markdown", "html"])
def test_no_renderer_passes_control_characters_on(render):
    diff = Diff(DIFF.old, DIFF.new, (HOSTILE, TARGET_CHANGE))
    out = RENDERERS[render](diff, False)
    assert not any(char in out for char in CONTROLS)
    assert "引领" in out and "[31m" in out  # the rest of the text stays


def test_colour_text_has_only_its_own_escape_sequences():
    out = render_text(Diff(DIFF.old, DIFF.new, (HOSTILE,)), False, color=True)
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out and "\x1b[31m引领" not in out
    assert "\x1b[" in out  # rich's colours


def test_figures_print_as_written_however_large():
    big = Change(
        "target_changed",
        PATH,
        "地区生产总值达1234567.5万元。",
        "地区生产总值达2500000万元。",
        TargetChange("地区生产总值", Target("地区生产总值", 1234567.5, "万元"), Target("地区生产总值", 2500000.0, "万元")),
    )
    row = next(line for line in render_text(Diff(DIFF.old, DIFF.new, (big,)), False, color=False).splitlines() if "万元" in line)
    assert "1234567.5" in row and "2500000" in row and "e+06" not in row and "2500000.0" not in row
