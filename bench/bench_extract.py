#!/usr/bin/env python3
"""Benchmark of extraction: each format's reader against the bare library read of the same file.

Run from the project root:  .venv/bin/python bench/bench_extract.py [--runs 7]

For every input it prints watcher's extraction time (bytes → Document, in process, no worker)
next to the bare read of the same bytes by a library alone, and the ratio:

- HTML: the Haishu page of tests/data/cases, against lxml.html's text_content() (and bs4's
  get_text(), for scale). Target: HTML ≤ 5× the bare lxml read.
- PDF: the PDF of tests/data/cases and, with reportlab installed, a PDF of a whole corpus plan
  made the way bench/edit_pairs.py makes its PDFs; against pypdfium2's page text and, for the
  choice of PDF library, pdfminer.six's text with layout analysis off.
- DOCX: the DOCX of tests/data/cases and a DOCX of a corpus plan, against python-docx's paragraphs.

Prints the best of several runs, in CPU time of this process (every reader here runs in it, on one
thread): on a machine shared with other work, wall time mostly measures the others. It is a script,
not a timed test.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from timing import best_of  # noqa: E402

from watcher.extract import extract  # noqa: E402

CASES = ROOT / "tests" / "data" / "cases"
PLAN = "haishu-sti-plan-2021"  # a corpus plan, rendered to PDF and DOCX


def cpu_best_of(runs: int, work: Callable[[], object]) -> float:
    return best_of(runs, work, clock=time.process_time)


def bare_lxml(body: bytes) -> object:
    import lxml.html

    return lxml.html.document_fromstring(body).text_content()


def bare_bs4(body: bytes) -> object:
    from bs4 import BeautifulSoup

    return BeautifulSoup(body, "lxml").get_text()


def bare_pdfium(body: bytes) -> object:
    import pypdfium2

    document = pypdfium2.PdfDocument(body)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def bare_pdfminer(body: bytes) -> object:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(body), laparams=None)


def bare_docx(body: bytes) -> object:
    import docx

    return [paragraph.text for paragraph in docx.Document(io.BytesIO(body)).paragraphs]


def inputs() -> list[tuple[str, bytes, list[tuple[str, Callable[[bytes], object]]]]]:
    """(label, body, [(bare reader's name, bare reader)]) for every input measured."""
    html = [("lxml text_content", bare_lxml), ("bs4 get_text", bare_bs4)]
    pdf = [("pypdfium2 text", bare_pdfium), ("pdfminer, layout off", bare_pdfminer)]
    docx_bare = [("python-docx paragraphs", bare_docx)]
    found = [
        ("html  haishu-noise-page/old.html", (CASES / "haishu-noise-page" / "old.html").read_bytes(), html),
        ("html  haishu-noise-page/new.html", (CASES / "haishu-noise-page" / "new.html").read_bytes(), html),
        ("pdf   cixi-pdf-noise/new.pdf", (CASES / "cixi-pdf-noise" / "new.pdf").read_bytes(), pdf),
        ("docx  cixi-table-docx/new.docx", (CASES / "cixi-table-docx" / "new.docx").read_bytes(), docx_bare),
    ]
    import edit_pairs  # the bench's own renderers of a plan text as DOCX and PDF

    text = edit_pairs.load(PLAN)
    found.append((f"docx  {PLAN} (rendered)", edit_pairs.render_docx(text), docx_bare))
    if importlib.util.find_spec("reportlab") is not None:
        found.append((f"pdf   {PLAN} (rendered)", edit_pairs.render_pdf(text), pdf))
    else:
        print(f"(reportlab not installed: no rendered PDF of {PLAN}; pip install reportlab)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for label, body, bares in inputs():
        runs = args.runs if len(body) < 200_000 else max(2, args.runs // 3)
        ours = cpu_best_of(runs, lambda body=body: extract(body))
        print(f"{label:<44} {len(body) / 1024:7.1f} KiB   watcher {ours * 1000:8.1f} ms")
        for name, bare in bares:
            theirs = cpu_best_of(runs, lambda body=body, bare=bare: bare(body))
            print(f"    {name:<40} {theirs * 1000:8.1f} ms   watcher ×{ours / theirs:.1f}")


if __name__ == "__main__":
    main()
