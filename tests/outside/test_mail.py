"""Reports reach a force's mail server only over TLS, or wait as private files in the outbox."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ivr.outside.mail import (
    Mailer,
    MailSettingError,
    MailUnavailable,
    OutboxMailer,
    SmtpMailer,
    SmtpSettings,
    mailer_for,
)
from tests.conftest import assert_implements
from tests.mailbox import PASSWORD, USER, smtp_server

REPORT = ("ccu@force.example", "Intelligence report R-ABCD-EFGH", "the sanitised text", [])


def test_each_mailer_implements_the_interface() -> None:
    assert_implements(Mailer, SmtpMailer)
    assert_implements(Mailer, OutboxMailer)


def test_a_report_is_handed_over_under_starttls_with_the_servers_certificate_checked(
    tmp_path: Path,
) -> None:
    with smtp_server(tmp_path, login=True) as mailbox:
        url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{mailbox.port}"
        mailer_for(url, tmp_path / "outbox", "hotline@example.org", mailbox.ca_file).send(*REPORT)
        assert mailbox.tls_sessions == 1
        (message,) = mailbox.messages
        assert message["Subject"] == "Intelligence report R-ABCD-EFGH"
        # A certificate nobody vouches for is refused: nothing is sent
        with pytest.raises(MailUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            mailer_for(url, tmp_path, "hotline@example.org").send(*REPORT)
        # And a server that wants a sign-in refuses a mailer configured without one
        anonymous = f"smtp://127.0.0.1:{mailbox.port}"
        with pytest.raises(MailUnavailable, match="530"):
            mailer_for(anonymous, tmp_path, "hotline@example.org", mailbox.ca_file).send(*REPORT)
        assert len(mailbox.messages) == 1


def test_a_server_without_starttls_is_never_sent_a_report_in_the_clear(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=False) as mailbox:
        url = f"smtp://127.0.0.1:{mailbox.port}"
        with pytest.raises(MailUnavailable, match="does not offer STARTTLS"):
            mailer_for(url, tmp_path, "hotline@example.org", mailbox.ca_file).send(*REPORT)
        assert mailbox.messages == []
        # Unless it is explicitly a relay on this very machine
        local = f"smtp+insecure://127.0.0.1:{mailbox.port}"
        mailer_for(local, tmp_path, "hotline@example.org").send(*REPORT)
        assert len(mailbox.messages) == 1


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("smtp+insecure://mail.force.example:25", "only to a relay on this machine"),
        ("http://mail.force.example", "IVR_SMTP_URL must be"),
        ("smtp://", "IVR_SMTP_URL must be"),
    ],
)
def test_a_setting_that_would_send_in_the_clear_is_refused(url: str, refusal: str) -> None:
    with pytest.raises(MailSettingError, match=refusal):
        SmtpSettings.from_url(url)


def test_ports_follow_the_scheme() -> None:
    assert SmtpSettings.from_url("smtp://mail.example").port == 587
    assert SmtpSettings.from_url("smtps://u:p%40ss@mail.example").port == 465
    assert SmtpSettings.from_url("smtps://u:p%40ss@mail.example").password == "p@ss"


def test_an_outbox_message_is_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        OutboxMailer(tmp_path / "outbox", "hotline@localhost").send(*REPORT)
    finally:
        os.umask(previous)
    (message,) = (tmp_path / "outbox").iterdir()
    assert stat.S_IMODE(message.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    assert b"the sanitised text" in message.read_bytes()
