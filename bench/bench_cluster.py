#!/usr/bin/env python3
"""Benchmark of reading on a dask.distributed cluster (watcher.cluster) against this machine's
forkserver workers (watcher.budget), both with two readers:

1. the overhead per job: `--jobs` small jobs (a one-sentence text extracted), one after another,
   so each pays its whole round trip; the time per job of each runner, and of the job in-process;
2. the check throughput: `watcher check` (check_all) of `--sources` loopback sources (real
   documents of tests/data/cases: HTML, text, PDF, Word), first runs into a fresh database, with
   local workers and with a LocalCluster of two worker processes of one thread each.

The load average is printed before and after: other work on the machine changes every figure.

    .venv/bin/python bench/bench_cluster.py [--jobs 200] [--sources 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback page server of the test suite

import dask  # noqa: E402
from conftest import CASES, PageServer, config_file  # noqa: E402
from distributed import LocalCluster  # noqa: E402

from watcher.budget import Budget, Workers  # noqa: E402
from watcher.check import check_all  # noqa: E402
from watcher.cluster import ClusterWorkers  # noqa: E402
from watcher.config import load_settings  # noqa: E402
from watcher.extract import extract  # noqa: E402

BUDGET = Budget(memory=384 * 2**20, seconds=120, processes=2)
SENTENCE = "到2025年，全市科技型中小企业数达到3700家。".encode()
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def per_job(run: Callable[..., object], jobs: int) -> float:
    run(extract, SENTENCE, content_type="text/plain")  # warm: workers started, readers imported
    started = time.perf_counter()
    for _ in range(jobs):
        run(extract, SENTENCE, content_type="text/plain")
    return (time.perf_counter() - started) / jobs


def throughput(server: PageServer, count: int, scheduler: str | None) -> float:
    files = sorted(p for p in CASES.glob("*/*") if p.suffix in TYPES)
    sources = []
    for number in range(count):
        document = files[number % len(files)]
        path = f"/{number}{document.suffix}"
        server.set(path, document.read_bytes(), content_type=TYPES[document.suffix])
        sources.append({"name": f"s{number:03d}", "url": server.url(path)})
    with tempfile.TemporaryDirectory() as folder:
        config = config_file(Path(folder), sources, fetch={"workers": 8, "per_host": 8, "processes": 2})
        if scheduler:
            with config.open("a", encoding="utf-8") as file:
                file.write(f'\n[cluster]\nscheduler = "{scheduler}"\n')
        settings = load_settings(str(config))
        started = time.perf_counter()
        results = check_all(settings)
        spent = time.perf_counter() - started
    statuses = {r.status for r in results}
    assert statuses == {"new"}, statuses
    return count / spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--sources", type=int, default=50)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; before: {load()}")
    server = PageServer().start()
    with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        in_process = per_job(Workers(Budget(BUDGET.memory, BUDGET.seconds, processes=0)).run, args.jobs)
        with Workers(BUDGET) as local:
            forkserver = per_job(local.run, args.jobs)
        with ClusterWorkers(BUDGET, cluster.scheduler_address) as remote:
            dask_job = per_job(remote.run, args.jobs)
        print(f"per job, {args.jobs} one-sentence jobs one after another ({load()}):")
        print(f"  in-process          {in_process * 1000:7.2f} ms")
        print(f"  local forkserver    {forkserver * 1000:7.2f} ms")
        print(f"  dask LocalCluster   {dask_job * 1000:7.2f} ms   (+{(dask_job - forkserver) * 1000:.2f} ms a job)")
        local_rate = throughput(server, args.sources, None)
        cluster_rate = throughput(server, args.sources, cluster.scheduler_address)
        print(f"check of {args.sources} loopback sources, first run ({load()}):")
        print(f"  local workers       {local_rate:7.2f} checks/s")
        print(f"  dask LocalCluster   {cluster_rate:7.2f} checks/s   ({cluster_rate / local_rate:.2f}×)")
    server.stop()
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
