"""SMTP delivery of one email (stdlib smtplib): STARTTLS, SSL or plain, with optional login.

The password is read from the environment variable that the config names, at the moment of
sending; it is never logged and never put in an error message (server replies are scrubbed too).
Every failure becomes a DeliveryError that says which server and what went wrong.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage

from watcher.errors import DeliveryError
from watcher.model import EmailSettings

log = logging.getLogger(__name__)


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

    def scrub(text: str) -> str:
        return text.replace(password, "***") if password else text

    problem: str | None = None
    refused: dict[str, tuple[int, bytes]] = {}
    try:
        with _connect(email) as smtp:
            if email.username and password is not None:
                smtp.login(email.username, password)
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
        raise DeliveryError(f"SMTP {server}: {scrub(problem)}")
    if refused:
        log.warning("SMTP %s refused %d recipient(s): %s", server, len(refused), ", ".join(refused))
    log.info("message accepted by %s", server)
