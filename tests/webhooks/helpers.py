"""Sign requests as Twilio does, and read back what the database holds."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from ivr.db import Database
from ivr.models import CallSession, FlowVersion, RecordingJob, Report
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
            for model in (CallSession, FlowVersion, Report, RecordingJob)
        }
