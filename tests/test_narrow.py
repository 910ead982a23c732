"""Listings on an 80-column terminal: names stay whole, no line is longer than the terminal, and
nothing is cut off (the notes move under the table)."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console

from watcher.model import CheckResult
from watcher.report.listings import check_table, source_table
from watcher.sources import SourceStatus

NAMES = ("ningbo-haishu-science-plan-2025", "cixi-14th-five-year-plan.docx", "宁波市海曙区科技创新十四五规划")
NOTE = "https://www.example.gov.cn/art/2021/9/30/art_1229.html: HTTP 404 Not Found (after 2 attempts)"
RESULTS = [
    CheckResult(source=NAMES[0], status="new", version_number=3, changes=4, http_status=200, duration=1.23),
    CheckResult(source=NAMES[1], status="failed", http_status=404, duration=0.2, error=NOTE),
    CheckResult(source=NAMES[2], status="suspicious", duration=0.5, error="the body is 12% of the last version's length"),
]


def _shown(width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(check_table(RESULTS))
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_at_80_columns_names_stay_whole_and_the_notes_move_under_the_table(english: None) -> None:
    shown = _shown(80)
    lines = shown.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    for name in NAMES:
        assert any(name in line for line in lines), f"{name} broken across lines:\n{shown}"
    assert "FAILED 404" in shown
    flat = " ".join(line.strip() for line in lines)
    assert f"[1] {NAMES[1]}: {NOTE}" in flat  # the whole note, under the table
    assert f"[2] {NAMES[2]}: the body is 12% of the last version's length" in flat


def test_a_wide_terminal_keeps_the_notes_in_their_column(english: None) -> None:
    shown = _shown(200)
    assert "[1]" not in shown
    row = next(line for line in shown.splitlines() if NAMES[1] in line)
    assert NOTE[:40] in row and "0.2" in row


def test_the_source_list_wraps_addresses_not_names_at_80_columns(english: None) -> None:
    statuses = [
        SourceStatus(
            name=name, url=f"https://www.example.gov.cn/art/2021/9/30/art_{n}_{'x' * 40}.html", title="", tags=("科技", "规划"),
            schedule=None, attachment_of=None, versions=n, last_check="2026-11-30T06:00:00+00:00", last_status="unchanged",
            last_error=None,
        )
        for n, name in enumerate(NAMES)
    ]
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(source_table("config/watcher.toml", statuses))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    lines = shown.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    for name in NAMES:
        assert any(name in line for line in lines), f"{name} broken across lines:\n{shown}"
    assert any("2026-11-30 06:00 (UTC+00:00)" in line for line in lines), shown


def test_between_narrow_and_wide_names_still_stay_whole(english: None) -> None:
    for width in range(80, 161, 8):
        lines = _shown(width).splitlines()
        assert max(cell_len(line) for line in lines) <= width
        for name in NAMES:
            assert any(name in line for line in lines), f"{name} broken across lines at {width} columns"


def test_the_listings_speak_chinese_by_default() -> None:
    shown = _shown(200)  # no rendering set: the default language
    assert "来源" in shown and "新版本" in shown and "失败" in shown and "说明" in shown
    assert "new version" not in shown and "FAILED" not in shown
