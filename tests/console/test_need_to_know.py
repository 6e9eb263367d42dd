"""Handlers open only what they work on; contact details go only to the holder and supervisors.

Every access outside that is refused and put on the record, and every first access to a
recording in a session is recorded as a play, whatever byte range it asks for.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.models.reports import AudioObject, RecordingPart, Report, ReportStatus
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.staff import audit
from tests.console.conftest import make_staff, post, sign_in


def audio_url(db: Database, reference: str, part: RecordingPart) -> str:
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        item = session.scalars(
            select(AudioObject).where(AudioObject.report_id == report.id, AudioObject.part == part)
        ).one()
        return f"/console/reports/{reference}/audio/{item.id}"


def events(db: Database, action: str, actor: str | None = None) -> list[str]:
    with db.transaction() as session:
        return [e.detail for e in audit.events(session, actor=actor or "", action=action)]


def other_handler(app: Flask, db: Database) -> FlaskClient:
    staff = make_staff(db, "handler-two", Role.HANDLER)
    client = app.test_client()
    assert sign_in(client, staff) == 302
    return client


def test_a_handler_cannot_open_a_report_someone_else_holds(
    ingest_app: Flask, as_role: Any, db: Database, queued_report: str
) -> None:
    # Given a report one handler has taken
    holder = as_role(Role.HANDLER)
    post(holder, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    # When another handler tries to read it or play it
    nosy = other_handler(ingest_app, db)
    refused = [
        nosy.get(page).status_code,
        nosy.get(audio_url(db, queued_report, RecordingPart.REPORT)).status_code,
        nosy.get(audio_url(db, queued_report, RecordingPart.CONTACT)).status_code,
    ]
    # Then each is refused, and each refusal is on the record
    assert refused == [403, 403, 403]
    assert sorted(events(db, "access_refused", "handler-two")) == [
        "play contact",
        "play report",
        "view",
    ]
    # While the holder and any supervisor open it, contact details and all
    for allowed in (holder, as_role(Role.SUPERVISOR)):
        assert allowed.get(page).status_code == 200
        assert allowed.get(audio_url(db, queued_report, RecordingPart.CONTACT)).status_code == 200


def test_contact_details_leave_with_the_claim(
    as_role: Any, db: Database, queued_report: str
) -> None:
    # Given a handler who worked on a report and then let it go
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    page = f"/console/reports/{queued_report}"
    assert "contact-player" in handler.get(page).get_data(as_text=True)
    post(handler, f"{page}/release", page=page)
    # Then they can still read what they worked on, but no longer the caller's contact details
    text = handler.get(page).get_data(as_text=True)
    assert "contact-player" not in text
    assert handler.get(audio_url(db, queued_report, RecordingPart.REPORT)).status_code == 200
    assert handler.get(audio_url(db, queued_report, RecordingPart.CONTACT)).status_code == 403


@pytest.mark.parametrize(
    "header", [None, "bytes=0-", "bytes=00-", "bytes=1-", "bytes=-100000000", " bytes=0-"]
)
def test_the_first_access_to_a_recording_is_a_play_whatever_its_range(
    as_role: Any, db: Database, queued_report: str, header: str | None
) -> None:
    supervisor = as_role(Role.SUPERVISOR)
    url = audio_url(db, queued_report, RecordingPart.REPORT)
    headers = {"Range": header} if header else {}
    assert supervisor.get(url, headers=headers).status_code in (200, 206, 416)
    assert events(db, "play") == ["report"]
    # Seeking within the same session is not a new play
    supervisor.get(url, headers={"Range": "bytes=100-200"})
    assert events(db, "play") == ["report"]


def test_a_recording_moved_into_another_report_will_not_play(
    as_role: Any, db: Database, queued_report: str
) -> None:
    # Given someone with write access to the database who moves one caller's contact
    # recording into another report
    with db.transaction() as session:
        original = session.scalars(select(Report).where(Report.reference == queued_report)).one()
        other = Report(
            received_on=original.received_on,
            source=original.source,
            status=ReportStatus.QUEUED,
        )
        session.add(other)
        session.flush()
        moved = session.scalars(
            select(AudioObject).where(
                AudioObject.report_id == original.id, AudioObject.part == RecordingPart.CONTACT
            )
        ).one()
        moved.report_id = other.id
        target, audio_id = other.reference, moved.id
    # When a supervisor plays it from the other report
    played = as_role(Role.SUPERVISOR).get(f"/console/reports/{target}/audio/{audio_id}")
    # Then it is refused, and the refusal is on the record
    assert played.status_code == 409
    assert "not stored for this report" in played.get_data(as_text=True)
    assert events(db, "audio_refused") == ["key does not fit"]
