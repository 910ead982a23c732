"""`watcher diff A B --format docx`: the 新旧对照表, re-opened with python-docx (and by LibreOffice).

The pair is a real plan with two real edits of the labelled cases: the deadline year of a target
moved (cixi-target-year) and a sub-measure added (cixi-new-submeasure).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.table import Table, _Cell
from tools import need  # not tests.tools: fast-diff-match-patch installs a package named tests

from watcher.cli import cli
from watcher.model import Change, Diff, VersionInfo
from watcher.report.docx import RED, render_docx

CASES = Path(__file__).parent / "data" / "cases"
TARGET_LINE = 55  # the line of cixi-target-year's edit (both cases are edits of one text)
MEASURE_LINE = 60  # the line cixi-new-submeasure's sub-measure was added to


def _lines(case: str, side: str) -> list[str]:
    return (CASES / case / f"{side}.txt").read_text(encoding="utf-8").split("\n")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    old = _lines("cixi-new-submeasure", "old")
    assert old == _lines("cixi-target-year", "old")
    new = _lines("cixi-new-submeasure", "new")
    new[TARGET_LINE] = _lines("cixi-target-year", "new")[TARGET_LINE]
    (tmp_path / "old.txt").write_text("\n".join(old), encoding="utf-8")
    (tmp_path / "new.txt").write_text("\n".join(new), encoding="utf-8")
    return tmp_path / "old.txt", tmp_path / "new.txt"


def _render(pair: tuple[Path, Path], tmp_path: Path, *extra: str) -> docx.document.Document:
    out = tmp_path / "对照表.docx"
    result = CliRunner().invoke(cli, ["diff", str(pair[0]), str(pair[1]), "--format", "docx", "--output", str(out), *extra])
    assert result.exit_code == 1, result.output  # changes of substance, as for every format
    assert result.stdout == ""
    return docx.Document(str(out))


def _red_runs(cell: _Cell) -> list[tuple[str, bool, bool]]:
    """(text, struck, underlined) of each red run of a cell."""
    return [
        (run.text, bool(run.font.strike), bool(run.font.underline))
        for paragraph in cell.paragraphs
        for run in paragraph.runs
        if run.font.color.type is not None and run.font.color.rgb == RED
    ]


def _texts(table: Table, row: int) -> list[str]:
    return [cell.paragraphs[0].text for cell in table.rows[row].cells]


def test_the_target_table_comes_first_with_the_changed_year_in_red(pair: tuple[Path, Path], tmp_path: Path) -> None:
    document = _render(pair, tmp_path)
    assert "新旧对照表" in document.paragraphs[0].text and document.paragraphs[0].style.name == "Title"
    targets, clauses = document.tables
    body = list(document.element.body.iterchildren())
    assert body.index(targets._tbl) < body.index(clauses._tbl)  # the target table first
    assert _texts(targets, 0) == ["指标", "原值", "新值", "变化"]
    assert len(targets.rows) == 2
    metric, old, new, kind = targets.rows[1].cells
    assert [p.text for p in metric.paragraphs] == ["科技型中小企业数", "二是择优扶强发展高新技术企业"]  # and where it stands
    assert kind.text == "目标调整"
    assert old.text == "≥3700家（2025年）" and new.text == "≥3700家（2027年）"
    assert _red_runs(old) == [("2025", True, False)]  # struck through, only the year
    assert _red_runs(new) == [("2027", False, True)]  # underlined, only the year


def test_clauses_side_by_side_with_deletions_struck_and_insertions_underlined(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    old_lines = pair[0].read_text(encoding="utf-8").split("\n")
    new_lines = pair[1].read_text(encoding="utf-8").split("\n")
    added = new_lines[MEASURE_LINE].removeprefix(old_lines[MEASURE_LINE])  # the sub-measure's own text
    assert added and added != new_lines[MEASURE_LINE]

    _targets, clauses = _render(pair, tmp_path).tables
    assert _texts(clauses, 0) == ["原文", "修改后"]
    rows = [row.cells for row in clauses.rows[1:]]
    pairs = [(old, new) for old, new in rows if old._tc is not new._tc]  # the others name a section
    sections = [old for old, new in rows if old._tc is new._tc]
    assert len(pairs) == 2 and len(sections) == 2

    (target_old, target_new), (measure_old, measure_new) = pairs
    old_clause = target_old.paragraphs[0].text
    new_clause = target_new.paragraphs[0].text
    assert old_clause.startswith("到2025年") and old_clause in old_lines[TARGET_LINE]
    assert new_clause.startswith("到2027年") and new_clause in new_lines[TARGET_LINE]
    assert _red_runs(target_old) == [("2025", True, False)]
    assert _red_runs(target_new) == [("2027", False, True)]
    assert target_new.paragraphs[1].text == "［目标调整］"

    assert measure_old.text == "（无）" and _red_runs(measure_old) == []
    assert measure_new.paragraphs[0].text == added
    assert _red_runs(measure_new) == [(added, False, True)]  # the whole new measure underlined
    assert "四是" in sections[1].text  # the measure stands under its own heading


def test_formatting_changes_are_counted_not_listed(tmp_path: Path) -> None:
    old, new = CASES / "cixi-noise-export" / "old.txt", CASES / "cixi-noise-export" / "new.txt"
    out = tmp_path / "noise.docx"
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", "docx", "--output", str(out)])
    assert result.exit_code == 0
    document = docx.Document(str(out))
    assert document.tables == []
    text = "\n".join(p.text for p in document.paragraphs)
    assert "无实质性变化" in text and "格式变化 278 处" in text


def test_document_text_with_control_characters_is_written(tmp_path: Path) -> None:
    # a control character is not valid XML: python-docx would refuse the run
    change = Change("clause_modified", ("一、\x01总则\uffff",), "旧\x0b文", "新\x1b文")
    data = render_docx(Diff(VersionInfo("a\x07"), VersionInfo("b"), (change,)))
    path = tmp_path / "c.docx"
    path.write_bytes(data)
    (table,) = docx.Document(str(path)).tables
    assert _texts(table, 1)[0] == "一、总则"
    assert _texts(table, 2)[0] == "旧文" and _red_runs(table.rows[2].cells[1])[0] == ("新", False, True)


def test_to_stdout_when_it_is_not_a_terminal(pair: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(cli, ["diff", str(pair[0]), str(pair[1]), "--format", "docx"])
    assert result.exit_code == 1, result.stderr
    assert result.stdout_bytes.startswith(b"PK\x03\x04")  # a .docx is a zip file


def test_never_to_a_terminal(pair: tuple[Path, Path]) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "watcher", "diff", str(pair[0]), str(pair[1]), "--format", "docx"],
            stdout=follower, stderr=subprocess.PIPE, timeout=60, check=False,  # a .docx would fill the pty and block
        )
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 4096)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2
    assert b"--output FILE" in done.stderr
    assert b"PK" not in shown


def test_docx_and_targets_do_not_go_together(pair: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(cli, ["diff", str(pair[0]), str(pair[1]), "--format", "docx", "--targets"])
    assert result.exit_code == 2 and "--targets" in result.stderr


def test_libreoffice_opens_it(pair: tuple[Path, Path], tmp_path: Path) -> None:
    soffice, pdftotext = need("soffice"), need("pdftotext")
    _render(pair, tmp_path)
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(tmp_path / "对照表.docx")],
        check=True, capture_output=True, timeout=180,
    )
    text = subprocess.run([pdftotext, str(tmp_path / "对照表.pdf"), "-"], check=True, capture_output=True).stdout.decode()
    assert "新旧对照表" in text and "条文对照" in text and "2027" in text

