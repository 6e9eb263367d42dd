"""Reports enter the handlers' queue in the order they were queued, within their day."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.models.staff import Role, User
from ivr.platform.db import Base, Database
from ivr.reports import lifecycle
from ivr.reports.workflow import claim_next

DAY = date(2026, 11, 2)


def awaiting(db: Database, reference: str, day: date = DAY) -> str:
    with db.transaction() as session:
        report = Report(
            reference=reference,
            received_on=day,
            source=ReportSource.MENU,
            status=ReportStatus.AWAITING_AUDIO,
        )
        session.add(report)
        session.flush()
        return report.id


def test_reports_of_one_day_are_claimed_in_the_order_they_were_queued(db: Database) -> None:
    # Given three reports of one day whose random references sort the other way round
    references = ["R-ZZZZ-ZZZZ", "R-MMMM-MMMM", "R-AAAA-AAAA"]
    ids = [awaiting(db, reference) for reference in references]
    earlier_day = awaiting(db, "R-ZZZZ-YYYY", date(2026, 11, 1))
    # When they are queued one after another (the day before's last of all)
    for report_id in [*ids, earlier_day]:
        with db.transaction() as session:
            lifecycle.queue_when_complete(session, report_id)
    with db.transaction() as session:
        user = User(name="hana", role=Role.HANDLER)
        session.add(user)
        rows = session.execute(select(Report.reference, Report.queue_position)).tuples()
        positions = {reference: position for reference, position in rows}
    # Then "take next" gives the older day first, then that day's reports in queue order
    claimed = [claim_next(db, user) for _ in range(5)]
    assert claimed == ["R-ZZZZ-YYYY", *references, None]
    # And the order is a number within the day, not a time
    assert [positions[reference] for reference in references] == [1, 2, 3]
    assert positions["R-ZZZZ-YYYY"] == 1


def test_queueing_again_keeps_a_reports_place(db: Database) -> None:
    first, second = awaiting(db, "R-BBBB-BBBB"), awaiting(db, "R-CCCC-CCCC")
    for report_id in (first, second, first):
        with db.transaction() as session:
            lifecycle.queue_when_complete(session, report_id)
    with db.transaction() as session:
        assert session.get(Report, first).queue_position == 1  # type: ignore[union-attr]
        assert session.get(Report, second).queue_position == 2  # type: ignore[union-attr]


@pytest.mark.postgresql
def test_workers_queueing_one_days_reports_at_once_never_share_a_place(postgres_url: str) -> None:
    db = Database.from_url(postgres_url)
    Base.metadata.create_all(db.engine)
    ids = [awaiting(db, f"R-{i:04d}-AAAA".replace("0", "B")) for i in range(40)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(mine: list[str]) -> None:
        own = Database.from_url(postgres_url)
        start.wait()
        try:
            for report_id in mine:
                with own.transaction() as session:
                    lifecycle.queue_when_complete(session, report_id)
        except BaseException as error:  # surfaced below, in the test's own thread
            errors.append(error)
        own.engine.dispose()

    threads = [threading.Thread(target=worker, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.transaction() as session:
        positions = sorted(session.scalars(select(Report.queue_position)))
    assert positions == list(range(1, 41))
    db.engine.dispose()
