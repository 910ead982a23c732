#!/usr/bin/env python3
"""Benchmark of the LibreOffice conversions: time and peak memory per document.

The documents are the two corpus plans (../shared/corpus) built as .docx with python-docx (a
heading, every line a paragraph, an indicator table), saved as Word 97 .doc by LibreOffice, and an
indicator workbook saved as .xls. For each it prints the conversion (watcher.extract.office.convert,
the reader's own path) the first time and warm (best of the later runs; every conversion sets up
its own new profile, so "first" differs from "warm" only by what the OS has cached), the peak of
the soffice.bin process (VmPeak, the address space the budget limits, and VmHWM, resident, sampled
from /proc; and getrusage(RUSAGE_CHILDREN) for all of them), against the bare python-docx read of
the converted .docx, the whole reader (extract), and the same read in a worker under the default
budget (384 MB soft, PROGRAM_MEMORY hard). For .xls it compares xlrd's read of the same file.

    .venv/bin/python bench/bench_office.py [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import docx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from office_files import corpus_lines, libreoffice, word_document, workbook  # noqa: E402
from timing import best_of  # noqa: E402

from watcher.budget import PROGRAM_MEMORY, Budget, Workers  # noqa: E402
from watcher.extract import extract  # noqa: E402
from watcher.extract.office import convert  # noqa: E402
from watcher.model import FetchSettings  # noqa: E402

TABLE = [("指标", "2020年", "2025年目标"), ("全社会研发投入占比", "2.28%", "3.6%"), ("有效国家高新技术企业", "247家", "600家")]


class Peaks:
    """The largest VmPeak and VmHWM (kB) of this process's soffice.bin children while running."""

    def __init__(self) -> None:
        self.peak = self.resident = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.01):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if fields.get("Name", "").strip() != "soffice.bin" or fields.get("PPid", "").strip() != me:
                    continue
                self.peak = max(self.peak, int(fields.get("VmPeak", "0 kB").split()[0]))
                self.resident = max(self.resident, int(fields.get("VmHWM", "0 kB").split()[0]))


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def documents(soffice: str) -> dict[str, tuple[bytes, str, str]]:
    """name → (legacy body, its suffix, the conversion's target)."""
    out: dict[str, tuple[bytes, str, str]] = {}
    for name in ("haishu-sti-plan-2021.txt", "cixi-sti-plan-2021.txt"):
        lines = corpus_lines(name, count=100_000)
        body = word_document(lines[0], lines[1:], TABLE)
        odt = libreoffice(soffice, body, ".docx", "odt")  # LibreOffice 7.4 loses python-docx tables going straight to .doc
        out[name.split("-")[0] + ".doc"] = (libreoffice(soffice, odt, ".odt", "doc:MS Word 97"), ".doc", "docx")
    rows: list[tuple[object, ...]] = [("指标", "2020年", "2025年目标")]
    rows += [(f"指标{n}", n * 1.5, n * 2.0) for n in range(1, 2001)]
    out["indicators.xls"] = (libreoffice(soffice, workbook({"主要指标": rows}), ".xlsx", "xls:MS Excel 97"), ".xls", "xlsx")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    soffice = shutil.which("soffice")
    if soffice is None:
        sys.exit("soffice is not installed (Debian: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)")
    memory = FetchSettings().document_memory
    print(f"worker budget: {memory // 2**20} MB soft, {PROGRAM_MEMORY // 2**20} MB hard (the conversion's limit)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: times scale with it")
    for name, (body, suffix, target) in documents(soffice).items():
        with Peaks() as peaks:
            first = timed(lambda: convert(body, suffix, target))  # noqa: B023
            warm = best_of(args.runs, lambda: convert(body, suffix, target))  # noqa: B023
        converted = convert(body, suffix, target)
        url = f"http://gov.example.cn/files/{name}"
        read = best_of(args.runs, lambda: extract(body, url=url))  # noqa: B023
        print(f"\n{name}: {len(body) / 1024:.0f} KB → .{target} {len(converted) / 1024:.0f} KB")
        print(f"  conversion: first {first:.2f} s, warm {warm:.2f} s")
        print(f"  soffice.bin peak: {peaks.peak / 1024:.0f} MB address space (VmPeak), "
              f"{peaks.resident / 1024:.0f} MB resident (VmHWM)")
        print(f"  whole reader (conversion + read): {read:.2f} s")
        if target == "docx":
            bare = best_of(args.runs, lambda: docx.Document(io.BytesIO(converted)))  # noqa: B023
            print(f"  bare python-docx read of the converted .docx: {bare * 1000:.0f} ms")
        else:
            bare_xlrd(body, args.runs)
        with Workers(Budget(memory=memory, seconds=120, processes=1)) as workers:
            in_worker = best_of(args.runs, lambda: workers.run(extract, body, url=url))  # noqa: B023
            characters = len(workers.run(extract, body, url=url).text)
            print(f"  in a worker under the budget: {in_worker:.2f} s, {characters} characters")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"\ngetrusage(RUSAGE_CHILDREN) max resident of any child: {children / 1024:.0f} MB")


def bare_xlrd(body: bytes, runs: int) -> None:
    """xlrd's read of the same .xls, where it is installed (it is not a dependency)."""
    try:
        import xlrd  # type: ignore[import-not-found]
    except ImportError:
        print("  xlrd: not installed (pip install xlrd to compare)")
        return

    def read() -> int:
        book = xlrd.open_workbook(file_contents=body)
        return sum(len(sheet.row_values(n)) for sheet in book.sheets() for n in range(sheet.nrows))

    print(f"  xlrd read of the .xls ({read()} cells): {best_of(runs, read) * 1000:.0f} ms, peak resident of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
