"""New documents are news: an attachment a page gains, an entry a column page gains, each announced
once as document_added (in `watcher changes` and in the digest), and one that goes as
document_removed. Real pages on loopback, a real SQLite file, a real SMTP server."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import PageServer, case_bytes
from smtp_server import smtp_server

from watcher.check import check_all
from watcher.cli import cli
from watcher.config import load_settings
from watcher.errors import ConfigError
from watcher.model import Settings
from watcher.report.layout import byte_size, target_phrase
from watcher.store import Store

HAISHU = case_bytes("haishu-noise-page", "old.html")
DOCX = case_bytes("cixi-table-docx", "old.docx")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LINK_TEXT = "慈溪市科技创新“十四五”规划全文"
EMAIL = """
[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
from = "watcher@example.org"
to = ["analyst@example.org"]
"""


def with_link(page: bytes, link: str) -> bytes:
    # in the body of the notice, where a page names its attachments (附件：…)
    return page.replace(b'<div id="zoom">', f'<div id="zoom"><p>附件：{link}</p>'.encode(), 1)


def settings_of(write_config, sources, smtp_port: int | None = None, **fetch) -> Settings:
    path: Path = write_config(sources, fetch=fetch or None)
    if smtp_port is not None:
        path.write_text(path.read_text(encoding="utf-8") + EMAIL.format(port=smtp_port), encoding="utf-8")
    return load_settings(str(path))


def watcher(settings: Settings, *args: str):
    return CliRunner().invoke(cli, ["--config", settings.config_path, *args])


def kinds(store: Store, source: str) -> list[str]:
    return [c.kind for c in store.changes(source)]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# ---------------------------------------------------------------- attachments


def test_a_page_that_gains_an_attachment_announces_it_once_and_its_removal(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    http_server.set("/files/plan.docx", DOCX, content_type=DOCX_TYPE)
    with smtp_server() as server:
        settings = settings_of(
            write_config, [{"name": "plan", "url": http_server.url("/plan.html"), "attachments": True}], server.port
        )
        check_all(settings)  # the baseline: nothing to announce
        assert watcher(settings, "digest", "--send").exit_code == 0
        with Store(settings.storage_path) as store:
            assert kinds(store, "plan") == []

        http_server.set("/plan.html", with_link(HAISHU, f"<a href='/files/plan.docx'>{LINK_TEXT}</a>"))
        results = {r.source: r for r in check_all(settings)}
        assert results["plan/plan.docx"].status == "new"
        with Store(settings.storage_path) as store:
            added = [c for c in store.changes("plan") if c.kind == "document_added"]
            assert len(added) == 1 and added[0].substantive
            first = store.versions("plan/plan.docx")[0]
            ledger = [i for i in store.indicators(first.id) or () if i.target.role == "target"]
        assert len(ledger) > 5  # the table of the plan: more targets than a digest lists
        url = http_server.url("/files/plan.docx")

        listed = watcher(settings, "changes", "plan", "--format", "json")
        assert listed.exit_code == 0, listed.output
        (row,) = [r for r in json.loads(listed.stdout) if r["change"]["kind"] == "document_added"]
        document = row["change"]["document"]
        assert (document["title"], document["url"], document["size"]) == (LINK_TEXT, url, len(DOCX))
        assert [t["metric"] for t in document["targets"]] == [i.target.metric for i in ledger[:5]]
        assert document["total_targets"] == len(ledger) and document["source"] == "plan/plan.docx"

        text = watcher(settings, "changes", "plan")
        assert text.exit_code == 0
        assert f"new document: {LINK_TEXT}" in text.stdout
        assert f"{url} · {byte_size(len(DOCX))}" in text.stdout
        assert "targets: " + "; ".join(target_phrase(i.target) for i in ledger[:5]) in text.stdout
        assert f"(and {len(ledger) - 5} more)" in text.stdout
        # documents lead the report: before the page's own changed link line
        assert text.stdout.index("New and removed documents") < text.stdout.index("Changed clauses")

        sent = watcher(settings, "digest", "--send")
        assert sent.exit_code == 0, sent.output
        (message,) = server.inbox.messages
        assert "1 new document" in message["Subject"]
        plain, html = parts(message)
        assert f"new document: {LINK_TEXT}" in plain and byte_size(len(DOCX)) in plain
        assert target_phrase(ledger[0].target) in plain
        item = BeautifulSoup(html, "html.parser").select_one("li.document_added")
        assert item is not None
        assert item.a is not None and item.a["href"] == url and item.a.get_text() == LINK_TEXT
        assert byte_size(len(DOCX)) in item.get_text() and target_phrase(ledger[4].target) in item.get_text()

        # a run that finds the page and its attachment again announces nothing
        check_all(settings)
        assert watcher(settings, "digest", "--send").exit_code == 0
        assert len(server.inbox.messages) == 1
        with Store(settings.storage_path) as store:
            assert kinds(store, "plan").count("document_added") == 1

        http_server.set("/plan.html", HAISHU)  # the link is gone
        results = {r.source: r for r in check_all(settings)}
        assert "plan/plan.docx" not in results  # no longer checked
        with Store(settings.storage_path) as store:
            removed = [c for c in store.changes("plan") if c.kind == "document_removed"]
            assert len(removed) == 1 and removed[0].payload["document"]["url"] == url
        assert watcher(settings, "digest", "--send").exit_code == 0
        plain, html = parts(server.inbox.messages[-1])
        assert f"document removed: {LINK_TEXT}" in plain
        assert BeautifulSoup(html, "html.parser").select_one("li.document_removed") is not None


def test_attachments_a_page_has_on_its_first_check_are_its_baseline(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", with_link(HAISHU, "<a href='/files/plan.docx'>附件</a>"))
    http_server.set("/files/plan.docx", DOCX, content_type=DOCX_TYPE)
    settings = settings_of(write_config, [{"name": "plan", "url": http_server.url("/plan.html"), "attachments": True}])
    for _ in range(2):
        results = {r.source: r.status for r in check_all(settings)}
        assert set(results) == {"plan", "plan/plan.docx"}
    with Store(settings.storage_path) as store:
        assert kinds(store, "plan") == []
        assert [(d.url, d.baseline) for d in store.page_documents("plan")] == [(http_server.url("/files/plan.docx"), True)]


# ---------------------------------------------------------------- column pages


def listing(*links: tuple[str, str]) -> bytes:
    items = "".join(f"<li><a href='{href}'>{text}</a></li>" for href, text in links)
    return (
        "<html><head><meta charset='utf-8'><title>规划计划</title></head><body>"
        "<div class='nav'><a href='/'>首页</a><a href='/col/about.html'>关于本站的各项说明</a></div>"
        f"<h1>规划计划</h1><ul class='list'>{items}</ul></body></html>"
    ).encode()


OLD_ENTRY = ("/art/2025/1/art_1.html", "关于印发二〇二五年工作要点的通知")
NEW_ENTRY = ("/art/2026/3/art_2.html", "关于印发科技创新规划的通知")
OTHER = ("/news/2026/3/art_9.html", "区领导调研科技企业座谈会召开")


def test_a_column_page_that_gains_an_entry_watches_and_announces_it_once(http_server: PageServer, write_config) -> None:
    http_server.set("/col/plans.html", listing(OLD_ENTRY))
    for path, _ in (OLD_ENTRY, NEW_ENTRY, OTHER):
        http_server.set(path, HAISHU)
    source = {"name": "plans", "url": http_server.url("/col/plans.html"), "kind": "listing", "pattern": r"/art/\d{4}/"}
    settings = settings_of(write_config, [source])

    first = check_all(settings)  # the baseline: entries recorded, not fetched, not announced
    assert [r.source for r in first] == ["plans"]
    assert http_server.hits_of(OLD_ENTRY[0]) == []
    with Store(settings.storage_path) as store:
        (known,) = store.page_documents("plans")
        assert (known.url, known.title, known.baseline, known.watched) == (
            http_server.url(OLD_ENTRY[0]), OLD_ENTRY[1], True, False,
        )

    http_server.set("/col/plans.html", listing(NEW_ENTRY, OTHER, OLD_ENTRY))
    second = {r.source: r for r in check_all(settings)}
    assert second["plans/art_2.html"].status == "new"
    assert len(http_server.hits_of(NEW_ENTRY[0])) == 1
    assert http_server.hits_of(OTHER[0]) == [] and http_server.hits_of(OLD_ENTRY[0]) == []
    with Store(settings.storage_path) as store:
        assert store.latest("plans/art_2.html") is not None
        (added,) = [c for c in store.changes("plans") if c.kind == "document_added"]
        assert added.payload["document"]["title"] == NEW_ENTRY[1]
        assert added.payload["document"]["url"] == http_server.url(NEW_ENTRY[0])
        assert added.payload["document"]["size"] == len(HAISHU)
        assert {d.url for d in store.page_documents("plans")} == {http_server.url(p) for p, _ in (OLD_ENTRY, NEW_ENTRY)}

    third = {r.source: r for r in check_all(settings)}  # another run: checked again, not announced again
    assert third["plans/art_2.html"].status == "unchanged"
    assert len(http_server.hits_of(NEW_ENTRY[0])) == 2
    with Store(settings.storage_path) as store:
        assert kinds(store, "plans").count("document_added") == 1
    listed = watcher(settings, "changes", "plans")
    assert listed.exit_code == 0 and listed.stdout.count(f"new document: {NEW_ENTRY[1]}") == 1


def test_a_listing_takes_at_most_max_attachments_new_entries_a_check(http_server: PageServer, write_config) -> None:
    http_server.set("/col/plans.html", listing(OLD_ENTRY))
    fresh = [(f"/art/2026/4/art_10{n}.html", f"关于印发第{n}号专项规划的通知") for n in range(3)]
    for path, _ in fresh:
        http_server.set(path, HAISHU)
    source = {"name": "plans", "url": http_server.url("/col/plans.html"), "kind": "listing", "pattern": "/art/"}
    settings = settings_of(write_config, [source], max_attachments=2)
    check_all(settings)
    http_server.set("/col/plans.html", listing(*fresh, OLD_ENTRY))
    results = {r.source: r for r in check_all(settings)}
    assert sorted(name for name in results if name != "plans") == ["plans/art_100.html", "plans/art_101.html"]
    assert "new entries left for the next check" in (results["plans"].error or "")
    assert fresh[2][1] in (results["plans"].error or "")
    results = {r.source: r for r in check_all(settings)}  # the page is unchanged: the one left over is taken now
    assert "plans/art_102.html" in results and results["plans/art_102.html"].status == "new"
    with Store(settings.storage_path) as store:
        assert kinds(store, "plans").count("document_added") == 3


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ({"kind": "listing", "pattern": "/art/("}, "source[1].pattern", "invalid regular expression"),
        ({"pattern": "/art/"}, "source[1].pattern", "applies to a listing only"),
        ({"kind": "column"}, "source[1].kind", "must be one of"),
        ({"kind": "listing", "attachments": True}, "source[1].attachments", "does not apply to a listing"),
    ],
)
def test_a_listing_is_validated_in_the_config(write_config, extra, key, words) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of(write_config, [{"name": "plans", "url": "https://gov.example.cn/col/plans.html", **extra}])
    assert key in str(caught.value) and words in str(caught.value)


def test_after_an_upgrade_the_attachments_a_page_already_had_are_not_news(http_server: PageServer, write_config) -> None:
    link = "<a href='/files/plan.docx'>附件</a>"
    http_server.set("/plan.html", with_link(HAISHU, link))
    http_server.set("/files/plan.docx", DOCX, content_type=DOCX_TYPE)
    settings = settings_of(write_config, [{"name": "plan", "url": http_server.url("/plan.html"), "attachments": True}])
    check_all(settings)
    with Store(settings.storage_path) as store:  # as a database from before m0009 has them: empty
        store.db.execute("DELETE FROM documents")
        store.db.execute("DELETE FROM document_surveys")
        store.db.conn.commit()
    http_server.set("/plan.html", with_link(HAISHU, link + "；<a href='/files/plan.docx'>附件全文</a>"))
    results = {r.source: r for r in check_all(settings)}
    assert results["plan"].version_number == 2  # a later version of a page with a version: still its baseline
    with Store(settings.storage_path) as store:
        assert kinds(store, "plan").count("document_added") == 0
        assert [d.baseline for d in store.page_documents("plan")] == [True]


def test_an_entrys_title_is_text_in_the_digest_never_markup(http_server: PageServer, write_config, tmp_path) -> None:
    http_server.set("/col/plans.html", listing(OLD_ENTRY))
    http_server.set(NEW_ENTRY[0], HAISHU)
    source = {"name": "plans", "url": http_server.url("/col/plans.html"), "kind": "listing", "pattern": "/art/"}
    settings = settings_of(write_config, [source])
    check_all(settings)
    hostile = "&lt;script&gt;alert(1)&lt;/script&gt;关于印发规划的通知\x1b[2J"
    http_server.set("/col/plans.html", listing((NEW_ENTRY[0], hostile), OLD_ENTRY))
    check_all(settings)
    page = tmp_path / "digest.html"
    preview = watcher(settings, "digest", "--output", str(page))
    assert preview.exit_code == 0, preview.output
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;关于印发规划的通知" in html and "<script>" not in html
    text = watcher(settings, "changes", "plans").stdout
    assert "\x1b" not in html and "\x1b" not in text
    assert "new document: <script>alert(1)</script>关于印发规划的通知" in text
