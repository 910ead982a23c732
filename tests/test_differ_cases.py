"""End to end on the labelled version pairs (copies of ../shared/cases): extract both files, diff,
and hold the result to the case's expected.json — every flag found, no other target or measure
change, nothing but formatting on a noise-only pair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.differ import diff_documents
from watcher.extract import extract_file
from watcher.model import Change, Target
from watcher.normalise import comparison_form

CASES = Path(__file__).parent / "data" / "cases"
FLAGGED = {"target_changed", "target_added", "target_removed", "measure_added", "measure_removed"}


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "expected.json").is_file())


def _side(change: Change, which: str) -> Target | None:
    if change.target is None:
        return None
    return change.target.old if which == "old" else change.target.new


def matches(flag: dict, change: Change) -> bool:
    if change.kind != flag["kind"]:
        return False
    want = comparison_form(flag["contains"])
    if change.kind in ("measure_added", "measure_removed"):
        text = change.new if change.kind == "measure_added" else change.old
        return want in comparison_form(text or "")
    words = [change.old, change.new, change.target.metric if change.target else None]
    if want not in comparison_form(" ".join(w for w in words if w)):
        return False
    for key, which, field in (
        ("old_value", "old", "value"),
        ("new_value", "new", "value"),
        ("old_year", "old", "year"),
        ("new_year", "new", "year"),
    ):
        side = _side(change, which)
        if key in flag and (side is None or getattr(side, field) != flag[key]):
            return False
    return True


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_labelled_pair(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    old = extract_file(next(case.glob("old.*")))
    new = extract_file(next(case.glob("new.*")))
    changes = list(diff_documents(old, new).changes)
    flagged = [c for c in changes if c.kind in FLAGGED]
    for flag in expected["flags"]:
        hit = next((c for c in flagged if matches(flag, c)), None)
        assert hit is not None, f"missed {flag}"
        flagged.remove(hit)
    assert flagged == [], "false alarms"
    if expected["noise_only"]:
        assert [c for c in changes if c.kind != "formatting"] == []
