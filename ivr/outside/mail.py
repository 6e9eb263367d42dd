"""Sending mail to the forces: over SMTP with TLS, or into a local outbox folder.

| ``IVR_SMTP_URL``                     | how                                            |
| (empty)                              | ``.eml`` files in ``IVR_OUTBOX_DIR`` (0600)     |
| ``smtp://[user:pass@]host[:587]``    | STARTTLS, required: a server without it is refused |
| ``smtps://[user:pass@]host[:465]``   | TLS from the first byte                        |
| ``smtp+insecure://127.0.0.1:25``     | no TLS: only for a relay on this machine       |

A report goes to a Counter Corruption Unit with the caller's words in it, so it is never
handed to a server in the clear across a network. The server's certificate is checked
(against ``IVR_SMTP_CA_FILE`` where a private CA signs it). SMTP errors become
:class:`MailUnavailable` here, so no other module imports smtplib.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ivr.platform.hosts import is_loopback
from ivr.platform.private_files import private_folder, write_private

Attachment = tuple[str, str, bytes]  # file name, MIME type, content


class MailUnavailable(Exception):
    """The message could not be handed over: nothing was sent."""


class MailSettingError(ValueError):
    """``IVR_SMTP_URL`` asks for something this service refuses to do."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str, attachments: list[Attachment]) -> None:
        """Deliver one message, or raise MailUnavailable."""


def message(
    sender: str, to: str, subject: str, body: str, attachments: list[Attachment]
) -> EmailMessage:
    built = EmailMessage()
    built["From"], built["To"], built["Subject"] = sender, to, subject
    built.set_content(body)
    for filename, mime, data in attachments:
        main, sub = mime.split("/")
        built.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return built


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # "starttls", "implicit" or "none"
    username: str = ""
    password: str = ""
    ca_file: Path | None = None

    @classmethod
    def from_url(cls, url: str, ca_file: Path | None = None) -> SmtpSettings:
        parts = urlsplit(url)
        modes = {
            "smtp": ("starttls", 587),
            "smtps": ("implicit", 465),
            "smtp+insecure": ("none", 25),
        }
        if parts.scheme not in modes or not parts.hostname:
            raise MailSettingError(
                "IVR_SMTP_URL must be smtp://host:587 (STARTTLS), smtps://host:465, or "
                "smtp+insecure://127.0.0.1:25 for a relay on this machine"
            )
        tls, default_port = modes[parts.scheme]
        if tls == "none" and not is_loopback(parts.hostname):
            raise MailSettingError(
                "smtp+insecure:// sends reports in the clear, so only to a relay on this "
                f"machine (127.0.0.1), not to {parts.hostname}: use smtp:// or smtps://"
            )
        return cls(
            parts.hostname,
            parts.port or default_port,
            tls,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            ca_file,
        )


class SmtpMailer:
    """Hand messages to an SMTP server, over TLS unless it is a relay on this machine."""

    def __init__(self, settings: SmtpSettings, sender: str, timeout: float = 20) -> None:
        self._settings, self._sender, self._timeout = settings, sender, timeout

    def send(self, to: str, subject: str, body: str, attachments: list[Attachment]) -> None:
        built = message(self._sender, to, subject, body, attachments)
        self._session(lambda smtp: smtp.send_message(built))

    def check(self) -> None:
        """Connect, secure and sign in as a send would, without sending anything."""
        self._session(lambda smtp: smtp.noop())

    def _session(self, act: Callable[[smtplib.SMTP], object]) -> None:
        settings = self._settings
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        try:
            if settings.tls == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=self._timeout)
            with smtp:
                if settings.tls == "starttls":
                    smtp.ehlo()
                    if not smtp.has_extn("starttls"):
                        raise MailUnavailable(
                            f"{settings.host} does not offer STARTTLS: the report was not "
                            "sent in the clear"
                        )
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if settings.username:
                    smtp.login(settings.username, settings.password)
                act(smtp)
        except MailUnavailable:
            raise
        except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
            raise MailUnavailable(f"{type(error).__name__}: {error}") from None


class OutboxMailer:
    """Write messages as .eml files to a folder (the embedded default: ``var/outbox``)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder, self._sender = folder, sender

    def send(self, to: str, subject: str, body: str, attachments: list[Attachment]) -> None:
        name = subject.split()[-1] + "-" + to.split("@")[0] + ".eml"
        try:
            private_folder(self._folder)
            write_private(
                self._folder / name, bytes(message(self._sender, to, subject, body, attachments))
            )
        except OSError as error:
            raise MailUnavailable(f"could not write to {self._folder}: {error.strerror}") from None


def mailer_for(smtp_url: str, outbox: Path, sender: str, ca_file: Path | None = None) -> Mailer:
    """Return the mailer ``IVR_SMTP_URL`` asks for (the outbox when it is empty)."""
    if not smtp_url:
        return OutboxMailer(outbox, sender)
    return SmtpMailer(SmtpSettings.from_url(smtp_url, ca_file), sender)
