"""`watcher diff OLD NEW`: files and stored versions, the four formats, exit statuses like diff(1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli

CASES = Path(__file__).parent / "data" / "cases"


def diff(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["diff", "--lang", "en", *args])  # the wording asserted below
    return result.exit_code, result.stdout, result.stderr


def case(name: str) -> tuple[str, str]:
    folder = CASES / name
    return str(next(folder.glob("old.*"))), str(next(folder.glob("new.*")))


def test_json_is_the_contract_and_a_change_of_substance_exits_1() -> None:
    status, out, _ = diff(*case("cixi-docx-vs-page"), "--format", "json")
    assert status == 1
    data = json.loads(out)
    assert data["schema"] == "watcher.diff/1"
    assert set(data["old"]) >= {"ref", "title", "fetched_at", "sha256"}
    (change,) = [c for c in data["changes"] if c["kind"] != "formatting"]
    assert change["kind"] == "target_changed"
    assert change["target"]["old"]["value"] == 3 and change["target"]["new"]["value"] == 5
    assert isinstance(change["target"]["new"]["value"], int)  # 5, not 5.0
    assert data["summary"]["target_changed"] == 1
    assert ["-", "3"] in change["inline"] and ["+", "5"] in change["inline"]


def test_a_noise_only_pair_exits_0_and_says_so() -> None:
    status, out, _ = diff(*case("cixi-noise-export"))
    assert status == 0
    assert "No changes of substance" in out


def test_all_lists_the_formatting_changes_too() -> None:
    _, hidden, _ = diff(*case("cixi-noise-export"), "--format", "markdown")
    _, shown, _ = diff(*case("cixi-noise-export"), "--format", "markdown", "--all")
    assert len(shown) > len(hidden)
    assert "慈谿" in shown and "慈谿" not in hidden


def test_html_is_one_escaped_page(tmp_path: Path) -> None:
    old, new = case("haishu-new-measure-html")
    hostile = tmp_path / "new.html"
    hostile.write_text(
        # an entity in the page is literal text of the document: "<script>…" as words
        Path(new).read_text(encoding="utf-8").replace("实施科技企业上市培育工程", "实施&lt;script&gt;alert(1)&lt;/script&gt;上市培育工程"),
        encoding="utf-8",
    )
    status, out, _ = diff(old, str(hostile), "--format", "html")
    assert status == 1
    assert out.lstrip().lower().startswith("<!doctype html>")
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_a_missing_file_is_one_line_and_exit_2() -> None:
    status, out, err = diff("no-such-plan.txt", case("cixi-target-year")[1])
    assert status == 2 and out == ""
    assert err.strip().splitlines() == ["watcher: no-such-plan.txt: no such file"]


def test_a_corrupt_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "plan.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    status, _, err = diff(str(broken), case("cixi-target-year")[1])
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "plan.docx" in err


def test_stored_versions_are_compared_by_reference(tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    shutil.copy(CASES / "haishu-new-measure-html" / "old.html", page)
    config = tmp_path / "watcher.toml"
    config.write_text(
        f'[storage]\npath = "w.db"\n[[source]]\nname = "plan"\nurl = "{page.as_uri()}"\n', encoding="utf-8"
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "check"]).exit_code == 0
    shutil.copy(CASES / "haishu-new-measure-html" / "new.html", page)
    assert runner.invoke(cli, ["--config", str(config), "check"]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(config), "diff", "plan@-1", "plan@latest", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["old"]["ref"], data["new"]["ref"]) == ("plan@1", "plan@2")
    assert [c["kind"] for c in data["changes"] if c["kind"] != "formatting"] == ["measure_added"]
    # a stored version against a local file goes through the same extraction
    mixed = runner.invoke(cli, ["--config", str(config), "diff", "plan@2", str(page), "--format", "json"])
    assert mixed.exit_code == 0


def test_an_unknown_reference_without_a_database_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[storage]\npath = "snap/w.db"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "diff", "plan@1", "plan@2"])
    assert result.exit_code == 2
    assert "no snapshot database" in result.stderr
    assert not (tmp_path / "snap").exists()


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_renderings_name_the_target_with_old_and_new_values(fmt: str) -> None:
    status, out, _ = diff(*case("cixi-table-docx"), "--format", fmt)
    assert status == 1
    assert "科技型中小企业" in out and "3700" in out and "4000" in out


def test_the_package_exports_its_public_api() -> None:
    import watcher

    old, new = case("cixi-target-year")
    diff = watcher.diff_documents(watcher.extract_file(old), watcher.extract_file(new))
    assert watcher.diff_to_dict(diff)["summary"]["target_changed"] == 1
    assert set(watcher.__all__) >= {"diff_documents", "extract_file", "RENDERERS", "check_all", "Store"}
    with pytest.raises(AttributeError):
        watcher.no_such_thing  # noqa: B018


def _diff_on_a_terminal(tmp_path, env_extra: dict[str, str]) -> str:
    """`watcher diff` with its stdout on a pseudo-terminal, as a user runs it."""
    import os
    import pty
    import subprocess
    import sys

    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("一、主要任务\n（一）加强平台建设。建设实验室5家，推进开放共享。\n", encoding="utf-8")
    new.write_text("一、主要任务\n（一）加强平台建设。建设实验室5家，新建中试基地。\n", encoding="utf-8")
    leader, follower = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"} | env_extra
    child = subprocess.Popen(
        [sys.executable, "-m", "watcher", "diff", str(old), str(new)], stdout=follower, stderr=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    child.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_under_no_color_insertions_and_deletions_keep_their_marks(tmp_path) -> None:
    plain = _diff_on_a_terminal(tmp_path, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert "[-推进开放共享-]" in plain and "{+新建中试基地+}" in plain
    coloured = _diff_on_a_terminal(tmp_path, {})
    assert "\x1b[" in coloured  # on a terminal without NO_COLOR, colour shows the changes instead
