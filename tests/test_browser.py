"""The browser fetch and blocked pages, end to end on loopback: real Chromium (Debian's), real
pages served by the test, a real SQLite file.

Pages whose text a script writes are written from character codes, so that the text is nowhere
in the HTML as served: only a browser that ran the script can read it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import pytest
from conftest import PageServer
from tools import need

from watcher.challenge import challenge_in
from watcher.check import check_all
from watcher.config import load_settings
from watcher.digest import send_digest
from watcher.model import EmailSettings
from watcher.store import Store

TEXT = (
    "第一条 为了规范政策文件的发布和解读，提高政府工作的透明度，根据有关法律法规，结合本地实际，制定本办法。"
    "第二条 本办法适用于本级行政机关制定并公开发布的规划、计划、方案和工作总结。"
    "第三条 本办法自发布之日起施行，有效期五年。"
)
BROWSER = {"browser_timeout": 15.0, "browser_settle": 1.0}


def written_by_script(text: str = TEXT) -> str:
    """A page whose body is empty until its script writes `text` into it."""
    codes = ",".join(str(ord(char)) for char in text)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>通知</title></head><body>"
        "<div id='content'></div>"
        f"<script>document.getElementById('content').innerHTML = '<p>' + String.fromCharCode({codes}) + '</p>';</script>"
        "</body></html>"
    )


CHALLENGE_412 = (
    "<html><head><script>var seed = 'a8f3'; function check(v) { return v.split('').reverse().join(''); }"
    " document.cookie = 'token=' + check(seed);</script></head><body></body></html>"
)
ASKS_FOR_JAVASCRIPT = (
    "<html><head><meta charset='utf-8'></head><body><noscript>请开启JavaScript并刷新该页</noscript>"
    "<script>var t = Date.now(); var k = (t * 7) % 13;</script></body></html>"
)


def settings_for(write_config, sources, storage="watcher.db", **fetch):
    return load_settings(str(write_config(sources, fetch={**BROWSER, **fetch}, storage=storage)))


def checked(settings):
    return {r.source: r for r in check_all(settings)}


def stored_text(settings, name: str) -> str:
    with Store(settings.storage_path) as store:
        (version,) = store.versions(name)
        return version.text


@pytest.fixture
def chromium() -> str:
    return need("chromium")


def test_a_page_written_by_javascript_reads_in_the_browser(chromium, http_server: PageServer, write_config) -> None:
    http_server.set("/js.html", written_by_script())
    assert "为了规范".encode() not in http_server.routes["/js.html"].body  # only the script has it
    settings = settings_for(write_config, [{"name": "js", "url": http_server.url("/js.html"), "fetch": "browser"}])
    result = checked(settings)["js"]
    assert result.status == "new", result.error
    assert TEXT in stored_text(settings, "js")
    # a browser fetch sends no validators and reads the page once, with its scripts
    assert [hit.path for hit in http_server.hits if hit.path != "/robots.txt"] == ["/js.html"]
    assert "if-none-match" not in http_server.hits_of("/js.html")[0].headers


def test_a_script_only_page_fetched_plainly_is_retried_in_the_browser(
    chromium, http_server: PageServer, write_config
) -> None:
    http_server.set("/js.html", written_by_script())
    settings = settings_for(write_config, [{"name": "js", "url": http_server.url("/js.html")}])
    result = checked(settings)["js"]
    assert result.status == "new", result.error
    assert "only a script" in (result.error or "") and "read in a browser" in (result.error or "")
    assert TEXT in stored_text(settings, "js")
    assert len(http_server.hits_of("/js.html")) == 2  # plainly, then in the browser


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [(CHALLENGE_412, 412, "only a script"), (ASKS_FOR_JAVASCRIPT, 200, "开启javascript")],
    ids=["412-with-a-script", "200-asking-for-javascript"],
)
def test_a_challenge_that_stays_one_in_the_browser_is_blocked(
    chromium, http_server: PageServer, write_config, body: str, status: int, said: str
) -> None:
    http_server.set("/plan.html", body, status=status)
    settings = settings_for(write_config, [{"name": "plan", "url": http_server.url("/plan.html")}])
    result = checked(settings)["plan"]
    assert result.status == "blocked", result.error
    assert result.http_status == status
    assert said in result.error and "in the browser too" in result.error
    assert len(http_server.hits_of("/plan.html")) == 2
    with Store(settings.storage_path) as store:
        assert store.versions("plan") == []  # never a version
        assert store.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0  # nothing to accept
        mail = EmailSettings(smtp_host="127.0.0.1", sender="w@example.org", to=("a@example.org",), security="none")
        (digest,) = send_digest(store, replace(settings, email=mail), dry_run=True).digests
        assert "plan: blocked (new)" in digest.text.split("Needs attention", 1)[1]
        assert "1 source failing" in digest.subject
    assert checked(settings)["plan"].status == "blocked"  # and again, never an empty-document change


def test_the_browser_reaches_no_other_internal_address_than_the_sources(
    chromium, http_server: PageServer, write_config
) -> None:
    other = PageServer().start()  # another port of this machine: the page may not lead there
    try:
        other.set("/secret", "内部", headers={"Access-Control-Allow-Origin": "*"})
        http_server.set("/go", b"", status=302, headers={"Location": other.url("/secret")})
        script = (
            f"fetch('{other.url('/secret')}').catch(() => null);"
            "fetch('/go').catch(() => null);"
            f"var s = document.createElement('script'); s.src = '{other.url('/s.js')}'; document.head.appendChild(s);"
        )
        page = written_by_script().replace("</body>", f"<script>{script}</script></body>")
        http_server.set("/js.html", page)
        sources = [{"name": "js", "url": http_server.url("/js.html"), "fetch": "browser"}]
        result = checked(settings_for(write_config, sources))["js"]
        assert result.status == "new", result.error
        assert len(http_server.hits_of("/go")) == 1  # the page's own host and port: allowed
        assert other.hits == []  # directly, by a redirect, as a script: never
        # allowed on purpose, the same page reaches it: the test sees what it says it sees
        allowed = settings_for(write_config, sources, allow_internal=[other.base.removeprefix("http://")])
        checked(allowed)
        assert {hit.path for hit in other.hits} >= {"/secret", "/s.js"}
    finally:
        other.stop()


def test_a_page_that_never_finishes_loading_hits_the_time_bound(
    chromium, http_server: PageServer, write_config
) -> None:
    http_server.set("/slow.html", written_by_script(), delay=30)
    settings = settings_for(
        write_config, [{"name": "slow", "url": http_server.url("/slow.html"), "fetch": "browser"}], browser_timeout=2.0
    )
    started = time.monotonic()
    result = checked(settings)["slow"]
    assert time.monotonic() - started < 15
    assert result.status == "failed" and "did not load within 2 s" in result.error


def test_a_script_that_holds_the_page_hits_the_time_bound(chromium, http_server: PageServer, write_config) -> None:
    http_server.set("/busy.html", written_by_script().replace("</body>", "<script>setTimeout(() => { while (true) {} }, 10)</script></body>"))
    settings = settings_for(write_config, [{"name": "busy", "url": http_server.url("/busy.html"), "fetch": "browser"}])
    started = time.monotonic()
    result = checked(settings)["busy"]
    assert time.monotonic() - started < 20
    assert result.status == "failed" and "kept it busy" in result.error


def test_a_rendered_page_over_the_size_cap_is_refused(chromium, http_server: PageServer, write_config) -> None:
    # 20,000 characters written by the script: over a 16 KB cap the served page is well under
    page = written_by_script().replace("</body>", "<script>document.body.append('政'.repeat(20000));</script></body>")
    http_server.set("/big.html", page)
    sources = [{"name": "big", "url": http_server.url("/big.html"), "fetch": "browser"}]
    result = checked(settings_for(write_config, sources, max_bytes=16 * 1024))["big"]
    assert result.status == "failed" and "exceeds the size cap" in result.error


def test_what_a_page_downloads_is_capped_with_max_bytes(chromium, http_server: PageServer, write_config) -> None:
    http_server.set("/big.txt", "政" * 100_000, content_type="text/plain; charset=utf-8")  # 300 KB
    script = (
        "var n = document.createElement('p'); document.getElementById('content').appendChild(n);"
        "fetch('/big.txt').then(r => r.text())"
        ".then(t => { n.textContent = '下载长度' + t.length; }).catch(() => { n.textContent = '下载中断'; });"
    )
    page = written_by_script().replace("</body>", f"<script>{script}</script></body>")
    http_server.set("/page.html", page)
    sources = [{"name": "page", "url": http_server.url("/page.html"), "fetch": "browser"}]
    capped = settings_for(write_config, sources, max_bytes=128 * 1024)
    assert checked(capped)["page"].status == "new"
    assert "下载中断" in stored_text(capped, "page")
    roomy = settings_for(write_config, sources, storage="roomy.db")
    assert checked(roomy)["page"].status == "new"
    assert "下载长度100000" in stored_text(roomy, "page")


def test_without_chromium_a_browser_source_fails_and_a_challenge_is_blocked(http_server: PageServer, write_config) -> None:
    http_server.set("/js.html", written_by_script())
    sources = [
        {"name": "browser", "url": http_server.url("/js.html"), "fetch": "browser"},
        {"name": "plain", "url": http_server.url("/js.html")},
    ]
    results = checked(settings_for(write_config, sources, chromium="/nonexistent/chromium"))
    assert results["browser"].status == "failed"
    assert "apt-get install chromium" in results["browser"].error
    assert results["plain"].status == "blocked"
    assert "only a script" in results["plain"].error and "not retried in a browser" in results["plain"].error


def test_without_playwright_the_error_names_the_extra_to_install(
    http_server: PageServer, write_config, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # as if it were not installed
    http_server.set("/js.html", written_by_script())
    sources = [{"name": "browser", "url": http_server.url("/js.html"), "fetch": "browser"}]
    result = checked(settings_for(write_config, sources))["browser"]
    assert result.status == "failed"
    assert "needs Playwright" in result.error and "pip install 'watcher[browser]'" in result.error


# ---------------------------------------------------------------- what is a challenge (no browser)


def test_challenge_cues_and_structure() -> None:
    notice = "<html><body><h1>通知</h1><p>" + "关于做好年度工作的通知，请各单位认真贯彻落实。" * 8 + "</p>"
    analytics = "<script>var _hmt = _hmt || []; (function() { var hm = document.createElement('script'); })();</script>"
    assert challenge_in((notice + analytics + "</body></html>").encode()) is None
    assert challenge_in(b"<html><body><h1>403 Forbidden</h1><hr><center>nginx</center></body></html>", 403) is None
    assert challenge_in(b"<html><body><h1>Not Found</h1></body></html>", 404) is None
    waf = "<html><body><h1>您的访问已被拦截</h1><p>网站防火墙检测到可疑请求。</p></body></html>"
    assert "challenge or block page" in (challenge_in(waf.encode(), 403) or "")
    assert "only a script" in (challenge_in(CHALLENGE_412.encode(), 412) or "")
    assert "开启javascript" in (challenge_in(ASKS_FOR_JAVASCRIPT.encode()) or "")
    # a long document that mentions a cue is a document
    long_page = "<html><body><p>" + "登录时须输入验证码，" * 60 + "</p></body></html>"
    assert challenge_in(long_page.encode()) is None


def test_config_fetch_modes(write_config) -> None:
    from watcher.errors import ConfigError

    assert settings_for(write_config, [{"name": "a", "url": "https://example.org/", "fetch": "browser"}]).sources[0].fetch == "browser"
    with pytest.raises(ConfigError, match=r"source\[1\]\.fetch: must be one of plain, browser"):
        settings_for(write_config, [{"name": "a", "url": "https://example.org/", "fetch": "chrome"}])
    with pytest.raises(ConfigError, match="file://"):
        settings_for(write_config, [{"name": "a", "url": "file:///tmp/x.html", "fetch": "browser"}])


def test_a_blocked_source_in_the_commands(http_server: PageServer, write_config) -> None:
    from click.testing import CliRunner

    from watcher.cli import cli

    http_server.set("/plan.html", CHALLENGE_412, status=412)
    config = write_config([{"name": "plan", "url": http_server.url("/plan.html")}], fetch={"chromium": "/nonexistent/chromium"})
    checked_run = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert checked_run.exit_code == 3  # as for a failure: someone has to look
    assert "BLOCKED" in checked_run.output and "blocked: 1" in checked_run.output
    listed = CliRunner().invoke(cli, ["--config", str(config), "sources"])
    assert listed.exit_code == 0 and "blocked" in listed.output
