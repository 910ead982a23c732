"""Bidirectional controls (U+202E …) and control characters in documents, titles, file names,
stored text and server replies reach no output: not the terminal report, Markdown, HTML, the
digest (text, HTML, the email itself) nor a log line. JSON keeps the data as it was, with each of
them written as a \\uXXXX escape. Through the real CLI, a real SQLite file, a real check of pages
on loopback and a real (hostile) SMTP server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import unicodedata
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PageServer, case_bytes
from smtp_server import Inbox, smtp_server

from watcher.cli import cli
from watcher.differ import diff_documents
from watcher.extract import extract_file
from watcher.model import Block, CheckResult, Document, Source
from watcher.report.text import render_text
from watcher.store import Store

# Every bidirectional control: embeddings and overrides, isolates, marks, the Arabic letter mark.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
OTHERS = "\x1b\x07\x7f\x9b"  # ESC, BEL, DEL and the 8-bit CSI


def tainted(text: str) -> str:
    """`text` with every bidirectional control after its first character."""
    return text[0] + BIDI + text[1:]


def controls(text: str) -> list[str]:
    """The bidirectional and control characters in `text` (newline and tab are text)."""
    return sorted({f"U+{ord(c):04X}" for c in text if c in BIDI or (unicodedata.category(c) == "Cc" and c not in "\n\t")})


def watcher(*args: str):
    return CliRunner().invoke(cli, list(args))


def page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    title = tainted("规划标题")
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><h2>{tainted('一、总体要求')}</h2>{body}</body></html>"


OLD = [f"到2025年，{tainted('科技型中小企业数')}达到3700家。", tainted("坚持创新驱动发展。")]
NEW = [f"到2025年，{tainted('科技型中小企业数')}达到4000家。", tainted("始终坚持创新驱动发展。"), tainted("加强知识产权保护。")]


@pytest.fixture
def files(tmp_path):
    """Two versions of a page, in files whose names carry the controls too."""
    old, new = tmp_path / f"旧{BIDI}版.html", tmp_path / f"新{BIDI}版.html"
    old.write_text(page(OLD), encoding="utf-8")
    new.write_text(page(NEW), encoding="utf-8")
    return str(old), str(new)


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_watcher_diff_of_files_shows_no_control(files, fmt):
    result = watcher("diff", *files, "--format", fmt)
    assert result.exit_code == 1, result.output
    assert controls(result.stdout + result.stderr) == []
    assert "4000" in result.stdout and "规划标题" in result.stdout and "加强知识产权保护" in result.stdout
    assert "旧版.html" in result.stdout  # the file name, without its controls


def test_watcher_diff_in_colour_shows_no_bidirectional_control(files):
    diff = diff_documents(extract_file(files[0]), extract_file(files[1]), old_info=None, new_info=None)
    coloured = render_text(diff, color=True)
    assert "\x1b[" in coloured  # colour codes: ESC is ours here, only the bidi controls are checked
    assert not set(coloured) & set(BIDI)


def test_json_keeps_the_data_with_the_controls_escaped(files):
    result = watcher("diff", *files, "--format", "json")
    assert result.exit_code == 1, result.output
    assert controls(result.stdout) == []
    assert "\\u202e" in result.stdout and "\\u2066" in result.stdout and "\\u061c" in result.stdout
    data = json.loads(result.stdout)
    assert data["old"]["ref"] == files[0] and data["new"]["ref"] == files[1]  # read back as they were


# ---------------------------------------------------------------- stored text, old extractions


@pytest.fixture
def stored(tmp_path):
    """A snapshot database written by an extractor that kept the controls: versions, a page
    title, stored changes, an attachment with a hostile name and a failed check quoting them."""
    db = tmp_path / "watcher.db"
    attachment = f"plan/附件{BIDI}{OTHERS}.docx"
    with Store(db) as store:
        store.upsert_source(Source("plan", "https://example.gov.cn/plan.html"))
        store.upsert_source(Source(attachment, "https://example.gov.cn/a.docx"), parent="plan")
        versions = []
        for paragraphs in (OLD, NEW):
            blocks = (Block("heading", tainted("一、总体要求"), level=1), *(Block("paragraph", p + OTHERS) for p in paragraphs))
            document = Document(blocks, title=tainted("规划标题"))
            text = "".join(b.text for b in blocks)
            versions.append(store.add_version("plan", document, sha256=text, raw=text.encode()))
        old, new = versions
        store.add_changes(new.id, old.id, diff_documents(store.document(old.id), store.document(new.id)))
        store.add_check(CheckResult("plan", "new", version_id=new.id), started_at="2025-01-01T00:00:00Z")
        error = f"HTTP 404 {tainted('找不到')}{OTHERS}"
        store.add_check(CheckResult(attachment, "failed", error=error), started_at="2025-01-01T00:00:01Z")
    config = tmp_path / "watcher.toml"
    config.write_text(
        f'[storage]\npath = "{db}"\n\n[[source]]\nname = "plan"\nurl = "https://example.gov.cn/plan.html"\n'
        'attachments = true\n\n[email]\nsmtp_host = "127.0.0.1"\nsecurity = "none"\n'
        'from = "watcher@example.org"\nto = ["analyst@example.org"]\n',
        encoding="utf-8",
    )
    return str(config)


COMMANDS = [
    *(("diff", "plan@1", "plan@2", "--format", fmt) for fmt in ("text", "markdown", "html")),
    *(("diff", "--targets", "plan@1", "plan@2", "--format", fmt) for fmt in ("text", "markdown", "html")),
    *(("targets", "plan@2", "--format", fmt) for fmt in ("text", "markdown", "html")),
    ("show", "plan@2"),
    ("changes",),
    ("sources",),
    ("history", "plan"),
    ("digest",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_stored_controls_reach_no_report(stored, command):
    result = watcher("--config", stored, *command)
    assert result.exit_code in (0, 1), result.output
    assert result.stdout.strip()
    assert controls(result.stdout + result.stderr) == []


@pytest.mark.parametrize(
    "command",
    [("diff", "plan@1", "plan@2"), ("diff", "--targets", "plan@1", "plan@2"), ("targets", "plan@2"), ("changes",), ("sources",), ("history", "plan")],
    ids=" ".join,
)
def test_stored_controls_are_escaped_in_json(stored, command):
    result = watcher("--config", stored, *command, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert controls(result.stdout) == []
    assert "\\u202e" in result.stdout
    json.loads(result.stdout)


def test_the_stored_json_reads_back_the_very_text(stored):
    result = watcher("--config", stored, "changes", "--format", "json")
    texts = [row["change"]["new"] for row in json.loads(result.stdout) if row["change"].get("new")]
    assert any(BIDI in text for text in texts) and any(OTHERS in text for text in texts)


def test_the_digest_email_and_page_show_no_control(stored, tmp_path):
    mail, html = tmp_path / "digest.eml", tmp_path / "digest.html"
    for output in (mail, html):
        assert watcher("--config", stored, "digest", "--output", str(output)).exit_code == 0
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    parts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    assert len(parts) == 2 and "4000" in parts[0] and "找不到" in parts[0] and "附件" in parts[1]
    for text in (*parts, message["Subject"], html.read_text(encoding="utf-8")):
        assert controls(text) == []


# ---------------------------------------------------------------- a real check of hostile pages


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_checked_page_and_its_attachment_reach_the_digest_without_controls(http_server: PageServer, write_config):
    name = "%E9%99%84%E4%BB%B6%E2%80%AE%E2%81%A6xcod.docx"  # 附件 U+202E U+2066 "xcod.docx"
    http_server.set("/plan.html", page(OLD).replace("</body>", f"<a href='/files/{name}'>附件</a></body>"))
    http_server.set(f"/files/{name}", case_bytes("cixi-table-docx", "old.docx"), content_type=DOCX_TYPE)
    config = str(write_config([{"name": "plan", "url": http_server.url("/plan.html"), "attachments": True}]))
    assert watcher("--config", config, "check").exit_code == 0
    http_server.set("/plan.html", page(NEW).replace("</body>", f"<a href='/files/{name}'>附件</a></body>"))
    http_server.set(f"/files/{name}", case_bytes("cixi-table-docx", "new.docx"), content_type=DOCX_TYPE)
    checked = watcher("--config", config, "check")
    assert checked.exit_code == 0, checked.output
    for command in (("sources",), ("digest",), ("diff", "plan@1", "plan@2")):
        result = watcher("--config", config, *command)
        assert controls(result.stdout + result.stderr) == [], command
    digest = watcher("--config", config, "digest").stdout
    assert "plan/附件__xcod.docx" in digest and "规划标题" in digest and "4000" in digest


# ---------------------------------------------------------------- log lines


HOSTILE_REPLY = "451 4.3.0 \x1b[2J\x1b]0;owned\x07 try later\x7f"  # clears the screen, sets the title


@pytest.fixture
def mailed(stored, tmp_path):
    """The stored fixture's config, sending to a server that refuses with a hostile reply."""
    inbox = Inbox(refuse=100, refusal=HOSTILE_REPLY)
    with smtp_server(inbox) as server:
        config = Path(stored)
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('security = "none"', f'security = "none"\nsmtp_port = {server.port}'), encoding="utf-8")
        yield stored, inbox


