"""The README is checked against the code: its examples run and print what it shows, every command
of the CLI is in its table (and nothing else is), every config key the code accepts is in its
example config."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import click
import pytest

from watcher import config
from watcher.cli import cli
from watcher.model import FetchSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CASE = ROOT / "tests" / "data" / "cases" / "cixi-docx-vs-page"


def _blocks(language: str = "") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def _example_config() -> str:
    return README.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def operands(tmp_path: Path) -> Path:
    shutil.copy(CASE / "old.docx", tmp_path / "old.docx")
    shutil.copy(CASE / "new.html", tmp_path / "new.html")
    return tmp_path


def test_the_opening_example_prints_what_the_readme_shows(operands: Path) -> None:
    shown = _blocks()[0]
    command = shown.splitlines()[0].removeprefix("$ ")
    assert command == "watcher diff old.docx new.html"
    run = subprocess.run(
        [sys.executable, "-m", "watcher", *command.split()[1:]], cwd=operands, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stderr  # changes of substance
    # the lines that do not depend on when the files were copied
    dated = ("原版:", "新版:")  # the default language's "old:" and "new:"
    expected = [line for line in shown.splitlines()[1:] if not line.lstrip().startswith(dated)]
    got = [line for line in run.stdout.splitlines() if not line.lstrip().startswith(dated)]
    assert got == expected


def test_the_library_example_runs(operands: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = _blocks("python")
    monkeypatch.chdir(operands)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert lines[0] == "省级以上重点实验室 3.0 → 5.0"
    assert '"schema": "watcher.diff/1"' in printed.getvalue()


def test_every_command_is_in_the_table_and_the_table_names_only_commands() -> None:
    table = README.split("## The CLI at a glance", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"^\| `watcher (\w+)", table, flags=re.M))
    assert isinstance(cli, click.Group)
    assert listed == set(cli.commands)


def _documented_keys(text: str) -> set[str]:
    """`key = …` lines of a TOML block, commented-out ones included (`# processes = 2`)."""
    return set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, flags=re.M))


def test_every_config_key_the_code_accepts_is_in_the_example_config() -> None:
    documented = _documented_keys(_example_config())
    accepted = (
        config._SOURCE_KEYS
        | (config._EMAIL_KEYS - {"route"})  # a table of its own, [[email.route]]
        | {f.name for f in fields(FetchSettings)}
        | {"path", "schedule", "send_empty", "tags", "to"}  # [storage], [digest], [[email.route]]
        | config._NOTIFY_KEYS
        | {"report_url"}
        | {"scheduler"}  # [cluster]
    )
    assert accepted - documented == set()
    tables = set(re.findall(r"^\[\[?([a-z.]+)\]\]?", _example_config(), flags=re.M))
    assert {table.split(".")[0] for table in tables} == config._TOP_KEYS
    assert "email.route" in tables


def test_the_json_contract_shipped_is_the_shared_one() -> None:
    shipped = ROOT / "docs" / "diff-json.md"
    assert f"`{shipped.relative_to(ROOT)}`" in README
    shared = ROOT.parent / "shared" / "contract" / "diff-json.md"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout: only the shipped copy is checked")
    assert shipped.read_bytes() == shared.read_bytes()
