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
    command = [sys.executable, "-m", "watcher", "--config", str(config), "check"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(lambda: "quick" in _stored(database, "versions"), 60, "the quick source's version")
        _wait_for(lambda: http_server.hits_of("/wide.html") and http_server.hits_of("/slow.html"), 30, "both fetches")
        time.sleep(1.0)  # the wide page is being read, the slow one still awaited
        pressed = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # as Ctrl-C on a terminal: the command and its workers
        stdout, stderr = run.communicate(timeout=60)
        stopped_in = time.monotonic() - pressed
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == EXIT_INTERRUPTED, stderr
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    assert "interrupted: 2 of 3 sources not checked" in stderr
    assert "Traceback" not in stderr
    lines = {cells[1].strip(): cells[2] for line in stdout.splitlines() if len(cells := line.split("│")) > 2}
    assert "new version" in lines["quick"]
    assert "interrupted" in lines["slow"] and "interrupted" in lines["wide"], stdout
    # what was finished is kept; nothing is recorded of the two that were cut
    assert _stored(database, "versions") == {"quick"}
    assert _stored(database, "checks") == {"quick"}
    # no worker is left running (an exited one may wait as a zombie for a reaper that is not the run)
    time.sleep(0.5)
    group = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(run.pid)], capture_output=True, text=True).stdout
    alive = [line for line in group.splitlines() if line.strip() and not line.strip().startswith("Z")]
    assert not alive, f"processes of the run are still alive: {alive}"
