"""A report's status moves through one state machine: allowed changes only, each audited as before."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.config import Config
from ivr.models.audit import AuditEvent
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.followup import PhoneEvent
from ivr.models.reports import RecordingPart, Report, ReportSource, ReportStatus
from ivr.models.staff import Role, User
from ivr.outside.storage import LocalStore, new_object_name
from ivr.platform.db import Database, utcnow
from ivr.reports import lifecycle, review, status, workflow
from ivr.reports.retention import Periods, purge
from ivr.reports.sanitise import CHECKLIST

IVR = Path(__file__).resolve().parents[2] / "ivr"
LONG_AGO = date(2020, 1, 6)
FORCE = "West Yorkshire Police"


def a_user(db: Database, name: str, role: Role) -> User:
    with db.transaction() as session:
        user = User(name=name, role=role)
        session.add(user)
        session.flush()
        session.expunge(user)
    return user


def a_report(
    db: Database,
    state: ReportStatus,
    *,
    submitted_by: User | None = None,
    holder: User | None = None,
) -> str:
    """A filled-in report in ``state``, last worked on long ago; returns its id."""
    with db.transaction() as session:
        report = Report(
            received_on=LONG_AGO,
            last_active_on=LONG_AGO,
            source=ReportSource.MENU,
            status=state,
            transcript="A constable sells checks",
            what="Selling police information",
            force=FORCE,
            handler_category="corruption",
            submitted_by=submitted_by.id if submitted_by else None,
            claimed_by=holder.id if holder else None,
            claimed_through=utcnow().date() if holder else None,
            queue_position=1,
        )
        session.add(report)
        session.flush()
        return report.id


def events(session: Session) -> list[tuple[str, str, str | None, str]]:
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(e.actor, e.action, e.report_reference, e.detail) for e in rows]


def status_of(db: Database, report_id: str) -> tuple[ReportStatus, date | None]:
    with db.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        return report.status, report.last_active_on


@pytest.fixture
def handler(db: Database) -> User:
    return a_user(db, "alex", Role.HANDLER)


@pytest.fixture
def supervisor(db: Database) -> User:
    return a_user(db, "sam", Role.SUPERVISOR)


@pytest.fixture
def edge(db: Database) -> Iterator[Database]:
    """The same database as the edge's processes open it: without the audit key."""
    database = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    yield database
    database.engine.dispose()


def test_the_table_names_every_status_and_a_closed_report_never_moves() -> None:
    assert set(status.TRANSITIONS) == set(ReportStatus)
    assert status.TRANSITIONS[ReportStatus.CLOSED] == frozenset()
    assert status.INITIAL is ReportStatus.AWAITING_AUDIO
    # Retention may close a report in any other status.
    assert all(
        ReportStatus.CLOSED in targets
        for state, targets in status.TRANSITIONS.items()
        if state is not ReportStatus.CLOSED
    )


@pytest.mark.parametrize(
    ("now", "to"),
    [
        (ReportStatus.QUEUED, ReportStatus.APPROVED),  # approving what was never submitted
        (ReportStatus.SUBMITTED, ReportStatus.DISSEMINATED),  # disseminating the unapproved
        (ReportStatus.AWAITING_AUDIO, ReportStatus.SUBMITTED),
        (ReportStatus.RETURNED, ReportStatus.APPROVED),
        (ReportStatus.CLOSED, ReportStatus.QUEUED),
        (ReportStatus.DISSEMINATED, ReportStatus.APPROVED),
    ],
)
def test_a_move_the_table_refuses_says_so_and_writes_nothing(
    db: Database, supervisor: User, now: ReportStatus, to: ReportStatus
) -> None:
    report_id = a_report(db, now)
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        with pytest.raises(status.TransitionRefused) as refused:
            status.move(session, report, to, supervisor.name)
        assert str(refused.value) == (
            f"a report that is {now.value.replace('_', ' ')} "
            f"cannot become {to.value.replace('_', ' ')}"
        )
        # The console shows a workflow error as a message: this one is one too.
        assert isinstance(refused.value, workflow.WorkError)
        session.flush()
        assert events(session) == []
    assert status_of(db, report_id) == (now, LONG_AGO)


