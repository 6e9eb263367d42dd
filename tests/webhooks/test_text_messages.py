"""A text sent to the hotline's number is answered with how to report, then erased at
Twilio, with our answer: nothing of it, or of who sent it, is kept."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree import ElementTree as ET

from flask import Flask

from ivr.config import Config
from ivr.dev.phone import new_sid
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.platform.db import Database
from ivr.services import Services
from ivr.worker.runner import build_worker
from tests.conftest import ACCOUNT_SID, PLANTED_NUMBER, PUBLIC_URL
from tests.test_anonymity import dump_database, files_written, service_log  # noqa: F401
from tests.webhooks.helpers import signed_post
from tests.worker.conftest import settle

WORDS = "My sergeant takes cash from the dealers on Kirkgate"


def text(message_sid: str, **extra: str) -> dict[str, str]:
    # What Twilio posts for a text (its Messaging webhook parameters)
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "From": PLANTED_NUMBER,
        "To": "+448000112233",
        "Body": WORDS,
        "NumMedia": "0",
        "FromCity": "LEEDS",
        **extra,
    }


def test_a_text_gets_how_to_report_and_both_messages_are_erased_at_twilio(
    ingest_app: Flask,
    ingest_config: Config,
    db: Database,
    emulator: RunningEmulator,
    tmp_path: Path,
    service_log: io.StringIO,  # noqa: F811
) -> None:
    client = ingest_app.test_client()
    inbound, answer = new_sid("SM"), new_sid("SM")
    emulator.state.messages.update({inbound, answer})
    # When someone texts the hotline's number
    response = signed_post(client, "/twilio/sms", text(inbound))
    # Then they are told, by text, how to report: by calling free, or online
    assert response.status_code == 200
    message = ET.fromstring(response.data).find("Message")  # noqa: S314 - our own TwiML
    assert message is not None and message.text is not None
    assert "call this number free" in message.text and f"{PUBLIC_URL}/report" in message.text
    assert message.get("action") == f"{PUBLIC_URL}/twilio/sms-status"
    # When Twilio says our answer is on its way, then delivered
    sending = {"AccountSid": ACCOUNT_SID, "MessageSid": answer, "To": PLANTED_NUMBER}
    assert (
        signed_post(
            client, "/twilio/sms-status", {**sending, "MessageStatus": "sending"}
        ).status_code
        == 204
    )
    assert (
        signed_post(
            client, "/twilio/sms-status", {**sending, "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    # Then the worker erases both from Twilio's message log, at once
    settle(build_worker(Services(ingest_config, db=db)), db)
    assert sorted(emulator.state.deleted_messages) == sorted([inbound, answer])
    assert not emulator.state.messages
    # And nothing of the text, its sender or its SIDs is left with us
    dump, logged = dump_database(db), service_log.getvalue()
    for trace in (PLANTED_NUMBER, PLANTED_NUMBER[1:], WORDS, "LEEDS", inbound, answer):
        assert trace not in dump and trace not in logged, trace
    for path, content in files_written(tmp_path):
        assert PLANTED_NUMBER.encode() not in content and WORDS.encode() not in content, path


def test_a_forged_text_is_refused_and_queues_nothing(ingest_app: Flask, db: Database) -> None:
    client = ingest_app.test_client()
    refused = signed_post(client, "/twilio/sms", text(new_sid("SM")), signature="forged")
    assert refused.status_code == 403
    assert "call_log_erasures: (" not in dump_database(db)
