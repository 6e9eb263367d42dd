"""Sign requests as Twilio does, and read back what the database holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from ivr.models.calls import RecordingJob
from ivr.models.flows import FlowVersion
from ivr.models.reports import Report
from ivr.platform.db import Database
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, PUBLIC_URL


def twilio_params(call_sid: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "From": PLANTED_NUMBER,
        "Caller": PLANTED_NUMBER,
        "To": "+448000000000",
        **extra,
    }


def signed_post(
    client: FlaskClient, path: str, params: dict[str, str], signature: str | None = None
) -> TestResponse:
    """POST as Twilio would: signed over the public URL it called."""
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def row_counts(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (FlowVersion, Report, RecordingJob)
        }


def callback(body: str | bytes, verb: str = "Gather", attribute: str = "action") -> str:
    """The path and query of the callback a TwiML answer gives Twilio (first ``verb``)."""
    found = ET.fromstring(body).find(f".//{verb}")  # noqa: S314 - TwiML from the app under test
    assert found is not None, f"no <{verb}> in {body!r}"
    url = found.get(attribute, "") if attribute else (found.text or "")
    assert url.startswith(PUBLIC_URL), url
    return url.removeprefix(PUBLIC_URL)


def state_in(path: str) -> dict[str, str]:
    """The call state a callback URL carries."""
    return {name: values[0] for name, values in parse_qs(urlsplit(path).query).items()}
