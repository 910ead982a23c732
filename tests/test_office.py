"""Legacy Word/WPS and spreadsheets: .doc and .wps written by LibreOffice from corpus text, an
.xlsx indicator table built with openpyxl and its .xls written by LibreOffice, each read to its
text and targets, and checked end to end on loopback (a real worker under the default budget, a
real SQLite file, the digest). Without LibreOffice a legacy document fails its check, by name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import PageServer
from office_files import compound_file, corpus_lines, libreoffice, word_document, workbook
from tools import need

from watcher.budget import Budget, Workers
from watcher.check import check_all
from watcher.config import load_settings
from watcher.differ.ledger import indicators
from watcher.digest import send_digest
from watcher.errors import BudgetExceeded, ExtractError, ProgramMissing
from watcher.extract import detect_format, extract
from watcher.extract import office as office_module
from watcher.model import EmailSettings
from watcher.store import Store

COMPOUND = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OCTET = "application/octet-stream"
HEADING = "海曙区科技创新“十四五”规划"
# the plan's first lines and an indicator table in the shape of its 表1
PARAGRAPHS = corpus_lines(start=20, count=30)
TABLE = [("指标", "2020年", "2025年目标"), ("全社会研发投入占比", "2.28%", "3.6%"), ("有效国家高新技术企业", "247家", "600家")]
SHEET = "主要指标"
SHEET_ROWS = [("指标", "2020年", "2025年目标"), ("全社会研发投入占比", 0.0228, 0.036), ("有效国家高新技术企业（家）", 247, 600)]


@pytest.fixture(scope="module")
def soffice() -> str:
    return need("soffice")


@pytest.fixture(scope="module")
def documents(soffice: str) -> dict[str, bytes]:
    """plan.docx and its .doc (Word 97, also served as .wps); the indicator .xlsx and its .xls."""
    docx_body = word_document(HEADING, PARAGRAPHS, TABLE)
    # through .odt: LibreOffice 7.4 drops python-docx's tables when it saves a .docx as .doc directly
    doc = libreoffice(soffice, libreoffice(soffice, docx_body, ".docx", "odt"), ".odt", "doc:MS Word 97")
    xlsx = workbook({SHEET: SHEET_ROWS})
    xls = libreoffice(soffice, xlsx, ".xlsx", "xls:MS Excel 97")
    return {"docx": docx_body, "doc": doc, "xlsx": xlsx, "xls": xls}


def _targets(document) -> set[tuple[str, float | None, int | None, str]]:
    return {(i.target.metric, i.target.value, i.target.year, i.target.role) for i in indicators(document)}


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("name", ["plan.doc", "plan.wps"])
def test_a_legacy_word_document_reads_as_its_docx_does_heading_and_table_included(documents, name: str) -> None:
    assert documents["doc"].startswith(COMPOUND)  # a real Word 97 Compound File, not a renamed .docx
    document = extract(documents["doc"], url=f"http://gov.example.cn/files/{name}", content_type=OCTET)
    original = extract(documents["docx"], url="http://gov.example.cn/files/plan.docx")
    assert document.format == "doc"
    assert document.blocks == original.blocks
    assert document.blocks[0].kind == "heading" and document.blocks[0].text == HEADING
    (table,) = [block for block in document.blocks if block.kind == "table"]
    assert table.rows == tuple(TABLE)
    targets = _targets(document)
    assert ("全社会研发投入占比", 3.6, 2025, "target") in targets
    assert ("有效国家高新技术企业", 247.0, 2020, "baseline") in targets


def test_an_xlsx_indicator_table_is_a_heading_per_sheet_and_rows_with_their_targets() -> None:
    body = workbook({SHEET: SHEET_ROWS, "空表": [], "说明": [("数据来源：区统计局",)]})
    document = extract(body, url="http://gov.example.cn/files/indicators.xlsx")
    assert document.format == "spreadsheet"
    assert [(b.kind, b.text) for b in document.blocks if b.kind == "heading"] == [("heading", SHEET), ("heading", "说明")]
    assert document.blocks[1].rows == (
        ("指标", "2020年", "2025年目标"),
        ("全社会研发投入占比", "2.3%", "3.6%"),  # as the cell shows it (0.0%), not 0.0228
        ("有效国家高新技术企业（家）", "247", "600"),
    )
    targets = _targets(document)
    assert ("全社会研发投入占比", 3.6, 2025, "target") in targets
    assert ("有效国家高新技术企业(家)", 600.0, 2025, "target") in targets  # metrics in comparison form
    assert ("有效国家高新技术企业(家)", 247.0, 2020, "baseline") in targets


@pytest.mark.parametrize("name", ["indicators.xls", "indicators.et"])
def test_an_xls_or_et_reads_as_the_xlsx_it_was_saved_from(documents, name: str) -> None:
    assert documents["xls"].startswith(COMPOUND)
    document = extract(documents["xls"], url=f"http://gov.example.cn/files/{name}", content_type=OCTET)
    assert document.format == "spreadsheet"
    assert document.blocks == extract(documents["xlsx"], url="indicators.xlsx").blocks


def test_a_compound_file_is_a_spreadsheet_or_a_word_document_by_its_streams_then_its_content_type_or_extension() -> None:
    body = compound_file("Book")  # Excel 5
    assert detect_format(body, "application/msword", "http://x.cn/a.doc") == "spreadsheet"  # its streams say what it is
    assert detect_format(compound_file("WordDocument"), OCTET, "http://x.cn/a.xls") == "doc"
    body = compound_file("Other")  # nothing known inside: its names decide
    assert detect_format(body, "", "http://x.cn/a.xls") == "spreadsheet"
    assert detect_format(body, OCTET, "http://x.cn/a.ET?id=3") == "spreadsheet"
    assert detect_format(body, "application/vnd.ms-excel", "http://x.cn/a.doc") == "spreadsheet"
    assert detect_format(body, "application/msword", "http://x.cn/download.jsp") == "doc"
    assert detect_format(body, "", "/srv/plan.wps") == "doc"
    assert detect_format(body, "application/pdf", "/srv/plan.pdf") == "doc"  # the magic outranks what is not a Compound File
    assert detect_format(body, OCTET, "http://x.cn/download.jsp") == "doc"  # unnamed: the common case


def test_bytes_that_only_start_like_a_compound_file_are_refused_before_libreoffice_starts(tmp_path, monkeypatch) -> None:
    # LibreOffice imports what it cannot read as a document as plain text: random bytes would be a version
    runs = _fake_soffice(tmp_path / "bin", "exit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    for name in ("plan.doc", "plan.wps", "indicators.xls", "indicators.et"):
        with pytest.raises(ExtractError, match=rf"corrupt \.{name.split('.')[1]}: not a readable Compound File"):
            extract(COMPOUND + os.urandom(4096), url=f"http://gov.example.cn/files/{name}")
    assert not runs.exists()


def test_a_compound_file_whose_word_document_is_damaged_is_an_extract_error(soffice) -> None:
    with pytest.raises(ExtractError, match=r"LibreOffice could not convert the \.doc document to \.docx \(exit status 0\)"):
        extract(compound_file("WordDocument", os.urandom(8192)), url="http://gov.example.cn/files/plan.doc")


# ---------------------------------------------------------------- without LibreOffice, and the caps


def _fake_soffice(directory: Path, script: str) -> Path:
    """A `soffice` on PATH that is a shell script recording its runs (a stand-in for the external
    program, to see whether and how watcher starts it)."""
    directory.mkdir()
    program = directory / "soffice"
    program.write_text("#!/bin/sh\necho $$ >> " + str(directory / "runs") + "\n" + script)
    program.chmod(0o755)
    return directory / "runs"


def test_without_libreoffice_a_legacy_document_is_an_error_that_says_what_to_install(tmp_path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ProgramMissing, match=r"\.doc needs LibreOffice.*apt-get install libreoffice-writer-nogui"):
        extract(compound_file(), url="plan.doc")
    with pytest.raises(ProgramMissing, match=r"\.xls needs LibreOffice.*apt-get install libreoffice-calc-nogui"):
        extract(compound_file("Workbook"), url="plan.xls")


def test_an_oversized_legacy_document_is_refused_before_libreoffice_starts(tmp_path, monkeypatch) -> None:
    runs = _fake_soffice(tmp_path / "bin", "exit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with pytest.raises(ExtractError, match="could not convert"):  # a document under the cap: LibreOffice is started
        extract(compound_file(), url="plan.doc")
    assert len(runs.read_text().split()) == 1
    oversized = compound_file() + b"\0" * office_module.MAX_INPUT_BYTES
    with pytest.raises(ExtractError, match=r"\.doc refused: 32\.0 MB is over the 32 MB"):
        extract(oversized, url="plan.doc")
    assert len(runs.read_text().split()) == 1  # not started again


def test_a_conversion_over_its_time_is_stopped_with_its_process_group(tmp_path, monkeypatch) -> None:
    runs = _fake_soffice(tmp_path / "bin", "sleep 30 &\necho $! >> " + str(tmp_path / "bin" / "runs") + "\nwait\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setattr(office_module, "CONVERSION_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(ExtractError, match="took longer than 1 s"):
        extract(compound_file(), url="plan.doc")
    assert time.monotonic() - started < 10
    pids = [int(pid) for pid in runs.read_text().split()]
    assert len(pids) == 2
    time.sleep(0.2)
    for pid in pids:  # the program and what it started: none left running
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()


def _extract_with_path(path: str, temporary: str, body: bytes, url: str):
    """extract() in a worker whose PATH is `path` (a worker inherits the forkserver's environment),
    with its temporary files in `temporary`: a worker killed at its deadline cannot remove them."""
    os.environ["PATH"] = path
    tempfile.tempdir = temporary
    return extract(body, url=url)


def test_a_conversion_dies_with_the_worker_stopped_at_the_document_deadline(tmp_path) -> None:
    runs = _fake_soffice(tmp_path / "bin", "exec sleep 30\n")  # the program itself runs on
    with Workers(Budget(memory=384 * 2**20, seconds=3.0, processes=1)) as workers:
        workers.run(extract, "一、总体要求".encode(), url="plan.txt")  # the worker is up
        with pytest.raises(BudgetExceeded, match="took longer than 3 s"):
            workers.run(_extract_with_path, f"{tmp_path / 'bin'}:/usr/bin:/bin", str(tmp_path), compound_file(), "plan.doc")
    (pid,) = [int(pid) for pid in runs.read_text().split()]
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text():
        assert time.monotonic() < deadline, "the conversion outlived its worker"
        time.sleep(0.05)


def test_a_conversion_may_write_no_more_than_its_output_cap(tmp_path, monkeypatch) -> None:
    # the program's arguments end in: --outdir OUT INPUT; it writes OUT/document.docx
    script = 'for last; do :; done\nout=$(dirname "$last")/out\nhead -c 2000000 /dev/zero > "$out/document.docx"\n'
    _fake_soffice(tmp_path / "bin", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setattr(office_module, "MAX_OUTPUT_BYTES", 1_000_000)
    with pytest.raises(ExtractError, match="could not convert"):
        extract(compound_file(), url="plan.doc")
    monkeypatch.setattr(office_module, "MAX_OUTPUT_BYTES", 3_000_000)  # the same output under the cap is read
    with pytest.raises(ExtractError, match="corrupt DOCX"):
        extract(compound_file(), url="plan.doc")


# ---------------------------------------------------------------- checks


def _mail() -> EmailSettings:
    return EmailSettings(smtp_host="127.0.0.1", sender="w@example.org", to=("a@example.org",), security="none")


def test_a_checked_spreadsheet_whose_target_changes_is_a_new_version_and_a_digest_entry(
    http_server: PageServer, write_config, documents
) -> None:
    http_server.set("/files/indicators.xls", documents["xls"], content_type=OCTET)
    http_server.set("/files/plan.doc", documents["doc"], content_type="application/msword")
    sources = [
        {"name": "indicators", "url": http_server.url("/files/indicators.xls")},
        {"name": "plan", "url": http_server.url("/files/plan.doc")},
    ]
    settings = load_settings(str(write_config(sources)))
    assert settings.fetch.document_memory == 384 * 2**20 and settings.fetch.processes > 0  # the real budget
    first = {r.source: r for r in check_all(settings)}
    assert {name: r.status for name, r in first.items()} == {"indicators": "new", "plan": "new"}
    with Store(settings.storage_path) as store:
        assert store.document(store.versions("plan")[0].id).blocks[0].text == HEADING
        assert SHEET in store.resolve("indicators").text

    changed = [row if row[0] != "全社会研发投入占比" else (row[0], 0.0228, 0.04) for row in SHEET_ROWS]
    http_server.set("/files/indicators.xls", workbook({SHEET: changed}), content_type=OCTET)  # now an .xlsx there
    second = {r.source: r for r in check_all(settings)}
    assert {name: r.status for name, r in second.items()} == {"indicators": "new", "plan": "unchanged"}
    assert second["indicators"].version_number == 2
    with Store(settings.storage_path) as store:
        (change,) = [c for c in store.changes("indicators") if c.substantive]
        assert change.kind == "target_changed"
        digest = send_digest(store, replace(settings, email=_mail()), dry_run=True).digests[0]
    assert digest.subject.endswith("1 target") and "\nindicators\n" in digest.text
    # metric | old | new | unit | year | change | under: the sheet's name is its heading
    assert re.search(r"\| 全社会研发投入占比 \| 3\.6 \| 4 +\| % +\| 2025 \| target changed \| 主要指标 \|", digest.text), digest.text


def test_watcher_check_without_libreoffice_records_a_legacy_document_as_failed(
    http_server: PageServer, write_config, documents, tmp_path
) -> None:
    http_server.set("/files/plan.wps", documents["doc"], content_type=OCTET)
    http_server.set("/files/indicators.xlsx", documents["xlsx"], content_type=OCTET)
    sources = [
        {"name": "plan", "url": http_server.url("/files/plan.wps")},
        {"name": "indicators", "url": http_server.url("/files/indicators.xlsx")},
    ]
    config = write_config(sources)
    (tmp_path / "empty").mkdir()
    process = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "check", "--format", "json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(tmp_path / "empty")},
    )
    assert process.returncode == 3, process.stderr
    results = {r["source"]: r for r in json.loads(process.stdout)}
    assert results["indicators"]["status"] == "new"  # an .xlsx needs no LibreOffice
    assert results["plan"]["status"] == "failed"
    assert "needs LibreOffice" in results["plan"]["error"] and "apt-get install libreoffice-writer-nogui" in results["plan"]["error"]
    with Store(load_settings(str(config)).storage_path) as store:
        assert [c.status for c in store.checks("plan")] == ["failed"] and store.versions("plan") == []


def test_a_notice_page_s_wps_and_et_attachments_are_followed_and_read(
    http_server: PageServer, write_config, documents
) -> None:
    page = f"<html><body><div id='zoom'><h1>{HEADING}</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:5])
    page += "<p>附件：<a href='/files/规划.wps'>规划全文</a> <a href='/files/指标.et'>指标表</a></p></div></body></html>"
    http_server.set("/notice.html", page)
    http_server.set("/files/%E8%A7%84%E5%88%92.wps", documents["doc"], content_type=OCTET)
    http_server.set("/files/%E6%8C%87%E6%A0%87.et", documents["xls"], content_type=OCTET)
    settings = load_settings(str(write_config([{"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}])))
    results = {r.source: r for r in check_all(settings)}
    assert {name: r.status for name, r in results.items()} == {"notice": "new", "notice/规划.wps": "new", "notice/指标.et": "new"}
    assert results["notice"].error is None  # nothing named as not followed
    with Store(settings.storage_path) as store:
        assert store.document(store.versions("notice/规划.wps")[0].id).format == "doc"
        assert store.document(store.versions("notice/指标.et")[0].id).format == "spreadsheet"
