"""A follow-up over the webhooks: a reference given, then the caller back with it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Flask
from sqlalchemy import select

from ivr.cli.calls import AppTransport
from ivr.dev.phone import CallLog, Phone, scripted_keys
from ivr.models.calls import RecordingJob
from ivr.models.followup import FollowUp, FollowUpAnswer
from ivr.models.reports import Report
from ivr.platform.db import Database
from ivr.reports import followup
from ivr.services import services
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PLANTED_NUMBER, SAMPLES, Caller
from tests.followup.test_references import CountingHasher

REPORT_THEN_REFERENCE = "1,1,1,1,#,1,1,2,4826,4826"


class Recording(AppTransport):
    """The app's transport, keeping every TwiML answer."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.test_client())
        self.answers: list[str] = []

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        body = super().post(url, params, signature)
        self.answers.append(body)
        return body


def call(app: Flask, keys: str) -> tuple[CallLog, Recording]:
    transport = Recording(app)
    phone = Phone(
        transport,
        Caller(app).media,
        public_base=services(app).config.public_base,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        keys=scripted_keys(keys),
        audio=(SAMPLES / "report-en.wav").read_bytes(),
        caller=PLANTED_NUMBER,
    )
    return phone.call(), transport


def heard(log: CallLog) -> str:
    return "\n".join(text for _, text in log.heard)


def reference_in(log: CallLog) -> str:
    spoken = next(text for _, text in log.heard if re.fullmatch(r"[0-9., ]{20,}", text))
    return re.sub(r"\D", "", spoken)


def test_an_anonymous_caller_takes_a_reference_and_comes_back_to_answer(
    app: Flask, db: Database
) -> None:
    # Given a caller who reported anonymously and took a reference with a PIN
    first, _ = call(app, REPORT_THEN_REFERENCE)
    reference = reference_in(first)
    assert followup.well_formed(reference)
    assert "Your follow-up reference is ready" in heard(first)
    with db.reading() as session:
        (kept,) = session.scalars(select(FollowUp)).all()
        report_id = kept.report_id
    # When they call back, key it and the PIN, and answer
    second, _ = call(app, f"1,4,{reference}#,4826#,#")
    # Then they hear that no question waits yet, and their answer joins their report
    assert "There is no question for you at the moment" in heard(second)
    assert "What you said has been added to your report" in heard(second)
    with db.reading() as session:
        (answer,) = session.scalars(select(FollowUpAnswer)).all()
        assert answer.report_id == report_id
        job = session.get(RecordingJob, answer.job_id)
        assert job is not None and job.report_id == report_id and job.take == 2
        assert len(session.scalars(select(Report)).all()) == 1


def test_a_caller_who_declines_gets_no_reference(app: Flask, db: Database) -> None:
    log, _ = call(app, "1,1,1,1,#,1,2")
    assert "Thank you. Your report has been received." in heard(log)
    with db.reading() as session:
        assert session.scalars(select(FollowUp)).all() == []


def test_a_wrong_reference_and_a_wrong_pin_sound_the_same_and_cost_the_same(
    app: Flask, db: Database
) -> None:
    hasher = CountingHasher()
    handler = services(app).calls
    assert handler is not None
    handler.followups = followup.Verifier(db, hasher)
    first, _ = call(app, REPORT_THEN_REFERENCE)
    reference = reference_in(first)
    unknown = followup.new_reference()

    answers: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, keys in {
        "wrong reference": f"1,4,{unknown},4826",
        "wrong PIN": f"1,4,{reference},4827",
        "malformed reference": "1,4,123456789012,4826",
    }.items():
        before = hasher.verifications
        log, transport = call(app, keys)
        # The answer to the PIN
        answers[name] = next(a for a in transport.answers if "details do not match" in a)
        counts[name] = hasher.verifications - before
        assert "those details do not match" in heard(log)
    assert len(set(answers.values())) == 1, answers
    assert set(counts.values()) == {1}
    # And nothing keyed travels in the answer, even sealed
    assert reference not in answers["wrong PIN"] and "4827" not in answers["wrong PIN"]
    assert "&amp;s=" not in answers["wrong PIN"] and "?s=" not in answers["wrong PIN"]


def test_the_right_details_are_never_in_a_url_in_clear(app: Flask) -> None:
    first, transport = call(app, REPORT_THEN_REFERENCE)
    reference = reference_in(first)
    urls = " ".join(re.findall(r'(?:action|>)(http[^<"]+)', "".join(transport.answers)))
    assert reference not in urls and "4826" not in urls
