"""SMTP delivery of one email (stdlib smtplib): STARTTLS, SSL or plain, with optional login.

The password is read from the environment variable that the config names, at the moment of
sending; it is never logged and never put in an error message. A server's reply and an exception's
message are the only text that comes back from the conversation, and both go through `redact`
before they make a DeliveryError: a hostile server that quotes the credentials it was sent
(base64 in a 535 reply to AUTH PLAIN or LOGIN, or decoded) has them replaced by "***".
Every failure becomes a DeliveryError that says which server and what went wrong.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from typing import Sequence
from urllib.parse import quote, quote_plus

from watcher.errors import DeliveryError
from watcher.model import EmailSettings

log = logging.getLogger(__name__)

REDACTED = "***"


def _password(email: EmailSettings) -> str | None:
    if not email.username:
        return None
    if not email.password_env:
        raise DeliveryError(
            f"email.username is set but email.password_env is not: no password for {email.username}"
        )
    password = os.environ.get(email.password_env)
    if password is None:
        raise DeliveryError(
            f"the environment variable {email.password_env} (email.password_env) is not set"
        )
    return password


def secret_forms(secret: str, username: str | None = None) -> tuple[str, ...]:
    """Every form in which `secret` may come back in a reply or a message, longest first (so no
    form is left half replaced by a shorter one): as it is; as a Python repr quotes it; base64,
    standard and URL-safe, with and without padding, of the secret alone (AUTH LOGIN) and of
    AUTH PLAIN's "\\0user\\0secret" (with or without the user as authorisation identity); and
    URL-encoded (either way of writing a space, either case of hex digits)."""
    if not secret:
        return ()
    forms = {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}
    payloads = [secret]
    if username:
        payloads += [f"\0{username}\0{secret}", f"{username}\0{username}\0{secret}"]
    for payload in payloads:
        raw = payload.encode()
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            forms |= {encoded.decode(), encoded.rstrip(b"=").decode()}
    for escaped in (quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)):
        forms |= {escaped, re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), escaped)}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def redact(text: str, forms: Sequence[str]) -> str:
    """`text` with every one of `forms` (secret_forms) replaced by REDACTED."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def _connect(email: EmailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if email.security == "ssl":
        return smtplib.SMTP_SSL(
            email.smtp_host, email.smtp_port, timeout=email.timeout, context=context
        )
    smtp = smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=email.timeout)
    if email.security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}".strip()


def send(message: EmailMessage, email: EmailSettings) -> None:
    """Deliver `message` to its To/Cc recipients through the configured server, or raise
    DeliveryError. Returns only once the server has accepted the message for at least one
    recipient (recipients it refused are logged)."""
    server = f"{email.smtp_host}:{email.smtp_port}"
    password = _password(email)
    if not (message.get_all("To") or message.get_all("Cc")):
        raise DeliveryError("the message has no recipients")

    secrets = secret_forms(password, email.username) if password else ()  # what `redact` removes
    problem: str | None = None
    refused: dict[str, tuple[int, bytes]] = {}
    try:
        with _connect(email) as smtp:
            if email.username and password is not None:
                try:
                    smtp.login(email.username, password)
                except UnicodeEncodeError:  # smtplib logs in in ASCII; its message quotes a character
                    problem = f"login as {email.username} failed: the user name or the password is not ASCII"
            if problem is None:
                refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        problem = f"login as {email.username} failed: {_reply(exc)}"
    except smtplib.SMTPNotSupportedError as exc:
        problem = f"the server does not support email.security = {email.security!r}: {exc}"
    except smtplib.SMTPRecipientsRefused as exc:
        problem = f"every recipient was refused: {', '.join(exc.recipients)}"
    except smtplib.SMTPResponseException as exc:
        problem = f"the message was not accepted: {_reply(exc)}"
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        problem = f"{email.security}: {str(exc) or type(exc).__name__}"
    if problem is not None:
        raise DeliveryError(f"SMTP {server}: {redact(problem, secrets)}")
    if refused:
        log.warning("SMTP %s refused %d recipient(s): %s", server, len(refused), ", ".join(refused))
    log.info("message accepted by %s", server)
