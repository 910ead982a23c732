"""A full disk under `watcher check`: every source ends as a failed check with its message (recorded
as far as the disk allows), one line each on stderr, no traceback; once there is room again the
next check stores what the failed one could not.

The database lives on a real tmpfs of 8 MB when this process may mount one (root with
CAP_SYS_ADMIN, as on CI). Elsewhere the disk cannot be filled for real, and the test says so and
makes SQLite itself refuse to grow the file (PRAGMA max_page_count: the same SQLITE_FULL error, "database
or disk is full", that a full disk gives).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PageServer, case_bytes

from watcher.check import check_all
from watcher.config import load_settings
from watcher.store import Store

HAISHU = case_bytes("haishu-noise-page", "old.html")
HAISHU_NEW = case_bytes("haishu-new-measure-html", "new.html")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """(a folder, whether it is a real 8 MB tmpfs)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True
    ).returncode == 0 if os.geteuid() == 0 else False
    try:
        yield folder, mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave: int) -> Path:
    """Take all but `leave` free bytes of the file system holding `folder`: room for SQLite to
    open its journal, not for four new versions."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _watcher(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), *args], capture_output=True, text=True, timeout=120,
    )


def test_a_full_disk_fails_each_check_in_one_line_and_the_next_check_catches_up(
    http_server: PageServer, write_config, small_disk: tuple[Path, bool], monkeypatch, caplog
) -> None:
    folder, mounted = small_disk
    names = [f"plan{n}" for n in range(4)]
    for name in names:
        http_server.set(f"/{name}.html", HAISHU)
    sources = [{"name": name, "url": http_server.url(f"/{name}.html")} for name in names]
    config = write_config(sources, storage=str(folder / "watcher.db"))
    first = _watcher(config, "check")
    assert first.returncode == 0, first.stderr
    for name in names:  # each page gains a measure: four new versions to store
        http_server.set(f"/{name}.html", HAISHU_NEW)

    if mounted:
        filler = _fill(folder, leave=96 * 1024)
        full = _watcher(config, "check")
        filler.unlink()
        assert full.returncode == 3, full.stderr
        assert "Traceback" not in full.stderr
        lines = [line for line in full.stderr.splitlines() if "database or disk is full" in line]
        assert lines, full.stderr
        assert all(len(line) < 400 for line in lines)
    else:
        print("no tmpfs could be mounted here: SQLite's max_page_count stands in for the full disk")
        with Store(folder / "watcher.db") as store:
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        real_connect = sqlite3.connect

        def connect_to_a_full_disk(*args, **kwargs):
            connection = real_connect(*args, **kwargs)
            connection.execute(f"PRAGMA max_page_count = {pages}")
            return connection

        monkeypatch.setattr(sqlite3, "connect", connect_to_a_full_disk)
        results = check_all(load_settings(str(config)))
        monkeypatch.undo()
        assert all(r.status == "failed" and "database or disk is full" in r.error for r in results)
        assert not any(record.exc_info for record in caplog.records if record.levelno >= logging.INFO)

    again = _watcher(config, "check")
    assert again.returncode == 0, again.stderr
    with Store(folder / "watcher.db") as store:
        assert all(len(store.versions(name)) == 2 for name in names)
        recorded = [c for c in store.checks() if c.status == "failed"]
    # What the full disk allowed to be recorded is a failed check with its message; the rest never
    # reached the disk, and the next check stored what they could not.
    assert all("database or disk is full" in c.error for c in recorded)
