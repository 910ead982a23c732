"""Scanned PDFs (pages that are images, no text layer) read by OCR: Tesseract with chi_sim.

The scans are drawn from the corpus texts (tests/scans.py), so the expected text is known. The
bounds below were measured on these pages (bench/bench_ocr.py and the figures beside each) and
leave room for another Tesseract build.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PageServer, case_bytes
from hostile import pdf_with_declared_image
from rapidfuzz.distance import Levenshtein
from scans import SCAN_DPI, corpus_paragraphs, draw_pages, image_pdf, scanned_pdf, searchable_scan
from tools import need

from watcher.differ.ledger import indicators
from watcher.errors import ExtractError
from watcher.extract import extract
from watcher.extract.ocr import MAX_OCR_PAGES, MAX_OCR_PIXELS, render_scale
from watcher.model import Document, OcrReading
from watcher.normalise import comparison_form
from watcher.store import Store

PDF = "application/pdf"
# Two A4 pages of the Haishu plan, past its notice: measured CER 0.37% in comparison form
# (0.42% with white space removed only), the worst paragraph 1.9%. Bounds: about 5× that.
MAX_CER = 0.02
MAX_PARAGRAPH_CER = 0.10
# Of the reference text's indicators (metric, value, unit), 26 of 28 were read back (93%).
MIN_TARGETS_FOUND = 0.85


def cer(reference: str, recognised: str) -> float:
    """Edit distance / reference length, on the comparison form (white space removed, widths folded)."""
    reference, recognised = comparison_form(reference), comparison_form(recognised)
    return Levenshtein.distance(reference, recognised) / len(reference)


@pytest.fixture(scope="module")
def scan() -> tuple[bytes, list[str], Document]:
    """A two-page scanned PDF of corpus text, its paragraphs, and what watcher reads in it."""
    need("tesseract")
    body, printed = scanned_pdf(corpus_paragraphs(start=30), pages=2)
    return body, printed, extract(body, content_type=PDF)


def test_a_scanned_pdf_reads_as_its_text_within_the_measured_error_rate(scan) -> None:
    body, printed, document = scan
    assert b"/Font" not in body  # an image-only PDF: no text layer at all
    assert cer("".join(printed), document.text) < MAX_CER
    # The recognised lines are re-joined into the printed paragraphs, one block each.
    assert [b.kind for b in document.blocks] == ["paragraph"] * len(printed)
    for paragraph, block in zip(printed, document.blocks, strict=True):
        assert cer(paragraph, block.text) < MAX_PARAGRAPH_CER, (paragraph, block.text)


def test_the_targets_of_a_scanned_pdf_are_found(scan) -> None:
    _, printed, document = scan
    reference = extract("\n\n".join(printed).encode("utf-8"), content_type="text/plain")

    def keys(doc: Document) -> set[tuple[str, float | None, str]]:
        return {(i.target.metric, i.target.value, i.target.unit) for i in indicators(doc)}

    expected = keys(reference)
    assert len(expected) >= 20
    assert len(expected & keys(document)) >= MIN_TARGETS_FOUND * len(expected)


def test_a_scanned_pdf_is_marked_as_read_by_ocr(scan) -> None:
    document = scan[2]
    assert document.ocr == OcrReading(pages=(1, 2), unread=0)
    assert document.ocr.note == "OCR: pages 1–2 read by text recognition"


def test_a_pdf_with_a_text_layer_is_not_ocrd(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract: OCR would fail if it were asked
    document = extract(case_bytes("cixi-pdf-noise", "new.pdf"), content_type=PDF)
    assert document.ocr is None
    assert len(document.text) > 1000
    # a scan that already has a text layer (OCR software's "searchable" PDF) is read from the layer
    lines = ["Article 1. The plan sets its targets for 2025.", "Article 2. It is reviewed each year."]
    document = extract(searchable_scan(lines), content_type=PDF)
    assert document.ocr is None
    assert comparison_form(document.text) == comparison_form("".join(lines))


def test_a_scanned_pdf_without_the_ocr_engine_says_what_to_install(monkeypatch, tmp_path: Path) -> None:
    body, _ = scanned_pdf(corpus_paragraphs(start=30), pages=1)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExtractError, match="apt-get install tesseract-ocr tesseract-ocr-chi-sim"):
        extract(body, content_type=PDF)


def test_a_tesseract_without_chinese_data_says_what_to_install(monkeypatch, tmp_path: Path) -> None:
    need("tesseract")
    body, _ = scanned_pdf(corpus_paragraphs(start=30), pages=1)
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))  # a tessdata folder without chi_sim
    with pytest.raises(ExtractError, match="chi_sim.*apt-get install tesseract-ocr tesseract-ocr-chi-sim"):
        extract(body, content_type=PDF)


def test_pages_past_the_ocr_cap_are_counted_not_read() -> None:
    need("tesseract")
    pages = []
    lines = [paragraph[:20] for paragraph in corpus_paragraphs(start=30)]
    for number in range(1, MAX_OCR_PAGES + 3):  # a line a page, each another (not page furniture)
        pages += draw_pages([f"第{number}条 {lines[number]}"], pages=1)[0]
    document = extract(image_pdf(pages), content_type=PDF)
    assert document.ocr == OcrReading(pages=tuple(range(1, MAX_OCR_PAGES + 1)), unread=2)
    assert "2 more scanned pages not read" in document.ocr.note
    read = [int(n) for n in re.findall(r"第(\d+)条", document.text)]
    assert read == list(range(1, MAX_OCR_PAGES + 1))


def test_a_large_page_is_rendered_within_the_pixel_cap() -> None:
    a4 = render_scale(595, 842)
    assert a4 == pytest.approx(SCAN_DPI / 72)
    width, height = 595 * 10, 842 * 10  # a poster
    scale = render_scale(width, height)
    assert width * height * scale * scale == pytest.approx(MAX_OCR_PIXELS, rel=1e-6)


def test_an_image_too_large_to_decode_is_refused_before_rendering() -> None:
    with pytest.raises(ExtractError, match="image of more than 64 megapixels"):
        extract(pdf_with_declared_image(10_000, 10_000), content_type=PDF)


def test_watcher_check_stores_a_scanned_pdf_as_an_ocr_version(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    need("tesseract")
    body, printed = scanned_pdf(corpus_paragraphs(start=30), pages=1)
    http_server.set("/scan.pdf", body, content_type=PDF)
    config = write_config([{"name": "scan", "url": http_server.url("/scan.pdf")}])
    # the real command, whose workers read under the default budget (384 MB, 120 s)
    done = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "check", "--format", "json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (check,) = json.loads(done.stdout)
    assert check["status"] == "new"
    assert "OCR: page 1 read by text recognition" in check["error"]
    with Store(str(tmp_path / "watcher.db")) as store:
        (version,) = store.versions("scan")
        assert version.ocr == OcrReading(pages=(1,))
        assert cer("".join(printed), version.text) < MAX_CER
        stored = store.document(version.id)
        assert stored.ocr == OcrReading(pages=(1,))
        assert stored.text == version.text
    shown = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "diff", "scan@1", "scan@1", "--format", "json"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert json.loads(shown.stdout)["new"]["ocr"] == {"pages": [1], "unread": 0}
