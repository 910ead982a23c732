"""Reading on a dask.distributed cluster ([cluster] scheduler): `watcher check` against loopback
sources, its documents read on a LocalCluster of two worker processes, one of them killed while
it reads; and the start against a scheduler nobody answers at."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dask
import hostile
import pytest
from conftest import CASES, PageServer, config_file
from distributed import Client, LocalCluster

from watcher.budget import Budget
from watcher.cluster import ClusterWorkers
from watcher.config import load_settings
from watcher.errors import EXIT_ERROR, EXIT_SOME_FAILED, BudgetExceeded, ConfigError, ExtractError
from watcher.extract import extract

pytestmark = pytest.mark.slow
MB = 2**20

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@pytest.fixture
def cluster() -> Iterator[tuple[LocalCluster, Client]]:
    # the readers' child processes need workers that are not daemonic (README, "A cluster")
    with dask.config.set({"distributed.worker.daemon": False}):
        with LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as local, Client(local) as client:
            yield local, client


def _documents(count: int) -> list[Path]:
    """`count` real documents of the cases, the slow formats (PDF, Word) first."""
    files = sorted((p for p in CASES.glob("*/*") if p.suffix in _TYPES), key=lambda p: (p.suffix not in (".pdf", ".docx"), p))
    return [files[i % len(files)] for i in range(count)]


def _serve(server: PageServer, documents: list[Path]) -> list[dict[str, object]]:
    sources = []
    for number, document in enumerate(documents):
        path = f"/{number}{document.suffix}"
        server.set(path, document.read_bytes(), content_type=_TYPES[document.suffix])
        sources.append({"name": f"s{number:02d}", "url": server.url(path)})
    return sources


def _check(config: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "watcher", "--config", str(config), "check"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_a_reading_worker(client: Client, run: subprocess.Popen[str]) -> str:
    """Kill the process of a dask worker while it reads a document; its address."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        busy = [address for address, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            return busy[0]
        time.sleep(0.02)
    raise AssertionError("no dask worker was seen reading while the check ran")


def test_check_on_a_cluster_survives_a_killed_worker(
    http_server: PageServer, tmp_path: Path, cluster: tuple[LocalCluster, Client]
) -> None:
    local, client = cluster
    sources = _serve(http_server, _documents(20))
    config = config_file(tmp_path, sources, fetch={"workers": 6, "per_host": 6})
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[cluster]\nscheduler = "{local.scheduler_address}"\n')

    run = _check(config)
    killed = _kill_a_reading_worker(client, run)
    out, err = run.communicate(timeout=600)

    assert run.returncode == 0, err
    assert killed not in client.scheduler_info()["workers"]  # that process is gone (the nanny starts another)
    with sqlite3.connect(tmp_path / "watcher.db") as db:
        versions = dict(db.execute("SELECT source, count(*) FROM versions GROUP BY source").fetchall())
        checks = db.execute("SELECT source, status FROM checks ORDER BY source").fetchall()
    names = [str(s["name"]) for s in sources]
    assert versions == {name: 1 for name in names}
    assert checks == [(name, "new") for name in names]
    assert all(len(http_server.hits_of(f"/{n}{d.suffix}")) == 1 for n, d in enumerate(_documents(20)))


def test_on_the_cluster_a_document_keeps_its_budget_and_its_errors(cluster: tuple[LocalCluster, Client]) -> None:
    local, client = cluster
    pids = client.run(os.getpid)
    with ClusterWorkers(Budget(memory=256 * MB, seconds=2, processes=1), local.scheduler_address) as workers:
        # 60 MB of XML passes the zip caps; parsing it takes far more than 256 MB
        with pytest.raises(BudgetExceeded, match="more than 256 MB of memory"):
            workers.run(extract, hostile.docx_with_document_xml(60 * MB), url="a.docx")
        with pytest.raises(BudgetExceeded, match="longer than 2 s"):
            workers.run(hostile.never_ends)
        with pytest.raises(ExtractError, match="corrupt or unreadable PDF"):
            workers.run(extract, b"%PDF-1.4 not really", url="a.pdf")
        sentence = "到2025年，全市科技型中小企业数达到3700家。"
        assert workers.run(extract, sentence.encode(), content_type="text/plain").text == sentence
    assert client.run(os.getpid) == pids  # the dask workers themselves were never at risk


