"""watcher.check end to end on loopback: real pages, a real SQLite file, every fault of the issue."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from conftest import PageServer, case_bytes, lock_held_elsewhere, page_bytes

from watcher.attachments import attachment_sources
from watcher.budget import Workers
from watcher.check import budget_of, check_all, check_source, reextract
from watcher.config import load_settings
from watcher.digest import send_digest
from watcher.errors import ConfigError, LockedError
from watcher.fetch import Fetcher
from watcher.model import Document, EmailSettings, Source
from watcher.store import Store

HAISHU = case_bytes("haishu-noise-page", "old.html")
HAISHU_NOISE = case_bytes("haishu-noise-page", "new.html")  # same plan, other counter and links
HAISHU_NEW_MEASURE = case_bytes("haishu-new-measure-html", "new.html")  # one item inserted
DOCX_OLD = case_bytes("cixi-table-docx", "old.docx")
DOCX_NEW = case_bytes("cixi-table-docx", "new.docx")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def run(write_config, sources, **fetch):
    settings = load_settings(str(write_config(sources, fetch=fetch or None)))
    return settings, {r.source: r for r in check_all(settings)}


def test_a_second_check_of_unchanged_sources_stores_no_new_version(http_server: PageServer, write_config) -> None:
    http_server.set("/etag.html", HAISHU, etag='"v1"')
    http_server.set("/modified.html", HAISHU, last_modified="Wed, 19 Jan 2022 06:53:00 GMT")
    http_server.set("/plain.html", HAISHU)
    sources = [
        {"name": "etag", "url": http_server.url("/etag.html"), "selector": "#zoom"},
        {"name": "modified", "url": http_server.url("/modified.html"), "selector": "#zoom"},
        {"name": "plain", "url": http_server.url("/plain.html")},
    ]
    settings, first = run(write_config, sources)
    assert {name: r.status for name, r in first.items()} == {"etag": "new", "modified": "new", "plain": "new"}
    assert all(r.version_number == 1 for r in first.values())

    http_server.set("/plain.html", HAISHU_NOISE)  # a 200 whose document did not change
    second = {r.source: r for r in check_all(settings)}
    assert {name: r.status for name, r in second.items()} == {
        "etag": "unchanged", "modified": "unchanged", "plain": "unchanged",
    }
    assert second["etag"].http_status == 304 and second["modified"].http_status == 304
    assert second["plain"].http_status == 200
    assert http_server.hits_of("/etag.html")[1].headers["if-none-match"] == '"v1"'
    assert http_server.hits_of("/modified.html")[1].headers["if-modified-since"].startswith("Wed, 19 Jan 2022")
    with Store(settings.storage_path) as store:
        for name in ("etag", "modified", "plain"):
            assert len(store.versions(name)) == 1
            assert [c.status for c in store.checks(name)] == ["new", "unchanged"]
            assert store.checks(name)[1].version_id == store.versions(name)[0].id


def test_changing_one_page_yields_exactly_one_new_version_with_its_changes(
    http_server: PageServer, write_config
) -> None:
    http_server.set("/haishu.html", HAISHU)
    http_server.set("/gb.html", page_bytes("gb2312-plan.html"), content_type="text/html")
    http_server.set("/notice.html", page_bytes("notice.html"))
    sources = [
        {"name": "haishu", "url": http_server.url("/haishu.html"), "selector": "#zoom"},
        {"name": "gb", "url": http_server.url("/gb.html")},
        {"name": "notice", "url": http_server.url("/notice.html")},
    ]
    settings, _ = run(write_config, sources)
    http_server.set("/haishu.html", HAISHU_NEW_MEASURE)
    results = {r.source: r for r in check_all(settings)}
    assert {n: r.status for n, r in results.items()} == {"haishu": "new", "gb": "unchanged", "notice": "unchanged"}
    assert results["haishu"].version_number == 2 and results["haishu"].changes >= 1
    with Store(settings.storage_path) as store:
        assert [len(store.versions(n)) for n in ("haishu", "gb", "notice")] == [2, 1, 1]
        changes = store.changes("haishu")
        old, new = store.versions("haishu")
        assert changes and all(c.version_id == new.id and c.previous_id == old.id for c in changes)
        assert "measure_added" in {c.kind for c in changes if c.substantive}
        assert sum(c.substantive for c in changes) == results["haishu"].changes


def test_a_gb2312_page_without_charset_is_stored_as_correct_chinese(http_server: PageServer, write_config) -> None:
    http_server.set("/gb.html", page_bytes("gb2312-plan.html"), content_type="text/html")
    settings, results = run(write_config, [{"name": "gb", "url": http_server.url("/gb.html")}])
    assert results["gb"].status == "new"
    with Store(settings.storage_path) as store:
        text = store.resolve("gb").text
    assert "海曙区坚持创新驱动发展" in text and "面临形势" in text
    assert "\ufffd" not in text


def test_each_fault_is_recorded_and_the_other_sources_still_succeed(http_server: PageServer, write_config) -> None:
    http_server.set("/good.html", HAISHU)
    http_server.set("/slow.html", HAISHU, delay=2.0)
    http_server.set("/down.html", HAISHU, fail_first=100)
    http_server.set("/reset.html", HAISHU, fault="reset")
    http_server.set("/cut.html", HAISHU, fault="truncate")
    http_server.set("/huge.html", HAISHU * 4)
    http_server.set("/empty.html", b"")
    http_server.set("/image.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2000), content_type="image/png")
    http_server.set("/broken.docx", b"PK\x03\x04" + b"\0" * 500, content_type=DOCX_TYPE)
    http_server.set("/broken.pdf", b"%PDF-1.4\n" + b"garbage " * 200, content_type="application/pdf")
    names = ["good", "slow", "down", "reset", "cut", "huge", "empty", "image", "broken-docx", "broken-pdf", "missing"]
    paths = ["/good.html", "/slow.html", "/down.html", "/reset.html", "/cut.html", "/huge.html", "/empty.html",
             "/image.png", "/broken.docx", "/broken.pdf", "/missing.html"]
    sources = [{"name": n, "url": http_server.url(p)} for n, p in zip(names, paths, strict=True)]
    settings, results = run(write_config, sources, timeout=0.5, max_bytes=200_000, workers=6, per_host=6)
    expected = {
        "good": ("new", None),
        "slow": ("failed", "no answer within 0.5 s"),
        "down": ("failed", "HTTP 503"),
        "reset": ("failed", "connection reset"),
        "cut": ("failed", "truncated body"),
        "huge": ("failed", "size cap"),
        "empty": ("suspicious", "empty body"),
        "image": ("failed", None),
        "broken-docx": ("failed", None),
        "broken-pdf": ("failed", None),
        "missing": ("failed", "HTTP 404"),
    }
    for name, (status, message) in expected.items():
        result = results[name]
        assert result.status == status, (name, result)
        if status != "new":
            assert result.error, name
        if message:
            assert message in result.error, (name, result.error)
    assert results["down"].http_status == 503 and results["missing"].http_status == 404
    with Store(settings.storage_path) as store:
        recorded = {row.source: row for row in store.last_checks()}
        assert {n: recorded[n].status for n in names} == {n: s for n, (s, _) in expected.items()}
        assert all(recorded[n].error == results[n].error for n in names)
        assert [n for n in names if store.versions(n)] == ["good"]


def test_a_page_suddenly_a_fraction_of_its_size_is_suspicious_not_a_version(
    http_server: PageServer, write_config
) -> None:
    http_server.set("/plan.html", HAISHU, etag='"plan"')
    settings, _ = run(write_config, [{"name": "plan", "url": http_server.url("/plan.html")}])
    error_page = "<html><body><div class='main'><p>系统维护中，请稍后访问。</p></div></body></html>"
    http_server.set("/plan.html", error_page, etag='"maintenance"')
    (result,) = check_all(settings)
    assert result.status == "suspicious" and "under 30%" in result.error
    http_server.set("/plan.html", HAISHU, etag='"plan-again"')
    (result,) = check_all(settings)
    # The error page's validator is not reused, and the real page is the same version as before.
    assert http_server.hits_of("/plan.html")[2].headers.get("if-none-match") == '"plan"'
    assert result.status == "unchanged"
    with Store(settings.storage_path) as store:
        assert len(store.versions("plan")) == 1
        assert [c.status for c in store.checks("plan")] == ["new", "suspicious", "unchanged"]


def _paragraphs(page: bytes) -> list[str]:
    from watcher.extract import extract

    return [block.text for block in extract(page, content_type="text/html").blocks if block.kind == "paragraph"]


def test_an_error_page_stays_suspicious_however_often_it_comes(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    settings, _ = run(write_config, [{"name": "plan", "url": http_server.url("/plan.html")}], retries=0)
    soft_404 = "<html><body><div class='main'><h1>提示</h1><p>对不起，您访问的页面不存在或已被删除！</p></div></body></html>"

    def check(body: str | None):
        if body is None:
            http_server.set("/plan.html", "busy", status=500)
        else:
            http_server.set("/plan.html", body)
        (result,) = check_all(settings)
        return result

    results = [check(body) for body in (soft_404, soft_404, None, soft_404, soft_404, soft_404)]
    assert [r.status for r in results] == ["suspicious", "suspicious", "failed", "suspicious", "suspicious", "suspicious"]
    assert all("watcher accept plan" in r.error for r in results if r.status == "suspicious")
    with Store(settings.storage_path) as store:
        assert len(store.versions("plan")) == 1
        # the evidence of the last suspicious check is kept, one body per source
        last = store.checks("plan")[-1]
        assert store.evidence(last.id).body == soft_404.encode()
        assert store.db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 1
        # the digest says so where people look
        mail = EmailSettings(smtp_host="127.0.0.1", sender="w@example.org", to=("a@example.org",), security="none")
        outcome = send_digest(store, replace(settings, email=mail), dry_run=True)
        (digest,) = outcome.digests
        attention = digest.text.split("Needs attention", 1)[1]
        assert "plan: suspicious" in attention and "watcher accept plan" in attention
    # the page comes back: the same version as before, no change ever happened
    assert check(HAISHU.decode("utf-8")).status == "unchanged"


def test_a_document_that_really_shrank_is_a_version_at_once(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    settings, _ = run(write_config, [{"name": "plan", "url": http_server.url("/plan.html")}])
    kept = _paragraphs(HAISHU)[:3]  # the document lost most of its paragraphs, kept the first ones
    shrunk = "<html><body><div class='main'>" + "".join(f"<p>{p}</p>" for p in kept) + "</div></body></html>"
    http_server.set("/plan.html", shrunk)
    (result,) = check_all(settings)
    assert result.status == "new" and result.version_number == 2
    assert "stored although its text is under 30%" in result.error and "100% of it is in the last version" in result.error


def test_watcher_accept_takes_a_suspicious_body_on_purpose(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    settings, _ = run(write_config, [{"name": "plan", "url": http_server.url("/plan.html")}])
    notice = "<html><body><div class='main'><p>本规划已废止，不再执行。</p></div></body></html>"
    http_server.set("/plan.html", notice)
    (result,) = check_all(settings)
    assert result.status == "suspicious"
    cli = [sys.executable, "-m", "watcher", "--config", settings.config_path]
    accepted = subprocess.run([*cli, "accept", "plan"], capture_output=True, text=True, timeout=120)
    assert accepted.returncode == 0, accepted.stderr
    assert "plan@2" in accepted.stdout
    with Store(settings.storage_path) as store:
        assert "已废止" in store.resolve("plan@2").text
        assert store.changes("plan"), "the accepted version's changes are stored"
        assert "accepted by hand" in store.checks("plan")[-1].error
    again = subprocess.run([*cli, "accept", "plan"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "nothing to accept" in again.stderr and "Traceback" not in again.stderr
    (result,) = check_all(settings)
    assert result.status == "unchanged"


def test_a_body_already_read_as_the_latest_version_is_not_read_again(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)  # no validators: every check gets the whole body
    settings = load_settings(str(write_config([{"name": "plan", "url": http_server.url("/plan.html")}])))
    (source,) = settings.sources
    with Store(settings.storage_path) as store, Fetcher(settings.fetch) as fetcher, Workers(budget_of(settings)) as workers:

        def check(body: bytes, source: Source = source) -> str:
            http_server.set("/plan.html", body)
            return check_source(source, store, fetcher, settings, workers).status

        assert [check(HAISHU), check(HAISHU)] == ["new", "unchanged"]
        assert workers.jobs == 1  # the second body was not read
        assert [check(HAISHU_NOISE), check(HAISHU_NOISE), check(HAISHU)] == ["unchanged"] * 3
        assert workers.jobs == 2  # other bytes, the same document: read once
        # the same bytes read another way (a selector) are read again
        assert check(HAISHU, replace(source, selector="#zoom")) == "unchanged" and workers.jobs == 3
        assert [c.status for c in store.checks("plan")] == ["new"] + ["unchanged"] * 5
        assert len(store.versions("plan")) == 1


def test_attachments_are_snapshotted_as_their_own_sources(http_server: PageServer, write_config) -> None:
    docx_path = "/files/%E7%A7%91%E6%8A%80%E5%88%9B%E6%96%B0%E8%A7%84%E5%88%92.docx"  # 科技创新规划.docx
    http_server.set("/notice.html", page_bytes("notice.html"), etag='"n1"')
    http_server.set(docx_path, DOCX_OLD, content_type=DOCX_TYPE)
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True, "tags": ["cixi"]}
    settings, results = run(write_config, [source])
    attachment = "notice/科技创新规划.docx"
    assert list(results) == ["notice", attachment]
    assert results[attachment].status == "new"
    with Store(settings.storage_path) as store:
        stored = {row.name: row for row in store.sources()}
        assert stored[attachment].parent == "notice" and stored[attachment].tags == ("cixi",)
        assert "科技型中小企业" in store.resolve(attachment).text

    http_server.set(docx_path, DOCX_NEW, content_type=DOCX_TYPE)  # the Word file changed, the page did not
    results = {r.source: r for r in check_all(settings)}
    assert results["notice"].status == "unchanged" and results["notice"].http_status == 304
    assert results[attachment].status == "new" and results[attachment].version_number == 2
    with Store(settings.storage_path) as store:
        assert any(c.substantive for c in store.changes(attachment))


def test_a_web_page_cannot_make_watcher_read_local_files(http_server: PageServer, write_config, tmp_path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:机密内容:/root:/bin/bash\n", encoding="utf-8")
    local_docx = tmp_path / "local.docx"
    local_docx.write_bytes(DOCX_OLD)
    links = (
        f"<a href='{secret.as_uri()}'>规划全文.pdf</a> "  # the label says .pdf, the address is a local file
        f"<a href='{local_docx.as_uri()}'>附件</a> "
        "<a href='/files/plan.docx'>附件二</a>"
    )
    page = HAISHU.replace(b"</h1>", f"</h1><p>{links}</p>".encode())
    http_server.set("/notice.html", page)
    http_server.set("/files/plan.docx", DOCX_OLD, content_type=DOCX_TYPE)
    settings, results = run(write_config, [{"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}])
    assert list(results) == ["notice", "notice/plan.docx"]
    assert {r.status for r in results.values()} == {"new"}
    with Store(settings.storage_path) as store:
        assert [row.name for row in store.sources()] == ["notice", "notice/plan.docx"]
        assert not any("机密内容" in v.text for name in ("notice", "notice/plan.docx") for v in store.versions(name))


def test_attachments_stored_by_an_older_extractor_are_checked_again() -> None:
    document = Document(
        blocks=(),
        attachments=("file:///srv/secret.pdf", "http://gov.example.cn/a%0A%1B[2Jb@c.pdf", "https://gov.example.cn/plan.docx"),
    )
    web = Source(name="notice", url="http://gov.example.cn/notice.html", attachments=True)
    assert [(s.name, s.url) for s in attachment_sources(web, document)] == [
        ("notice/a__[2Jb_c.pdf", "http://gov.example.cn/a%0A%1B[2Jb@c.pdf"),  # no newline or escape in a name
        ("notice/plan.docx", "https://gov.example.cn/plan.docx"),
    ]
    local = Source(name="local", url="file:///srv/notice.html", attachments=True)
    assert [s.url for s in attachment_sources(local, document)] == ["file:///srv/secret.pdf"]


def test_only_attachments_watcher_can_read_are_checked_the_others_are_named(
    http_server: PageServer, write_config
) -> None:
    names = ["规划.zip", "规划.rar", "指标.7z", "指标二.zip", "文件.rar", "文件二.7z", "plan.docx"]
    links = " ".join(f"<a href='/files/{name}'>附件{n}</a>" for n, name in enumerate(names))
    http_server.set("/notice.html", HAISHU.replace(b"</h1>", f"</h1><p>{links}</p>".encode()))
    http_server.set("/files/plan.docx", DOCX_OLD, content_type=DOCX_TYPE)
    for name in names[:-1]:  # served, but watcher cannot read them: every run would fail
        http_server.set(f"/files/{name}", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, content_type="application/octet-stream")
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    settings, results = run(write_config, [source])
    assert list(results) == ["notice", "notice/plan.docx"]
    assert [r.status for r in results.values()] == ["new", "new"]
    note = results["notice"].error
    assert note.startswith("attachments not followed (a format watcher cannot read): 规划.zip, 规划.rar, 指标.7z")
    assert note.endswith("and 1 more")
    assert not any(http_server.hits_of(f"/files/{name}") for name in names[:-1])
    (again,) = [r for r in check_all(settings) if r.source == "notice"]
    assert again.status == "unchanged" and again.error == note


def test_file_urls_are_sources_too(tmp_path, write_config) -> None:
    page = tmp_path / "plan.html"
    page.write_bytes(HAISHU)
    settings, results = run(write_config, [{"name": "local", "url": page.as_uri(), "selector": "#zoom"}])
    assert results["local"].status == "new"
    page.write_bytes(HAISHU_NEW_MEASURE)
    (result,) = check_all(settings)
    assert result.status == "new" and result.version_number == 2


def test_named_sources_only_and_unknown_names(http_server: PageServer, write_config) -> None:
    http_server.set("/a.html", HAISHU)
    http_server.set("/b.html", HAISHU)
    path = write_config([{"name": "a", "url": http_server.url("/a.html")}, {"name": "b", "url": http_server.url("/b.html")}])
    settings = load_settings(str(path))
    assert [r.source for r in check_all(settings, ["b"])] == ["b"]
    assert http_server.hits_of("/a.html") == []
    with pytest.raises(ConfigError, match="no source named 'c'"):
        check_all(settings, ["c"])


def test_reextract_applies_the_current_selector_to_stored_bytes(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    source = {"name": "plan", "url": http_server.url("/plan.html"), "selector": "div.crumbs"}  # a wrong selector, fixed below
    settings, _ = run(write_config, [source])
    with Store(settings.storage_path) as store:
        before = store.resolve("plan")
    assert "科技型中小企业" not in before.text  # only the breadcrumbs were taken
    settings = load_settings(str(write_config([{**source, "selector": "#zoom"}])))
    hits = len(http_server.hits)
    (done,) = reextract(settings)
    assert done.changed and done.version.sha256 == before.sha256 and done.sha256 != before.sha256
    assert len(http_server.hits) == hits  # nothing fetched
    with Store(settings.storage_path) as store:
        after = store.resolve("plan")
    assert after.id == before.id and after.sha256 == done.sha256 and "科技型中小企业" in after.text
    (again,) = reextract(settings)
    assert not again.changed


def test_reextract_goes_on_after_a_version_the_extractor_fails_on(http_server: PageServer, write_config) -> None:
    # The selector of "a" is changed to one that names nothing on its stored page: its
    # re-extraction fails, and "b" is still re-extracted.
    http_server.set("/a.html", HAISHU)
    http_server.set("/b.html", HAISHU)
    sources = [
        {"name": "a", "url": http_server.url("/a.html"), "selector": "#zoom"},
        {"name": "b", "url": http_server.url("/b.html"), "selector": "#zoom"},
    ]
    settings, results = run(write_config, sources)
    assert {r.status for r in results.values()} == {"new"}
    with Store(settings.storage_path) as store:
        before = store.resolve("a")
    naming_nothing = {**sources[0], "selector": "#absent"}
    settings = load_settings(str(write_config([naming_nothing, sources[1]])))
    done = {item.version.source: item for item in reextract(settings)}
    assert set(done) == {"a", "b"}  # the failure of "a" did not stop the run
    assert done["a"].error == "the CSS selector '#absent' matches nothing on the page" and not done["a"].changed
    assert done["b"].error is None and done["b"].sha256 == done["b"].version.sha256
    with Store(settings.storage_path) as store:
        assert store.resolve("a").sha256 == before.sha256 and store.resolve("a").text == before.text


def _count_versions(database: str) -> int:
    if not os.path.exists(database):
        return 0
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


@pytest.mark.slow
def test_a_run_killed_at_any_point_leaves_the_database_consistent(http_server: PageServer, write_config) -> None:
    for n in range(24):
        http_server.set(f"/p{n}.html", HAISHU.replace(b"</h1>", f"</h1><p>第{n}号</p>".encode()), delay=0.2)
    sources = [{"name": f"p{n}", "url": http_server.url(f"/p{n}.html")} for n in range(24)]
    config = write_config(sources, fetch={"workers": 4, "per_host": 4})
    settings = load_settings(str(config))
    for kill_at in (2, 9):  # SIGKILL once this many versions are stored: mid-run, mid-write
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--config", str(config), "check"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while _count_versions(settings.storage_path) < kill_at and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
        conn = sqlite3.connect(settings.storage_path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
            assert kill_at <= stored < 24  # killed mid-run
            # a version is never stored without the check that found it
            orphans = conn.execute(
                "SELECT COUNT(*) FROM versions v WHERE NOT EXISTS "
                "(SELECT 1 FROM checks c WHERE c.version_id = v.id AND c.status = 'new')"
            ).fetchone()[0]
            assert orphans == 0
        finally:
            conn.close()
    results = check_all(settings)  # the next run finishes the job, storing nothing twice
    assert {r.status for r in results} <= {"new", "unchanged"}
    with Store(settings.storage_path) as store:
        assert all([v.number for v in store.versions(f"p{n}")] == [1] for n in range(24))
        assert sum(c.status == "new" for c in store.checks()) == 24


def test_check_all_holds_the_lock(tmp_path, write_config) -> None:
    page = tmp_path / "plan.html"
    page.write_bytes(HAISHU)
    settings = load_settings(str(write_config([{"name": "local", "url": page.as_uri()}])))
    with lock_held_elsewhere(settings.storage_path) as pid:
        with pytest.raises(LockedError, match=f"pid {pid}"):
            check_all(settings)
    with Store(settings.storage_path) as store:
        assert store.checks() == []  # nothing was written by the refused run
    assert [r.status for r in check_all(settings)] == ["new"]  # free again
