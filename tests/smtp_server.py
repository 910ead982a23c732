"""A real SMTP server on loopback for the tests (aiosmtpd in a thread), recording what it accepts.

Not a test module: test_notify, test_digest and test_schedule import it.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# How a hostile server quotes the credentials it was sent in its 535 reply (Inbox.echo).
ECHOES = {
    "raw": lambda login, password: password,
    "base64": lambda login, password: base64.b64encode(password.encode()).decode(),
    "plain": lambda login, password: base64.b64encode(f"\0{login}\0{password}".encode()).decode(),
    "url": lambda login, password: quote(password, safe=""),
}


@dataclass
class Inbox:
    """The aiosmtpd handler: refuses the first `refuse` DATA commands with `refusal`, then accepts.

    With `echo` it is a hostile server: it refuses every login with a 535 reply that quotes the
    credentials it received in each of those forms (ECHOES)."""

    refuse: int = 0
    refusal: str = "451 4.3.0 try later"
    users: dict[str, str] = field(default_factory=dict)
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refused: int = 0
    tls_sessions: int = 0
    logins: list[str] = field(default_factory=list)
    echo: tuple[str, ...] = ()
    mechanisms: list[str] = field(default_factory=list)  # the AUTH mechanism of each login tried

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refused < self.refuse:
            self.refused += 1
            return self.refusal
        self.tls_sessions += server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.mechanisms.append(mechanism)
        if self.echo:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            quoted = " ".join(ECHOES[form](login, password) for form in self.echo)
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials: {quoted}")
        ok = isinstance(auth_data, LoginPassword) and self.users.get(
            auth_data.login.decode()
        ) == auth_data.password.decode()
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost/127.0.0.1 (cert.pem doubles as the CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Server:
    host: str
    port: int
    inbox: Inbox


@contextmanager
def smtp_server(
    inbox: Inbox | None = None,
    *,
    tls: Literal["starttls", "ssl"] | None = None,
    certificate: tuple[Path, Path] | None = None,
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
) -> Iterator[Server]:
    """Run an SMTP server on 127.0.0.1 for the duration of the block, offering these AUTH
    mechanisms (smtplib tries PLAIN, then LOGIN, and reports the last refusal)."""
    inbox = inbox or Inbox()
    kwargs: dict = {"auth_require_tls": False}
    if inbox.users or inbox.echo:
        kwargs["authenticator"] = inbox.authenticate
        kwargs["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN") if m not in mechanisms]
    if tls:
        assert certificate is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            kwargs["ssl_context"] = context
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server("127.0.0.1", port, inbox)
    finally:
        controller.stop()
