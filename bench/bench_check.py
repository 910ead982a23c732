#!/usr/bin/env python3
"""Benchmark of `watcher check`: 200 local sources behind 50 ms of server latency.

Prints checks per second for a first run (every source new: fetch, extract, hash, store) and a
second run (every source unchanged: a 304 when the server sends an ETag, a full 200 otherwise),
the database size per stored version, and baselines measured in the same process: plain
sequential requests.get of the same URLs, and the same check run with one worker.

Per-host politeness bounds one host: with per_host = 2 at most 2 requests are in flight to a host,
and with the shipped delay = 1.0 s a host gets at most one request a second whatever the machine
does. The bench therefore measures one host (delay 0, per_host 2) and many hosts (sources spread
over servers on 127.0.0.2, 127.0.0.3 …, still loopback), and prints both.

    .venv/bin/python bench/bench_check.py [--sources 200] [--latency 0.05] [--hosts 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback page server of the test suite

from conftest import PageServer  # noqa: E402
from timing import process_tree, sampled  # noqa: E402

from watcher.check import check_all  # noqa: E402
from watcher.model import FetchSettings, Settings, Source  # noqa: E402
from watcher.store import Store  # noqa: E402

PAGE = (ROOT / "tests" / "data" / "cases" / "haishu-noise-page" / "old.html").read_bytes()


def serve(servers: list[PageServer], count: int, latency: float, etag: bool) -> list[str]:
    """`count` distinct pages spread round-robin over the servers; returns their URLs."""
    urls = []
    for n in range(count):
        server = servers[n % len(servers)]
        path = f"/art/{n}.html"
        # a distinct document per source: one more paragraph with its number
        body = PAGE.replace(b'<div id="zoom">', f'<div id="zoom"><p>第{n}号文件</p>'.encode(), 1)
        server.set(path, body, delay=latency, etag=f'"{n}"' if etag else None)
        urls.append(server.url(path))
    return urls


def timed_checks(settings: Settings) -> tuple[float, list[str]]:
    started = time.perf_counter()
    results = check_all(settings)
    return time.perf_counter() - started, [r.status for r in results]


def scenario(label: str, urls: list[str], fetch: FetchSettings, folder: str) -> dict[str, float]:
    database = os.path.join(folder, f"{label.replace(' ', '-')}.db")
    sources = tuple(Source(name=f"s{n}", url=url) for n, url in enumerate(urls))
    settings = Settings(config_path="bench", storage_path=database, sources=sources, fetch=fetch)
    first, statuses = timed_checks(settings)
    assert statuses.count("new") == len(urls), statuses
    second, statuses = timed_checks(settings)
    assert statuses.count("unchanged") == len(urls), statuses
    with Store(database) as store:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        versions = store.db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    size = os.path.getsize(database)
    n = len(urls)
    print(
        f"  {label:<44} first run {n / first:7.1f} checks/s ({first:5.2f} s)   "
        f"second run {n / second:7.1f} checks/s ({second:5.2f} s)   "
        f"{size / versions / 1024:6.1f} KiB per version"
    )
    return {"first": n / first, "second": n / second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per request, seconds")
    parser.add_argument("--hosts", type=int, default=20, help="loopback hosts for the many-hosts runs")
    parser.add_argument("--no-urlwatch", action="store_true", help="leave out the runs against urlwatch and a bare fetch")
    parser.add_argument("--urlwatch-python", help=f"a python with {URLWATCH} installed (default: a new venv of the bench's)")
    parser.add_argument("--only-urlwatch", action="store_true", help="only the runs against urlwatch and a bare fetch")
    args = parser.parse_args()
    if args.only_urlwatch:
        against_urlwatch(args.sources, args.latency, args.hosts, args.urlwatch_python)
        return

    one = [PageServer("127.0.0.1").start()]
    many = [PageServer(f"127.0.0.{2 + i}").start() for i in range(args.hosts)]
    polite = FetchSettings(retries=0, delay=0.0, per_host=2, workers=8)
    print(
        f"{args.sources} sources, {args.latency * 1000:.0f} ms server latency, page of {len(PAGE) // 1024} KiB "
        f"(the Haishu plan page), {os.cpu_count()} CPUs"
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            urls = serve(one, args.sources, args.latency, etag=True)
            started = time.perf_counter()
            with requests.Session() as session:
                for url in urls:
                    session.get(url, timeout=10).raise_for_status()
            plain = args.sources / (time.perf_counter() - started)
            print(f"  {'baseline: sequential requests.get, one host':<44} {plain:7.1f} fetches/s (no extraction, no storage)")
            one_worker = scenario("baseline: check with 1 worker, one host", urls, replace(polite, workers=1), folder)
            one_host = scenario("one host, per_host 2, 8 workers", urls, polite, folder)

            many_urls = serve(many, args.sources, args.latency, etag=True)
            many_hosts = scenario(f"{args.hosts} hosts, per_host 2, 8 workers", many_urls, polite, folder)
            wide = scenario(
                f"{args.hosts} hosts, per_host 2, 32 workers", many_urls, replace(polite, workers=32), folder
            )
            plain_urls = serve(many, args.sources, args.latency, etag=False)
            no_etag = scenario(f"{args.hosts} hosts, 32 workers, no ETag (200s)", plain_urls, replace(polite, workers=32), folder)
    finally:
        for server in one + many:
            server.httpd.shutdown()
            server.httpd.server_close()

    print("ratios (first run / second run):")
    for label, result in [
        ("one host vs 1 worker", one_host),
        (f"{args.hosts} hosts, 8 workers vs 1 worker", many_hosts),
        (f"{args.hosts} hosts, 32 workers vs 1 worker", wide),
        (f"{args.hosts} hosts, 32 workers, no ETag vs 1 worker", no_etag),
    ]:
        print(
            f"  {label:<44} x{result['first'] / one_worker['first']:.1f} / x{result['second'] / one_worker['second']:.1f}"
        )
    print(
        f"  {f'{args.hosts} hosts, 32 workers vs sequential requests.get':<44} "
        f"x{wide['first'] / plain:.1f} / x{wide['second'] / plain:.1f}"
    )
    print("with the shipped delay = 1.0 s, one host is bounded at 1 check/s by design (politeness).")
    if not args.no_urlwatch:
        against_urlwatch(args.sources, args.latency, args.hosts, args.urlwatch_python)


# ---------------------------------------------------------------- against urlwatch and a bare fetch

# urlwatch checks with a fixed pool of 10 threads (urlwatch.worker.MAX_WORKERS); watcher and the
# bare fetch run at the same concurrency, watcher with no per-host limit below it and no delay.
CONCURRENCY = 10
URLWATCH = "urlwatch==2.29"
CHANGED_SHARE = 10  # every tenth page changes in the last phase

# The bare fetch limit: requests + sha256 of every body, CONCURRENCY threads, nothing stored.
BARE_FETCH = """
import hashlib, sys, threading
from concurrent.futures import ThreadPoolExecutor
import requests
local = threading.local()
def fetch(url):
    session = getattr(local, "session", None) or requests.Session()
    local.session = session
    response = session.get(url, timeout=30)
    response.raise_for_status()
    return hashlib.sha256(response.content).hexdigest()
