"""-q and -v on every command: how much reaches stderr; stdout is the same at every level."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PageServer, case_bytes

from watcher.cli import cli

HAISHU = case_bytes("haishu-noise-page", "old.html")


def watcher(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), *args], capture_output=True, text=True, timeout=120
    )


def test_every_command_and_the_group_take_q_and_v() -> None:
    for command in [cli, *cli.commands.values()]:
        options = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert {"-q", "--quiet", "-v", "--verbose"} <= options, command.name


@pytest.mark.parametrize("where", ["group", "command"])
def test_v_says_what_each_source_came_to_and_vv_shows_debugging_detail(
    http_server: PageServer, write_config, where: str
) -> None:
    http_server.set("/plan.html", HAISHU)
    config = write_config([{"name": "plan", "url": http_server.url("/plan.html")}])
    plain = watcher(config, "check")
    assert plain.returncode == 0
    assert "check plan" not in plain.stderr and "INFO" not in plain.stderr
    verbose = watcher(config, "-v", "check") if where == "group" else watcher(config, "check", "-v")
    assert verbose.returncode == 0
    assert "INFO watcher.check: check plan: unchanged" in verbose.stderr
    assert "DEBUG" not in verbose.stderr
    debug = watcher(config, "check", "-vv")
    assert "DEBUG urllib3.connectionpool" in debug.stderr, debug.stderr


def test_q_leaves_only_errors_on_stderr(http_server: PageServer, write_config) -> None:
    http_server.set("/plan.html", HAISHU)
    config = write_config([{"name": "plan", "url": http_server.url("/plan.html")}])
    assert watcher(config, "check").returncode == 0
    notice = watcher(config, "digest")
    assert "nothing of substance" in notice.stderr
    quiet = watcher(config, "digest", "-q")
    assert quiet.returncode == notice.returncode and quiet.stderr == "" and quiet.stdout == notice.stdout
    error = watcher(config, "-q", "check", "nosuch")
    assert error.returncode == 2 and "no source named 'nosuch'" in error.stderr