def test_a_scheduler_lost_during_the_run_fails_the_readings_it_held_and_the_run_goes_on(
    http_server: PageServer, tmp_path: Path
) -> None:
    port = _closed_port()
    scheduler_address = f"tcp://127.0.0.1:{port}"
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen([*dask_cli, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL)
    worker_env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    worker_cli = [sys.executable, "-m", "distributed.cli.dask_worker", scheduler_address, "--nthreads", "1", "--no-dashboard"]
    worker = subprocess.Popen(worker_cli, env=worker_env, stderr=subprocess.DEVNULL)
    try:
        with Client(scheduler_address, timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
            sources = _serve(http_server, _documents(16))
            config = config_file(tmp_path, sources, fetch={"workers": 4, "per_host": 4})
            with config.open("a", encoding="utf-8") as file:
                file.write(f'\n[cluster]\nscheduler = "{scheduler_address}"\n')
            run = _check(config)
            read_before = _wait_for_checks(tmp_path / "watcher.db", 3, run)
        scheduler.kill()
        out, err = run.communicate(timeout=300)
    finally:
        for process in (scheduler, worker):
            process.kill()
            process.wait()

    assert run.returncode == EXIT_SOME_FAILED, err
    with sqlite3.connect(tmp_path / "watcher.db") as db:
        checks = db.execute("SELECT source, status, error FROM checks ORDER BY source").fetchall()
    assert [name for name, _, _ in checks] == [str(s["name"]) for s in sources]  # each recorded once
    failed = [error for _, status, error in checks if status == "failed"]
    assert failed and all(re.fullmatch(rf"not read: the (connection to the )?dask scheduler at {scheduler_address} (was lost|is not connected \(\w+\))", e) for e in failed), failed
    assert len(failed) + sum(status == "new" for _, status, _ in checks) == len(checks)
    assert {name: "new" for name in read_before} == {name: status for name, status, _ in checks if name in read_before}


def _wait_for_checks(database: Path, count: int, run: subprocess.Popen[str]) -> list[str]:
    """The sources of the first `count` checks the run stored, once it stored them."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if database.exists():
            with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                try:
                    names = [row[0] for row in db.execute("SELECT source FROM checks WHERE status = 'new'")]
                except sqlite3.OperationalError:  # the schema is being made
                    names = []
            if len(names) >= count:
                return names
        time.sleep(0.05)
    raise AssertionError(f"the run did not store {count} checks")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_scheduler_stops_check_before_any_fetch(http_server: PageServer, tmp_path: Path) -> None:
    sources = _serve(http_server, _documents(2))
    config = config_file(tmp_path, sources)
    scheduler = f"tcp://127.0.0.1:{_closed_port()}"
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[cluster]\nscheduler = "{scheduler}"\n')

    run = _check(config)
    out, err = run.communicate(timeout=120)

    assert run.returncode == EXIT_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"the dask scheduler at {scheduler} could not be reached" in lines[0], err
    assert http_server.hits == []


@pytest.mark.parametrize("value", ["127.0.0.1:8786", "http://host:8786", "tcp://host", "tcp://:8786", "tcp://host:0", "tcp://h:1/x"])
def test_the_scheduler_is_a_dask_address(tmp_path: Path, value: str) -> None:
    config = config_file(tmp_path, [])
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[cluster]\nscheduler = "{value}"\n')
    with pytest.raises(ConfigError, match="cluster.scheduler"):
        load_settings(str(config))


def test_a_scheduler_address_is_kept(tmp_path: Path) -> None:
    config = config_file(tmp_path, [])
    with config.open("a", encoding="utf-8") as file:
        file.write('\n[cluster]\nscheduler = "tls://10.0.0.5:8786"\n')
    assert load_settings(str(config)).cluster.scheduler == "tls://10.0.0.5:8786"
