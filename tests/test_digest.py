"""Email digests: building (subject, bodies, recipients) and sending once through a real store and
a real SMTP server on loopback."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from sample_changes import DIFF, FORMATTING, MEASURE, NEW_MEASURE, SCRIPT, TARGET_CHANGE, store_sample
from smtp_server import Inbox, smtp_server

from watcher.cli import cli
from watcher.digest import FailedCheck, SourceChanges, build_digest, collect, recipient_sets, send_digest
from watcher.errors import DeliveryError
from watcher.model import (
    Block,
    Change,
    CheckResult,
    Diff,
    DigestSettings,
    Document,
    EmailRoute,
    EmailSettings,
    ReportSettings,
    Settings,
    Source,
)
from watcher.store import Store

CIXI = Source("cixi-plan", "https://www.cixi.gov.cn/art/2021/plan.html", title="慈溪市科技创新“十四五”规划", tags=("plans",))
HAISHU = Source("haishu-plan", "https://www.haishu.gov.cn/art/2022/plan.html", tags=("summaries",))


def settings(port: int = 25, *, send_empty: bool = False, routes=()) -> Settings:
    return Settings(
        config_path="/etc/watcher.toml",
        storage_path="/unused.db",
        sources=(CIXI, HAISHU),
        email=EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            security="none",
            sender="watcher@example.org",
            to=("analyst@example.org",),
            routes=tuple(routes),
            timeout=5.0,
        ),
        report=ReportSettings(language="en", timezone="UTC"),  # the wording asserted below
        digest=DigestSettings(send_empty=send_empty),
    )


def group(source: Source, changes, first_id: int = 1) -> SourceChanges:
    ids = tuple(range(first_id, first_id + len(changes)))
    return SourceChanges(source.name, source.title or source.name, source.url, tuple(changes), ids, source.tags)


# ---------------------------------------------------------------- building


def test_subject_counts_and_bodies_list_targets_and_measures():
    digest = build_digest([group(CIXI, DIFF.changes)], [], settings())
    assert digest is not None
    assert digest.subject == "[watcher] 1 plan changed: 1 target, 1 new measure, 2 changed clauses"
    assert digest.change_ids == (1, 2, 3, 4, 5)  # the hidden formatting change is covered too
    assert "| 科技型中小企业数 | ≥3700 | ≥4000 | 家   | 2025 | target changed |" in digest.text  # text.py's table
    assert NEW_MEASURE in digest.text and "https://www.cixi.gov.cn/art/2021/plan.html" in digest.text
    assert "积极推动科技企业双倍增" not in digest.text + digest.html  # formatting hidden

    soup = BeautifulSoup(digest.html, "lxml")
    cells = [td.get_text() for td in soup.select("table.targets td")]
    assert cells[:4] == ["科技型中小企业数", "≥3700", "≥4000", "家"]
    assert soup.find("a", href="https://www.cixi.gov.cn/art/2021/plan.html").get_text() == CIXI.title
    assert soup.find_all("script") == [] and SCRIPT not in digest.html
    assert "&lt;script&gt;" in digest.html


def test_nothing_of_substance_means_no_digest_unless_asked():
    only_formatting = [group(CIXI, [FORMATTING])]
    assert build_digest(only_formatting, [], settings()) is None
    assert build_digest([], [FailedCheck("haishu-plan", "failed", "HTTP 404")], settings()) is None
    digest = build_digest(only_formatting, [], settings(send_empty=True))
    assert digest is not None and digest.subject == "[watcher] 0 plans changed"
    assert "No changes of substance." in digest.text
    assert digest.change_ids == (1,)


def test_recipient_sets_follow_the_tag_routes_with_the_default_for_the_rest():
    routes = [
        EmailRoute(("plans",), ("plans-desk@example.org",)),
        EmailRoute(("ningbo",), ("ningbo-desk@example.org", "chief@example.org")),
        EmailRoute(("haishu",), ("plans-desk@example.org",)),  # the same set as the first
    ]
    config = settings(routes=routes)
    assert recipient_sets(("plans",), config) == (("plans-desk@example.org",),)
    assert recipient_sets(("plans", "ningbo", "haishu"), config) == (
        ("plans-desk@example.org",),
        ("ningbo-desk@example.org", "chief@example.org"),
    )
    assert recipient_sets(("summaries",), config) == (("analyst@example.org",),)
    assert recipient_sets((), config) == (("analyst@example.org",),)


def test_failing_sources_have_their_section():
    failures = [FailedCheck("haishu-plan", "suspicious", "body is 2% of the last version", "2026-11-21T06:00:02Z")]
    digest = build_digest([group(CIXI, [TARGET_CHANGE])], failures, settings())
    assert digest.subject.endswith("; 1 source failing")
    assert "haishu-plan: suspicious at 2026-11-21 06:00 (UTC+00:00): body is 2% of the last version" in digest.text
    rows = BeautifulSoup(digest.html, "lxml").select("table.failed tbody tr")
    assert [td.get_text() for td in rows[0].find_all("td")][:2] == ["haishu-plan", "suspicious"]


def test_each_failing_source_is_a_line_of_its_own_in_the_text_digest():
    failures = [
        FailedCheck("a", "failed", "boom", new=True),
        FailedCheck("b", "suspicious", "small", new=True),
    ]
    lines = build_digest([], failures, settings()).text.splitlines()
    assert "  - a: failed (new): boom" in lines
    assert "  - b: suspicious (new): small" in lines


def test_a_long_list_of_changes_is_capped_with_the_most_important_first():
    from watcher.report.layout import MAX_SHOWN_PER_SOURCE

    modified = [
        Change("clause_modified", ("一、总体要求",), f"第{n}句旧文。", f"第{n}句新文。") for n in range(MAX_SHOWN_PER_SOURCE + 10)
    ]
    digest = build_digest([group(CIXI, (*modified, TARGET_CHANGE))], [], settings())
    assert "科技型中小企业" in digest.text  # the target, listed last in the diff, is kept
    assert f"and 11 more changes of substance: `watcher changes {CIXI.name}`" in digest.text
    assert "and 11 more changes of substance" in digest.html
    assert f"{MAX_SHOWN_PER_SOURCE + 10} clauses modified" in digest.text  # the summary counts them all


def test_only_web_urls_become_links_and_are_escaped():
    odd = SourceChanges("odd", "标题", "javascript:alert(1)", (TARGET_CHANGE,), (1,))
    quoted = SourceChanges("quoted", "标题", 'https://example.gov.cn/a?x="><b>', (TARGET_CHANGE,), (2,))
    soup = BeautifulSoup(build_digest([odd, quoted], [], settings()).html, "lxml")
    assert [a["href"] for a in soup.find_all("a")] == ['https://example.gov.cn/a?x="><b>']
    assert soup.find_all("b") == []


def test_the_message_is_multipart_alternative_text_then_html():
    msg = build_digest([group(CIXI, DIFF.changes)], [], settings()).message()
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["To"] == "analyst@example.org" and msg["From"] == "watcher@example.org"
    assert msg["Message-ID"].endswith("@example.org>")
    assert "≥4000" in msg.get_body(("plain",)).get_content()


# ---------------------------------------------------------------- sending through the store


@pytest.fixture
def store(tmp_path):
    """A real snapshot database with two versions of the cixi plan and their stored changes."""
    with Store(tmp_path / "watcher.db") as db:
        store_sample(db, CIXI)
        yield db


def test_a_digest_is_delivered_once(store):
    with smtp_server() as server:
        first = send_digest(store, settings(server.port))
        again = send_digest(store, settings(server.port))
    assert first.status == "sent" and again.status == "nothing"
    [mail] = server.inbox.messages
    assert mail["Subject"] == "[watcher] 1 plan changed: 1 target, 1 new measure, 2 changed clauses"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "| ≥3700 | ≥4000 |" in text and "{+" + NEW_MEASURE + "+}" in text
    assert "≥3700" in html and "≥4000" in html and NEW_MEASURE in html
    assert [d.status for d in store.digests()] == ["sent"]
    assert store.changes(unsent_only=True) == []


def test_a_refused_digest_is_sent_on_the_next_run(store):
    with smtp_server(Inbox(refuse=1)) as server:
        with pytest.raises(DeliveryError, match="451"):
            send_digest(store, settings(server.port))
        assert len(store.changes(unsent_only=True)) == len(DIFF.changes)  # nothing lost
        retry = send_digest(store, settings(server.port))
        assert send_digest(store, settings(server.port)).status == "nothing"
    assert retry.status == "sent" and len(server.inbox.messages) == 1
    assert [(d.status, bool(d.error)) for d in store.digests()] == [("failed", True), ("sent", False)]


def test_dry_run_sends_and_records_nothing(store):
    with smtp_server() as server:
        outcome = send_digest(store, settings(server.port), dry_run=True)
    assert outcome.status == "dry_run" and "≥4000" in outcome.digests[0].text
    assert server.inbox.messages == [] and store.digests() == []


def test_collect_groups_changes_and_reads_failing_checks(store):
    store.upsert_source(HAISHU)
    store.add_check(CheckResult(HAISHU.name, "failed", error="HTTP 404"), started_at="2026-11-21T06:10:00Z")
    store.add_check(CheckResult(CIXI.name, "new"), started_at="2026-11-21T06:00:00Z")
    [audience] = collect(store, settings())
    assert audience.recipients == ("analyst@example.org",)
    assert [(g.source, g.title, g.url, g.changes) for g in audience.groups] == [
        (CIXI.name, CIXI.title, CIXI.url, DIFF.changes)
    ]
    assert audience.failures == (FailedCheck("haishu-plan", "failed", "HTTP 404", "2026-11-21T06:10:00Z", "", new=True),)


PLANS_DESK = EmailRoute(("plans",), ("plans-desk@example.org",))
# A sentence of the haishu plan (shared/corpus), reworded.
HAISHU_CHANGE = Change(
    "clause_modified",
    ("二、总体要求", "（二）发展目标"),
    "“海曙创新大道”成效显现，若干科创资源集聚节点各具特色。",
    "“海曙创新大道”全线贯通，若干科创资源集聚节点各具特色。",
    inline=(("=", "“海曙创新大道”"), ("-", "成效显现"), ("+", "全线贯通"), ("=", "，若干科创资源集聚节点各具特色。")),
)


@pytest.fixture
def two_sources(store):
    """The store fixture plus a stored change of the haishu plan, which no route takes."""
    store.upsert_source(HAISHU)
    old, new = (
        store.add_version(HAISHU.name, Document((Block("paragraph", text),)), sha256=text, raw=text.encode())
        for text in (HAISHU_CHANGE.old, HAISHU_CHANGE.new)
    )
    store.add_changes(new.id, old.id, Diff(DIFF.old, DIFF.new, (HAISHU_CHANGE,)))
    return store


def mails_by_recipient(server) -> dict[str, list]:
    found: dict[str, list] = {}
    for mail in server.inbox.messages:
        found.setdefault(mail["To"], []).append(mail)
    return found


def test_each_recipient_set_gets_only_the_sources_routed_to_it(two_sources):
    with smtp_server() as server:
        outcome = send_digest(two_sources, settings(server.port, routes=[PLANS_DESK]))
        assert send_digest(two_sources, settings(server.port, routes=[PLANS_DESK])).status == "nothing"
    assert outcome.status == "sent" and len(outcome.delivered) == 2
    mails = mails_by_recipient(server)
    assert sorted(mails) == ["analyst@example.org", "plans-desk@example.org"]
    [plans] = mails["plans-desk@example.org"]
    [analyst] = mails["analyst@example.org"]
    plans_text = plans.get_body(("plain",)).get_content()
    analyst_text = analyst.get_body(("plain",)).get_content()
    assert "≥4000" in plans_text and CIXI.title in plans_text
    assert HAISHU.name not in plans_text and "海曙创新大道" not in plans_text  # the summaries' change stays away
    assert "[-成效显现-]{+全线贯通+}" in analyst_text and HAISHU.name in analyst_text
    assert CIXI.title not in analyst_text and "≥4000" not in analyst_text
    assert plans["Subject"].startswith("[watcher] 1 plan changed: 1 target, 1 new measure")
    assert analyst["Subject"] == "[watcher] 1 plan changed: 1 changed clause"
    assert server.inbox.recipients == [[m["To"]] for m in server.inbox.messages]  # no one else in the envelope
    assert two_sources.changes(unsent_only=True) == []


def test_a_refused_digest_is_retried_only_for_its_recipients(two_sources):
    # A source with two routes goes to both sets: the first digest is refused, the second accepted.
    both = settings(routes=[PLANS_DESK, EmailRoute(("plans",), ("chief@example.org",))])
    with smtp_server(Inbox(refuse=1)) as server:
        config = settings(server.port, routes=both.email.routes)
        with pytest.raises(DeliveryError, match=r"digest to plans-desk@example\.org: .*451.*\(2 other digest\(s\) sent\)"):
            send_digest(two_sources, config)
        assert sorted(mails_by_recipient(server)) == ["analyst@example.org", "chief@example.org"]
        pending = two_sources.undelivered_changes()
        assert {r.source for r in pending} == {CIXI.name}  # the haishu change reached its only set
        assert all(r.sent_to == (("chief@example.org",),) for r in pending)
        retry = send_digest(two_sources, config)
        again = send_digest(two_sources, config)
    assert [d.digest.recipients for d in retry.delivered] == [("plans-desk@example.org",)]
    assert again.status == "nothing"
    mails = mails_by_recipient(server)
    assert {to: len(m) for to, m in mails.items()} == {
        "plans-desk@example.org": 1, "chief@example.org": 1, "analyst@example.org": 1,
    }
    assert "≥4000" in mails["plans-desk@example.org"][0].get_body(("plain",)).get_content()
    assert two_sources.undelivered_changes() == []


def test_the_failing_section_lists_configured_sources_and_their_attachments_only(store):
    attachment = Source(f"{CIXI.name}/plan.pdf", "https://www.cixi.gov.cn/files/plan.pdf")
    removed = Source("removed-plan", "https://example.gov.cn/gone.html")
    store.upsert_source(attachment, parent=CIXI.name)
    store.upsert_source(removed)
    for source in (CIXI, attachment, removed):
        store.add_check(CheckResult(source.name, "failed", error="HTTP 404"), started_at="2026-11-21T06:00:00Z")
    [audience] = collect(store, settings())
    assert [f.source for f in audience.failures] == [CIXI.name, attachment.name]
    digest = build_digest(audience.groups, audience.failures, settings())
    assert "removed-plan" not in digest.text + digest.html
    assert f"{attachment.name}: failed (new)" in digest.text


def test_an_attachment_its_page_no_longer_leads_to_is_not_failing(store):
    attachment = Source(f"{CIXI.name}/old.doc", "https://www.cixi.gov.cn/files/old.doc")
    store.upsert_source(CIXI)
    store.upsert_source(attachment, parent=CIXI.name)
    store.add_check(CheckResult(CIXI.name, "unchanged"), started_at="2026-11-20T06:00:00Z")
    store.add_check(CheckResult(attachment.name, "failed", error="legacy .doc"), started_at="2026-11-20T06:00:01Z")
    [audience] = collect(store, settings())
    assert [f.source for f in audience.failures] == [attachment.name]
    # the page is checked again and the attachment is not (no longer linked, or no longer followed)
    store.add_check(CheckResult(CIXI.name, "unchanged"), started_at="2026-11-21T06:00:00Z")
    [audience] = collect(store, settings())
    assert audience.failures == ()


def check(store: Store, source: Source, status: str, at: str) -> None:
    store.add_check(CheckResult(source.name, status, error="HTTP 404" if status == "failed" else None), started_at=at)


def test_a_new_failure_is_news_once(tmp_path):
    routes = [PLANS_DESK]
    with Store(tmp_path / "w.db") as db, smtp_server() as server:
        db.upsert_source(CIXI)
        db.upsert_source(HAISHU)
        check(db, CIXI, "unchanged", "2026-11-20T06:00:00Z")
        check(db, HAISHU, "unchanged", "2026-11-20T06:00:00Z")
        assert send_digest(db, settings(server.port, routes=routes)).status == "nothing"

        check(db, CIXI, "failed", "2026-11-21T06:00:00Z")  # the plans source fails: news for its desk only
        first = send_digest(db, settings(server.port, routes=routes))
        assert [d.recipients for d in first.digests] == [("plans-desk@example.org",)]
        assert first.digests[0].subject == "[watcher] 1 source failing"

        check(db, CIXI, "failed", "2026-11-22T06:00:00Z")  # still failing: already reported
        assert send_digest(db, settings(server.port, routes=routes)).status == "nothing"

        check(db, CIXI, "unchanged", "2026-11-23T06:00:00Z")
        check(db, CIXI, "suspicious", "2026-11-24T06:00:00Z")  # back, then wrong again: news again
        check(db, HAISHU, "failed", "2026-11-24T06:00:00Z")
        second = send_digest(db, settings(server.port, routes=routes))
        assert sorted(d.recipients for d in second.digests) == [("analyst@example.org",), ("plans-desk@example.org",)]
        assert send_digest(db, settings(server.port, routes=routes)).status == "nothing"
    mails = mails_by_recipient(server)
    assert len(mails["plans-desk@example.org"]) == 2 and len(mails["analyst@example.org"]) == 1
    text = mails["plans-desk@example.org"][1].get_body(("plain",)).get_content()
    assert f"{CIXI.name}: suspicious (new) at 2026-11-24 06:00 (UTC+00:00)" in text and HAISHU.name not in text


def test_a_failure_already_reported_is_listed_but_not_new(store):
    check(store, CIXI, "failed", "2026-11-21T06:00:00Z")
    with smtp_server() as server:
        send_digest(store, settings(server.port))  # the changes and the new failure
        store.add_changes(*[v.id for v in reversed(store.versions(CIXI.name))], Diff(DIFF.old, DIFF.new, (MEASURE,)))
        check(store, CIXI, "failed", "2026-11-22T06:00:00Z")
        later = send_digest(store, settings(server.port))
    [digest] = later.digests
    assert digest.subject == "[watcher] 1 plan changed: 1 new measure; 1 source failing"
    assert f"{CIXI.name}: failed at 2026-11-22 06:00 (UTC+00:00): HTTP 404" in digest.text  # no "(new)"


def test_only_formatting_stored_sends_nothing(tmp_path):
    with Store(tmp_path / "w.db") as db, smtp_server() as server:
        db.upsert_source(CIXI)
        a, b = (db.add_version(CIXI.name, Document(()), sha256=s, raw=b"x") for s in "ab")
        db.add_changes(b.id, a.id, Diff(DIFF.old, DIFF.new, (FORMATTING,)))
        assert send_digest(db, settings(server.port)).status == "nothing"
    assert server.inbox.messages == []


# ---------------------------------------------------------------- the CLI: watcher digest, watcher changes


def write_config(folder, smtp_port: int = 25, extra: str = "") -> str:
    path = folder / "watcher.toml"
    path.write_text(
        f"""
