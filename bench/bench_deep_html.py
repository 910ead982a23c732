"""How HTML extraction time grows with the depth and the size of the markup.

Run from the project root:  .venv/bin/python bench/bench_deep_html.py [--against REV] [--timeout S]

Generated pages nest <div>, <span> or <table><tr><td> 1k, 4k, 16k and 100k levels deep around a
real paragraph at the bottom, with a heading and an ordinary paragraph before the nest; "wide"
pages hold as many paragraphs side by side, each followed by a <script> and a share box (junk and
furniture to drop). Each page is extracted by `extract_html` in a child process (so that a run
past --timeout, or a crash, costs only that case), after one small page to warm up; the script
prints the seconds, whether the bottom (last) paragraph was in the text, and t(n)/t(first): about
n/first when the time is linear, about (n/first)² when it is quadratic (and less than linear
where a fixed cost dominates). Best of --runs runs; these machines are noisy, so it is a script
and not a timed test.

`--against REV` (a commit, e.g. the one before a change to the extractor) also times the extractor
of REV on the same pages (a git worktree of REV in a temporary folder) and prints both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (1_000, 4_000, 16_000, 100_000)
SHAPES = ("div", "span", "table", "wide")
BOTTOM = "各地区要加强对深层页面的监测，确保底部段落完整保留。"
_OPEN = {"div": "<div>", "span": "<span>", "table": "<table><tr><td>"}
_CLOSE = {"div": "</div>", "span": "</span>", "table": "</td></tr></table>"}


def deep_page(shape: str, levels: int) -> bytes:
    """A page whose body nests `shape` `levels` deep around the bottom paragraph, or ("wide")
    holds `levels` paragraphs with junk and furniture between them, the bottom one last."""
    if shape == "wide":
        unit = "<p>第{}段：各地区要加强监测工作。</p><script>var n = {};</script><div class='share'>分享到</div>"
        nest = "<div>" + "".join(unit.format(i, i) for i in range(levels)) + f"<p>{BOTTOM}</p></div>"
    else:
        nest = _OPEN[shape] * levels + f"<p>{BOTTOM}</p>" + _CLOSE[shape] * levels
    return (
        "<html><head><meta charset='utf-8'><title>深层页面</title></head><body>"
        "<h1>深层页面</h1><p>这是一个普通的段落，位于嵌套结构之前。</p>"
        f"{nest}</body></html>"
    ).encode()


def _one(shape: str, levels: int, runs: int) -> dict[str, object]:
    """Time this process's extractor on one page (run in the child)."""
    sys.path.insert(0, os.environ.get("WATCHER_BENCH_PACKAGE", str(ROOT)))
    from watcher.extract.html import extract_html

    extract_html(deep_page(shape, 10))  # the first page also pays for loading the normalisers
    body = deep_page(shape, levels)
    best, found, error = float("inf"), False, ""
    for _ in range(runs):
        start = time.perf_counter()
        try:
            document = extract_html(body)
            found = BOTTOM in document.text
        except Exception as exc:  # a measurement: report what the extractor raised
            error = f"{type(exc).__name__}: {exc}"
        best = min(best, time.perf_counter() - start)
    return {"seconds": best, "found": found, "error": error}


def _child(package: str, shape: str, levels: int, runs: int, timeout: float) -> dict[str, object]:
    env = {**os.environ, "WATCHER_BENCH_PACKAGE": package}
    command = [sys.executable, __file__, "--one", shape, str(levels), "--runs", str(runs)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "found": False, "error": f"did not finish in {timeout:g} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"seconds": None, "found": False, "error": f"exit {done.returncode}: {last}"}
    return json.loads(done.stdout)


def _report(label: str, package: str, shapes: list[str], levels: tuple[int, ...], runs: int, timeout: float) -> None:
    print(f"{label}")
    ratio_label = f"t/t({levels[0] // 1000}k)" if levels[0] % 1000 == 0 else f"t/t({levels[0]})"
    print(f"  {'shape':6} {'levels':>8} {'seconds':>10} {ratio_label:>11}  bottom paragraph")
    for shape in shapes:
        first: float | None = None
        for n in levels:
            result = _child(package, shape, n, runs, timeout)
            seconds = result["seconds"]
            if isinstance(seconds, float):
                first = seconds if first is None else first
                ratio = f"{seconds / first:11.1f}" if first else f"{'':11}"
                shown = f"{seconds:10.3f}"
            else:
                shown, ratio = f"{'—':>10}", f"{'—':>11}"
            status = "found" if result["found"] else "MISSING"
            print(f"  {shape:6} {n:8d} {shown} {ratio}  {status} {result['error']}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", metavar="REV", help="also time the extractor of this commit")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a case may take (default 300)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--one", nargs=2, metavar=("SHAPE", "LEVELS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.runs)))
        return
    levels = tuple(args.levels)
    _report("this checkout", str(ROOT), args.shapes, levels, args.runs, args.timeout)
    if args.against:
        with tempfile.TemporaryDirectory() as folder:
            tree = os.path.join(folder, "tree")
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, args.against], check=True,
                           capture_output=True)
            try:
                _report(f"commit {args.against}", tree, args.shapes, levels, args.runs, args.timeout)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], check=False)


if __name__ == "__main__":
    main()
