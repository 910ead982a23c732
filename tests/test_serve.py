"""`watcher serve` end to end: a database filled by real `watcher check` runs against a loopback
server, the view started as its own process on a free loopback port, and driven in headless
Chromium (Playwright) and by plain HTTP.

WATCHER_SCREENSHOTS=DIR makes the browser test save screenshots of the source list, a diff and a
ledger in DIR (README, development).
"""

from __future__ import annotations

import http.client
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from conftest import FAST_FETCH, PageServer, case_bytes, toml_value
from tools import need

from watcher.differ.ledger import ledger_history
from watcher.errors import ServeError
from watcher.store import Store
from watcher.web import serve

pytestmark = pytest.mark.slow

PLAN_OLD = case_bytes("haishu-target-prose-and-table", "old.txt")
PLAN_NEW = case_bytes("haishu-target-prose-and-table", "new.txt")  # 高新技术企业 500 → 600
HOSTILE = (
    "关于印发测试办法的通知\n\n第一条 为规范管理，制定本办法。\n\n"
    "第二条 页面中写有<script>window.pwned=1</script>字样的，按文本处理。\n"
).encode()
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _check(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


@dataclass
class View:
    base: str  # http://127.0.0.1:PORT
    database: Path
    config: Path


def _start_serve(config: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "serve", "--port", "0", *extra],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.5)
        if ready:
            line = process.stderr.readline()
            if "serving http://" in line:
                return process, line.split("serving ", 1)[1].split(" ", 1)[0].rstrip("/")
            if not line and process.poll() is not None:
                break
    process.kill()
    raise AssertionError(f"watcher serve did not start: {process.stderr.read()}")


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[View]:
    directory = tmp_path_factory.mktemp("serve")
    pages = PageServer().start()
    try:
        pages.set("/plan.txt", PLAN_OLD, content_type="text/plain; charset=utf-8")
        pages.set("/hostile.txt", HOSTILE, content_type="text/plain; charset=utf-8")
        lines = ["[storage]", 'path = "watcher.db"', "", "[fetch]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in FAST_FETCH.items()]
        for name in ("plan", "hostile"):
            lines += ["", "[[source]]", f'name = "{name}"', f"url = {toml_value(pages.url(f'/{name}.txt'))}"]
        lines += ["", "[report]", 'timezone = "Asia/Shanghai"']  # the view shows its times there
        config = directory / "watcher.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _check(config)
        pages.set("/plan.txt", PLAN_NEW, content_type="text/plain; charset=utf-8")
        _check(config)
    finally:
        pages.stop()
    process, base = _start_serve(config)
    try:
        yield View(base, directory / "watcher.db", config)
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def _request(view: View, method: str, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    where = urlsplit(view.base)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _versions(view: View, source: str) -> list[int]:
    with Store(view.database, read_only=True) as store:
        return [v.id for v in store.versions(source)]


# ---------------------------------------------------------------- in a browser


def test_the_view_in_headless_chromium(view: View, tmp_path: Path) -> None:
    chromium = need("chromium")
    from playwright.sync_api import ConsoleMessage, Error, Page, sync_playwright

    shots = os.environ.get("WATCHER_SCREENSHOTS")
    problems: list[str] = []

    def watch(page: Page) -> None:
        def console(message: ConsoleMessage) -> None:
            problems.append(f"console {message.type} on {page.url}: {message.text}")

        def error(exc: Error) -> None:
            problems.append(f"page error on {page.url}: {exc}")

        page.on("console", console)
        page.on("pageerror", error)

    def shot(page: Page, name: str) -> None:
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            watch(page)

            page.goto(view.base + "/")
            assert page.title() == "监测来源 · watcher"
            rows = page.locator("table.sources tbody tr")
            assert rows.count() == 2
            plan_row = rows.filter(has_text="plan")
            assert plan_row.locator("td.status").inner_text() == "新版本"
            assert plan_row.locator("td.num").nth(0).inner_text() == "2"
            shot(page, "sources")

            page.get_by_role("link", name="plan", exact=True).click()
            assert page.locator("h1").inner_text() == "来源：plan"
            timeline = page.locator("ol.timeline li")
            assert timeline.count() == 2
            assert "第 2 版" in timeline.nth(0).inner_text()  # newest first
            shot(page, "source")

            # the diff of the two versions, by the compare form
            old_id, new_id = _versions(view, "plan")
            page.select_option("select[name=old]", str(old_id))
            page.select_option("select[name=new]", str(new_id))
            page.get_by_role("button", name="比较").click()
            assert urlsplit(page.url).path == "/diff"
            changed = page.locator("table.targets tr.target_changed").filter(has_text="高新技术企业").first
            assert changed.locator("td.old").inner_text() == "≥500"
            assert changed.locator("td.new").inner_text() == "≥600"
            assert page.locator("table.targets ins").first.inner_text() == "600"
            shot(page, "diff")

            # the ledger: the indicator's old and new value, the new one marked changed
            page.goto(view.base + "/source?name=plan")
            page.get_by_role("link", name="目标台账（各版本指标）").click()
            line = page.locator("table.ledger tbody tr").filter(has_text="高新技术企业").filter(
                has=page.locator("td.changed")
            ).first
            cells = line.locator("td.num")
            assert cells.nth(0).inner_text() == "≥500家（2025年）"
            assert cells.nth(1).inner_text() == "≥600家（2025年）"
            assert "changed" in (cells.nth(1).get_attribute("class") or "")
            assert "changed" not in (cells.nth(0).get_attribute("class") or "")
            everything = page.locator("table.ledger tbody tr").count()
            page.get_by_role("link", name="只看有变化的指标").click()
            moving = page.locator("table.ledger tbody tr")
            assert 0 < moving.count() < everything
            assert moving.count() == page.locator("table.ledger tbody tr:has(td.changed)").count()
            shot(page, "ledger")

            # search in the current texts
            page.fill("input[name=q]", "科技型中小企业达到2800家")
            page.keyboard.press("Enter")
            page.wait_for_url("**/search?**")
            hits = page.locator("section.hit")
            assert hits.count() == 1 and "plan" in hits.first.locator("h2").inner_text()
            assert hits.first.locator("mark").first.inner_text() == "科技型中小企业达到2800家"

            # a document's <script> is text on the page, and never runs
            page.goto(view.base + "/search?q=" + quote("window.pwned"))
            assert "<script>window.pwned=1</script>" in page.locator("ul.hits").inner_text()
            assert page.evaluate("typeof window.pwned") == "undefined"

            # the raw file of the latest version, as served
            page.goto(view.base + "/source?name=plan")
            with page.expect_download() as caught:
                page.locator("ol.timeline li").nth(0).get_by_role("link", name="下载原始文件").click()
            download = caught.value
            assert download.suggested_filename == "plan@2.txt"
            saved = tmp_path / "raw.txt"
            download.save_as(saved)
            assert saved.read_bytes() == PLAN_NEW
        finally:
            browser.close()
    assert problems == []


# ---------------------------------------------------------------- over plain HTTP


def test_only_get_and_head_are_answered(view: View) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = _request(view, method, "/")
        assert status == 405 and headers["allow"] == "GET, HEAD"
    status, headers, body = _request(view, "HEAD", "/")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_unknown_sources_versions_and_pages_are_404(view: View) -> None:
    (latest,) = _versions(view, "hostile")
    for path in ("/source?name=nosuch", "/ledger?name=nosuch", f"/diff?old={latest}&new=99999", "/raw?id=99999", "/nosuch"):
        status, headers, body = _request(view, "GET", path)
        assert status == 404, path
        assert "未找到" in body.decode()
    assert _request(view, "GET", "/diff?old=x&new=1")[0] == 400


def test_document_text_is_escaped(view: View) -> None:
    status, headers, body = _request(view, "GET", "/search?q=" + quote("<script>"))
    page = body.decode()
    assert status == 200
    assert "<mark>&lt;script&gt;</mark>window.pwned=1&lt;/script&gt;" in page
    assert "<script" not in page
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert headers["x-content-type-options"] == "nosniff"


def test_a_raw_file_is_an_attachment_with_its_stored_type(view: View) -> None:
    (version,) = _versions(view, "hostile")
    status, headers, body = _request(view, "GET", f"/raw?id={version}")
    assert status == 200 and body == HOSTILE
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["content-disposition"].startswith('attachment; filename="hostile@1.txt"')
    assert headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]


def test_the_feed_is_served(view: View) -> None:
    import feedparser

    status, headers, body = _request(view, "GET", "/feed?name=plan")
    assert status == 200 and headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) == 1 and "plan 第2版" in parsed.entries[0].title
    assert len(feedparser.parse(_request(view, "GET", "/feed")[2]).entries) == 1  # hostile has one version
    assert _request(view, "GET", "/feed?name=nosuch")[0] == 404