urls = open(sys.argv[2], encoding="utf-8").read().split()
with ThreadPoolExecutor(int(sys.argv[1])) as pool:
    list(pool.map(fetch, urls))
"""

# urlwatch's own command line, its pool set to CONCURRENCY (it has no option for it).
URLWATCH_RUN = """
import sys
import urlwatch.worker
urlwatch.worker.MAX_WORKERS = int(sys.argv[1])
sys.argv = ["urlwatch", *sys.argv[2:]]
from urlwatch.cli import main
main()
"""


@dataclass(frozen=True)
class Measured:
    """One run of a checker in a child process: wall time, CPU of it and its children (wait4),
    and its peak memory: the largest sum of VmRSS over its process tree, sampled every 20 ms
    (ru_maxrss would count the bench's own pages, copied at fork)."""

    seconds: float
    cpu: float
    peak_kib: int


def tree_rss_kib(pid: int) -> int:
    """VmRSS of `pid` and its descendants now, in KiB."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
    return total


def measured(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = [0]

    def sample(pid: int) -> None:
        peak[0] = max(peak[0], tree_rss_kib(pid))

    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=env)
        sampled(child, sample)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            errors.seek(0)
            tail = errors.read()[-2000:].decode(errors="replace")
            raise SystemExit(f"{argv[0]} exited with {child.returncode}: {tail}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(seconds, cpu, peak[0])


def urlwatch_python(folder: str) -> str:
    """A virtual environment of the bench's own with urlwatch in it (never a project dependency)."""
    venv = os.path.join(folder, "urlwatch-venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "-q", URLWATCH], check=True, stdout=subprocess.DEVNULL)
    return python


def watcher_config(folder: str, urls: list[str]) -> str:
    """A config file for `watcher check` over `urls`, at CONCURRENCY with no politeness below it."""
    path = os.path.join(folder, "watcher.toml")
    lines = [
        '[storage]\npath = "watcher.db"\n',
        f"[fetch]\nretries = 0\ndelay = 0\nper_host = {min(CONCURRENCY, 16)}\nworkers = {CONCURRENCY}\n",
    ]
    lines += [f'[[source]]\nname = "s{n}"\nurl = "{url}"\n' for n, url in enumerate(urls)]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return path


def urlwatch_argv(python: str, folder: str, urls: list[str]) -> list[str]:
    jobs = os.path.join(folder, "urls.yaml")
    Path(jobs).write_text("\n---\n".join(f"url: {url}" for url in urls) + "\n", encoding="utf-8")
    return [
        python, "-c", URLWATCH_RUN, str(CONCURRENCY),
        "--urls", jobs,
        "--config", os.path.join(folder, "urlwatch.yaml"),
        "--hooks", os.path.join(folder, "hooks.py"),
        "--cache", os.path.join(folder, "cache.db"),
    ]


def against_urlwatch(count: int, latency: float, hosts: int, python: str | None = None) -> None:
    """watcher, urlwatch and the bare fetch on the same loopback servers and sources, phase by
    phase: first run, unchanged with 304s, unchanged without validators, a tenth changed."""
    servers = [PageServer(f"127.0.0.{2 + i}").start() for i in range(hosts)]
    try:
        with tempfile.TemporaryDirectory() as folder:
            print(f"\nagainst urlwatch ({URLWATCH}, in the bench's own venv) and a bare fetch, {CONCURRENCY} at once:")
            python = python or urlwatch_python(folder)
            ours, theirs = os.path.join(folder, "watcher"), os.path.join(folder, "urlwatch")
            os.makedirs(ours)
            os.makedirs(theirs)
            urls = serve(servers, count, latency, etag=True)
            url_list = os.path.join(folder, "urls.txt")
            Path(url_list).write_text("\n".join(urls), encoding="utf-8")
            env = {**os.environ, "HOME": theirs, "XDG_CONFIG_HOME": theirs, "XDG_CACHE_HOME": theirs}
            watcher_argv = [str(Path(sys.executable).parent / "watcher"), "--config", watcher_config(ours, urls), "-q", "check"]
            uw_argv = urlwatch_argv(python, theirs, urls)
            bare_argv = [sys.executable, "-c", BARE_FETCH, str(CONCURRENCY), url_list]
            rows: list[tuple[str, Measured, Measured, Measured | None]] = []
            rows.append(("first run", measured(watcher_argv), measured(uw_argv, env), measured(bare_argv)))
            rows.append(("unchanged, 304s", measured(watcher_argv), measured(uw_argv, env), None))
            serve(servers, count, latency, etag=False)
            rows.append(("unchanged, no validators", measured(watcher_argv), measured(uw_argv, env), measured(bare_argv)))
            for n in range(0, count, CHANGED_SHARE):
                server = servers[n % len(servers)]
                route = server.routes[f"/art/{n}.html"]
                server.set(f"/art/{n}.html", route.body.replace(b"</p>", "<p>第二次修改的段落。</p>".encode(), 1), delay=latency)
            rows.append(("10% changed, no validators", measured(watcher_argv), measured(uw_argv, env), measured(bare_argv)))
            print_comparison(count, rows)
    finally:
        for server in servers:
            server.httpd.shutdown()
            server.httpd.server_close()


def print_comparison(count: int, rows: list[tuple[str, Measured, Measured, Measured | None]]) -> None:
    def cell(run: Measured) -> str:
        return f"{count / run.seconds:6.1f}/s {run.cpu / count * 1000:6.1f} ms CPU {run.peak_kib / 1024:6.0f} MiB"

    print(f"  {'':<28} {'watcher':<32} {'urlwatch':<32} {'bare fetch':<32} watcher/urlwatch  watcher/bare")
    for label, ours, theirs, bare in rows:
        versus_bare = f"x{bare.seconds / ours.seconds:.2f}" if bare else "-"
        print(
            f"  {label:<28} {cell(ours):<32} {cell(theirs):<32} {cell(bare) if bare else '-':<32} "
            f"x{theirs.seconds / ours.seconds:<16.2f} {versus_bare}"
        )
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"  (checks per second, CPU per check, peak RSS summed over the process tree; load average {load})")


if __name__ == "__main__":
    main()