def test_approving_a_queued_report_or_disseminating_an_unapproved_one_is_refused(
    db: Database, handler: User, supervisor: User
) -> None:
    queued = a_report(db, ReportStatus.QUEUED, submitted_by=handler)
    submitted = a_report(db, ReportStatus.SUBMITTED, submitted_by=handler)
    with db.transaction() as session:
        report = session.get(Report, queued)
        assert report is not None
        with pytest.raises(workflow.WorkError, match="only a submitted report can be reviewed"):
            review.approve(session, report, supervisor)
        report = session.get(Report, submitted)
        assert report is not None
        with pytest.raises(workflow.WorkError, match="only an approved report"):
            workflow.record_dissemination(session, report, supervisor, "pdf")
        session.flush()
        assert events(session) == []
    assert status_of(db, queued) == (ReportStatus.QUEUED, LONG_AGO)
    assert status_of(db, submitted) == (ReportStatus.SUBMITTED, LONG_AGO)


def test_a_move_a_person_makes_must_name_them(db: Database) -> None:
    report_id = a_report(db, ReportStatus.SUBMITTED)
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        with pytest.raises(ValueError, match="is audited: name who does it"):
            status.move(session, report, ReportStatus.APPROVED, actor=None)
        assert report.status is ReportStatus.SUBMITTED


Operation = Callable[[Session, Report, User, User], None]


def _submit(session: Session, report: Report, handler: User, supervisor: User) -> None:
    workflow.submit(session, report, handler, len(CHECKLIST), warnings_reviewed=True)


def _approve(session: Session, report: Report, handler: User, supervisor: User) -> None:
    review.approve(session, report, supervisor, "Fine")


def _return(session: Session, report: Report, handler: User, supervisor: User) -> None:
    review.send_back(session, report, supervisor, "Say which desk")


def _disseminate(session: Session, report: Report, handler: User, supervisor: User) -> None:
    workflow.record_dissemination(session, report, supervisor, "pdf")


def _disseminate_again(session: Session, report: Report, handler: User, supervisor: User) -> None:
    workflow.record_dissemination(session, report, supervisor, "email", again=True)


SUBMITTED_NOTE = "0 warnings reviewed"


@pytest.mark.parametrize(
    ("now", "operation", "after", "event"),
    [
        (ReportStatus.QUEUED, _submit, ReportStatus.SUBMITTED, ("alex", "submit", SUBMITTED_NOTE)),
        (
            ReportStatus.RETURNED,
            _submit,
            ReportStatus.SUBMITTED,
            ("alex", "submit", SUBMITTED_NOTE),
        ),
        (ReportStatus.SUBMITTED, _approve, ReportStatus.APPROVED, ("sam", "approve", "")),
        (ReportStatus.SUBMITTED, _return, ReportStatus.RETURNED, ("sam", "return", "")),
        (
            ReportStatus.APPROVED,
            _disseminate,
            ReportStatus.DISSEMINATED,
            ("sam", "disseminate", f"pdf to {FORCE}"),
        ),
        (
            ReportStatus.DISSEMINATED,
            _disseminate_again,
            ReportStatus.DISSEMINATED,
            ("sam", "disseminate", f"email to {FORCE}"),
        ),
    ],
)
def test_each_persons_move_writes_the_event_it_always_wrote_and_notes_the_day(
    db: Database,
    handler: User,
    supervisor: User,
    now: ReportStatus,
    operation: Operation,
    after: ReportStatus,
    event: tuple[str, str, str],
) -> None:
    report_id = a_report(
        db,
        now,
        submitted_by=handler if now is not ReportStatus.QUEUED else None,
        holder=handler if now in workflow.WORKABLE else None,
    )
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        operation(session, report, handler, supervisor)
        session.flush()
        # Exactly one event, in the same transaction as the change itself.
        actor, action, detail = event
        assert events(session) == [(actor, action, report.reference, detail)]
    assert status_of(db, report_id) == (after, utcnow().date())


def test_disseminating_again_keeps_the_first_day_retention_counts_from(
    db: Database, supervisor: User
) -> None:
    report_id = a_report(db, ReportStatus.DISSEMINATED)
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        report.disseminated_on = LONG_AGO
        workflow.record_dissemination(session, report, supervisor, "pdf", again=True)
        assert report.disseminated_on == LONG_AGO


def a_job(db: Database, report_id: str, stage: JobStage, state: JobState) -> None:
    with db.transaction() as session:
        session.add(
            RecordingJob(
                report_id=report_id,
                recording_key=new_object_name(),
                part=RecordingPart.REPORT,
                state=state,
                stage=stage,
            )
        )


