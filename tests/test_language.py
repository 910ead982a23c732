"""Reports and digests in Simplified Chinese by default and English on request, through the gettext
catalogs of watcher/locale; times shown in the configured zone while the store keeps UTC."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import PageServer, case_bytes

from watcher.cli import cli
from watcher.config import load_settings
from watcher.errors import ConfigError
from watcher.kinds import KIND_ORDER, count_phrase, kind_label
from watcher.language import LANGUAGES, LOCALE_DIR, rendering, shown_time
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from catalogs import extract_command  # noqa: E402

OLD = case_bytes("cixi-target-year", "old.txt")
NEW = case_bytes("cixi-target-year", "new.txt")


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def _config(http_server: PageServer, write_config, report: dict[str, str] | None = None) -> Path:
    """A config of one source on the loopback server; no [report] table unless given."""
    http_server.set("/plan.txt", OLD, content_type="text/plain; charset=utf-8")
    return write_config([{"name": "plan", "url": http_server.url("/plan.txt"), "title": "科技创新规划"}], report=report)


def _checked_twice(http_server: PageServer, config: Path) -> None:
    assert run(config, "check")[0] == 0
    http_server.set("/plan.txt", NEW, content_type="text/plain; charset=utf-8")
    assert run(config, "check")[0] == 0


def _digest(config: Path, tmp_path: Path, *args: str) -> tuple[str, BeautifulSoup]:
    page = tmp_path / "digest.html"
    code, output = run(config, "digest", "--dry-run", "--output", str(page), *args)
    assert code == 0, output
    return output, BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")


def test_a_digest_of_a_real_check_is_in_chinese_by_default_and_in_english_on_request(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    config = _config(http_server, write_config)
    _checked_twice(http_server, config)

    text, html = _digest(config, tmp_path)
    assert "Subject: [watcher] 1 个规划有变化：目标 1 项" in text
    assert "| 科技型中小企业数 |" in text and "目标调整" in text and "修订标记：" in text
    assert "target changed" not in text and "Targets" not in text
    assert html.find("html")["lang"] == "zh-CN"
    assert [th.get_text() for th in html.select("table.targets th")] == [
        "指标", "原值", "新值", "单位", "年份", "变化", "所在章节",
    ]
    assert html.select_one("h3").get_text() == "目标"
    assert html.select_one("p.summary").get_text() == "目标调整 1 项"

    text_en, html_en = _digest(config, tmp_path, "--lang", "en")
    assert "Subject: [watcher] 1 plan changed: 1 target" in text_en
    assert "target changed" in text_en and "Redline: [-deleted-] {+inserted+}." in text_en
    assert html_en.find("html")["lang"] == "en"
    assert [th.get_text() for th in html_en.select("table.targets th")] == [
        "Metric", "Old", "New", "Unit", "Year", "Change", "Section",
    ]
    assert html_en.select_one("p.summary").get_text() == "1 target changed"
    # the document's words are the document's in both
    assert html.select_one("td.metric").get_text() == html_en.select_one("td.metric").get_text() == "科技型中小企业数"


def test_the_config_key_chooses_the_language_and_json_stays_english(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    config = _config(http_server, write_config, {"language": "en"})
    assert load_settings(str(config)).report.language == "en"
    _checked_twice(http_server, config)
    text, _ = _digest(config, tmp_path)
    assert "Subject: [watcher] 1 plan changed: 1 target" in text
    code, output = run(config, "changes", "plan")
    assert "Changes: 1 target changed" in output
    code, chinese = run(config, "changes", "plan", "--lang", "zh")
    assert "变化：目标调整 1 项" in chinese
    # machine-readable output is the same whatever the language: English keys and kind names
    assert run(config, "changes", "--format", "json")[1] == run(config, "changes", "--format", "json", "--lang", "zh")[1]
    assert json.loads(run(config, "changes", "--format", "json")[1])[0]["change"]["kind"] == "target_changed"


@pytest.mark.parametrize(
    ("report", "key"),
    [('language = "fr"', "report.language"), ('timezone = "Mars/Olympus"', "report.timezone"), ("colour = 1", "report")],
)
def test_a_bad_report_key_is_a_config_error(tmp_path: Path, report: str, key: str) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(f"[report]\n{report}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(str(config))


def test_times_are_shown_in_the_configured_zone_and_stored_in_utc(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    config = _config(http_server, write_config, {"timezone": "Asia/Shanghai"})
    _checked_twice(http_server, config)
    with Store(str(tmp_path / "watcher.db")) as store:
        stored = store.versions("plan")[-1].fetched_at
    assert stored.endswith(("Z", "+00:00"))  # the store keeps UTC
    shanghai = run(config, "changes", "plan")[1]
    with rendering(zone_name="Asia/Shanghai"):
        local = shown_time(stored)
    with rendering(zone_name="UTC"):
        utc = shown_time(stored)
    assert local.endswith("(UTC+08:00)") and utc.endswith("(UTC+00:00)") and local != utc
    assert local in shanghai and utc not in shanghai
    config.write_text(config.read_text(encoding="utf-8").replace("Asia/Shanghai", "UTC"), encoding="utf-8")
    assert utc in run(config, "changes", "plan")[1]


def test_shown_time_has_one_form() -> None:
    with rendering(zone_name="Asia/Shanghai"):
        assert shown_time("2026-12-01T00:00:00Z") == "2026-12-01 08:00 (UTC+08:00)"
        assert shown_time("2026-12-01T00:00:00+00:00") == "2026-12-01 08:00 (UTC+08:00)"
        assert shown_time("") == "" and shown_time("not a time") == "not a time"


def test_two_renders_in_one_process_do_not_see_each_other() -> None:
    seen: dict[str, str] = {}
    ready = threading.Barrier(2)

    def render(language: str) -> None:
        with rendering(language):
            ready.wait()  # both blocks open at once
            seen[language] = count_phrase("measure_added", 2)

    threads = [threading.Thread(target=render, args=(lang,)) for lang in LANGUAGES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"zh": "新增举措 2 项", "en": "2 new measures"}
    with rendering("en"):
        with rendering("zh"):
            assert kind_label("target_changed") == "目标调整"
        assert kind_label("target_changed") == "target changed"
    assert kind_label("target_changed") == "目标调整"  # the default outside any block


def test_a_traditional_documents_metric_is_shown_as_it_is_written(tmp_path: Path) -> None:
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("一、發展目標\n到2025年，科技型中小企業數達到3700家。\n", encoding="utf-8")
    new.write_text("一、發展目標\n到2025年，科技型中小企業數達到4000家。\n", encoding="utf-8")
    text = CliRunner().invoke(cli, ["diff", str(old), str(new)]).stdout
    assert "科技型中小企業數" in text and "科技型中小企业数" not in text
    page = BeautifulSoup(CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "html"]).stdout, "lxml")
    assert page.select_one("td.metric").get_text() == "科技型中小企業數"
    # the contract keeps the reading form, the one a Simplified edition shares
    data = json.loads(CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "json"]).stdout)
    assert [c["target"]["metric"] for c in data["changes"] if c["kind"] == "target_changed"] == ["科技型中小企业数"]


# ---------------------------------------------------------------- the catalogs


def _messages(po: Path) -> dict[object, object]:
    with po.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "watcher.pot"
    subprocess.run(extract_command(fresh), check=True, capture_output=True)
    assert set(_messages(fresh)) == set(_messages(LOCALE_DIR / "watcher.pot"))


def test_every_message_is_translated_in_chinese_and_every_catalog_has_every_message() -> None:
    template = set(_messages(LOCALE_DIR / "watcher.pot"))
    for language in LANGUAGES:
        assert set(_messages(LOCALE_DIR / language / "LC_MESSAGES" / "watcher.po")) == template, language
    zh = _messages(LOCALE_DIR / "zh" / "LC_MESSAGES" / "watcher.po")
    untranslated = [m for m, s in zh.items() if not (all(s) if isinstance(s, tuple) else s)]
    assert untranslated == []
    with rendering("zh"):
        assert all(kind_label(kind) != kind and not kind_label(kind).isascii() for kind in KIND_ORDER)


def test_the_committed_mo_files_are_what_pybabel_compiles(tmp_path: Path) -> None:
    for language in LANGUAGES:
        folder = LOCALE_DIR / language / "LC_MESSAGES"
        with (folder / "watcher.po").open("rb") as f:
            catalog = read_po(f, locale=language)
        compiled = tmp_path / f"{language}.mo"
        with compiled.open("wb") as f:
            write_mo(f, catalog)
        assert compiled.read_bytes() == (folder / "watcher.mo").read_bytes(), f"run bench/catalogs.py compile ({language})"
