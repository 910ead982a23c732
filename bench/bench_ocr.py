"""OCR engines on the same scanned pages: character error rate, seconds per page, peak memory.

Run from the project root:  .venv/bin/python bench/bench_ocr.py [--pages N]

Pages of the corpus texts (../shared/corpus) are drawn as images into an image-only PDF
(tests/scans.py), rendered as watcher.extract.ocr renders them (pypdfium2 at OCR_DPI) and read by:

- tesseract: the engine watcher uses (watcher.extract.ocr; Debian tesseract-ocr tesseract-ocr-chi-sim);
- rapidocr: RapidOCR on onnxruntime, models from its wheel (optional here:
  `.venv/bin/pip install rapidocr_onnxruntime`; skipped with that hint when missing).

Each engine runs in a child process of its own, whose process tree is sampled every 20 ms: the
VmPeak (address space, what RLIMIT_AS limits, per process) and VmHWM (resident peak) of each of
its processes are printed by name (python: the reader; tesseract: the program it starts), with
the seconds per page and the CER: Levenshtein distance / reference length, on the text with
white space removed (raw), and on the comparison form (watcher.normalise: widths and
punctuation folded, as versions are compared).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import scans  # noqa: E402
from timing import process_tree, sampled  # noqa: E402

from watcher.normalise import comparison_form  # noqa: E402

MB = 2**20
ENGINES = ("tesseract", "rapidocr")
# Where the pages come from: (corpus file, first line), past the metadata lists and notices.
PAGE_SOURCES = (("haishu-sti-plan-2021.txt", 30), ("cixi-sti-plan-2021.txt", 20))


def cer(reference: str, recognised: str, form: str = "raw") -> float:
    """Character error rate: edit distance / reference length, white space removed (raw) or in
    comparison form."""
    if form == "comparison":
        reference, recognised = comparison_form(reference), comparison_form(recognised)
    else:
        reference, recognised = "".join(reference.split()), "".join(recognised.split())
    return Levenshtein.distance(reference, recognised) / max(1, len(reference))


def scanned_pages(count: int) -> tuple[bytes, list[str]]:
    """An image-only PDF of `count` pages and the reference text of each page."""
    images, references = [], []
    taken = [0] * len(PAGE_SOURCES)  # paragraphs of each source already on a page
    for k in range(count):
        which = k % len(PAGE_SOURCES)
        name, start = PAGE_SOURCES[which]
        drawn, printed = scans.draw_pages(scans.corpus_paragraphs(name, start=start)[taken[which]:], pages=1)
        taken[which] += len(printed)
        images.extend(drawn)
        references.append("\n".join(printed))
    return scans.image_pdf(images), references


Peaks = dict[str, tuple[int, int]]  # process name → (VmPeak, VmHWM) in bytes, the largest seen


def process_peaks(pid: int, peaks: Peaks) -> None:
    """Fold the VmPeak and VmHWM of each process of the tree under `pid` into `peaks`, by name."""
    for current in process_tree(pid):
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except (OSError, ValueError):
            continue
        name = fields.get("Name", "?").strip()
        vm_peak, hwm = (int(fields.get(key, "0 kB").split()[0]) * 1024 for key in ("VmPeak", "VmHWM"))
        old = peaks.get(name, (0, 0))
        peaks[name] = (max(old[0], vm_peak), max(old[1], hwm))


def measured(engine: str, pdf: Path, pages: int) -> tuple[dict[str, object], Peaks]:
    """Run one engine in a child process; its answer and the peaks of the processes of its tree."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", engine, str(pdf), "--pages", str(pages)],
        stdout=subprocess.PIPE, cwd=ROOT,
    )
    peaks: Peaks = {}
    out = sampled(child, lambda pid: process_peaks(pid, peaks))
    return json.loads(out), peaks


def _tesseract_texts(body: bytes, pages: int) -> list[str]:
    from watcher.extract.ocr import read_pages

    return ["\n".join(line.text for line in lines) for _, lines in read_pages(body, list(range(pages)))]


def _rapidocr_texts(body: bytes, pages: int) -> list[str]:
    import numpy
    import pypdfium2
    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-not-found]

    from watcher.extract.ocr import render_scale

    engine = RapidOCR()
    document = pypdfium2.PdfDocument(body)
    texts = []
    for number in range(pages):
        page = document[number]
        image = page.render(scale=render_scale(page.get_width(), page.get_height()), grayscale=True).to_pil()
        found, _ = engine(numpy.array(image.convert("RGB")))
        texts.append("\n".join(item[1] for item in found or ()))
    return texts


def child(engine: str, pdf: Path, pages: int) -> None:
    body = pdf.read_bytes()
    started = time.perf_counter()
    texts = (_tesseract_texts if engine == "tesseract" else _rapidocr_texts)(body, pages)
    print(json.dumps({"seconds": time.perf_counter() - started, "texts": texts}, ensure_ascii=False))


def available(engine: str) -> str | None:
    """None, or why the engine cannot run here and how to install it."""
    if engine == "tesseract":
        import shutil

        return None if shutil.which("tesseract") else "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
    try:
        import rapidocr_onnxruntime  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return ".venv/bin/pip install rapidocr_onnxruntime"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PDF"), help=argparse.SUPPRESS)
    parser.add_argument("--show", action="store_true", help="print what each engine read")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.pages)
        return
    body, references = scanned_pages(args.pages)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "scanned.pdf"
        pdf.write_bytes(body)
        reference_chars = sum(len("".join(r.split())) for r in references)
        print(f"{args.pages} A4 pages at {scans.SCAN_DPI} dpi, {reference_chars} characters of reference text")
        print(f"{'engine':10} {'CER raw':>8} {'CER cmp':>8} {'worst pg':>8} {'s/page':>7}   peak memory (VmPeak / VmHWM, MB)")
        for engine in ENGINES:
            missing = available(engine)
            if missing:
                print(f"{engine:10} not installed: {missing}")
                continue
            answer, peaks = measured(engine, pdf, args.pages)
            texts = answer["texts"]
            assert isinstance(texts, list)
            raw = cer("".join(references), "".join(texts))
            folded = cer("".join(references), "".join(texts), "comparison")
            worst = max(cer(r, t, "comparison") for r, t in zip(references, texts, strict=True))
            seconds = float(answer["seconds"]) / args.pages  # type: ignore[arg-type]
            memory = ", ".join(f"{name} {vm // MB} / {hwm // MB}" for name, (vm, hwm) in sorted(peaks.items()))
            print(f"{engine:10} {raw:8.2%} {folded:8.2%} {worst:8.2%} {seconds:7.1f}   {memory}")
            if args.show:
                print("\n".join(texts))


if __name__ == "__main__":
    main()