[storage]
path = "watcher.db"

[[source]]
name = "{CIXI.name}"
title = "{CIXI.title}"
url = "{CIXI.url}"
tags = ["plans"]

[[source]]
name = "{HAISHU.name}"
url = "{HAISHU.url}"
tags = ["summaries"]

[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
security = "none"
from = "watcher@example.org"
to = ["analyst@example.org"]
{extra}
""",
        encoding="utf-8",
    )
    return str(path)


def watcher(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_digest_previews_then_sends_once(store, tmp_path):
    with smtp_server() as server:
        config = write_config(tmp_path, server.port)
        preview = watcher("--config", config, "digest", "--lang", "en")
        assert preview.exit_code == 0, preview.output
        assert preview.stdout.startswith("To: analyst@example.org\nSubject: [watcher] 1 plan changed: 1 target")
        chinese = watcher("--config", config, "digest").stdout  # the default language
        assert chinese.startswith("To: analyst@example.org\nSubject: [watcher] 1 个规划有变化：目标 1 项")
        assert server.inbox.messages == [] and store.digests() == []

        sent = watcher("--config", config, "digest", "--send", "--output", str(tmp_path / "d.eml"))
        again = watcher("--config", config, "digest", "--send")
    assert sent.exit_code == 0 and "sent digest 1 to analyst@example.org" in sent.stderr
    assert again.exit_code == 0 and "nothing of substance" in again.stderr
    assert len(server.inbox.messages) == 1
    saved = message_from_bytes((tmp_path / "d.eml").read_bytes(), policy=policy.default)
    assert saved["Message-ID"] == server.inbox.messages[0]["Message-ID"]  # the very message sent
    assert saved.get_content_type() == "multipart/alternative"


def test_cli_digest_send_failure_exits_2_and_keeps_the_changes(store, tmp_path):
    with smtp_server(Inbox(refuse=1)) as server:
        config = write_config(tmp_path, server.port)
        failed = watcher("--config", config, "digest", "--send")
        retried = watcher("--config", config, "digest", "--send")
    assert failed.exit_code == 2 and "451" in failed.stderr
    assert retried.exit_code == 0 and len(server.inbox.messages) == 1


def test_cli_digest_writes_html_and_checks_the_output_name(store, tmp_path):
    config = write_config(tmp_path)
    page = tmp_path / "digest.html"
    assert watcher("--config", config, "digest", "--output", str(page)).exit_code == 0
    assert "≥4000" in page.read_text(encoding="utf-8") and "&lt;script&gt;" in page.read_text(encoding="utf-8")
    assert watcher("--config", config, "digest", "--output", str(tmp_path / "d.txt")).exit_code == 2


def test_cli_changes_lists_stored_changes(store, tmp_path):
    config = write_config(tmp_path)
    listed = watcher("--config", config, "changes", CIXI.name, "--format", "json")
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [r["change"]["kind"] for r in rows] == [c.kind for c in DIFF.changes]
    assert rows[0]["change"]["target"]["new"]["value"] == 4000

    text = watcher("--config", config, "changes", "--since", "1d")
    assert text.exit_code == 0 and "cixi-plan@1 → cixi-plan@2" in text.stdout and "≥4000" in text.stdout
    future = watcher("--config", config, "changes", "--since", "2999-01-01")
    assert future.exit_code == 0 and future.stdout == "" and "no stored changes" in future.stderr
    assert watcher("--config", config, "changes", "--since", "last week").exit_code == 2


ROUTE = '[[email.route]]\ntags = ["plans"]\nto = ["plans-desk@example.org"]\n'


def test_cli_digest_one_per_recipient_set(two_sources, tmp_path):
    with smtp_server() as server:
        config = write_config(tmp_path, server.port, ROUTE)
        preview = watcher("--config", config, "digest")
        assert preview.exit_code == 0, preview.output
        blocks = preview.stdout.split("To: ")[1:]
        assert [b.splitlines()[0] for b in blocks] == ["plans-desk@example.org", "analyst@example.org"]
        assert "≥4000" in blocks[0] and "海曙创新大道" not in blocks[0]
        assert "海曙创新大道" in blocks[1] and "≥4000" not in blocks[1]

        sent = watcher("--config", config, "digest", "--send", "--output", str(tmp_path / "d.eml"))
    assert sent.exit_code == 0, sent.output
    assert "to plans-desk@example.org" in sent.stderr and "to analyst@example.org" in sent.stderr
    # one file per recipient set, each named in a message
    assert f"wrote {tmp_path / 'd-1.eml'} (the digest to plans-desk@example.org)" in sent.stderr
    assert f"wrote {tmp_path / 'd-2.eml'} (the digest to analyst@example.org)" in sent.stderr
    saved = [message_from_bytes((tmp_path / f"d-{n}.eml").read_bytes(), policy=policy.default) for n in (1, 2)]
    assert [m["Message-ID"] for m in saved] == [m["Message-ID"] for m in server.inbox.messages]
    assert not (tmp_path / "d.eml").exists()


def test_the_text_digest_has_no_control_characters():
    hostile = Change("clause_added", ("二、总体要求",), None, "坚持创新\x1b[2J驱动\x07。")
    odd = SourceChanges("plan", "规划\x1b]0;x\x07", "https://example.gov.cn/\x1b[5m", (hostile,), (1,))
    failure = FailedCheck("gone", "failed", "HTTP 404 \x1b[31mNot Found\r", new=True)
    digest = build_digest([odd], [failure], settings())
    for body in (digest.text, digest.html):
        assert not any(char in body for char in "\x1b\x07\r")
    assert "坚持创新[2J驱动。" in digest.text and "HTTP 404 [31mNot Found" in digest.text


def test_the_text_digest_shows_each_source_as_the_text_report_does(english):
    from watcher.report.layout import arrange
    from watcher.report.text import render_body

    digest = build_digest([group(CIXI, DIFF.changes)], [], settings())
    assert render_body(arrange(DIFF.changes)) in digest.text
