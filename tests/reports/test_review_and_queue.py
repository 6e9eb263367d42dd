"""A supervisor's review as a thread, and taking a chosen report: the rules without HTTP."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.models.review import MESSAGE_MAX_CHARS, ReviewMessage
from ivr.models.staff import Role, User
from ivr.outside.storage import LocalStore
from ivr.platform import migrate
from ivr.platform.db import Database, make_engine, utcnow
from ivr.reports import review, workflow
from ivr.reports.retention import Periods, purge
from ivr.staff import audit

DAY = date(2026, 3, 2)


def a_user(db: Database, name: str, role: Role) -> User:
    with db.transaction() as session:
        user = User(name=name, role=role)
        session.add(user)
        session.flush()
        session.expunge(user)
    return user


def a_report(db: Database, status: ReportStatus, submitted_by: User | None = None) -> str:
    with db.transaction() as session:
        report = Report(
            received_on=DAY,
            last_active_on=DAY,
            source=ReportSource.MENU,
            status=status,
            transcript="A constable sells checks",
            what="Selling police information",
            force="West Yorkshire Police",
            submitted_by=submitted_by.id if submitted_by else None,
            queue_position=1,
        )
        session.add(report)
        session.flush()
        return report.reference


def get(session: object, reference: str) -> Report:
    return session.scalars(select(Report).where(Report.reference == reference)).one()  # type: ignore[attr-defined]


def test_each_decision_and_comment_joins_the_thread_in_order(db: Database) -> None:
    handler = a_user(db, "alex", Role.HANDLER)
    supervisor = a_user(db, "sam", Role.SUPERVISOR)
    reference = a_report(db, ReportStatus.SUBMITTED, submitted_by=handler)
    with db.transaction() as session:
        report = get(session, reference)
        with pytest.raises(workflow.WorkError, match="say what needs changing"):
            review.send_back(session, report, supervisor, "   ")
        review.send_back(session, report, supervisor, "Remove the street name")
        assert report.status is ReportStatus.RETURNED
        # The handler answers in the thread; then resubmits and it is approved without a word
        review.comment(session, report, handler, "Done: the street is gone")
        report.status = ReportStatus.SUBMITTED
        review.approve(session, report, supervisor)
        assert report.status is ReportStatus.APPROVED
        thread = review.thread(session, report)
        events = [e.action for e in audit.events(session, report=reference)]
    assert [(m.author, m.kind.value, m.text) for m in thread] == [
        ("sam", "return", "Remove the street name"),
        ("alex", "comment", "Done: the street is gone"),
        ("sam", "approve", ""),
    ]
    assert all(m.on == utcnow().date() for m in thread)  # a day, never a time
    assert {"return", "review_comment", "approve"} <= set(events)


def test_a_message_is_limited_in_length_and_only_the_reports_people_write(db: Database) -> None:
    handler = a_user(db, "alex", Role.HANDLER)
    stranger = a_user(db, "robin", Role.HANDLER)
    supervisor = a_user(db, "sam", Role.SUPERVISOR)
    reference = a_report(db, ReportStatus.SUBMITTED, submitted_by=handler)
    with db.transaction() as session:
        report = get(session, reference)
        with pytest.raises(workflow.WorkError, match=f"at most {MESSAGE_MAX_CHARS} characters"):
            review.send_back(session, report, supervisor, "x" * (MESSAGE_MAX_CHARS + 1))
        with pytest.raises(workflow.WorkError, match="only supervisors and the report's handler"):
            review.comment(session, report, stranger, "Let me see")
        with pytest.raises(workflow.WorkError, match="only a supervisor reviews"):
            review.approve(session, report, stranger)
        assert report.status is ReportStatus.SUBMITTED
        assert review.thread(session, report) == []


def test_purging_a_reports_text_destroys_its_thread(db: Database, tmp_path: Path) -> None:
    handler = a_user(db, "alex", Role.HANDLER)
    supervisor = a_user(db, "sam", Role.SUPERVISOR)
    reference = a_report(db, ReportStatus.SUBMITTED, submitted_by=handler)
    with db.transaction() as session:
        review.send_back(session, get(session, reference), supervisor, "Remove Acacia Avenue")
    purge(
        db,
        LocalStore(tmp_path / "store"),
        "test",
        30,
        365,
        today=utcnow().date() + timedelta(days=91),
        periods=Periods(),
    )
    with db.transaction() as session:
        assert get(session, reference).status is ReportStatus.CLOSED
        assert session.scalars(select(ReviewMessage)).all() == []


def test_take_gives_a_chosen_report_to_one_handler_only(db: Database) -> None:
    first, second = a_user(db, "alex", Role.HANDLER), a_user(db, "jo", Role.HANDLER)
    reference = a_report(db, ReportStatus.QUEUED)
    workflow.take(db, first, reference)
    with pytest.raises(workflow.WorkError, match=f"someone else has just taken {reference}"):
        workflow.take(db, second, reference)
    with db.transaction() as session:
        report = get(session, reference)
        assert report.claimed_by == first.id and not workflow.takeable(report)
        # When the claim lapses, the report can be taken again
        report.claimed_through = utcnow().date() - timedelta(days=1)
    workflow.take(db, second, reference)
    with pytest.raises(workflow.WorkError, match="there is no report R-NONE"):
        workflow.take(db, second, "R-NONE")


def race_to_take(db: Database, handlers: list[User], reference: str) -> tuple[list[str], list[str]]:
    """Every handler takes ``reference`` at the same moment; who won, and who was told no."""
    start = threading.Barrier(len(handlers))
    won: list[str] = []
    lost: list[str] = []

    def race(user: User) -> None:
        start.wait()
        try:
            workflow.take(db, user, reference)
            won.append(user.name)
        except workflow.WorkError as error:
            assert "someone else has just taken" in str(error)
            lost.append(user.name)

    threads = [threading.Thread(target=race, args=(user,)) for user in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, lost


def test_two_handlers_taking_the_same_report_at_once_one_wins(
    database_url: str, db: Database
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: the race is PostgreSQL's")
    handlers = [a_user(db, f"handler-{i}", Role.HANDLER) for i in range(8)]
    for _ in range(5):
        reference = a_report(db, ReportStatus.QUEUED)
        won, lost = race_to_take(db, handlers, reference)
        assert len(won) == 1 and len(lost) == len(handlers) - 1
        with db.transaction() as session:
            holder = session.get(User, get(session, reference).claimed_by)
            assert holder is not None and holder.name == won[0]
            claims = audit.events(session, report=reference, action="claim")
            assert [e.actor for e in claims] == won


def test_a_returned_reports_comment_is_carried_into_the_thread(database_url: str) -> None:
    migrate.upgrade(database_url, "0009")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reports (id, reference, received_on, last_active_on, source, status,"
                " contact_left, has_audio, silent, transcript, contact_transcript, people, what,"
                " when_text, where_text, urgency, sanitised, review_comment, audio_purged)"
                " VALUES ('r1', 'R-AAAA-AAAA', '2026-01-01', '2026-01-05', 'menu', 'returned',"
                " false, true, false, '', '', '', '', '', '', 'routine', false,"
                " 'Remove the street name', false)"
            )
        )
    migrate.upgrade(database_url, "0010")
    with engine.connect() as connection:
        rows = connection.execute(
            text('SELECT report_id, author_id, kind, "on", text FROM review_messages')
        ).all()
        comment = connection.execute(text("SELECT review_comment FROM reports")).scalar()
    assert [tuple(map(str, row)) for row in rows] == [
        ("r1", "None", "return", "2026-01-05", "Remove the street name")
    ]
    assert comment == ""
    migrate.downgrade(database_url, "0009")
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT review_comment FROM reports")).scalar()
            == "Remove the street name"
        )
    engine.dispose()
