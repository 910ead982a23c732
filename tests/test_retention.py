"""Retention on real SQLite files: `Store.prune` and `watcher prune` remove old checks and
versions, never what the rest of the store still reads."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from click.testing import CliRunner
from test_store import OLD_SENTENCE, PATH, document

from watcher.cli import cli
from watcher.model import Change, CheckResult, Diff, RetentionSettings, Source, VersionInfo
from watcher.store import Store

URL = "https://example.org/plan.html"
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def add_versions(store: Store, name: str, count: int, *, change_between: tuple[int, int] | None = None) -> list:
    """`count` versions of `name`, each with a 'new' check in November; a stored change between
    the versions numbered `change_between`."""
    store.upsert_source(Source(name=name, url=URL))
    versions = []
    for n in range(count):
        doc = document(OLD_SENTENCE.replace("3700", str(3700 + n)))
        version = store.add_version(name, doc, sha256=f"{name}{n}", raw=f"<p>{n}</p>".encode() * 30, ledger=())
        store.add_check(
            CheckResult(name, "new", url=URL, version_id=version.id),
            started_at=f"2026-11-{n + 1:02d}T06:00:00Z", etag=f'"{n}"', body_key=f"k{n}",
        )
        versions.append(version)
    if change_between:
        old, new = (versions[k - 1] for k in change_between)
        change = Change("measure_added", PATH, new="新增一项措施。")
        store.add_changes(new.id, old.id, Diff(VersionInfo(old.ref), VersionInfo(new.ref), (change,)))
    return versions


def test_old_versions_go_but_never_the_latest_nor_those_a_change_names(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        versions = add_versions(store, "plan", 6, change_between=(2, 3))
        done = store.prune(RetentionSettings(keep_versions=2), now=NOW)
        left = [v.number for v in store.versions("plan")]
        assert left == [2, 3, 5, 6]  # 1 and 4 go; 2 and 3 stay for the change between them
        assert (done.versions, done.versions_kept) == (2, 2)
        assert store.changes("plan")[0].previous_id == versions[1].id
        assert store.document(versions[1].id) == document(OLD_SENTENCE.replace("3700", "3701"))
        # the checks that read the removed versions stay, without them
        assert [c.version_id for c in store.checks("plan")][0] is None
        assert store.resolve("plan").number == 6 and store.resolve("plan@-1").number == 5
        again = store.prune(RetentionSettings(keep_versions=1), now=NOW)
        assert again.versions == 1 and [v.number for v in store.versions("plan")] == [2, 3, 6]


def test_old_checks_go_but_not_what_validators_and_failure_runs_read(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        (version,) = add_versions(store, "plan", 1)
        for day in range(2, 6):  # unchanged re-checks, then a run of failures since the 20th
            store.add_check(
                CheckResult("plan", "unchanged", url=URL, version_id=version.id),
                started_at=f"2026-11-{day:02d}T06:00:00Z", etag='"0"', body_key="k0",
            )
        failures = [
            store.add_check(CheckResult("plan", "failed", url=URL, error="timeout"), started_at=f"2026-11-{day}T06:00:00Z")
            for day in (20, 21, 22)
        ]
        before = store.last_checks()[0].problem_since
        done = store.prune(RetentionSettings(keep_checks_days=5), now=NOW)
        kept = store.checks("plan")
        # the newest good check (Nov 5: the validators' and the failures' start) and the failures
        assert done.checks == 4 and [c.started_at[:10] for c in kept][0] == "2026-11-05"
        assert [c.id for c in kept][1:] == failures
        assert store.validators("plan", URL) == ('"0"', None)
        assert store.knows_body("plan", version.id, "k0")
        assert store.last_checks()[0].problem_since == before


def test_nothing_goes_without_a_retention_setting(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        add_versions(store, "plan", 3)
        done = store.prune(RetentionSettings(), now=NOW)
        assert (done.checks, done.versions) == (0, 0) and len(store.versions("plan")) == 3


def test_watcher_prune_reports_what_it_removed_and_vacuums(tmp_path) -> None:
    database = tmp_path / "w.db"
    config = tmp_path / "w.toml"
    config.write_text(
        f'[storage]\npath = "w.db"\nkeep_versions = 1\nkeep_checks_days = 1\n[[source]]\nname = "plan"\nurl = "{URL}"\n',
        encoding="utf-8",
    )
    with Store(database) as store:
        for n in range(8):  # big versions, so that the vacuum visibly shrinks the file
            store.upsert_source(Source(name=f"s{n}", url=URL))
        for n in range(8):
            add_versions(store, f"s{n}", 3)
    size = os.path.getsize(database)
    result = CliRunner().invoke(cli, ["--config", str(config), "prune", "--vacuum"])
    assert result.exit_code == 0, result.output
    assert "removed 16 checks and 16 versions" in result.output
    assert os.path.getsize(database) < size
    with Store(database) as store:
        assert [len(store.versions(f"s{n}")) for n in range(8)] == [1] * 8
