"""Ctrl-C during `watcher check`: the real command in a process group of its own, SIGINT sent to
the whole group as a terminal does. The run stops promptly, what was finished is kept, the rest is
listed as interrupted and not recorded, and the exit status is 130."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PageServer, case_bytes
from tools import need

from watcher.errors import EXIT_INTERRUPTED

HAISHU = case_bytes("haishu-noise-page", "old.html")
# 100,000 paragraphs: bs4 alone takes 17–30 s to read this page on the 2-core test machine
WIDE = ("<html><body>" + "".join(f"<p>第{i}段，推进重点任务。</p>" for i in range(100_000)) + "</body></html>").encode()


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _stored(database: Path, table: str) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(database) as db:
        try:
            return {row[0] for row in db.execute(f"SELECT source FROM {table}")}
        except sqlite3.OperationalError:  # not created yet
            return set()


def _press_ctrl_c(config: Path, ready, database: Path) -> tuple[int, str, str, float]:
    """Run `watcher check` in a process group of its own, send SIGINT to the group once `ready()`,
    and return its exit status, stdout, stderr and how long it took to stop."""
    command = [sys.executable, "-m", "watcher", "--config", str(config), "check"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ready()
        pressed = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # as Ctrl-C on a terminal: the command and its workers
        stdout, stderr = run.communicate(timeout=90)
        stopped_in = time.monotonic() - pressed
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    # no process of the run is left running (an exited one may wait as a zombie for a reaper)
    time.sleep(0.5)
    group = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(run.pid)], capture_output=True, text=True).stdout
    alive = [line for line in group.splitlines() if line.strip() and not line.strip().startswith("Z")]
    assert not alive, f"processes of the run are still alive: {alive}"
    return run.returncode, stdout, stderr, stopped_in


def _rows(stdout: str) -> dict[str, str]:
    return {cells[1].strip(): cells[2] for line in stdout.splitlines() if len(cells := line.split("│")) > 2}


def test_ctrl_c_stops_a_check_promptly_keeps_what_was_done_and_exits_130(
    http_server: PageServer, write_config, tmp_path: Path
) -> None:
    http_server.set("/quick.html", HAISHU)
    http_server.set("/slow.html", HAISHU, delay=60)  # the server takes a minute to answer
    http_server.set("/wide.html", WIDE)  # fetched at once, read for half a minute
    config = write_config(
        [
            {"name": "quick", "url": http_server.url("/quick.html")},
            {"name": "slow", "url": http_server.url("/slow.html")},
            {"name": "wide", "url": http_server.url("/wide.html")},
        ],
        fetch={"timeout": 30.0, "per_host": 4, "processes": 2},
    )
    database = tmp_path / "watcher.db"

    def ready() -> None:
        _wait_for(lambda: "quick" in _stored(database, "versions"), 60, "the quick source's version")
        _wait_for(lambda: http_server.hits_of("/wide.html") and http_server.hits_of("/slow.html"), 30, "both fetches")
        time.sleep(1.0)  # the wide page is being read, the slow one still awaited

    status, stdout, stderr, stopped_in = _press_ctrl_c(config, ready, database)
    assert status == EXIT_INTERRUPTED, stderr
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    assert "interrupted: 2 of 3 sources not checked" in stderr
    assert "Traceback" not in stderr
    lines = _rows(stdout)
    assert "new version" in lines["quick"]
    assert "interrupted" in lines["slow"] and "interrupted" in lines["wide"], stdout
    # what was finished is kept; nothing is recorded of the two that were cut
    assert _stored(database, "versions") == {"quick"}
    assert _stored(database, "checks") == {"quick"}


def test_ctrl_c_cuts_a_page_loading_in_the_browser(http_server: PageServer, write_config, tmp_path: Path) -> None:
    need("chromium")
    http_server.set("/quick.html", HAISHU)
    http_server.set("/loading.html", HAISHU, delay=60)  # the browser waits for it up to browser_timeout
    config = write_config(
        [
            {"name": "quick", "url": http_server.url("/quick.html")},
            {"name": "loading", "url": http_server.url("/loading.html"), "fetch": "browser"},
        ],
        fetch={"timeout": 60.0, "per_host": 4, "browser_timeout": 60.0},
    )
    database = tmp_path / "watcher.db"

    def ready() -> None:
        _wait_for(lambda: "quick" in _stored(database, "versions"), 60, "the quick source's version")
        _wait_for(lambda: http_server.hits_of("/loading.html"), 60, "the browser's request")
        time.sleep(1.0)

    status, stdout, stderr, stopped_in = _press_ctrl_c(config, ready, database)
    assert status == EXIT_INTERRUPTED, stdout + stderr
    assert stopped_in < 15, f"took {stopped_in:.1f} s to stop"
    assert "interrupted: 1 of 2 sources not checked" in stderr
    assert "Traceback" not in stderr, stderr
    assert "interrupted" in _rows(stdout)["loading"], stdout
    assert _stored(database, "checks") == {"quick"}
