"""Input that is not a document gets one clear error naming it, from `watcher diff` and from
`watcher check` (which records it as failed and stores no version); an attachment's stored
versions, whose source names look like paths, can be diffed by reference."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from conftest import PageServer, case_bytes, page_bytes

from watcher.check import check_all
from watcher.config import load_settings
from watcher.store import Store

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JUNK = random.Random(8).randbytes(20_000)  # 20 KB of random bytes, the same on every run


def watcher(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_a_directory_standard_input_or_binary_junk_is_one_clear_error(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("到2025年，全市科技型中小企业数达到3700家。\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.txt").write_bytes(JUNK)
    expected = {
        "folder": "folder: a directory, not a document",
        "-": "-: documents are not read from standard input",
        "junk.txt": "is not text (binary data?)",
        "missing.docx": "missing.docx: no such file",
    }
    for operand, message in expected.items():
        run = watcher("diff", operand, "plan.txt", cwd=tmp_path)
        assert run.returncode == 2, (operand, run.stderr)
        assert message in run.stderr and "Traceback" not in run.stderr, (operand, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1, (operand, run.stderr)


def test_check_records_binary_junk_as_failed_and_stores_no_version(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.txt", JUNK, content_type="text/plain")
    settings = load_settings(str(write_config([{"name": "plan", "url": http_server.url("/plan.txt")}])))
    (result,) = check_all(settings)
    assert result.status == "failed" and "is not text" in result.error
    with Store(settings.storage_path) as store:
        assert store.versions("plan") == []
        assert [c.status for c in store.checks("plan")] == ["failed"]


def test_an_attachments_versions_are_diffed_by_reference(http_server: PageServer, write_config, tmp_path: Path) -> None:
    docx_path = "/files/%E7%A7%91%E6%8A%80%E5%88%9B%E6%96%B0%E8%A7%84%E5%88%92.docx"  # 科技创新规划.docx
    http_server.set("/notice.html", page_bytes("notice.html"))
    http_server.set(docx_path, case_bytes("cixi-table-docx", "old.docx"), content_type=DOCX_TYPE)
    config = write_config([{"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}])
    check_all(load_settings(str(config)))
    http_server.set(docx_path, case_bytes("cixi-table-docx", "new.docx"), content_type=DOCX_TYPE)
    check_all(load_settings(str(config)))
    name = "notice/科技创新规划.docx"
    run = watcher("--config", str(config), "diff", f"{name}@1", f"{name}@2", cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # the attachment's second version changed in substance
    assert f"{name}@1" in run.stdout
    missing = watcher("--config", str(config), "diff", "notice/other.docx", f"{name}@2", cwd=tmp_path)
    assert missing.returncode == 2 and "notice/other.docx: no such file, nor a stored version" in missing.stderr


def test_with_a_config_and_a_database_a_non_document_is_still_named_not_a_config_error(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    # A database where a stored version could be looked up: the operand is judged as a file first.
    http_server.set("/plan.txt", "到2025年，全市科技型中小企业数达到3700家。\n".encode())
    config = write_config([{"name": "plan", "url": http_server.url("/plan.txt")}])
    check_all(load_settings(str(config)))
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.txt").write_bytes(JUNK)
    expected = {
        ("folder", "plan"): "folder: a directory, not a document",
        ("-", "plan"): "-: documents are not read from standard input",
        ("plan", "junk.txt"): "(junk.txt): 49% of what it reads as text is not text (binary data?)",
        ("plan", "missing.txt"): "missing.txt: no such file",
    }
    for operands, message in expected.items():
        run = watcher("--config", str(config), "diff", *operands, cwd=tmp_path)
        assert run.returncode == 2, (operands, run.stderr)
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("watcher: ") and message in line, (operands, run.stderr)


def test_a_junk_attachment_is_failed_stores_no_version_and_is_not_announced(
    http_server: PageServer, write_config
) -> None:
    page = case_bytes("haishu-noise-page", "old.html")
    http_server.set("/notice.html", page)  # no attachment yet: the baseline
    http_server.set("/files/plan.pdf", JUNK, content_type="application/pdf")
    config = write_config([{"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}])
    settings = load_settings(str(config))
    check_all(settings)
    link = "<p>附件：<a href='/files/plan.pdf'>规划全文</a></p>".encode()
    http_server.set("/notice.html", page.replace(b'<div id="zoom">', b'<div id="zoom">' + link, 1))
    results = {r.source: r for r in check_all(settings)}
    assert results["notice"].status == "new"
    assert results["notice/plan.pdf"].status == "failed" and "unreadable PDF" in (results["notice/plan.pdf"].error or "")
    with Store(settings.storage_path) as store:
        assert store.versions("notice/plan.pdf") == []
        assert "document_added" not in [c.kind for c in store.changes("notice")]
