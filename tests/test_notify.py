"""SMTP delivery against a real aiosmtpd server on loopback: plain, STARTTLS, SSL, login, refusals."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import pytest
from smtp_server import Inbox, free_port, make_certificate, smtp_server

from watcher.errors import DeliveryError
from watcher.model import EmailSettings
from watcher.notify import send

PASSWORD = "s3cret-Passw0rd"


def message(to: str = "analyst@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "[watcher] 1 plan changed: 1 target"
    msg["From"] = "watcher@example.org"
    msg["To"] = to
    msg.set_content("科技型中小企业数: ≥3700 → ≥4000 家")
    return msg


def settings(port: int, security: str = "none", **kw) -> EmailSettings:
    return EmailSettings(
        smtp_host=kw.pop("host", "127.0.0.1"),
        smtp_port=port,
        security=security,  # type: ignore[arg-type]
        sender="watcher@example.org",
        to=("analyst@example.org",),
        timeout=5.0,
        **kw,
    )


def test_plain_delivery_arrives_intact():
    with smtp_server() as server:
        send(message(), settings(server.port))
    [got] = server.inbox.messages
    assert got["Subject"] == "[watcher] 1 plan changed: 1 target"
    assert got.get_content().strip() == "科技型中小企业数: ≥3700 → ≥4000 家"
    assert server.inbox.recipients == [["analyst@example.org"]]
    assert server.inbox.tls_sessions == 0


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_encrypted_delivery_verifies_the_certificate(tmp_path, monkeypatch, security):
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust our test CA only
    with smtp_server(tls=security, certificate=certificate) as server:
        send(message(), settings(server.port, security, host="localhost"))
    assert len(server.inbox.messages) == 1
    assert server.inbox.tls_sessions == 1


def test_an_untrusted_certificate_is_refused(tmp_path, monkeypatch):
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    with smtp_server(tls="starttls", certificate=certificate) as server:
        with pytest.raises(DeliveryError, match="certificate"):
            send(message(), settings(server.port, "starttls", host="localhost"))
    assert server.inbox.messages == []


def test_starttls_asked_of_a_server_without_it_fails_clearly():
    with smtp_server() as server:
        with pytest.raises(DeliveryError, match="STARTTLS") as info:
            send(message(), settings(server.port, "starttls"))
    assert f"127.0.0.1:{server.port}" in str(info.value)
    assert server.inbox.messages == []


def test_login_with_the_password_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv("WATCHER_TEST_SMTP_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    with smtp_server(Inbox(users={"watcher": PASSWORD})) as server:
        send(message(), settings(server.port, username="watcher", password_env="WATCHER_TEST_SMTP_PASSWORD"))
    assert server.inbox.logins == ["watcher"] and len(server.inbox.messages) == 1
    assert PASSWORD not in caplog.text


def test_a_refused_login_never_shows_the_password(monkeypatch, caplog):
    monkeypatch.setenv("WATCHER_TEST_SMTP_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    with smtp_server(Inbox(users={"watcher": "another"})) as server:
        with pytest.raises(DeliveryError, match="login as watcher failed: 535") as info:
            send(message(), settings(server.port, username="watcher", password_env="WATCHER_TEST_SMTP_PASSWORD"))
    assert PASSWORD not in str(info.value) and PASSWORD not in caplog.text
    assert server.inbox.messages == []


def test_a_missing_password_variable_is_named(monkeypatch):
    monkeypatch.delenv("WATCHER_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(DeliveryError, match="WATCHER_TEST_SMTP_PASSWORD"):
        send(message(), settings(free_port(), username="watcher", password_env="WATCHER_TEST_SMTP_PASSWORD"))


def test_a_temporary_refusal_is_a_delivery_error():
    with smtp_server(Inbox(refuse=1)) as server:
        with pytest.raises(DeliveryError, match="451"):
            send(message(), settings(server.port))
        send(message(), settings(server.port))  # the next attempt goes through
    assert server.inbox.refused == 1 and len(server.inbox.messages) == 1


def test_no_server_listening():
    with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1:\d+"):
        send(message(), settings(free_port()))


def test_a_message_without_recipients_is_not_sent():
    msg = message()
    del msg["To"]
    with smtp_server() as server:
        with pytest.raises(DeliveryError, match="no recipients"):
            send(msg, settings(server.port))
    assert server.inbox.messages == []


def test_a_password_smtplib_cannot_send_is_a_delivery_error(monkeypatch):
    monkeypatch.setenv("WATCHER_TEST_SMTP_PASSWORD", "pässwort")  # smtplib logs in in ASCII only
    with smtp_server(Inbox(users={"watcher": "another"})) as server:
        with pytest.raises(DeliveryError, match="login as watcher failed: .* not ASCII") as info:
            send(message(), settings(server.port, username="watcher", password_env="WATCHER_TEST_SMTP_PASSWORD"))
    assert "ä" not in str(info.value) and server.inbox.messages == []