def test_a_hostile_reply_reaches_stderr_without_controls(mailed):
    config, inbox = mailed
    run = subprocess.run(
        [sys.executable, "-m", "watcher", "--config", config, "digest", "--send"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2 and inbox.refused == 1
    assert "not delivered" in run.stderr  # the log line, and the error line after it
    assert "451 4.3.0 [2J]0;owned try later" in run.stderr
    assert controls(run.stderr) == []


@pytest.mark.slow
def test_watcher_run_logs_a_hostile_reply_without_controls(mailed, tmp_path):
    config, inbox = mailed
    with open(config, "a", encoding="utf-8") as f:
        f.write('\n[digest]\nschedule = "* * * * * *"\n')
    log = tmp_path / "run.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "watcher", "--config", config, "run"], stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 30
            while inbox.refused < 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)  # the log line follows the refusal
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text(encoding="utf-8")
    assert inbox.refused >= 1 and "not delivered" in output, output
    assert controls(output) == []


def test_escaped_json_reads_back_every_control():
    from watcher.normalise import escape_controls, printable

    every = "".join(map(chr, [*range(0x00, 0x20), *range(0x7F, 0xA0)])) + BIDI + "文本"
    written = escape_controls(json.dumps({every: every}, ensure_ascii=False, indent=2))
    assert controls(written) == [] and json.loads(written) == {every: every}
    assert printable(every) == "\t\n\n文本"  # tab and newline kept, the carriage return a newline
