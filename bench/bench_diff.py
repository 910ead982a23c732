"""Benchmark of the clause-level differ against a bare diff-match-patch character diff.

Run from the project root:  .venv/bin/python bench/bench_diff.py

1. The largest labelled pair of tests/data/cases (about 60 KB of text a side), and the pair whose
   texts differ most (a Traditional edition): `diff_documents` (segment → align → classify,
   extraction excluded) against `diff_match_patch.diff_main` on the same two texts, with the ratio.
2. A 1 MB pair made by concatenating the corpus plans, with edits spread through it (numbers
   changed, an item inserted, a paragraph dropped), and a 250 KB and 500 KB prefix of it, to show
   how the time grows with the size.
Prints the best of several runs; these machines are noisy, so it is a script and not a timed test.

`--against REV` (a commit, e.g. the one before a change to the differ) also times the differ of REV
on the same inputs in the same run (a git worktree of REV in a temporary folder, run in a child
process) and prints both with their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from diff_match_patch import diff_match_patch

ROOT = Path(__file__).resolve().parent.parent
# the package timed: this checkout, or another commit's worktree (--against)
sys.path.insert(0, os.environ.get("WATCHER_BENCH_PACKAGE", str(ROOT)))

try:
    from watcher.differ import diff_documents  # noqa: E402
except ImportError:  # a commit from before the differ became a package
    from watcher.diff import diff_documents  # type: ignore[no-redef]  # noqa: E402
from timing import best_of  # noqa: E402

from watcher.extract import extract, extract_file  # noqa: E402
from watcher.model import Document  # noqa: E402

CASES = ROOT / "tests" / "data" / "cases"
CORPUS = ROOT / "tests" / "data" / "corpus"


def bare_dmp(old: str, new: str) -> None:
    engine = diff_match_patch()
    engine.Diff_Timeout = 0  # run to the end, as the differ does
    engine.diff_main(old, new)


def case_pairs() -> list[tuple[str, Document, Document]]:
    pairs = []
    for case in sorted(CASES.iterdir()):
        if case.is_dir():
            pairs.append((case.name, extract_file(next(case.glob("old.*"))), extract_file(next(case.glob("new.*")))))
    return pairs


def compare(label: str, old: Document, new: Document) -> None:
    kb = (len(old.text.encode()) + len(new.text.encode())) / 2 / 1024
    ours = best_of(5, lambda: diff_documents(old, new))
    bare = best_of(5, lambda: bare_dmp(old.text, new.text))
    print(f"{label} ({kb:.0f} KB a side)")
    print(f"  watcher diff_documents     {ours * 1000:8.1f} ms")
    print(f"  bare diff-match-patch      {bare * 1000:8.1f} ms")
    print(f"  ratio watcher / bare       {ours / bare:8.2f}")


def edited(text: str, every: int) -> str:
    """A new version of a long text: every `every`-th paragraph edited in one of three ways."""
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines):
        if number % every == every // 3 and "%" in line:
            out.append(line.replace("%", "个百分点", 1))
        elif number % every == 0:
            out.append(line)
            out.append("1.新增一项科技企业上市培育工程。建立科技企业上市后备库，开展股改辅导。")
        elif number % every == every // 2:
            continue
        else:
            out.append(line)
    return "\n".join(out)


def big_pair(size: int) -> tuple[Document, Document]:
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    text = ""
    while len(text.encode("utf-8")) < size:
        text += corpus + "\n"
    text = text.encode("utf-8")[:size].decode("utf-8", "ignore")
    old = extract(text.encode("utf-8"), content_type="text/plain")
    new = extract(edited(text, 40).encode("utf-8"), content_type="text/plain")
    return old, new


def timings() -> dict[str, float]:
    """The differ's time on the benchmark's inputs, in seconds (best of several runs)."""
    pairs = case_pairs()
    name, old, new = max(pairs, key=lambda p: len(p[1].text) + len(p[2].text))
    out = {"largest case pair (60 KB)": best_of(5, lambda: diff_documents(old, new))}
    for size in (250_000, 1_000_000):
        big_old, big_new = big_pair(size)
        out[f"{size / 1e6:.2f} MB pair"] = best_of(3, lambda old=big_old, new=big_new: diff_documents(old, new))
    return out


def _child_timings(package: str) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, __file__, "--timings-json"],
        env={**os.environ, "WATCHER_BENCH_PACKAGE": package},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(child.stdout)


def against(rev: str, rounds: int = 3) -> None:
    """Both differs on the same inputs in this run, this checkout's and REV's, in child processes
    that take turns (so that a busy spell of the machine weighs on both), best of each."""
    with tempfile.TemporaryDirectory() as folder:
        tree = os.path.join(folder, "tree")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, rev], check=True, capture_output=True)
        try:
            runs: dict[str, list[dict[str, float]]] = {"ours": [], "theirs": []}
            for _ in range(rounds):
                runs["ours"].append(_child_timings(str(ROOT)))
                runs["theirs"].append(_child_timings(tree))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], check=False)
    ours = {k: min(r[k] for r in runs["ours"]) for k in runs["ours"][0]}
    theirs = {k: min(r[k] for r in runs["theirs"]) for k in runs["theirs"][0]}
    print(f"against {rev} ({rounds} rounds, taking turns, best of each):")
    print(f"  {'input':28} {'this checkout':>14} {rev[:12]:>14} {'ratio':>7}")
    for label, seconds in ours.items():
        print(f"  {label:28} {seconds * 1000:11.1f} ms {theirs[label] * 1000:11.1f} ms {seconds / theirs[label]:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", metavar="REV", help="also time the differ of this commit, in the same run")
    parser.add_argument("--timings-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timings_json:
        print(json.dumps(timings()))
        return
    if args.against:
        against(args.against)
        return
    pairs = case_pairs()
    name, old, new = max(pairs, key=lambda p: len(p[1].text) + len(p[2].text))
    compare(f"largest case pair: {name}", old, new)
    # a bare character diff is nearly free when two texts share all but one line; a whole-document
    # change of script is where it has to work
    name, old, new = max(pairs, key=lambda p: len(set(p[1].text.splitlines()) ^ set(p[2].text.splitlines())))
    compare(f"most different case pair: {name}", old, new)
    print()
    rates = []
    for size in (250_000, 500_000, 1_000_000):
        big_old, big_new = big_pair(size)
        ours = best_of(2, lambda old=big_old, new=big_new: diff_documents(old, new))
        bare = best_of(1, lambda old=big_old, new=big_new: bare_dmp(old.text, new.text))
        diff = diff_documents(big_old, big_new)
        rates.append(ours / size)
        print(
            f"{size / 1e6:.2f} MB pair: watcher {ours:6.2f} s, bare dmp {bare:6.2f} s, "
            f"ratio {ours / bare:5.2f}, {len(diff.changes)} changes {diff.summary}"
        )
    growth = rates[-1] / rates[0]
    print(f"time per byte, 1 MB against 250 KB: {growth:.2f} (1.00 = linear)")
    print(f"median time per MB: {statistics.median(rates) * 1e6:.2f} s")


if __name__ == "__main__":
    main()
