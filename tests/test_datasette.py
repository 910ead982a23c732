"""The database read in Datasette: a real `watcher check` on loopback fills it, Datasette opens it
immutable with config/datasette-metadata.yaml, and the views, labels and hidden tables are checked
through Datasette's own client and through the README's command line."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CASES, case_bytes, serving
from datasette.app import Datasette

from watcher.kinds import KIND_ORDER, kind_label
from watcher.language import rendering
from watcher.store import Store

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "config" / "datasette-metadata.yaml"
TARGET_CASE = "haishu-target-prose-and-table"  # a target raised in the text and in a table
MEASURE_CASE = "cixi-measure-removed"  # a measure dropped
VIEWS = ("change_list", "source_status", "version_list", "indicator_ledger")
HIDDEN = ("versions", "evidence", "digest_changes", "document_surveys", "_sqlite_migrations")
TEXT = "text/plain; charset=utf-8"


def watcher_check(config: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "-q", "check"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """watcher.db after two checks: the first stores both documents, the second their new texts."""
    folder = tmp_path_factory.mktemp("datasette")
    with serving() as server:
        server.set("/plan.txt", case_bytes(TARGET_CASE, "old.txt"), content_type=TEXT)
        server.set("/measures.txt", case_bytes(MEASURE_CASE, "old.txt"), content_type=TEXT)
        config = folder / "watcher.toml"
        config.write_text(
            '[storage]\npath = "watcher.db"\n\n[fetch]\ntimeout = 2.0\nretries = 1\ndelay = 0.0\n\n'
            f'[[source]]\nname = "plan"\nurl = "{server.url("/plan.txt")}"\n\n'
            f'[[source]]\nname = "measures"\nurl = "{server.url("/measures.txt")}"\n',
            encoding="utf-8",
        )
        watcher_check(config)
        server.set("/plan.txt", case_bytes(TARGET_CASE, "new.txt"), content_type=TEXT)
        server.set("/measures.txt", case_bytes(MEASURE_CASE, "new.txt"), content_type=TEXT)
        watcher_check(config)
    return folder / "watcher.db"


def expected_flags(case: str) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = json.loads((CASES / case / "expected.json").read_text(encoding="utf-8"))["flags"]
    return flags


def metadata() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    return loaded


def fingerprint(database: Path) -> tuple[str, float, list[str]]:
    """The file's hash and time, and the files beside it: Datasette must change none of them."""
    digest = hashlib.sha256(database.read_bytes()).hexdigest()
    return digest, database.stat().st_mtime, sorted(os.listdir(database.parent))


def datasette_get(database: Path, *paths: str) -> list[Any]:
    """Each path as Datasette answers it in-process: parsed JSON for .json paths, else the HTML."""

    async def fetch() -> list[Any]:
        ds = Datasette(immutables=[str(database)], metadata=metadata())
        answers = []
        for path in paths:
            response = await ds.client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            answers.append(response.json() if ".json" in path else response.text)
        return answers

    return asyncio.run(fetch())


def test_the_change_list_gives_the_metric_its_old_and_new_values_and_the_source(database: Path) -> None:
    before = fingerprint(database)
    (rows,) = datasette_get(database, "/watcher/change_list.json?_shape=array&kind=target_changed&_size=max")
    flags = expected_flags(TARGET_CASE)
    assert len(rows) == len(flags)
    for row, flag in zip(rows, flags, strict=True):
        assert row["source"] == "plan"
        assert flag["contains"] in row["metric"]
        assert (row["old_value"], row["new_value"]) == (flag["old_value"], flag["new_value"])
        assert row["old_unit"] and row["old_unit"] == row["new_unit"]
        assert (row["old_version"], row["new_version"]) == (1, 2)
        assert row["section"]  # the heading path, as text
    # The UTC time as stored and the same instant in Beijing time (UTC+08:00).
    with Store(database) as store:
        fetched = store.versions("plan")[1].fetched_at
    assert rows[0]["fetched_at"] == fetched
    day, hour = fetched[:10], int(fetched[11:13])
    local = rows[0]["fetched_at_beijing"]
    assert int(local[11:13]) == (hour + 8) % 24 and local[14:19] == fetched[14:19]
    assert (local[:10] == day) == (hour < 16)
    assert fingerprint(database) == before


def test_a_removed_measure_is_listed_with_its_text(database: Path) -> None:
    (rows,) = datasette_get(database, "/watcher/change_list.json?_shape=array&source=measures&_size=max")
    removed = [row for row in rows if row["kind"] == "measure_removed"]
    assert removed, [row["kind"] for row in rows]
    with Store(database) as store:
        stored = [c for c in store.changes("measures") if c.kind == "measure_removed"]
    assert [row["measure"] for row in removed] == [c.payload["old"] for c in stored]
    assert all(row["metric"] is None for row in removed)


