"""Routing by language and returned work: who is offered which report, without HTTP."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import and_, select, text

from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.models.staff import Role, User
from ivr.platform import migrate
from ivr.platform.db import Database, make_engine, utcnow
from ivr.reports import review, routing, workflow
from ivr.reports.sanitise import CHECKLIST


def a_user(db: Database, name: str, role: Role = Role.HANDLER, languages: str = "en-GB") -> User:
    with db.transaction() as session:
        user = User(name=name, role=role, languages=languages)
        session.add(user)
        session.flush()
        session.expunge(user)
    return user


def a_report(
    db: Database, language: str | None, position: int, days_ago: int = 0, **values: object
) -> str:
    with db.transaction() as session:
        report = Report(
            received_on=utcnow().date() - timedelta(days=days_ago),
            source=ReportSource.MENU,
            status=ReportStatus.QUEUED,
            language=language,
            queue_position=position,
            **values,
        )
        session.add(report)
        session.flush()
        return report.reference


def language_of(db: Database, reference: str) -> str | None:
    with db.reading() as session:
        return session.scalar(select(Report.language).where(Report.reference == reference))


def test_take_next_never_offers_a_welsh_report_to_a_handler_without_welsh(db: Database) -> None:
    """Given a Welsh report first in the queue and English ones behind it, when an
    English-only handler presses Take next again and again, then they get every English
    report and never the Welsh one; a bilingual handler then gets the Welsh one."""
    welsh = a_report(db, "cy-GB", 1)
    english = [a_report(db, "en-GB", n) for n in (2, 3)]
    alex = a_user(db, "alex")
    taken = [workflow.claim_next(db, alex) for _ in range(3)]
    assert taken[:2] == english and taken[2] is None
    with pytest.raises(workflow.WorkError, match="in Welsh, which your account does not list"):
        workflow.take(db, alex, welsh)
    with pytest.raises(workflow.WorkError, match="only a supervisor"):
        workflow.claim_next(db, alex, any_language=True)
    assert workflow.claim_next(db, a_user(db, "bethan", languages="en-GB cy-GB")) == welsh


def test_a_supervisor_can_take_the_next_report_in_any_language(db: Database) -> None:
    welsh = a_report(db, "cy-GB", 1)
    sam = a_user(db, "sam", Role.SUPERVISOR)
    assert workflow.claim_next(db, sam) is None  # Sam's own skills: English
    assert workflow.claim_next(db, sam, any_language=True) == welsh


def test_a_report_of_unknown_language_is_offered_to_anyone(db: Database) -> None:
    unknown = a_report(db, None, 1)
    assert workflow.claim_next(db, a_user(db, "alex")) == unknown


def test_on_postgresql_concurrent_take_next_keeps_to_languages_and_claims_each_once(
    database_url: str, db: Database
) -> None:
    """Given 30 English and 30 Welsh reports, when 8 English-only and 4 bilingual
    handlers press Take next at once on PostgreSQL (FOR UPDATE SKIP LOCKED), then no
    report is claimed twice and no English-only handler holds a Welsh report."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: the race is PostgreSQL's")
    for n in range(60):
        a_report(db, "cy-GB" if n % 2 else "en-GB", n)
    english = [a_user(db, f"english-{i}") for i in range(8)]
    both = [a_user(db, f"bilingual-{i}", languages="en-GB cy-GB") for i in range(4)]
    claims: list[tuple[str, str]] = []
    lock, start = threading.Lock(), threading.Barrier(len(english) + len(both))

    def press(user: User) -> None:
        start.wait()
        while (reference := workflow.claim_next(db, user)) is not None:
            with lock:
                claims.append((user.name, reference))

    threads = [threading.Thread(target=press, args=(u,)) for u in english + both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = Counter(reference for _, reference in claims)
    assert len(counted) == 60 and set(counted.values()) == {1}
    assert all(
        language_of(db, reference) == "en-GB"
        for name, reference in claims
        if name.startswith("english")
    )


def returned(db: Database, author: User, supervisor: User) -> str:
    """``author`` takes, writes and submits a report; ``supervisor`` returns it."""
    reference = a_report(db, "en-GB", 1)
    workflow.take(db, author, reference)
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        workflow.save(
            session,
            report,
            author,
            {
                "transcript": "A constable sells checks.",
                "force": "West Yorkshire Police",
                "handler_category": "information_for_reward",
                "what": "Selling police information",
            },
        )
        workflow.submit(session, report, author, len(CHECKLIST), True)
        review.send_back(session, report, supervisor, "Remove the street name")
    return reference


def test_a_returned_report_goes_back_to_its_author_and_nobody_else_takes_it(
    db: Database,
) -> None:
    """Given Alex's report returned by Sam, then Alex holds it (days later too), it is
    first in Alex's reports, Take next does not give it to Blake, and Blake cannot take
    it; Sam can still reassign it."""
    alex, blake = a_user(db, "alex"), a_user(db, "blake")
    sam = a_user(db, "sam", Role.SUPERVISOR)
    reference = returned(db, alex, sam)
    newer = a_report(db, "en-GB", 2)
    workflow.take(db, alex, newer)
    with db.transaction() as session:  # the return was days ago: it stays Alex's
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        report.claimed_through = utcnow().date() - timedelta(days=3)
    with db.reading() as session:
        mine = workflow.queue(session, visible=workflow.held_by(alex))
        mine.sort(key=lambda r: r.status is not ReportStatus.RETURNED)  # as the page does
        assert [r.reference for r in mine] == [reference, newer]
        assert workflow.holds(mine[0], alex) and not workflow.takeable(mine[0], blake)
    assert workflow.claim_next(db, blake) is None
    with pytest.raises(workflow.WorkError, match="returned to alex, who wrote it"):
        workflow.take(db, blake, reference)
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        assert workflow.ReportAction.REASSIGN in workflow.allowed(report, sam)
        target = session.get(User, blake.id)
        workflow.release(session, report, sam, target)
    with db.reading() as session:
        held = session.scalars(select(Report).where(and_(workflow.held_by(blake)))).all()
        assert [r.reference for r in held] == [reference]


def test_a_welsh_report_passed_by_later_reports_is_flagged_to_supervisors(db: Database) -> None:
    """Given a Welsh report waiting, when three reports that came after it are taken,
    then it is listed as waiting for a speaker (and one from an earlier day at once)."""
    welsh = a_report(db, "cy-GB", 1)
    older = a_report(db, "cy-GB", 1, days_ago=1)
    alex = a_user(db, "alex")
    later = [a_report(db, "en-GB", n) for n in (2, 3, 4)]
    with db.reading() as session:
        assert [r.reference for r, _ in routing.waiting_for_a_speaker(session, 3)] == [older]
    for _ in later:
        workflow.claim_next(db, alex)
    with db.reading() as session:
        found = routing.waiting_for_a_speaker(session, 3)
    assert [(r.reference, passed) for r, passed in found] == [(older, 3), (welsh, 3)]


def test_a_report_returned_before_the_upgrade_goes_back_to_its_author(database_url: str) -> None:
    """Given a report returned before migration 0020, held by nobody, when the database
    is upgraded, then its author holds it; and every account speaks English."""
    migrate.upgrade(database_url, "0019")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, name, role, failed_sign_ins, session_epoch, active)"
                " VALUES (7, 'alex', 'handler', 0, 0, true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO reports (id, reference, received_on, last_active_on, source, status,"
                " contact_left, has_audio, silent, urgency, sanitised, audio_purged,"
                " submitted_by) VALUES ('r1', 'R-AAAA-AAAA', '2026-01-01', '2026-01-05',"
                " 'menu', 'returned', false, true, false, 'routine', false, false, 7)"
            )
        )
    migrate.upgrade(database_url, "0020")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT claimed_by FROM reports")).scalar() == 7
        assert connection.execute(text("SELECT languages FROM users")).scalar() == "en-GB"
    engine.dispose()
