"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent.

It speaks STARTTLS with a certificate made for 127.0.0.1, as a force's mail server
would, and can require a user name and password.
"""

from __future__ import annotations

import datetime
import email
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.functional.servers import free_port

USER, PASSWORD = "hotline", "relay-password"


class Mailbox:
    def __init__(self, ca_file: Path) -> None:
        self.messages: list[Message] = []
        self.port = 0
        self.ca_file = ca_file  # the certificate clients must trust
        self.tls_sessions = 0

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:  # aiosmtpd's hook name
        self.tls_sessions += session.ssl is not None
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def loopback_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a self-signed certificate for 127.0.0.1; return (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok)


@contextmanager
def smtp_server(
    folder: Path, *, tls: bool = True, login: bool = False, port: int | None = None
) -> Iterator[Mailbox]:
    """Serve SMTP on 127.0.0.1: with STARTTLS required (or none at all), and maybe AUTH.

    The certificate already in ``folder`` is served, if there is one: a server started
    again is the same server to its clients.
    """
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    if not cert_file.exists():
        cert_file, key_file = loopback_certificate(folder)
    mailbox = Mailbox(cert_file)
    mailbox.port = port or free_port()
    options: dict[str, Any] = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        options.update(tls_context=context, require_starttls=True)
    if login:
        options.update(authenticator=_check_login, auth_required=True)
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
