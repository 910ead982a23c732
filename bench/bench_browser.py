#!/usr/bin/env python3
"""Benchmark of the browser fetch (watcher.browser): time per page and Chromium's memory.

Serves two pages on loopback — a real notice page of tests/data (69 KB of HTML) and the same
text written by a script from character codes — and loads them in one Browser: the first page
pays Chromium's start (cold), the next ones a fresh context and page each (warm). While each page
loads, the process tree under this process (the Playwright driver, Chromium and its renderer,
GPU, network and zygote processes) is sampled every 20 ms: the peak of the sum of the Chromium
processes' RSS, of their PSS (which counts shared pages once, split among the processes sharing
them) and of their anonymous memory (not the mapped binary) is printed, and the driver's RSS apart.

    .venv/bin/python bench/bench_browser.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback page server of the test suite

from conftest import PageServer, case_bytes  # noqa: E402
from test_browser import written_by_script  # noqa: E402

from watcher.browser import Browser  # noqa: E402
from watcher.model import FetchSettings  # noqa: E402


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _tree(pid: int) -> list[int]:
    todo, seen = _children(pid), []
    while todo:
        child = todo.pop()
        seen.append(child)
        todo += _children(child)
    return seen


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sample() -> tuple[int, int, int, int]:
    """KB: Chromium's RSS, PSS and anonymous (not file-backed) memory summed over its processes,
    and the driver's RSS."""
    rss = pss = anon = driver = 0
    for pid in _tree(os.getpid()):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if "chromium" in exe:
            rss += _kb(f"/proc/{pid}/status", "VmRSS")
            pss += _kb(f"/proc/{pid}/smaps_rollup", "Pss")
            anon += _kb(f"/proc/{pid}/smaps_rollup", "Anonymous")
        elif exe.endswith("/node"):
            driver += _kb(f"/proc/{pid}/status", "VmRSS")
    return rss, pss, anon, driver


class Peak:
    """The peak of _sample() while it runs."""

    def __init__(self) -> None:
        self.rss = self.pss = self.anon = self.driver = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss, anon, driver = _sample()
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.anon, self.driver = max(self.anon, anon), max(self.driver, driver)
            self._stop.wait(0.02)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = PageServer().start()
    server.set("/notice.html", case_bytes("haishu-noise-page", "old.html"))
    server.set("/js.html", written_by_script())
    settings = FetchSettings(browser_timeout=30.0, browser_settle=3.0)
    try:
        with Browser(settings) as browser:
            for path in ("/notice.html", "/js.html"):
                times, peaks = [], []
                for _ in range(args.runs):
                    with Peak() as peak:
                        started = time.monotonic()
                        fetched = browser.fetch(server.url(path))
                        times.append(time.monotonic() - started)
                    peaks.append(peak)
                cold = f"cold {times[0]:.2f} s (Chromium's start {browser.started:.2f} s), " if path == "/notice.html" else ""
                warm = times[1:] if path == "/notice.html" else times
                print(
                    f"{path}: {len(fetched.body)} bytes rendered; {cold}warm median {statistics.median(warm):.2f} s "
                    f"(min {min(warm):.2f}, max {max(warm):.2f}) over {len(warm)}"
                )
                rss, pss, anon, driver = (
                    max(getattr(p, name) for p in peaks) / 1024 for name in ("rss", "pss", "anon", "driver")
                )
                print(
                    f"  peak Chromium RSS {rss:.0f} MB, PSS {pss:.0f} MB, anonymous {anon:.0f} MB; "
                    f"driver (node) RSS {driver:.0f} MB"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
