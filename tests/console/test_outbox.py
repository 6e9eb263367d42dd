"""Mail kept in the outbox (no SMTP server set) is readable by the service's user only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ivr.console.dissemination import OutboxSender


def test_an_outbox_message_is_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        OutboxSender(tmp_path / "outbox", "hotline@localhost").send(
            "ccu@force.example", "Report R-ABCD-EFGH", "the sanitised text", []
        )
    finally:
        os.umask(previous)
    (message,) = (tmp_path / "outbox").iterdir()
    assert stat.S_IMODE(message.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    assert b"the sanitised text" in message.read_bytes()