def test_source_status_version_list_and_the_ledger(database: Path) -> None:
    sources, versions, ledger, changed = datasette_get(
        database,
        "/watcher/source_status.json?_shape=array",
        "/watcher/version_list.json?_shape=array&_size=max",
        "/watcher/indicator_ledger.json?_shape=array&source=plan&_size=max",
        "/watcher/change_list.json?_shape=array&kind=target_changed&_size=max",
    )
    assert {s["source"]: (s["versions"], s["last_status"]) for s in sources} == {
        "plan": (2, "new"), "measures": (2, "new"),
    }
    assert all(s["last_check_beijing"] for s in sources)
    with Store(database) as store:
        assert sorted((v["source"], v["number"], v["raw_size"]) for v in versions) == sorted(
            (name, v.number, len(store.raw(v.id))) for name in ("plan", "measures") for v in store.versions(name)
        )
        stored = {v.number: store.indicators(v.id) for v in store.versions("plan")}
        substantive = Counter(c.source for c in store.changes() if c.substantive)
    assert {s["source"]: s["changes"] for s in sources} == dict(substantive)
    # Each indicator's value by version: the stored ledgers, row for row.
    for number, indicators in stored.items():
        assert indicators
        assert [(r["metric"], r["value"]) for r in ledger if r["version"] == number] == [
            (i.target.metric, i.target.value) for i in indicators
        ]
    # The changed targets, version by version, in the ledger: the old values go, the new ones come.
    by_version = {n: Counter((r["metric"], r["value"]) for r in ledger if r["version"] == n) for n in (1, 2)}
    assert changed
    assert Counter((c["metric"], c["old_value"]) for c in changed) <= by_version[1] - by_version[2]
    assert Counter((c["metric"], c["new_value"]) for c in changed) <= by_version[2] - by_version[1]


def test_no_view_carries_bytes_or_whole_texts(database: Path) -> None:
    with Store(database) as store:
        texts = {v.text for name in ("plan", "measures") for v in store.versions(name)}
    answers = datasette_get(database, *(f"/watcher/{view}.json?_shape=array&_size=max" for view in VIEWS))
    for view, rows in zip(VIEWS, answers, strict=True):
        assert rows, view
        for row in rows:
            assert not {"raw", "blocks", "payload"} & set(row), view
            for value in row.values():
                assert not isinstance(value, dict), (view, value)  # Datasette's form of a blob
                assert value not in texts, view


def test_labels_titles_and_hidden_tables(database: Path) -> None:
    index, page, change_list, tables = datasette_get(
        database, "/", "/watcher", "/watcher/change_list", "/watcher.json"
    )
    assert "政策文件变化监测" in index
    assert "以只读方式打开的 watcher 数据库" in page and "本周的目标变化" in page
    for label in ("变化一览", "指标", "旧值", "新值", "来源", "北京时间"):
        assert label in change_list
    hidden = {t["name"] for t in tables["tables"] if t["hidden"]}
    assert set(HIDDEN) <= hidden
    assert not hidden & {"changes", "sources", "checks", "indicators"}
    assert set(VIEWS) <= {v["name"] for v in tables["views"]}


def test_the_kind_label_lists_every_kind() -> None:
    described = metadata()["databases"]["watcher"]["tables"]["change_list"]["columns"]["kind"]
    with rendering("zh"):  # the labels the reports give (the zh catalog)
        labels = {kind: kind_label(kind) for kind in KIND_ORDER}
    for kind, label in labels.items():
        assert f"{kind} {label}" in described, (kind, label)


def test_canned_queries_find_this_weeks_target_change_and_a_sources_ledger(database: Path) -> None:
    week, ledger = datasette_get(
        database,
        "/watcher/this_week_targets.json?_shape=array",
        "/watcher/source_ledger.json?_shape=array&source=plan",
    )
    assert [(r["source"], r["old_value"], r["new_value"]) for r in week] == [
        ("plan", f["old_value"], f["new_value"]) for f in expected_flags(TARGET_CASE)
    ]
    with Store(database) as store:
        stored = [(v.number, i.target.metric, i.target.value) for v in store.versions("plan") for i in store.indicators(v.id) or ()]
    assert Counter((r["version"], r["metric"], r["value"]) for r in ledger) == Counter(stored)


def test_the_readme_command_line_reads_the_database(database: Path) -> None:
    """`datasette -i DB --metadata config/datasette-metadata.yaml`, as the README gives it (its
    --get answers one request without starting a server)."""
    before = fingerprint(database)
    done = subprocess.run(
        [sys.executable, "-m", "datasette", "-i", str(database), "--metadata", str(METADATA),
         "--get", "/watcher/change_list.json?_shape=array&kind=target_changed"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["new_value"] for r in rows] == [f["new_value"] for f in expected_flags(TARGET_CASE)]
    assert fingerprint(database) == before
