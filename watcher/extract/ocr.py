"""Scanned pages → recognised lines, by Tesseract (chi_sim), offline.

A PDF page that has no text layer but draws images is rendered (pypdfium2) at OCR_DPI, capped at
MAX_OCR_PIXELS, and read by the `tesseract` program in a subprocess (an argument list; the image
goes in on stdin, nothing of the document reaches a shell). Its TSV output gives each recognised
line with its box; the boxes are turned into PDF points so that watcher.extract.pdf re-joins the
lines into paragraphs from their geometry, like the lines of a text layer.

Why Tesseract and not RapidOCR (bench/bench_ocr.py: the same 4 rendered A4 pages of the corpus,
3486 characters). Tesseract: CER 0.5% on the comparison form (0.8% raw), 2.7 s a page on a quiet
machine (13.8 s at a load of 13 on 2 cores), the tesseract process at VmPeak 140 MB / 91 MB
resident. RapidOCR (rapidocr_onnxruntime 1.4.4, PP-OCRv4 models from its wheel, defaults): CER
6.3% (it left out whole lines), 11.7 s a page (63.3 s loaded), VmPeak 1955–2007 MB / 916–966 MB
resident: five times the document budget ([fetch] document_memory, 384 MB), where Tesseract fits
under it unchanged (the subprocess inherits the worker's RLIMIT_AS; a two-page scan was read under
a 160 MB budget, not under 128 MB).
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from watcher.errors import ExtractError, ProgramMissing

OCR_DPI = 200  # a common scanning resolution: 12 pt type is about 33 px high, which Tesseract reads well
MAX_OCR_PIXELS = 16_000_000  # A4 at 200 dpi is 3.9 MP; an A3 page is 7.8 MP. A larger page is rendered smaller.
# Pages read by OCR in one document: Tesseract takes 2.7 s for a full A4 page of body text on a
# quiet core and 13.8 s on a machine loaded 6× over (bench/bench_ocr.py); 6 pages stay within the
# 120 s document deadline ([fetch] document_seconds) even then (83 s). A missed deadline loses
# the whole document; the scanned pages past the cap are counted in the version, not read.
MAX_OCR_PAGES = 6
OCR_PAGE_SECONDS = 60.0  # one page; a page that takes longer is a failure of the document
LANGUAGE = "chi_sim"
_IDEOGRAPH = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
INSTALL_HINT = "install Tesseract with its Simplified Chinese data (Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim)"


@dataclass(frozen=True)
class OcrLine:
    """A recognised line, its box in PDF points from the page's top left."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str


def tesseract() -> str:
    """The path of the tesseract program; ExtractError saying what to install when it is missing."""
    path = shutil.which("tesseract")
    if path is None:
        raise ProgramMissing(f"the PDF has scanned pages without a text layer; reading them needs OCR: {INSTALL_HINT}")
    return path


def render_scale(width: float, height: float, *, dpi: int = OCR_DPI, max_pixels: int = MAX_OCR_PIXELS) -> float:
    """Pixels per PDF point for a page of width × height points: `dpi`, or less for a page that
    would exceed `max_pixels`."""
    scale = dpi / 72
    area = width * height * scale * scale
    if area > max_pixels:
        scale *= math.sqrt(max_pixels / area)
    return scale


def read_pages(body: bytes, pages: list[int]) -> Iterator[tuple[int, list[OcrLine]]]:
    """(page, its recognised lines) for each page number (0-based) of the PDF in `body`."""
    import pypdfium2  # imported here: a text-layer PDF never needs the renderer

    program = tesseract()
    document = pypdfium2.PdfDocument(body)
    try:
        for number in pages:
            page = document[number]
            try:
                scale = render_scale(page.get_width(), page.get_height())
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil()
                png = io.BytesIO()
                image.save(png, format="PNG")
                del image, bitmap
            finally:
                page.close()
            yield number, recognise(program, png.getvalue(), scale)
    finally:
        document.close()


def recognise(program: str, image: bytes, scale: float) -> list[OcrLine]:
    """The lines Tesseract reads in one page image (PNG bytes) rendered at `scale` pixels a point."""
    dpi = str(round(scale * 72))
    # One thread: the run already reads `processes` documents at once, one a core.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            [program, "stdin", "stdout", "-l", LANGUAGE, "--dpi", dpi, "tsv"],
            input=image, capture_output=True, timeout=OCR_PAGE_SECONDS, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractError(f"OCR of a scanned page took longer than {OCR_PAGE_SECONDS:g} s") from None
    except OSError as exc:
        raise ProgramMissing(f"OCR could not start: {exc}; {INSTALL_HINT}") from exc
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        about_language = [line for line in said if LANGUAGE in line]  # "Failed loading language 'chi_sim'"
        if about_language:
            raise ExtractError(f"OCR failed: {about_language[-1][:200]}; {INSTALL_HINT}")
        raise ExtractError(f"OCR failed: {said[-1][:200] if said else f'exit status {done.returncode}'}")
    return lines_of_tsv(done.stdout.decode("utf-8", "replace"), scale)


def lines_of_tsv(tsv: str, scale: float) -> list[OcrLine]:
    """Tesseract's TSV (level 4 a line, level 5 a word of it) → lines, in points, in reading order."""
    from watcher.extract.text import join_all  # text imports nothing of OCR: no cycle

    words: dict[tuple[str, ...], list[tuple[int, int, int, int, str]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        try:
            box = (int(cells[6]), int(cells[7]), int(cells[8]), int(cells[9]))
        except ValueError:
            continue
        words.setdefault(tuple(cells[1:5]), []).append((*box, cells[11].strip()))
    boxes: list[tuple[int, int, int, int | None, str]] = []
    for found in words.values():  # dicts keep insertion order: Tesseract's reading order
        # Characters sit on one line: the median bottom is the line's. Tesseract's boxes of
        # ideographs are about the type size, but some take in a neighbour (taller) and a 。 or a
        # 、 is short: the lower quartile of the heights of the words with an ideograph is the
        # line's, unknown (None) for a line without one.
        bottoms = sorted(top + height for _, top, _, height, _ in found)
        heights = sorted(height for _, _, _, height, text in found if _IDEOGRAPH.search(text))
        x0, x1 = min(w[0] for w in found), max(w[0] + w[2] for w in found)
        boxes.append((x0, x1, bottoms[len(bottoms) // 2], heights[len(heights) // 4] if heights else None,
                      join_all(w[4] for w in found)))
    known = sorted(box[3] for box in boxes if box[3] is not None)
    typical = known[len(known) // 2] if known else 0
    return [
        OcrLine(x0 / scale, x1 / scale, (bottom - (typical if height is None else height)) / scale, bottom / scale, text)
        for x0, x1, bottom, height, text in boxes
    ]
