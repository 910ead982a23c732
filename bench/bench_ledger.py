"""Benchmark of the target-ledger pairing (watcher.differ.ledger.pair_ledgers) on large ledgers.

Run from the project root:  .venv/bin/python bench/bench_ledger.py

The ledgers are the indicators of the corpus plans and the shared work reports, repeated with their
values shifted until each side holds N entries (1,000 to 8,000), so that most metrics recur many
times, as in a long plan with indicator tables; in the "renamed" runs every new metric differs
from its old one by a character, so that no metric key matches exactly and every pair goes through
the similarity pass (the worst case). Printed against a bare baseline run in the same
process on the same keys: one rapidfuzz `process.extract` of every old key against every new key
(the all-pairs similarity the pairing must at least afford), and the ratio.
Best of three; a script, not a timed test.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402

from watcher.differ.ledger import Entry, indicators, pair_ledgers  # noqa: E402
from watcher.differ.matching import metric_key  # noqa: E402
from watcher.extract import extract_file  # noqa: E402

SOURCES = [*sorted((ROOT / "tests" / "data" / "corpus").glob("*.txt")),
           *sorted((ROOT.parent / "shared" / "real-cases").glob("gwr-*/old.txt"))]


def ledger(n: int, shift: float, renamed: bool = False) -> list[Entry]:
    base = [i.target for path in SOURCES for i in indicators(extract_file(path))]
    entries: list[Entry] = []
    k = 0
    while len(entries) < n:
        target = base[k % len(base)]
        value = None if target.value is None else target.value + shift * (k // len(base))
        metric = target.metric + "类" if renamed else target.metric  # no exact key left to match
        entries.append(Entry(replace(target, value=value, metric=metric), k))
        k += 1
    return entries


def main() -> None:
    for n, renamed in ((1000, False), (2000, False), (4000, False), (8000, False), (2000, True), (4000, True)):
        old, new = ledger(n, 0.0), ledger(n, 1.0, renamed)
        old_keys = [metric_key(e.target.metric) for e in old]
        new_keys = [metric_key(e.target.metric) for e in new]
        ours = best_of(3, lambda old=old, new=new: pair_ledgers(old, new))

        def bare_pass(old_keys: list[str] = old_keys, new_keys: list[str] = new_keys) -> None:
            for key in old_keys:
                process.extract(key, new_keys, scorer=fuzz.ratio, score_cutoff=80, limit=None)

        bare = best_of(1 if n > 2000 else 3, bare_pass)
        pairs = len(pair_ledgers(old, new))
        label = "renamed" if renamed else "same names"
        print(f"{n:5} entries a side ({label:10}): pair_ledgers {ours:6.2f} s, bare all-pairs rapidfuzz {bare:6.2f} s, "
              f"ratio {ours / bare:5.2f}, {pairs} pairs")


if __name__ == "__main__":
    main()
