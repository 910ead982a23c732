"""watcher.changes (stored changes as Diffs, the --since time) and watcher.sources (what
`watcher sources` lists), on real SQLite files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sample_changes import DIFF, FORMATTING, MEASURE, TARGET_CHANGE

from watcher.changes import parse_since, stored_diffs
from watcher.model import Block, CheckResult, Diff, DigestSettings, Document, Settings, Source, VersionInfo
from watcher.sources import SourceStatus, source_statuses
from watcher.store import Store

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30m", "2026-11-22T08:00:00Z"),
        ("12h", "2026-11-21T20:30:00Z"),
        ("7d", "2026-11-15T08:30:00Z"),
        (" 2 w ", "2026-11-08T08:30:00Z"),
        ("2026-11-01", "2026-11-01T00:00:00Z"),
        ("2026-11-01T06:00:00Z", "2026-11-01T06:00:00Z"),
        ("2026-11-01T14:00:00+08:00", "2026-11-01T06:00:00Z"),  # Beijing time → UTC
        ("2026-11-01T06:00", "2026-11-01T06:00:00Z"),  # no zone: UTC, as stored
    ],
)
def test_since_is_a_duration_or_an_iso_time_in_utc(value, expected):
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["last week", "7", "7y", "", "2026-13-01"])
def test_since_refuses_anything_else(value):
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since(value, now=NOW)


def versions(store: Store, source: Source, count: int) -> list:
    store.upsert_source(source)
    return [
        store.add_version(source.name, Document((Block("paragraph", str(n)),), title="规划"), sha256=f"{n}", raw=b"x")
        for n in range(count)
    ]


def test_stored_changes_come_back_as_one_diff_per_new_version(tmp_path):
    plan, other = Source("plan", "https://example.org/p.html"), Source("other", "https://example.org/o.html")
    with Store(tmp_path / "w.db") as store:
        v1, v2, v3 = versions(store, plan, 3)
        (o1, o2) = versions(store, other, 2)
        store.add_changes(v2.id, v1.id, Diff(VersionInfo(""), VersionInfo(""), (TARGET_CHANGE, FORMATTING)))
        store.add_changes(o2.id, o1.id, Diff(VersionInfo(""), VersionInfo(""), (MEASURE,)))
        store.add_changes(v3.id, v2.id, DIFF)
        every = stored_diffs(store)
        only_plan = stored_diffs(store, "plan")
        assert stored_diffs(store, since="2999-01-01") == []
    assert [(d.old.ref, d.new.ref) for d in every] == [("plan@1", "plan@2"), ("other@1", "other@2"), ("plan@2", "plan@3")]
    assert every[0].changes == (TARGET_CHANGE, FORMATTING) and every[2].changes == DIFF.changes
    assert every[0].new == VersionInfo("plan@2", "规划", v2.fetched_at, "1")
    assert [d.new.ref for d in only_plan] == ["plan@2", "plan@3"]


def settings(*sources: Source) -> Settings:
    return Settings("/etc/w.toml", "/unused.db", sources=sources, digest=DigestSettings())


def test_source_statuses_list_configured_sources_then_their_attachments(tmp_path):
    plan = Source("plan", "https://example.org/p.html", tags=("plans",), schedule="0 6 * * 1-5", title="规划")
    untitled = Source("untitled", "https://example.org/u.html")
    assert source_statuses(settings(plan)) == [
        SourceStatus("plan", plan.url, "规划", ("plans",), "0 6 * * 1-5", None, 0, None, None, None)
    ]
    with Store(tmp_path / "w.db") as store:
        versions(store, plan, 2)
        versions(store, untitled, 1)
        store.upsert_source(Source("plan/b.pdf", "https://example.org/b.pdf", title="b.pdf"), parent="plan")
        store.upsert_source(Source("plan/a.docx", "https://example.org/a.docx", title="a.docx"), parent="plan")
        store.upsert_source(Source("removed", "https://example.org/r.html"))
        store.add_check(CheckResult("plan/b.pdf", "failed", error="HTTP 404"), started_at="2026-11-22T06:00:00Z")
        statuses = source_statuses(settings(plan, untitled), store.sources())
    assert [(s.name, s.attachment_of, s.versions) for s in statuses] == [
        ("plan", None, 2), ("plan/a.docx", "plan", 0), ("plan/b.pdf", "plan", 0), ("untitled", None, 1),
    ]
    pdf = statuses[2]
    assert (pdf.url, pdf.title, pdf.tags, pdf.schedule) == ("https://example.org/b.pdf", "b.pdf", ("plans",), "0 6 * * 1-5")
    assert (pdf.last_check, pdf.last_status, pdf.last_error) == ("2026-11-22T06:00:00Z", "failed", "HTTP 404")
    assert statuses[3].title == "规划"  # no configured title: its latest version's
