"""watcher.store on real SQLite files: migrations, versions, references, changes, digests, lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import zlib

import pytest
from conftest import lock_held_elsewhere

from watcher.errors import LockedError, StoreError, VersionNotFound
from watcher.model import (
    Block,
    Change,
    CheckResult,
    Diff,
    Document,
    Indicator,
    Source,
    Target,
    TargetChange,
    VersionInfo,
)
from watcher.store import MIGRATION_STEPS, Store
from watcher.store.content import unpack
from watcher.store.migrations import m0011_compact_versions
from watcher.store.versions import _block_dict

OLD_SENTENCE = "到2025年，力争科技型中小企业数达3700家。"
NEW_SENTENCE = "到2025年，力争科技型中小企业数达4000家。"
PATH = ("三、重点任务", "（二）着力实施精兵科技工程", "1.培育量大面广的科技型企业群体")


def document(sentence: str) -> Document:
    return Document(
        blocks=(
            Block("heading", "三、重点任务", level=1),
            Block("paragraph", sentence),
            Block("table", rows=(("指标", "2020年", "2025年"), ("科技型中小企业数（家）", "1398", "3700"))),
        ),
        title="海曙区科技创新“十四五”规划",
        format="html",
        attachments=("https://example.org/files/plan.docx",),
    )


def store_versions(store: Store, name: str = "plan", count: int = 3) -> list:
    store.upsert_source(Source(name=name, url=f"https://example.org/{name}.html"))
    versions = []
    for n in range(count):
        doc = document(OLD_SENTENCE.replace("3700", str(3700 + n)))
        versions.append(store.add_version(name, doc, sha256=f"hash{n}", raw=f"<p>{n}</p>".encode() * 50))
    return versions


def test_migrations_on_an_empty_file(tmp_path) -> None:
    path = tmp_path / "new" / "watcher.db"
    with Store(path) as store:
        assert {"sources", "checks", "versions", "changes", "digests"} <= set(store.db.table_names())
        applied = [row["name"] for row in store.db.query("SELECT name FROM _sqlite_migrations")]
        assert applied == [step.__name__ for step in MIGRATION_STEPS]
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_existing_file_keeps_its_data_and_is_not_migrated_twice(tmp_path) -> None:
    path = tmp_path / "watcher.db"
    with Store(path) as store:
        store_versions(store)
        applied_at = [r["applied_at"] for r in store.db.query("SELECT applied_at FROM _sqlite_migrations")]
    with Store(path) as store:
        assert [v.number for v in store.versions("plan")] == [1, 2, 3]
        again = [r["applied_at"] for r in store.db.query("SELECT applied_at FROM _sqlite_migrations")]
        assert again == applied_at


def test_a_database_from_a_newer_release_is_refused(tmp_path) -> None:
    path = tmp_path / "watcher.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('watcher', 'm9999_future', 'x')"
        )
    conn.close()
    with pytest.raises(StoreError, match="newer watcher"):
        Store(path)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path) -> None:
    path = tmp_path / "watcher.db"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(StoreError, match="not a usable watcher database"):
        Store(path)


def test_versions_are_numbered_per_source_and_keep_raw_bytes_compressed(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        first = store_versions(store, "a", 2)
        other = store_versions(store, "b", 1)
        assert [v.number for v in first] == [1, 2] and other[0].number == 1
        raw = store.raw(first[1].id)
        assert raw == b"<p>1</p>" * 50
        blob, size = store.db.execute("SELECT content, raw_size FROM versions WHERE id = ?", [first[1].id]).fetchone()
        assert size == len(raw) and len(blob) < len(raw) and unpack(blob).raw == raw
        columns = {c.name for c in store.db.table("versions").columns}
        assert not {"text", "raw", "blocks"} & columns  # each text once: in the compressed content


def test_listing_versions_reads_no_text_until_one_is_asked_for(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        store_versions(store, "a", 3)
        read: list[int] = []
        reader = store._text
        store._text = lambda version_id: read.append(version_id) or reader(version_id)  # type: ignore[method-assign]
        listed = store.versions("a")
        assert read == []
        assert listed[1].text == document(OLD_SENTENCE.replace("3700", "3701")).text
        assert listed[1].text and read == [listed[1].id]  # read once, then kept


def test_document_round_trips_without_re_extraction(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        store.upsert_source(Source(name="plan", url="https://example.org/plan.html"))
        doc = document(OLD_SENTENCE)
        version = store.add_version("plan", doc, sha256="h", raw=b"<p>x</p>")
        assert store.document(version.id) == doc
        assert version.text == doc.text and version.title == doc.title


def test_version_references(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        versions = store_versions(store, "plan", 3)
        store_versions(store, "other", 1)
        assert store.resolve("plan") == versions[2]
        assert store.resolve("plan@latest") == versions[2]
        assert store.resolve("plan@1") == versions[0]
        assert store.resolve("plan@-1") == versions[1]
        assert store.resolve("plan@-2") == versions[0]
        assert store.resolve(str(versions[1].id)) == versions[1]
        for ref, message in [
            ("plan@4", "has versions 1 to 3"),
            ("plan@-3", "has versions 1 to 3"),
            ("plan@0", "has versions 1 to 3"),
            ("plan@x", "bad version reference"),
            ("nothing", "no source named 'nothing'"),
            ("999", "no version with id 999"),
        ]:
            with pytest.raises(VersionNotFound, match=message):
                store.resolve(ref)
        store.upsert_source(Source(name="empty", url="https://example.org/e.html"))
        with pytest.raises(VersionNotFound, match="no stored version yet"):
            store.resolve("empty")


def test_validators_come_only_from_checks_that_confirmed_the_latest_version(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        (version,) = store_versions(store, "plan", 1)
        url = "https://example.org/plan.html"
        good = CheckResult("plan", "new", url=url, version_id=version.id)
        store.add_check(good, started_at="2026-01-01T06:00:00Z", etag='"good"', last_modified="Mon")
        bad = CheckResult("plan", "suspicious", url=url, error="tiny page")
        store.add_check(bad, started_at="2026-01-02T06:00:00Z", etag='"error-page"')
        assert store.validators("plan", url) == ('"good"', "Mon")
        assert store.validators("plan", "https://example.org/moved.html") == (None, None)
        assert store.last_checks()[0].status == "suspicious"


def test_a_failed_transaction_stores_nothing(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        store.upsert_source(Source(name="plan", url="https://example.org/plan.html"))
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.add_version("plan", document(OLD_SENTENCE), sha256="h", raw=b"x")
                raise RuntimeError("killed half-way")
        assert store.versions("plan") == []


def test_changes_and_digests(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        old, new = store_versions(store, "plan", 2)
        diff = Diff(
            old=VersionInfo("plan@1"),
            new=VersionInfo("plan@2"),
            changes=(
                Change(
                    "target_changed",
                    PATH,
                    old=OLD_SENTENCE,
                    new=NEW_SENTENCE,
                    target=TargetChange(
                        "科技型中小企业数",
                        Target("科技型中小企业数", 3700, "家", ">=", 2025, "达3700家"),
                        Target("科技型中小企业数", 4000, "家", ">=", 2025, "达4000家"),
                    ),
                    inline=(("=", "到2025年，力争科技型中小企业数达"), ("-", "3700"), ("+", "4000"), ("=", "家。")),
                ),
                Change("formatting", PATH, old="达到2.28%", new="达到2.28％"),
            ),
        )
        assert store.add_changes(new.id, old.id, diff) == 1
        rows = store.changes("plan")
        assert [r.kind for r in rows] == ["target_changed", "formatting"]
        first = rows[0]
        assert first.substantive is True and first.path == tuple(PATH)
        assert first.version_id == new.id and first.previous_id == old.id
        assert first.payload["target"]["new"]["value"] == 4000
        assert first.payload["inline"][1] == ["-", "3700"]
        assert store.changes(since="2999-01-01") == []

        ids = [r.id for r in rows]
        failed = store.create_digest("[watcher] 1 plan changed", ["a@example.org"], ids)
        store.mark_digest_failed(failed, "451 try later")
        assert [r.id for r in store.changes(unsent_only=True)] == ids  # retried next run
        sent = store.create_digest("[watcher] 1 plan changed", ["a@example.org"], ids)
        store.mark_digest_sent(sent)
        assert store.changes(unsent_only=True) == []
        digests = store.digests()
        assert [(d.status, d.error) for d in digests] == [("failed", "451 try later"), ("sent", None)]
        assert digests[1].recipients == ("a@example.org",) and digests[1].sent_at


def test_lock_excludes_other_processes_with_a_clear_message(tmp_path) -> None:
    path = tmp_path / "w.db"
    with lock_held_elsewhere(path) as pid:
        with Store(path) as store:
            with pytest.raises(LockedError) as caught:
                with store.lock():
                    pass
        assert str(caught.value) == f"another watcher run holds the lock on {path} (pid {pid})"
    with Store(path) as store, store.lock():  # released when its holder died
        pass


def test_lock_is_shared_by_holders_in_one_process(tmp_path) -> None:
    path = tmp_path / "w.db"
    with Store(path) as outer, outer.lock():
        with Store(path) as inner, inner.lock():  # e.g. a scheduler job around check_all
            pass
        # still held by the outer holder: another process cannot take it
        probe = subprocess.run(
            [sys.executable, "-c", f"from watcher.store import Store\nwith Store({str(path)!r}).lock(): pass"],
            capture_output=True,
            text=True,
        )
        assert probe.returncode != 0 and "LockedError" in probe.stderr


def test_concurrent_writers_from_threads_are_serialised(tmp_path) -> None:
    import threading

    with Store(tmp_path / "w.db") as store:
        for name in "abcd":
            store.upsert_source(Source(name=name, url=f"https://example.org/{name}"))

        def write(name: str) -> None:
            for n in range(10):
                with store.transaction():
                    version = store.add_version(name, document(OLD_SENTENCE), sha256=str(n), raw=b"x")
                    store.add_check(CheckResult(name, "new", version_id=version.id), started_at=str(time.time()))

        threads = [threading.Thread(target=write, args=(name,)) for name in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name in "abcd":
            assert [v.number for v in store.versions(name)] == list(range(1, 11))
        assert len(store.checks()) == 40


def test_a_first_release_file_is_migrated_and_its_versions_read_back(tmp_path) -> None:
    """A database written before blocks were compressed: the versions survive the migration."""
    import json

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from watcher.store.migrations import m0001_initial

    path = tmp_path / "first.db"
    first = Migrations("watcher")
    first(name="m0001_initial")(m0001_initial)
    db = Database(path)
    first.apply(db)
    db["sources"].insert({"name": "plan", "url": "https://example.org/plan.html"})
    blocks = json.dumps([{"kind": "paragraph", "text": OLD_SENTENCE}], ensure_ascii=False)
    db["versions"].insert(
        {"source": "plan", "number": 1, "fetched_at": "2026-11-20T06:00:00Z", "sha256": "h1",
         "raw": zlib.compress(b"<p>x</p>"), "raw_size": 8, "text": OLD_SENTENCE, "blocks": blocks,
         "title": "", "format": "text", "attachments": "[]"}
    )
    db.close()
    with Store(path) as store:
        applied = [row["name"] for row in store.db.query("SELECT name FROM _sqlite_migrations")]
        assert applied == [step.__name__ for step in MIGRATION_STEPS]
        version = store.resolve("plan@1")
        assert store.document(version.id).blocks == (Block("paragraph", OLD_SENTENCE),)


def test_digests_sent_before_the_link_table_keep_their_changes_sent(tmp_path) -> None:
    """m0003: a change marked by a sent digest in changes.digest_id stays sent after the upgrade."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from watcher.store.migrations import m0001_initial, m0002_compress_blocks

    path = tmp_path / "second.db"
    second = Migrations("watcher")
    for step in (m0001_initial, m0002_compress_blocks):
        second(name=step.__name__)(step)
    db = Database(path)
    second.apply(db)
    db["sources"].insert({"name": "plan", "url": "https://example.org/plan.html"})
    for number in (1, 2):
        db["versions"].insert(
            {"id": number, "source": "plan", "number": number, "fetched_at": "2026-11-20T06:00:00Z",
             "sha256": f"h{number}", "raw": b"", "text": "", "blocks": zlib.compress(b"[]")}
        )
    db["digests"].insert({"id": 1, "created_at": "2026-11-20T08:00:00Z", "status": "sent", "recipients": '["a@example.org"]'})
    db["digests"].insert({"id": 2, "created_at": "2026-11-21T08:00:00Z", "status": "failed", "recipients": '["a@example.org"]'})
    payload = '{"kind": "clause_added", "path": [], "old": null, "new": "x"}'
    for change_id, digest_id in ((1, 1), (2, 2), (3, None)):
        db["changes"].insert(
            {"id": change_id, "source": "plan", "version_id": 2, "previous_id": 1, "kind": "clause_added",
             "payload": payload, "substantive": 1, "created_at": "2026-11-20T06:00:00Z", "digest_id": digest_id}
        )
    db.close()
    with Store(path) as store:
        assert [r.id for r in store.changes(unsent_only=True)] == [2, 3]
        assert [(r.id, r.sent_to) for r in store.undelivered_changes()] == [(2, ()), (3, ())]
        later = store.create_digest("s", ["a@example.org"], [2, 3])
        store.mark_digest_sent(later)
        assert store.undelivered_changes() == [] and store.changes(unsent_only=True) == []