def test_the_phone_sides_moves_write_no_event_and_need_no_audit_key(
    db: Database, edge: Database
) -> None:
    # Given a report waiting for its one recording, whose job is parked
    report_id = a_report(db, ReportStatus.AWAITING_AUDIO)
    a_job(db, report_id, JobStage.FETCH, JobState.FAILED)
    # When the edge parks it, and then (once retried) takes the report back to waiting
    with edge.transaction() as session:
        lifecycle.mark_audio_failed(session, report_id)
    assert status_of(db, report_id) == (ReportStatus.AUDIO_FAILED, utcnow().date())
    with db.transaction() as session:
        job = session.scalars(select(RecordingJob)).one()
        job.state, job.stage = JobState.DONE, JobStage.FINISHED
        session.get(Report, report_id).last_active_on = LONG_AGO  # type: ignore[union-attr]
    with edge.transaction() as session:
        lifecycle.await_audio_again(session, report_id)
    assert status_of(db, report_id) == (ReportStatus.AWAITING_AUDIO, utcnow().date())
    # And queues it once its recording is stored
    with edge.transaction() as session:
        lifecycle.queue_when_complete(session, report_id)
    assert status_of(db, report_id) == (ReportStatus.QUEUED, utcnow().date())
    # Then not one of these moves wrote to the audit trail (the edge may not)
    with db.reading() as session:
        assert events(session) == []
        assert session.scalar(select(func.count()).select_from(PhoneEvent)) == 0


def test_a_late_recording_queues_a_submitted_report_again(db: Database, edge: Database) -> None:
    report_id = a_report(db, ReportStatus.SUBMITTED)
    a_job(db, report_id, JobStage.FINISHED, JobState.DONE)
    with edge.transaction() as session:
        lifecycle.queue_when_complete(session, report_id)
    assert status_of(db, report_id) == (ReportStatus.QUEUED, utcnow().date())


def test_closing_at_the_end_of_retention_writes_purge_text_and_is_no_activity(
    db: Database, tmp_path: Path
) -> None:
    report_id = a_report(db, ReportStatus.QUEUED)
    today = LONG_AGO + timedelta(days=Periods().undisseminated_days)
    purge(db, LocalStore(tmp_path), "(retention)", 30, 365, today)
    with db.reading() as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert (report.status, report.last_active_on) == (ReportStatus.CLOSED, LONG_AGO)
        assert events(session) == [
            ("(retention)", "purge_audio", report.reference, ""),
            ("(retention)", "purge_text", report.reference, ""),
        ]


def test_the_retention_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    config = Config.from_env({}, root=tmp_path)
    assert Periods() == Periods.from_config(config) == Periods(30, 365, 90, 30, 30)


# Any other write of a report's status: ``x.status = ...``, ``status=ReportStatus.X`` (a
# constructor or an UPDATE's values), ``{Report.status: ...}`` or ``setattr(x, "status"``.
STATUS_WRITES = re.compile(
    r"\.status\s*=(?!=)"
    r"|\bstatus\s*=\s*ReportStatus\."
    r"|Report\.status\s*:"
    r"|setattr\([^)]*[\"']status[\"']"
)


def status_writes(root: Path) -> list[str]:
    """Every line under ``root`` that writes a report's status other than through ``move``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "reports" / "status.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if STATUS_WRITES.search(line.split("#", 1)[0]):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_every_status_write_goes_through_move() -> None:
    # A report is created with ``status=INITIAL`` (from the state machine's module), which
    # the pattern does not match; anything else is a write that skipped the table.
    assert status_writes(IVR) == []


@pytest.mark.parametrize(
    "planted",
    [
        "    report.status = ReportStatus.QUEUED\n",
        "    update(Report).values(status=ReportStatus.CLOSED)\n",
        "    update(Report).values({Report.status: ReportStatus.CLOSED})\n",
        '    setattr(report, "status", ReportStatus.APPROVED)\n',
    ],
)
def test_the_search_finds_a_planted_status_write(tmp_path: Path, planted: str) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "status.py").write_text("report.status = to\n")  # the one place
    (tmp_path / "reports" / "elsewhere.py").write_text(
        "def f():\n    if report.status == ReportStatus.QUEUED:\n" + planted
    )
    assert status_writes(tmp_path) == [f"reports/elsewhere.py:3: {planted.strip()}"]
