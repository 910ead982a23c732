"""Documents read under a budget: hostile files made here fail their own source with a clear error,
within the memory and time a document may take, and the run goes on."""

from __future__ import annotations

import time

import hostile
import pytest
from conftest import PageServer, case_bytes

from watcher.budget import Budget, Workers
from watcher.check import check_all
from watcher.config import load_settings
from watcher.errors import BudgetExceeded, ExtractError
from watcher.extract import extract
from watcher.store import Store

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MB = 2**20


@pytest.fixture
def workers():
    with Workers(Budget(memory=384 * MB, seconds=30, processes=1)) as pool:
        yield pool


def test_zip_members_are_measured_by_what_they_inflate_to(workers: Workers) -> None:
    # 1 KB declared in both headers, 300 MB inside: refused after reading the declared KB
    started = time.monotonic()
    with pytest.raises(ExtractError, match=r"not a readable zip archive\): Bad CRC"):
        workers.run(extract, hostile.lying_docx(300 * MB), url="a.docx")
    assert time.monotonic() - started < 10


def test_a_docx_that_inflates_past_the_cap_is_refused_while_it_is_read(workers: Workers) -> None:
    with pytest.raises(ExtractError, match="inflates to more than 100 MB"):
        workers.run(extract, hostile.docx_with_document_xml(120 * MB), url="a.docx")


def test_a_parser_that_needs_more_memory_than_a_document_may_take_is_stopped() -> None:
    # 60 MB of XML passes the zip caps; parsing it takes far more than 256 MB
    with Workers(Budget(memory=256 * MB, seconds=60, processes=1)) as pool:
        with pytest.raises(BudgetExceeded, match="more than 256 MB of memory"):
            pool.run(extract, hostile.docx_with_document_xml(60 * MB), url="a.docx")
        # the worker was replaced: the next document reads normally
        assert "3700家" in pool.run(extract, hostile.docx_with_document_xml(10_000), url="b.docx").text


def test_pdf_pages_are_measured_by_the_objects_their_operators_produce(workers: Workers) -> None:
    body = hostile.pdf_with_operator_stream(200_000)  # 5.2 million characters from 33 KB
    assert len(body) < 64 * 1024
    started = time.monotonic()
    with pytest.raises(ExtractError, match="page 1 draws more than 100000 characters"):
        workers.run(extract, body, url="a.pdf")
    assert time.monotonic() - started < 20


def test_a_document_past_its_deadline_is_stopped_and_the_worker_replaced() -> None:
    with Workers(Budget(memory=384 * MB, seconds=1, processes=1)) as pool:
        started = time.monotonic()
        with pytest.raises(BudgetExceeded, match="longer than 1 s"):
            pool.run(hostile.never_ends)
        assert time.monotonic() - started < 5
        sentence = "到2025年，全市科技型中小企业数达到3700家。"
        assert pool.run(extract, sentence.encode(), content_type="text/plain").text == sentence


def test_a_job_that_reached_the_limit_does_not_make_the_next_error_a_memory_failure() -> None:
    # the peak of a worker only grows: after a job at the limit a damaged file would read as one
    with Workers(Budget(memory=256 * MB, seconds=30, processes=1)) as pool:
        assert pool.run(hostile.fill_memory) > 0
        with pytest.raises(ExtractError, match="corrupt or unreadable PDF"):
            pool.run(extract, b"%PDF-1.4 not really", url="a.pdf")


def test_errors_of_the_reader_reach_the_caller_as_themselves(workers: Workers) -> None:
    with pytest.raises(ExtractError, match="corrupt or unreadable PDF"):
        workers.run(extract, b"%PDF-1.4 not really", url="a.pdf")


def test_a_page_linking_eight_bombs_fails_only_them(http_server: PageServer, write_config) -> None:
    links = "".join(f'<p><a href="/files/bomb{n}.docx">附件{n}</a></p>' for n in range(7))
    links += '<p><a href="/files/bomb7.pdf">附件7</a></p>'
    page = case_bytes("haishu-noise-page", "old.html").replace(b"</body>", links.encode() + b"</body>")
    http_server.set("/notice.html", page)
    lying = hostile.lying_docx(200 * MB)
    for n in range(7):
        http_server.set(f"/files/bomb{n}.docx", lying, content_type=DOCX_TYPE)
    http_server.set("/files/bomb7.pdf", hostile.pdf_with_operator_stream(200_000), content_type="application/pdf")
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    settings = load_settings(str(write_config([source], fetch={"processes": 2, "delay": 0})))
    results = {r.source: r for r in check_all(settings)}
    assert results["notice"].status == "new"
    bombs = [name for name in results if name != "notice"]
    assert len(bombs) == 8
    assert all(results[name].status == "failed" for name in bombs)
    assert all("archive): Bad CRC" in results[f"notice/bomb{n}.docx"].error for n in range(7))
    assert "draws more than" in results["notice/bomb7.pdf"].error
    with Store(settings.storage_path) as store:
        assert [row.status for row in store.last_checks() if row.source in bombs] == ["failed"] * 8
        assert not any(store.versions(name) for name in bombs)