def test_undelivered_changes_are_those_some_recipients_missed(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        old, new = store_versions(store, "plan", 2)
        store.add_changes(new.id, old.id, Diff(VersionInfo("plan@1"), VersionInfo("plan@2"), (
            Change("clause_added", PATH, None, NEW_SENTENCE),
        )))
        [change] = store.changes()
        to_a = store.create_digest("s", ["a@example.org"], [change.id])
        store.mark_digest_sent(to_a)
        to_b = store.create_digest("s", ["b@example.org", "c@example.org"], [change.id])
        store.mark_digest_failed(to_b, "550 no such user")
        assert store.changes(unsent_only=True) == []  # someone had it
        [missed] = store.undelivered_changes()
        assert missed.id == change.id and missed.sent_to == (("a@example.org",),)
        assert store.undelivered_changes(since="2999-01-01") == []
        again = store.create_digest("s", ["b@example.org", "c@example.org"], [change.id])
        store.mark_digest_sent(again)
        assert store.undelivered_changes() == []
        assert store.changes()[0].digest_id == again  # the last digest that covered it


def test_last_checks_say_since_when_a_source_has_been_failing(tmp_path) -> None:
    with Store(tmp_path / "w.db") as store:
        store.upsert_source(Source(name="plan", url="https://example.org/plan.html"))
        ids = [
            store.add_check(CheckResult("plan", status), started_at=f"2026-11-2{n}T06:00:00Z")
            for n, status in enumerate(("failed", "unchanged", "failed", "suspicious"))
        ]
        [last] = store.last_checks()
        assert last.id == ids[3] and last.problem_since == ids[2]  # the run after the good check
        store.add_check(CheckResult("plan", "unchanged"), started_at="2026-11-25T06:00:00Z")
        assert store.last_checks()[0].problem_since is None

        assert store.reported_checks() == {}
        sent = store.create_digest("s", ["a@example.org"], [], last_check_id=ids[2])
        store.mark_digest_sent(sent)
        store.mark_digest_failed(store.create_digest("s", ["a@example.org"], [], last_check_id=ids[3]), "451")
        assert store.reported_checks() == {("a@example.org",): ids[2]}  # only sent digests count


def test_every_read_returns_frozen_records_with_the_stored_json_decoded(tmp_path) -> None:
    import dataclasses

    with Store(tmp_path / "w.db") as store:
        old, new = store_versions(store, "plan", 2)
        store.upsert_source(Source(name="plan", url="https://example.org/plan.html", tags=("cixi", "plans")))
        store.add_changes(new.id, old.id, Diff(VersionInfo("plan@1"), VersionInfo("plan@2"), (
            Change("clause_added", PATH, None, NEW_SENTENCE),
        )))
        store.add_check(CheckResult("plan", "failed", error="HTTP 503"), started_at="2026-11-20T06:00:00Z")
        [change] = store.changes()
        store.mark_digest_sent(store.create_digest("s", ["a@example.org"], [change.id]))
        failed = store.create_digest("s", ["b@example.org"], [change.id])
        store.mark_digest_failed(failed, "550 no such user")
        [source] = store.sources()
        [check] = store.checks()
        [last] = store.last_checks()
        [undelivered] = store.undelivered_changes()
        digests = store.digests()
        info = store.fetch_info(new.id)
        records = [source, check, last, change, undelivered, *digests, info]
        for record in records:
            field = dataclasses.fields(record)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(record, field, None)
        assert source.tags == ("cixi", "plans") and source.versions == 2 and source.latest == 2
        assert source.last_status == "failed" and source.last_error == "HTTP 503"
        assert check.status == last.status == "failed" and last.problem_since == check.id
        assert change.path == PATH and change.payload["new"] == NEW_SENTENCE and change.substantive is True
        assert undelivered.id == change.id and undelivered.sent_to == (("a@example.org",),)
        assert [(d.recipients, d.status, d.error) for d in digests] == [
            (("a@example.org",), "sent", None),
            (("b@example.org",), "failed", "550 no such user"),
        ]
        assert (info.url, info.content_type, info.charset) == (new.url, new.content_type, None)


def test_a_database_of_the_previous_layout_reads_the_same_after_m0011(tmp_path) -> None:
    """Written as m0001–m0010 stored versions (zlib raw and blocks, a plain text column, a ledger
    row with its path and clause): after m0011 the same documents, texts, raw bytes and ledgers."""
    import json

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    path = tmp_path / "m0010.db"
    before = Migrations("watcher")
    for step in MIGRATION_STEPS[: MIGRATION_STEPS.index(m0011_compact_versions)]:
        before(name=step.__name__)(step)
    db = Database(path)
    before.apply(db)
    db["sources"].insert({"name": "plan", "url": "https://example.org/plan.html"})
    doc = document(OLD_SENTENCE)
    blocks = json.dumps([_block_dict(b) for b in doc.blocks], ensure_ascii=False).encode()
    raws = [b"<p>" + OLD_SENTENCE.encode() * 40 + b"</p>", b"%PDF-1.4 \x00\xff binary"]
    # the second version's text predates a change of the extractor: not the blocks' text
    texts = [doc.text, "an older reading of the same bytes"]
    for n, (raw, text) in enumerate(zip(raws, texts, strict=True), start=1):
        db["versions"].insert(
            {"source": "plan", "number": n, "fetched_at": "2026-11-20T06:00:00Z", "sha256": f"h{n}",
             "raw": zlib.compress(raw, 6), "raw_size": len(raw), "text": text,
             "blocks": zlib.compress(blocks, 6), "title": doc.title, "format": doc.format,
             "attachments": json.dumps(list(doc.attachments)), "ledger_rows": 1 if n == 1 else None}
        )
    db["indicators"].insert(
        {"version_id": 1, "position": 0, "metric": "科技型中小企业数", "value": 3700.0, "value_max": None,
         "unit": "家", "comparator": ">=", "year": 2025, "role": "target", "text": "3700家",
         "path": json.dumps(list(PATH), ensure_ascii=False), "clause": OLD_SENTENCE}
    )
    db.close()
    with Store(path) as store:
        one, two = store.versions("plan")
        assert [one.text, two.text] == texts
        assert [store.raw(one.id), store.raw(two.id)] == raws
        assert store.document(one.id) == store.document(two.id) == doc
        target = Target("科技型中小企业数", 3700.0, "家", ">=", 2025, "3700家")
        assert store.indicators(one.id) == (Indicator(target, PATH, OLD_SENTENCE),)
        assert store.indicators(two.id) is None  # none stored before: still none
        row = next(store.db.query("SELECT * FROM indicators"))
        assert {"metric", "value", "value_max", "unit", "comparator", "year", "role", "text"} <= set(row)
