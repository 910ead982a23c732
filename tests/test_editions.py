"""Target ledgers outside the diff: kept with each stored version (and filled for old versions by
`watcher reextract`), listed by `watcher targets`, and two editions compared target by target by
`watcher diff --targets` (this year's work report against last year's)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.differ.ledger import compare_editions, indicators
from watcher.extract import extract, extract_file
from watcher.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = Path(__file__).parent / "data" / "cases"
REPORTS = SHARED / "real-cases" / "gwr-2017-2018"


def read(text: str):
    return extract(text.encode("utf-8"), content_type="text/plain")


def test_editions_are_compared_target_by_target() -> None:
    old = read("二、今年目标\n今年主要预期目标是：国内生产总值增长6.5%左右，城镇新增就业1000万人以上，赤字率3%。\n去年城镇新增就业1314万人。\n")
    new = read("二、今年目标\n今年主要预期目标是：城镇新增就业1100万人以上，国内生产总值增长6.5%左右，城镇调查失业率5.5%以内。\n去年城镇新增就业1351万人。\n")
    found = [(c.metric, c.status, c.old and c.old.target.value, c.new and c.new.target.value) for c in compare_editions(old, new)]
    assert found == [
        ("城镇新增就业", "raised", 1000, 1100),
        ("赤字率", "dropped", 3, None),  # after the indicator it followed in the old edition
        ("国内生产总值增长", "kept", 6.5, 6.5),
        ("城镇调查失业率", "new", None, 5.5),
    ]  # in the new edition's order; the reported outcomes (去年…) are not compared by default
    reported = compare_editions(old, new, roles=("reported",))
    assert [(c.status, c.old.target.value, c.new.target.value) for c in reported] == [("raised", 1314, 1351)]  # type: ignore[union-attr]


def test_a_value_written_in_another_scale_is_raised_not_changed() -> None:
    old = read("今年拟安排地方专项债券8000亿元。\n")
    new = read("今年拟安排地方政府专项债券1.35万亿元。\n")
    (comparison,) = compare_editions(old, new)
    assert comparison.status == "raised"


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/real-cases is not beside the project")
def test_diff_targets_leads_successive_work_reports_with_their_headline_targets() -> None:
    result = CliRunner().invoke(cli, ["diff", str(REPORTS / "old.txt"), str(REPORTS / "new.txt"), "--targets", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "watcher.targets/1"
    status = {t["metric"]: (t["status"], t["old"] and t["old"]["value"], t["new"] and t["new"]["value"]) for t in data["targets"]}
    assert status["国内生产总值增长"] == ("kept", 6.5, 6.5)
    assert status["城镇调查失业率"] == ("new", None, 5.5)
    assert status["赤字率"] == ("lowered", 3, 2.6)
    assert status["单位国内生产总值能耗下降"] == ("lowered", 3.4, 3)
    assert status["中央预算内投资"] == ("raised", 5076, 5376)
    # the review section's outcomes (城镇新增就业1351万人, 6600万人) are not compared with the targets
    assert [t["new"]["value"] for t in data["targets"] if t["metric"] == "城镇新增就业"] == [1100]
    reported = CliRunner().invoke(cli, ["diff", str(REPORTS / "old.txt"), str(REPORTS / "new.txt"), "--targets", "--role", "reported", "--format", "json"])
    outcomes = json.loads(reported.stdout)["targets"]
    assert outcomes and all((t["old"] or t["new"])["role"] == "reported" for t in outcomes)
    assert 1351 in [t["new"]["value"] for t in outcomes if t["new"] and "城镇新增就业" in t["metric"]]
    text = CliRunner().invoke(cli, ["diff", str(REPORTS / "old.txt"), str(REPORTS / "new.txt"), "--targets", "--lang", "en"])
    assert "lowered" in text.stdout and "赤字率" in text.stdout
    html = CliRunner().invoke(cli, ["diff", str(REPORTS / "old.txt"), str(REPORTS / "new.txt"), "--targets", "--format", "html"])
    assert html.exit_code == 1 and html.stdout.startswith("<!DOCTYPE html>") and "<td>赤字率</td>" in html.stdout


def test_the_ledger_is_stored_with_each_version_and_listed(tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    shutil.copy(CASES / "cixi-docx-vs-page" / "new.html", page)
    config = tmp_path / "watcher.toml"
    config.write_text(f'[storage]\npath = "w.db"\n[[source]]\nname = "plan"\nurl = "{page.as_uri()}"\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "check"]).exit_code == 0
    with Store(tmp_path / "w.db") as store:
        version = store.resolve("plan@1")
        stored = store.indicators(version.id)
        assert stored == indicators(store.document(version.id)) and len(stored) > 20
        by_metric = {row["metric"] for row in store.db.query("SELECT metric FROM indicators WHERE version_id = ?", [version.id])}
        assert {i.target.metric for i in stored} == by_metric  # queryable in SQL as well
    listed = runner.invoke(cli, ["--config", str(config), "targets", "plan@1", "--format", "json"])
    assert listed.exit_code == 0
    data = json.loads(listed.stdout)
    assert data["schema"] == "watcher.ledger/1" and len(data["targets"]) == len(stored)
    assert {t["role"] for t in data["targets"]} >= {"target", "baseline"}
    from_file = runner.invoke(cli, ["targets", str(page), "--format", "json"])
    assert json.loads(from_file.stdout)["targets"] == data["targets"]


def test_ledgers_print_document_text_as_text() -> None:
    from watcher.differ.ledger import indicators
    from watcher.model import VersionInfo
    from watcher.report.targets import render_ledger

    hostile = read("一、目标\n<script>alert(1)</script>|工程\u202e数量达到100家\n")
    ledger = indicators(hostile)
    assert ledger, "the figure is read"
    markdown = render_ledger(VersionInfo("x"), ledger, "markdown")
    assert "<script>" not in markdown and "\u202e" not in markdown
    table_rows = [line for line in markdown.splitlines() if line.startswith("| role") or "100" in line]
    assert all(line.count(" | ") == 5 for line in table_rows)  # a | in the text opens no cell
    assert "\u202e" not in render_ledger(VersionInfo("x"), ledger, "text")
    page = render_ledger(VersionInfo("<b>x</b>"), ledger, "html")
    assert "<script>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "\u202e" not in page


def test_a_database_from_before_ledgers_is_migrated_and_reextract_fills_them(tmp_path: Path) -> None:
    """A file written by the migrations before m0006, as a released watcher left it."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from watcher.store.migrations import MIGRATION_STEPS, m0006_indicators

    page = tmp_path / "plan.html"
    shutil.copy(CASES / "cixi-docx-vs-page" / "new.html", page)
    config = tmp_path / "watcher.toml"
    config.write_text(f'[storage]\npath = "w.db"\n[[source]]\nname = "plan"\nurl = "{page.as_uri()}"\n', encoding="utf-8")
    before = Migrations("watcher")
    for step in MIGRATION_STEPS[: MIGRATION_STEPS.index(m0006_indicators)]:
        before(name=step.__name__)(step)
    db = Database(tmp_path / "w.db")
    before.apply(db)
    db.close()
    runner = CliRunner()
    with Store(tmp_path / "w.db") as store:  # m0006 applies on open
        assert "indicators" in store.db.table_names()
    assert runner.invoke(cli, ["--config", str(config), "check"]).exit_code == 0
    with Store(tmp_path / "w.db") as store:
        version = store.resolve("plan@1")
        store.db.execute("DELETE FROM indicators")  # a version stored before m0006 has none
        store.db.execute("UPDATE versions SET ledger_rows = NULL")
        store.db.conn.commit()
        assert store.indicators(version.id) is None
    assert runner.invoke(cli, ["--config", str(config), "reextract"]).exit_code == 0
    with Store(tmp_path / "w.db") as store:
        assert store.indicators(store.resolve("plan@1").id) == indicators(extract_file(page))
