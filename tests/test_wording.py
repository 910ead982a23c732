"""One module for the kinds of change, one wording of a check result, and format sets that the CLI
reads without importing any renderer."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console

from watcher.digest import SourceChanges, subject_line
from watcher.kinds import (
    CLAUSE_KINDS,
    DOCUMENT_KINDS,
    FORMATTING_KINDS,
    KIND_COUNTS,
    KIND_LABELS,
    KIND_ORDER,
    MEASURE_KINDS,
    SUBJECT_GROUPS,
    SUBSTANTIVE_KINDS,
    TARGET_KINDS,
)
from watcher.model import Change, CheckResult
from watcher.report import DIFF_FORMATS, RENDERERS, renderer
from watcher.report.listings import check_line, check_table, check_wording

pytestmark = pytest.mark.usefixtures("english")  # the wording asserted here is the English catalog's


def test_the_kind_groups_split_every_kind_once_and_every_kind_has_a_label() -> None:
    groups = (DOCUMENT_KINDS, TARGET_KINDS, MEASURE_KINDS, CLAUSE_KINDS, FORMATTING_KINDS)
    assert sorted(k for group in groups for k in group) == sorted(KIND_ORDER)
    assert set(KIND_LABELS) == set(KIND_COUNTS) == set(KIND_ORDER)
    assert SUBSTANTIVE_KINDS == set(KIND_ORDER) - FORMATTING_KINDS
    # the digest's subject counts every change of substance in exactly one of its groups
    assert sorted(k for group, _ in SUBJECT_GROUPS for k in group) == sorted(SUBSTANTIVE_KINDS)


def test_the_subject_counts_by_the_groups_of_the_kinds_module() -> None:
    changes = tuple(Change(kind, ("一、",), old="甲", new="乙") for kind in KIND_ORDER)  # type: ignore[arg-type]
    group = SourceChanges("plan", "plan", "", changes)
    assert subject_line([group], []) == (
        "[watcher] 1 plan changed: 1 new document, 1 removed document, 3 targets, 1 new measure, 1 removed measure, "
        "4 changed clauses"
    )


def _results() -> list[CheckResult]:
    return [
        CheckResult("first", "new", version_id=1, version_number=1, duration=0.25, http_status=200),
        CheckResult("later", "new", version_id=7, version_number=3, changes=2, duration=1.0, http_status=200),
        CheckResult("one", "new", version_id=8, version_number=2, changes=1, duration=1.0),
        CheckResult("same", "unchanged", version_number=4, duration=0.5, http_status=304),
        CheckResult("gone", "failed", error="HTTP 404", duration=0.04, http_status=404),
        CheckResult("short", "suspicious", error="body is 5% of the last version's size", duration=0.3),
    ]


def test_a_check_result_is_worded_once_for_the_log_and_the_table() -> None:
    lines = [check_line(r) for r in _results()]
    assert lines == [
        "check first: new version 1 (0.2 s)",
        "check later: new version 3, 2 changes of substance (1.0 s)",
        "check one: new version 2, 1 change of substance (1.0 s)",
        "check same: unchanged (0.5 s)",
        "check gone: FAILED: HTTP 404 (0.0 s)",
        "check short: suspicious: body is 5% of the last version's size (0.3 s)",
    ]
    console = Console(file=io.StringIO(), width=240, no_color=True)
    console.print(check_table(_results()))
    table = console.file.getvalue()  # type: ignore[attr-defined]
    for result in _results():
        words = check_wording(result)
        row = next(line for line in table.splitlines() if f" {result.source} " in line)
        cells = [cell.strip() for cell in row.strip()[1:-1].split("│")]
        assert cells == [words.source, words.outcome, words.version, words.changes, words.http, words.seconds, words.note]
    assert "new version: 3, unchanged: 1, failed: 1, suspicious: 1" in table


def test_the_diff_formats_are_the_renderers() -> None:
    assert tuple(RENDERERS) == DIFF_FORMATS
    for fmt in DIFF_FORMATS:
        assert renderer(fmt) is RENDERERS[fmt]


def test_the_cli_starts_without_importing_a_renderer() -> None:
    probe = "import sys, watcher.cli; print(sorted(m for m in ('rich', 'jinja2', 'watcher.report.text') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
