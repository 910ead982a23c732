"""What the benchmark scripts share: the best of several timed runs (these machines are noisy)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator


def best_of(runs: int, work: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """The shortest of `runs` timings of `work()` on `clock` (wall time unless told), in seconds."""
    times = []
    for _ in range(runs):
        start = clock()
        work()
        times.append(clock() - start)
    return min(times)


def process_tree(pid: int) -> Iterator[int]:
    """`pid` and its descendants, as /proc shows them now (a process that ends meanwhile is left out)."""
    stack = [pid]
    while stack:
        current = stack.pop()
        yield current
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue


def sampled(child: subprocess.Popen[bytes], sample: Callable[[int], None], every: float = 0.02) -> bytes:
    """Wait for `child` (started with stdout=PIPE), calling sample(its pid) every `every` seconds
    meanwhile; its standard output."""
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            sample(child.pid)
            time.sleep(every)

    sampler = threading.Thread(target=run, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    done.set()
    sampler.join()
    return out