def test_a_foreign_host_name_is_refused(view: View) -> None:
    # DNS rebinding: a page of evil.example whose name now points at 127.0.0.1
    status, _, _ = _request(view, "GET", "/", host="evil.example:80")
    assert status == 421
    assert _request(view, "GET", "/", host="localhost")[0] == 200


def test_the_database_is_opened_read_only(view: View) -> None:
    with Store(view.database, read_only=True) as store, pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.db.execute("DELETE FROM checks")


def test_a_non_loopback_host_is_refused_without_allow_remote(view: View) -> None:
    with pytest.raises(ServeError, match="--allow-remote"):
        serve(str(view.database), "0.0.0.0", 0)
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(view.config), "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "not a loopback address" in done.stderr


def test_serve_never_creates_a_database(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[storage]\npath = "none.db"\n\n[[source]]\nname = "a"\nurl = "http://127.0.0.1:9/"\n')
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "serve", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "run `watcher check` first" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_ledger_over_versions_follows_each_indicator(view: View) -> None:
    with Store(view.database, read_only=True) as store:
        old, new = (store.indicators(v) or () for v in _versions(view, "plan"))
    rows = ledger_history([old, new, new[1:]])  # a third version without the first indicator
    assert len(rows) == len(new)  # every indicator was found again in the next version
    assert rows[0][2] is None and all(r[2] is not None for r in rows[1:])
    moved = [r for r in rows if r[0] and r[1] and r[0].target.value != r[1].target.value]
    assert {(r[0].target.value, r[1].target.value) for r in moved if r[0] and r[1]} == {(500.0, 600.0)}


def test_times_are_shown_in_the_configured_zone(view: View) -> None:
    status, _, body = _request(view, "GET", "/source?name=plan")
    page = body.decode("utf-8")
    assert status == 200
    assert "(UTC+08:00)" in page  # [report] timezone
    assert "新版本" in page  # the check's status in the shared label
    with sqlite3.connect(view.database) as db:  # stored times stay UTC
        (stored,) = db.execute("SELECT fetched_at FROM versions ORDER BY id LIMIT 1").fetchone()
    assert stored.endswith(("Z", "+00:00"))
