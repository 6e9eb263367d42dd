"""Every report reaches its end of life, by what became of it: audio first, then text."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.config import Config
from ivr.crypto import day_keys
from ivr.crypto.day_keys import StoredKey
from ivr.crypto.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    KeyServiceError,
    LocalKeyUnwrapper,
    LocalKeyWrapper,
    object_context,
)
from ivr.models.audit import AuditEvent
from ivr.models.calls import JobStage, JobState, RecordingJob
from ivr.models.keys import DayKey
from ivr.models.reports import AudioObject, RecordingPart, Report, ReportSource, ReportStatus
from ivr.models.staff import Role, User
from ivr.outside.storage import LocalStore, ObjectStore, new_object_name
from ivr.platform.db import Database
from ivr.reports import lifecycle
from ivr.reports.retention import Period, Periods, Since, period_for, purge, purge_as_configured
from ivr.reports.workflow import claim_next
from ivr.services import key_unwrapper, object_store
from tests.console.conftest import AsRole, post

DAY = date(2026, 3, 2)
PERIODS = Periods(
    audio_days=30,
    text_days=365,
    undisseminated_days=90,
    audio_failed_days=20,
    awaiting_audio_days=10,
)
SECRET_WORDS = "Sergeant Example takes cash at the custody desk"


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return LocalStore(tmp_path / "recordings")


def a_report(
    db: Database,
    store: ObjectStore,
    status: ReportStatus,
    *,
    active_on: date = DAY,
    disseminated_on: date | None = None,
    job: JobState | None = None,
) -> tuple[str, str]:
    """A report in ``status`` with a stored recording (and a job, if given)."""
    name = new_object_name()
    stored = store.put(name, [b"encrypted audio"])
    with db.transaction() as session:
        report = Report(
            received_on=DAY - timedelta(days=3),
            last_active_on=active_on,
            source=ReportSource.MENU,
            status=status,
            transcript=SECRET_WORDS,
            what=SECRET_WORDS,
            review_comment="Remove the street name",
            disseminated_on=disseminated_on,
        )
        session.add(report)
        session.flush()
        session.add(
            AudioObject(
                report_id=report.id,
                part=RecordingPart.REPORT,
                object_name=name,
                size=stored.size,
                sha256=stored.sha256,
                wrapped_key=b"wrapped",
                key_ref="local:test",
                chunk_size=1024,
                duration_seconds=3.0,
            )
        )
        if job is not None:
            session.add(
                RecordingJob(
                    report_id=report.id,
                    recording_key=new_object_name(),
                    part=RecordingPart.REPORT,
                    state=job,
                    stage=JobStage.FETCH,
                    recording_sid="RE" + "0" * 32,
                    last_error="gave up" if job is JobState.FAILED else None,
                )
            )
        return report.reference, name


def run(db: Database, store: ObjectStore, today: date, outbox: Path | None = None) -> None:
    purge(db, store, "(retention)", 30, 365, today, periods=PERIODS, outbox=outbox)


def state_of(db: Database, reference: str) -> Report:
    with db.transaction() as session:
        return session.scalars(select(Report).where(Report.reference == reference)).one()


def stored(store: ObjectStore, name: str) -> bool:
    try:
        store.size(name)
    except FileNotFoundError:
        return False
    return True


@pytest.mark.parametrize(
    ("status", "days", "job"),
    [
        (ReportStatus.QUEUED, PERIODS.undisseminated_days, None),  # left unclaimed
        (ReportStatus.RETURNED, PERIODS.undisseminated_days, None),  # returned, abandoned
        (ReportStatus.SUBMITTED, PERIODS.undisseminated_days, None),  # never reviewed
        (ReportStatus.APPROVED, PERIODS.undisseminated_days, None),  # never sent
        (ReportStatus.AUDIO_FAILED, PERIODS.audio_failed_days, JobState.FAILED),
        (ReportStatus.AWAITING_AUDIO, PERIODS.awaiting_audio_days, JobState.PENDING),
    ],
)
def test_a_report_never_disseminated_ends_after_its_own_period_and_not_before(
    db: Database, store: ObjectStore, status: ReportStatus, days: int, job: JobState | None
) -> None:
    # Given a report in that state, last worked on DAY, with its recording stored
    reference, name = a_report(db, store, status, job=job)
    # When retention runs the day before its period is up, nothing changes
    run(db, store, DAY + timedelta(days=days - 1))
    kept = state_of(db, reference)
    assert (kept.status, kept.transcript, stored(store, name)) == (status, SECRET_WORDS, True)
    # When it runs on the day its period is up
    run(db, store, DAY + timedelta(days=days))
    # Then its audio and text are gone, and only a closed reference remains
    ended = state_of(db, reference)
    assert ended.status is ReportStatus.CLOSED and ended.audio_purged
    assert (ended.transcript, ended.what, ended.review_comment) == ("", "", "")
    assert not stored(store, name)
    with db.transaction() as session:
        assert session.scalars(select(AudioObject)).all() == []
        # A recording still at Twilio is left to the worker to erase there, not fetched
        assert {j.state for j in session.scalars(select(RecordingJob))} <= {JobState.DISCARDED}
        events = session.execute(
            select(AuditEvent.action, AuditEvent.report_reference, AuditEvent.detail)
        ).all()
    # And the audit trail names the report and the actions, nothing from its text
    assert sorted(events) == [("purge_audio", reference, ""), ("purge_text", reference, "")]


def test_working_on_a_report_restarts_its_clock(db: Database, store: ObjectStore) -> None:
    reference, _ = a_report(db, store, ReportStatus.QUEUED, active_on=DAY - timedelta(days=89))
    with db.transaction() as session:
        user = User(name="hana", role=Role.HANDLER)
        session.add(user)
    assert claim_next(db, user) == reference  # a handler takes it today
    today = state_of(db, reference).last_active_on
    assert today is not None
    run(db, store, today + timedelta(days=89))
    assert state_of(db, reference).status is ReportStatus.QUEUED
    run(db, store, today + timedelta(days=90))
    assert state_of(db, reference).status is ReportStatus.CLOSED


def test_a_disseminated_reports_email_copy_goes_with_its_text(
    db: Database, store: ObjectStore, tmp_path: Path
) -> None:
    # Given a disseminated report whose email was written to the outbox
    reference, name = a_report(db, store, ReportStatus.DISSEMINATED, disseminated_on=DAY)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    copy = outbox / f"{reference}-ccu.eml"
    copy.write_text(f"Subject: Intelligence report {reference}\n\n{SECRET_WORDS}")
    other = outbox / "R-AAAA-AAAA-ccu.eml"
    other.write_text("another report")
    # Its audio goes after the audio period, the text and the email are kept
    run(db, store, DAY + timedelta(days=30), outbox)
    assert not stored(store, name) and copy.exists()
    assert state_of(db, reference).transcript == SECRET_WORDS
    run(db, store, DAY + timedelta(days=364), outbox)
    assert copy.exists()
    # After the text period, the text and the emailed copy go together
    run(db, store, DAY + timedelta(days=365), outbox)
    assert state_of(db, reference).status is ReportStatus.CLOSED
    assert not copy.exists() and other.exists()


def test_a_closed_report_is_never_queued_again(db: Database, store: ObjectStore) -> None:
    # Given a report closed by retention while a job of it was still finishing
    reference, _ = a_report(db, store, ReportStatus.AWAITING_AUDIO, job=JobState.PENDING)
    run(db, store, DAY + timedelta(days=PERIODS.awaiting_audio_days))
    # When the job finishes afterwards, the report stays closed
    report = state_of(db, reference)
    with db.transaction() as session:
        for job in session.scalars(select(RecordingJob)):
            job.stage = JobStage.FINISHED
        session.flush()
        lifecycle.queue_when_complete(session, report.id)
    assert state_of(db, reference).status is ReportStatus.CLOSED


def sealed_recording(
    db: Database, store: ObjectStore, wrapper: LocalKeyWrapper, status: ReportStatus
) -> tuple[str, AudioObject, bytes]:
    """A report of DAY with a recording whose data key is wrapped, then sealed for DAY."""
    name = new_object_name()
    stored_object = store.put(name, [b"encrypted audio"])
    with db.transaction() as session:
        report = Report(
            received_on=DAY,
            source=ReportSource.MENU,
            status=status,
            disseminated_on=DAY if status is ReportStatus.DISSEMINATED else None,
            last_active_on=DAY,
        )
        session.add(report)
        session.flush()
        context = object_context(name, report.id, RecordingPart.REPORT.value)
        data_key = wrapper.generate(context)
        item = AudioObject(
            report_id=report.id,
            part=RecordingPart.REPORT,
            object_name=name,
            size=stored_object.size,
            sha256=stored_object.sha256,
            wrapped_key=day_keys.seal_for_day(session, DAY, data_key.wrapped, context),
            key_ref=data_key.key_ref,
            chunk_size=1024,
            duration_seconds=3.0,
        )
        session.add(item)
        session.flush()
        session.expunge(item)  # a copy of the row as it is now, as a backup would hold it
        return report.reference, item, data_key.plaintext


def open_as_the_console(
    db: Database, unwrapper: LocalKeyUnwrapper, item: AudioObject, sealed: bytes
) -> bytes:
    """Unwrap ``sealed`` (a row's wrapped key) with whatever day key the database holds."""
    with db.transaction() as session:
        day_key = session.scalar(select(DayKey.key).where(DayKey.day == DAY))
    context = object_context(item.object_name, item.report_id, item.part.value)
    return unwrapper.unwrap(StoredKey(sealed, DAY, day_key).wrapped(context), context)


def test_a_purged_recordings_key_cannot_be_opened_from_a_copy_of_its_row(
    db: Database, store: ObjectStore, key_pair: Path
) -> None:
    wrapper = LocalKeyWrapper((key_pair / PUBLIC_KEY_FILE).read_bytes())
    unwrapper = LocalKeyUnwrapper((key_pair / PRIVATE_KEY_FILE).read_bytes())
    # Given two recordings of the same day: one disseminated, one still in the queue
    _, gone, gone_key = sealed_recording(db, store, wrapper, ReportStatus.DISSEMINATED)
    _, kept, kept_key = sealed_recording(db, store, wrapper, ReportStatus.QUEUED)
    # And a copy of each row taken before the purge (a dead row, a replica, a backup)
    assert open_as_the_console(db, unwrapper, gone, gone.wrapped_key) == gone_key
    # When retention destroys the disseminated report's audio
    run(db, store, DAY + timedelta(days=PERIODS.audio_days))
    # Then the copy of its wrapped key no longer opens: its day key was replaced
    with pytest.raises(KeyServiceError):
        open_as_the_console(db, unwrapper, gone, gone.wrapped_key)
    # But the recording that survives its day still opens, sealed again under the new key
    with db.transaction() as session:
        resealed = session.get(AudioObject, kept.id)
        assert resealed is not None and resealed.wrapped_key != kept.wrapped_key
        current = day_keys.stored_key(session, kept.id)
    assert open_as_the_console(db, unwrapper, kept, current.sealed) == kept_key
    with pytest.raises(KeyServiceError):
        open_as_the_console(db, unwrapper, kept, kept.wrapped_key)  # its old copy neither
    # When the last recording of the day goes too, so does the day's key
    run(db, store, DAY + timedelta(days=PERIODS.undisseminated_days))
    with db.transaction() as session:
        assert session.scalars(select(DayKey)).all() == []


def test_playback_works_until_retention_then_nothing_of_the_recording_opens(
    as_role: AsRole, db: Database, queued_report: str, ingest_config: Config
) -> None:
    # Given a handler playing a recording (its key sealed under the day key by the edge)
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        items = list(session.scalars(select(AudioObject).where(AudioObject.report_id == report.id)))
        for item in items:
            session.expunge(item)  # copies of the rows, as a backup would hold them
    url = f"/console/reports/{queued_report}/audio/{items[0].id}"
    played = handler.get(url)
    assert played.status_code == 200 and played.data[:4] == b"RIFF"
    # When the report is disseminated and its audio's time is up
    with db.transaction() as session:
        session.scalars(select(Report)).one().status = ReportStatus.DISSEMINATED
        session.scalars(select(Report)).one().disseminated_on = report.received_on
    purge_as_configured(
        db,
        object_store(ingest_config),
        ingest_config,
        report.received_on + timedelta(days=ingest_config.audio_retention_days),
    )
    # Then nothing plays, and the copied wrapped keys open under no key the database holds
    assert handler.get(url).status_code == 404
    unwrapper = key_unwrapper(ingest_config)
    with db.transaction() as session:
        assert session.scalars(select(DayKey)).all() == []
    for item in items:
        context = object_context(item.object_name, item.report_id, item.part.value)
        with pytest.raises(KeyServiceError):
            unwrapper.unwrap(
                StoredKey(item.wrapped_key, report.received_on, None).wrapped(context), context
            )
        with pytest.raises(KeyServiceError):
            unwrapper.unwrap(item.wrapped_key, context)  # nor without the day layer


@pytest.mark.parametrize(
    ("state", "period"),
    [
        (ReportStatus.DISSEMINATED, Period(365, Since.DISSEMINATION)),
        (ReportStatus.QUEUED, Period(90, Since.LAST_ACTIVITY, never_disseminated=True)),
        (ReportStatus.RETURNED, Period(90, Since.LAST_ACTIVITY, never_disseminated=True)),
        (ReportStatus.SUBMITTED, Period(90, Since.LAST_ACTIVITY, never_disseminated=True)),
        (ReportStatus.APPROVED, Period(90, Since.LAST_ACTIVITY, never_disseminated=True)),
        (ReportStatus.AUDIO_FAILED, Period(20, Since.LAST_ACTIVITY)),
        (ReportStatus.AWAITING_AUDIO, Period(10, Since.LAST_ACTIVITY)),
        (ReportStatus.CLOSED, None),
    ],
)
def test_each_status_lives_its_own_period(state: ReportStatus, period: Period | None) -> None:
    assert period_for(state, PERIODS) == period


def test_a_disseminated_report_queued_again_is_not_closed_as_undisseminated(
    db: Database, store: ObjectStore
) -> None:
    # Given a report disseminated 100 days ago and queued again by new material since
    reference, _ = a_report(
        db, store, ReportStatus.QUEUED, active_on=DAY, disseminated_on=DAY - timedelta(days=100)
    )
    # When the undisseminated period (90 days) since its last activity is over, it stays
    run(db, store, DAY + timedelta(days=90))
    assert state_of(db, reference).status is ReportStatus.QUEUED
