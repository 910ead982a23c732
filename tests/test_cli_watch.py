"""The watching commands: check, sources, history, show, reextract (CliRunner and subprocess)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from conftest import PageServer, case_bytes, lock_held_elsewhere

from watcher.cli import cli
from watcher.config import load_settings
from watcher.store import Store

ROOT = Path(__file__).resolve().parents[1]
HAISHU = case_bytes("haishu-noise-page", "old.html")
HAISHU_NEW_MEASURE = case_bytes("haishu-new-measure-html", "new.html")


def watcher(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_check_prints_a_summary_and_a_second_run_finds_nothing_new(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU, etag='"1"')
    config = write_config([{"name": "plan", "url": http_server.url("/plan.html"), "selector": "#zoom"}])
    first = watcher(config, "check")
    assert first.exit_code == 0, first.output
    assert "plan" in first.stdout and "new version" in first.stdout and "new version: 1" in first.stdout
    second = watcher(config, "check")
    assert second.exit_code == 0
    assert "unchanged" in second.stdout and "new version" not in second.stdout


def test_check_json_is_json_only_on_stdout_and_exit_3_when_some_failed(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    config = write_config(
        [
            {"name": "plan", "url": http_server.url("/plan.html")},
            {"name": "gone", "url": http_server.url("/gone.html")},
        ]
    )
    result = watcher(config, "check", "--format", "json")
    assert result.exit_code == 3
    results = {r["source"]: r for r in json.loads(result.stdout)}
    assert results["plan"]["status"] == "new" and results["plan"]["version_number"] == 1
    assert results["gone"]["status"] == "failed" and "HTTP 404" in results["gone"]["error"]
    listed = {s["name"]: s for s in json.loads(watcher(config, "sources", "--format", "json").stdout)}
    assert listed["gone"]["last_status"] == "failed" and "HTTP 404" in listed["gone"]["last_error"]
    assert listed["plan"]["versions"] == 1


def test_check_exits_4_while_another_run_holds_the_lock(tmp_path, write_config) -> None:
    page = tmp_path / "plan.html"
    page.write_bytes(HAISHU)
    config = write_config([{"name": "plan", "url": page.as_uri()}])
    database = load_settings(str(config)).storage_path
    with lock_held_elsewhere(database) as pid:
        result = watcher(config, "check")
    assert result.exit_code == 4
    assert result.stderr.strip() == f"watcher: another watcher run holds the lock on {database} (pid {pid})"
    assert watcher(config, "check").exit_code == 0  # free again


def test_history_show_and_references(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    config = write_config([{"name": "plan", "url": http_server.url("/plan.html"), "selector": "#zoom"}])
    assert watcher(config, "check").exit_code == 0
    http_server.set("/plan.html", HAISHU_NEW_MEASURE)
    assert watcher(config, "check").exit_code == 0

    history = watcher(config, "history", "plan", "--format", "json")
    assert history.exit_code == 0
    versions = json.loads(history.stdout)
    assert [v["number"] for v in versions] == [1, 2]
    assert all({"id", "number", "fetched_at", "sha256"} <= set(v) for v in versions)
    assert versions[0]["sha256"] != versions[1]["sha256"]
    text_history = watcher(config, "history", "plan")
    assert "plan@1" in text_history.stdout and "plan@2" in text_history.stdout

    with Store(load_settings(str(config)).storage_path) as store:
        old, new = store.versions("plan")
    assert watcher(config, "show", "plan").stdout == new.text + "\n"
    assert watcher(config, "show", "plan@latest").stdout == new.text + "\n"
    assert watcher(config, "show", "plan@-1").stdout == old.text + "\n"
    assert watcher(config, "show", "plan@1").stdout == old.text + "\n"
    assert watcher(config, "show", str(new.id)).stdout == new.text + "\n"
    assert old.text != new.text

    missing = watcher(config, "show", "plan@3")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "watcher: no version 'plan@3': 'plan' has versions 1 to 2"
    assert watcher(config, "history", "nothing").exit_code == 2


def test_read_commands_do_not_create_a_database(tmp_path, write_config) -> None:
    config = write_config([{"name": "plan", "url": "https://example.org/plan.html"}])
    result = watcher(config, "show", "plan")
    assert result.exit_code == 2 and "run `watcher check` first" in result.stderr
    listed = watcher(config, "sources")
    assert listed.exit_code == 0 and "plan" in listed.stdout and "never" in listed.stdout
    assert not Path(load_settings(str(config)).storage_path).exists()


def test_reextract_command_reports_versions_whose_hash_changed(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    source = {"name": "plan", "url": http_server.url("/plan.html"), "selector": "div.crumbs"}  # a wrong selector, fixed below
    config = write_config([source])
    assert watcher(config, "check").exit_code == 0
    config = write_config([{**source, "selector": "#zoom"}])
    result = watcher(config, "reextract")
    assert result.exit_code == 0
    assert result.stdout.startswith("plan@1: hash changed")
    assert "re-extracted 1 of 1 versions; 1 with a new hash" in result.stderr
    assert "科技型中小企业" in watcher(config, "show", "plan@1").stdout
    unknown = watcher(config, "reextract", "nothing")
    assert unknown.exit_code == 2 and "no stored source named 'nothing'" in unknown.stderr


def reachable_hosts(urls: list[str], timeout: float = 3.0) -> list[str]:
    """The hosts of `urls` that accept a TCP connection from this machine (name lookup included)."""
    found = []
    for url in urls:
        parts = urlsplit(url)
        try:
            with socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), timeout):
                found.append(parts.hostname)
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_the_shipped_config_fails_cleanly_offline(tmp_path) -> None:
    """On a machine without internet every real source fails, each failure is recorded, exit 3."""
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "watcher.toml"
    shutil.copy(ROOT / "config" / "watcher.toml", config)
    settings = load_settings(str(config))
    online = reachable_hosts([s.url for s in settings.sources])
    if online:
        pytest.skip(f"this machine reaches {', '.join(online)}: the offline run cannot be observed here")
    process = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "check", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert settings.storage_path == str(tmp_path / "snapshots" / "watcher.db")
    assert process.returncode == 3, process.stderr
    results = json.loads(process.stdout)
    names = [s.name for s in settings.sources]
    assert [r["source"] for r in results] == names  # no attachment could be found
    assert all(r["status"] == "failed" and r["error"] for r in results)
    with Store(settings.storage_path) as store:
        recorded = {row.source: row for row in store.last_checks()}
        assert store.versions(names[0]) == []
    assert sorted(recorded) == sorted(names)
    assert all(recorded[r["source"]].status == "failed" and recorded[r["source"]].error == r["error"] for r in results)


# ---------------------------------------------------------------- text that looks like rich markup

MARKUP_TITLE = "[/]关于印发[b]科技创新[/b]规划的通知"
MARKUP_PAGE = (
    f'<html><head><meta name="ArticleTitle" content="{MARKUP_TITLE}"><title>规划</title></head>'
    "<body><div id='zoom'><p>一、发展基础</p><p>到2025年，力争科技型中小企业数达3700家。</p></div></body></html>"
)


def test_markup_in_names_errors_and_titles_is_printed_as_text(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", MARKUP_PAGE)
    config = write_config(
        [
            {"name": "[x]plan", "url": http_server.url("/plan.html"), "selector": "#zoom"},
            {"name": "gone", "url": http_server.url("/[/]gone.html")},  # its error holds "[/]"
        ]
    )
    checked = watcher(config, "check")
    assert checked.exit_code == 3, checked.output
    assert "internal error" not in checked.stderr
    assert "[/]gone.html: HTTP 404" in checked.stdout and "[x]plan" in checked.stdout

    listed = watcher(config, "sources")
    assert listed.exit_code == 0 and "[x]plan" in listed.stdout and "/[/]gone.html" in listed.stdout

    history = watcher(config, "history", "[x]plan")
    assert history.exit_code == 0, history.output
    assert MARKUP_TITLE in history.stdout and "versions of [x]plan" in history.stdout


def test_the_progress_bar_shows_names_as_text(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", MARKUP_PAGE)
    config = write_config([{"name": "[x]plan", "url": http_server.url("/plan.html"), "selector": "#zoom"}])
    # TTY_COMPATIBLE=1: rich takes stderr for a terminal, so `check` draws its progress bar.
    result = CliRunner().invoke(cli, ["--config", str(config), "check"], env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.output
    assert "[x]plan: new" in result.stderr


# ---------------------------------------------------------------- control characters in stored text

HOSTILE_TEXT = "一、发展基础\n到2025年\x1b[2J\x1b]0;pwned\x07，力争\r科技型中小企业数达\x9b31m3700家。\t表格"


def test_show_and_history_never_print_control_characters(tmp_path, write_config) -> None:
    """Versions stored before extraction stripped control characters are printed safely."""
    from watcher.model import Block, Document, Source

    config = write_config([{"name": "plan", "url": "https://example.org/plan.html"}])
    with Store(load_settings(str(config)).storage_path) as store:
        store.upsert_source(Source("plan", "https://example.org/plan.html"))
        store.add_version(
            "plan", Document((Block("paragraph", HOSTILE_TEXT),), title="规划\x1b[31m红"), sha256="h", raw=b"x"
        )
    shown = watcher(config, "show", "plan")
    assert shown.exit_code == 0
    assert shown.stdout == "一、发展基础\n到2025年[2J]0;pwned，力争\n科技型中小企业数达31m3700家。\t表格\n"
    history = watcher(config, "history", "plan")
    assert history.exit_code == 0 and "规划[31m红" in history.stdout
    for output in (shown.stdout, history.stdout):
        assert not any(char in output for char in "\x1b\x07\x9b\r")
