"""Secrets never come back out: a hostile SMTP server (real aiosmtpd on loopback) that quotes the
credentials it was sent in its 535 reply, against the real digest path, a real SQLite store and
the real `watcher digest --send` in a subprocess. The password must be in none of its forms in the
digests table, the logs or the CLI's stderr."""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
import subprocess
import sys
from urllib.parse import quote, quote_plus

import pytest
from sample_changes import store_sample
from smtp_server import Inbox, smtp_server

from watcher.digest import send_digest
from watcher.errors import DeliveryError
from watcher.model import DigestSettings, EmailSettings, Settings, Source
from watcher.notify import redact, secret_forms
from watcher.store import Store

USER = "watcher"
PASSWORD = "Tr0ub4dor&3 x/y+z=%"  # blanks and URL metacharacters: its encoded forms all differ
VARIABLE = "WATCHER_TEST_SMTP_PASSWORD"
SOURCE = Source("plan", "https://example.gov.cn/art/plan.html", title="规划", tags=("plans",))

# Written out here, not taken from the code under test.
FORMS = {
    "raw": PASSWORD,
    "base64": base64.b64encode(PASSWORD.encode()).decode(),
    "base64 unpadded": base64.b64encode(PASSWORD.encode()).decode().rstrip("="),
    "AUTH PLAIN": base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
    "URL-encoded": quote(PASSWORD, safe=""),
    "URL-encoded, + for blanks": quote_plus(PASSWORD, safe=""),
}

# What the hostile server offers and how it quotes what it received (smtplib tries PLAIN, then
# LOGIN, and reports the last refusal: a server offering both shows the LOGIN reply).
HOSTILE = {
    "PLAIN, echoing base64 of the AUTH PLAIN string and of the password": (("PLAIN",), ("plain", "base64")),
    "LOGIN, echoing base64 of the password": (("LOGIN",), ("base64",)),
    "both, echoing the decoded password and its URL form": (("PLAIN", "LOGIN"), ("raw", "url")),
}


def leaked(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form in text]


def settings(port: int, database: str) -> Settings:
    return Settings(
        config_path="/etc/watcher.toml",
        storage_path=database,
        sources=(SOURCE,),
        email=EmailSettings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            security="none",
            sender="watcher@example.org",
            to=("analyst@example.org",),
            username=USER,
            password_env=VARIABLE,
            timeout=5.0,
        ),
        digest=DigestSettings(),
    )


@pytest.fixture
def database(tmp_path):
    """A real snapshot database with two versions of a plan and their stored changes."""
    path = tmp_path / "watcher.db"
    with Store(path) as db:
        store_sample(db, SOURCE)
    return path


def digest_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:  # the file itself, not the Store that wrote it
        return db.execute("SELECT * FROM digests").fetchall()


@pytest.mark.parametrize("mechanisms, echo", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_server_quoting_the_credentials_leaves_no_trace(database, monkeypatch, caplog, mechanisms, echo):
    monkeypatch.setenv(VARIABLE, PASSWORD)
    caplog.set_level(logging.DEBUG)
    inbox = Inbox(echo=echo)
    with smtp_server(inbox, mechanisms=mechanisms) as server, Store(database) as store:
        with pytest.raises(DeliveryError) as info:
            send_digest(store, settings(server.port, str(database)))
    assert inbox.mechanisms[-1] == mechanisms[-1]  # the reply quoted is the one to this mechanism
    [row] = digest_rows(database)
    stored = " ".join(str(value) for value in row)
    assert leaked(stored) == []
    assert "failed" in stored and "login as watcher failed: 535 5.7.8 bad credentials: ***" in stored
    assert leaked(str(info.value)) == []
    # The test server logs what the client sent at DEBUG ("mail.log"): that is not watcher's output.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert any(r.name == "watcher.digest" and "not delivered" in r.getMessage() for r in ours)
    assert leaked("\n".join(logging.Formatter().format(r) for r in ours)) == []


def test_the_cli_stderr_does_not_show_the_password(database, tmp_path):
    inbox = Inbox(echo=("plain", "base64", "raw", "url"))
    config = tmp_path / "watcher.toml"
    with smtp_server(inbox, mechanisms=("PLAIN",)) as server:
        config.write_text(
            f"""
[storage]
path = "{database}"

[[source]]
name = "{SOURCE.name}"
url = "{SOURCE.url}"

[email]
smtp_host = "127.0.0.1"
smtp_port = {server.port}
security = "none"
allow_plaintext_login = true
username = "{USER}"
password_env = "{VARIABLE}"
from = "watcher@example.org"
to = ["analyst@example.org"]
timeout = 5
""",
            encoding="utf-8",
        )
        run = subprocess.run(
            [sys.executable, "-m", "watcher", "--config", str(config), "digest", "--send"],
            env={**os.environ, VARIABLE: PASSWORD},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 2, run.stderr
    assert leaked(run.stderr + run.stdout) == []
    assert "login as watcher failed: 535 5.7.8 bad credentials: *** *** *** ***" in run.stderr
    assert leaked(" ".join(str(v) for row in digest_rows(database) for v in row)) == []


def test_every_form_of_the_secret_is_redacted_and_nothing_else():
    forms = secret_forms(PASSWORD, USER)
    for name, form in FORMS.items():
        assert redact(f"535 {form}.", forms) == "535 ***.", name
    assert redact("Tr0ub4dor%263%20x%2fy%2bz%3d%25", forms) == "***"  # hex digits in either case
    assert redact(f"got {PASSWORD!r}", forms) == "got '***'"
    assert redact("535 5.7.8 Authentication credentials invalid", forms) == "535 5.7.8 Authentication credentials invalid"
    assert secret_forms("") == () and redact("anything", ()) == "anything"
