"""The audit page pages, filters by day and action, and names its exports by filter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ivr.models.audit import AuditEvent
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.reports.audit_search import AuditQuery
from ivr.staff import audit
from tests.console.conftest import AsRole


def plant(db: Database, day: date, action: str, count: int = 1) -> None:
    with db.transaction() as session:
        for _ in range(count):
            audit.record(session, "sam", action, detail="planted")
        session.flush()
        for event in session.query(AuditEvent).filter(AuditEvent.detail == "planted"):
            if event.at.date() == datetime.now(UTC).date():
                event.at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
            event.detail = f"planted {event.at.date()}"


def test_the_audit_pages_through_many_events(as_role: AsRole, db: Database) -> None:
    # Given more events than fit on one page
    plant(db, date(2026, 11, 2), "play", 230)
    supervisor = as_role(Role.SUPERVISOR)
    # When a supervisor filters by one action
    first = supervisor.get("/console/audit?action=play").get_data(as_text=True)
    # Then they see the first hundred, are told how many there are, and can go on
    assert "230 events; page 1 of 3" in first
    assert first.count("<td>play</td>") == 100
    assert 'href="/console/audit?action=play&amp;page=2"' in first
    last = supervisor.get("/console/audit?action=play&page=3").get_data(as_text=True)
    assert last.count("<td>play</td>") == 30 and 'rel="next"' not in last
    # And a page number that is not one (a superscript two is a digit to Python, not to
    # int) shows the first page instead of an error
    odd = supervisor.get("/console/audit?action=play&page=%C2%B2")
    assert odd.status_code == 200 and "230 events; page 1 of 3" in odd.get_data(as_text=True)


def test_the_audit_filters_by_day_and_offers_the_actions_on_record(
    as_role: AsRole, db: Database
) -> None:
    plant(db, date(2026, 11, 1), "play")
    plant(db, date(2026, 11, 15), "play")
    plant(db, date(2026, 11, 29), "approve")
    supervisor = as_role(Role.SUPERVISOR)
    page = supervisor.get("/console/audit?since=2026-11-10&until=2026-11-29").get_data(as_text=True)
    assert "planted 2026-11-15" in page and "planted 2026-11-29" in page
    assert "planted 2026-11-01" not in page
    # The action is chosen from a list of those the trail holds
    assert '<option value="">any action</option>' in page
    assert "<option>approve</option>" in page and "<option>play</option>" in page
    assert "<option>disseminate</option>" not in page  # nothing disseminated yet


def test_a_day_that_is_not_a_day_is_explained(as_role: AsRole) -> None:
    page = as_role(Role.SUPERVISOR).get("/console/audit?since=tuesday").get_data(as_text=True)
    assert "From: give a day as YYYY-MM-DD" in page


def test_the_csv_is_named_by_its_filter_and_days(as_role: AsRole, db: Database) -> None:
    plant(db, date(2026, 11, 15), "play")
    exported = as_role(Role.ADMIN).get(
        "/console/audit?action=play&since=2026-11-01&until=2026-11-29&export=csv"
    )
    assert exported.headers["Content-Disposition"] == (
        'attachment; filename="audit-play-2026-11-01-to-2026-11-29.csv"'
    )
    assert "planted 2026-11-15" in exported.get_data(as_text=True)


def test_export_names_never_carry_unsafe_characters() -> None:
    query = AuditQuery(actor='ev"il/../name', report="R-ABC")
    assert query.csv_filename(date(2026, 11, 29)) == "audit-ev-il-name-r-abc-to-2026-11-29.csv"
