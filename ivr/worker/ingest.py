"""Carry one recording from Twilio into the handlers' queue, one saved stage at a time.

fetch -> clean -> encrypt -> store  (saved: STORED, with the object and its wrapped key)
verify the stored object            (saved: VERIFIED)
erase the recording at Twilio       (saved: ERASED; only ever after VERIFIED)
drop our copy of Twilio's references, queue the report (FINISHED)

Each stage is idempotent and is saved before the next begins, so a worker killed at any
point leaves a job another worker finishes, writing the same single object. The call's
log is erased by its own job (:mod:`ivr.telephony.call_logs`) once the call has ended and every
recording of it is finished here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.crypto import day_keys, envelope, vault
from ivr.crypto.keys import KeyServiceError, KeyWrapper
from ivr.models.calls import JobStage, JobState
from ivr.models.reports import AudioObject, RecordingPart, Report
from ivr.outside import audio
from ivr.outside.storage import ObjectStore, StoreUnavailable, checksum, new_object_name
from ivr.outside.twilio_api import TwilioApi, TwilioUnavailable
from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.platform.outages import ServiceDown
from ivr.reports import followup, lifecycle
from ivr.telephony.call_logs import nudge_call_log_erasure, schedule_call_log_erasure
from ivr.telephony.jobs import JobQueue, LeaseLost

logger = logging.getLogger(__name__)

# Longer than any recording the flow allows (an hour of 8 kHz, 16-bit audio is 58 MB).
MAX_MEDIA_BYTES = 256 * 1024 * 1024
# Outages that pass by themselves; anything else is retried too, but logged in full.
EXPECTED = (TwilioUnavailable, StoreUnavailable, KeyServiceError, OSError)


@dataclass(frozen=True)
class JobView:
    """What a stage needs to know about its job, read under the lease."""

    id: int
    stage: JobStage
    discarded: bool
    recording_sid: str | None
    call_sid: str | None
    object_name: str | None
    duration_seconds: int | None
    report_id: str
    part: RecordingPart
    audio_id: str | None


class Ingester:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        twilio: TwilioApi,
        store: ObjectStore,
        keys: KeyWrapper,
        chunk_size: int = envelope.DEFAULT_CHUNK,
    ) -> None:
        self._db = db
        self._queue = queue
        self._twilio = twilio
        self._store = store
        self._keys = keys
        self._chunk_size = chunk_size

    def run(self, job_id: int, owner: str) -> None:
        """Take the job through its remaining stages; on failure, schedule a retry.

        An outside service being down (the store, the key service, Twilio) is not the
        job's failure: the job waits for the service, spending no attempt. Any other
        exception is a failed attempt: a job that can never succeed (PCM of odd length, a
        malformed SID, a bug) is parked after its last attempt, and its report shown as
        "audio failed", rather than retried for ever.
        """
        try:
            job = self._view(job_id, owner)
            while job.stage is not JobStage.FINISHED:
                if job.stage is JobStage.ERASED:
                    self._finish(job, owner)  # releases the lease: nothing may follow
                    return
                self._advance(job, owner)
                job = self._view(job_id, owner)
        except LeaseLost:
            event(logger, "job.lease_lost", logging.WARNING)
        except audio.AudioRejected as rejected:
            self._queue.park(job_id, owner, f"the recording is not usable audio: {rejected}")
        except ServiceDown as down:
            self._queue.wait_for(job_id, owner, down)
        except Exception as error:
            if not isinstance(error, EXPECTED):
                # Bad data or a bug, not an outage: worth a traceback for whoever fixes it.
                logger.exception("job.unexpected_error")
            self._queue.retry_later(job_id, owner, f"{type(error).__name__}: {error}")

    def _view(self, job_id: int, owner: str) -> JobView:
        with self._db.transaction() as session:
            job = self._queue.fenced(session, job_id, owner)
            return JobView(
                job.id,
                job.stage,
                job.state is JobState.DISCARDED,
                job.recording_sid,
                job.call_sid,
                job.object_name,
                job.duration_seconds,
                job.report_id,
                job.part,
                job.audio_id,
            )

    def _advance(self, job: JobView, owner: str) -> None:
        if job.stage is JobStage.FETCH:
            if job.discarded:
                self._forget_audio(job, owner)  # the caller chose to record again
            elif job.duration_seconds == 0:
                self._save(job, owner, stage=JobStage.VERIFIED)  # absent: nothing to fetch
            else:
                self._fetch_and_store(job, owner)
        elif job.stage is JobStage.STORED:
            self._verify(job, owner)
        elif job.stage is JobStage.VERIFIED:
            if job.discarded and job.audio_id:
                self._forget_audio(job, owner)
                return
            if job.recording_sid:
                self._twilio.delete_recording(job.recording_sid)  # False: already gone
            self._save(job, owner, stage=JobStage.ERASED)

    def _fetch_and_store(self, job: JobView, owner: str) -> None:
        name = job.object_name
        if name is None:
            name = new_object_name()
            self._save(job, owner, object_name=name)
        assert job.recording_sid is not None
        cleaned = audio.clean(_bounded(self._twilio.media(job.recording_sid)))
        # The object's name is shared with any earlier holder of the job: a worker that
        # stalled past its lease must not replace what its successor stored and verified,
        # and the store refuses to write over an object at all.
        try:
            sealed = vault.seal(
                self._store,
                self._keys,
                name=name,
                report_id=job.report_id,
                part=AudioObject.key_part_of(job.part),
                plaintext=cleaned.wav_chunks(self._chunk_size),
                chunk_size=self._chunk_size,
                last_check=lambda: self._save(job, owner),
            )
        except FileExistsError:
            self._rename_past(job, owner, name)
            return  # fetched again, under the new name, as the next stage
        with self._db.transaction() as session:
            row = self._queue.fenced(session, job.id, owner)
            # A previous attempt that stored but died before this point left no row.
            audio_row = AudioObject(
                report_id=job.report_id,
                part=job.part,
                duration_seconds=cleaned.duration_seconds,
                silent=cleaned.silent,
                gain_db=cleaned.gain_db,
            )
            sealed.keep(session, _received_on(session, job.report_id), audio_row)
            session.add(audio_row)
            session.flush()
            row.audio_id = audio_row.id
            row.stage = JobStage.STORED
        # No size, length or silence: each sits in the database too, and with the line's
        # time would date the call.
        event(logger, "job.stored")

    def _rename_past(self, job: JobView, owner: str, stale: str) -> None:
        """Give the job a fresh object name, then delete what was stored under the old one.

        An attempt that stored its object and died before keeping its key left an object
        no one can open. Once the job no longer names it, no holder of the job can keep it
        (every such write is fenced by the lease), so deleting it destroys nothing kept.
        """
        self._save(job, owner, object_name=new_object_name())
        event(logger, "job.stale_object_replaced", logging.WARNING)
        self._store.delete(stale)

    def _verify(self, job: JobView, owner: str) -> None:
        with self._db.transaction() as session:
            expected = session.get(AudioObject, job.audio_id)
            assert expected is not None
            name, size, digest = expected.object_name, expected.size, expected.sha256
        try:
            found = checksum(self._store, name)
            sealed_for = vault.sealed_for(self._store, name)
        except (FileNotFoundError, vault.Unopenable):
            found, sealed_for = None, b""
        # The copy at Twilio is erased on the strength of this check, so it proves both
        # that the object is what we wrote and that it was sealed for the key the console
        # holds: an object sealed for any other key could never be played.
        if (
            found is not None
            and (found.size, found.sha256) == (size, digest)
            and sealed_for == self._keys.fingerprint()
        ):
            self._save(job, owner, stage=JobStage.VERIFIED)
            return
        # Not what we wrote (lost, overwritten by a stalled worker, or sealed for a key
        # that is no longer the configured one): store it again.
        event(logger, "job.verify_failed", logging.ERROR)
        with self._db.transaction() as session:
            row = self._queue.fenced(session, job.id, owner)
            # A new name: the store never writes over what lies under the old one.
            row.audio_id, row.stage = None, JobStage.FETCH
            row.object_name = new_object_name()
            session.flush()
            session.delete(session.get(AudioObject, job.audio_id))
            day_keys.forget(session, _received_on(session, job.report_id))
        self._store.delete(name)  # no longer named by the job: nothing can keep it now

    def _forget_audio(self, job: JobView, owner: str) -> None:
        """Drop a take the caller replaced: our copy first (if any), then Twilio's."""
        if job.audio_id:
            with self._db.transaction() as session:
                found = session.get(AudioObject, job.audio_id)
                name = found.object_name if found is not None else None
            if name is not None:
                self._store.delete(name)  # deleting a missing object is not an error
            with self._db.transaction() as session:
                self._queue.fenced(session, job.id, owner).audio_id = None
                session.flush()
                found = session.get(AudioObject, job.audio_id)
                if found is not None:
                    session.delete(found)
                    day_keys.forget(session, _received_on(session, job.report_id))
        self._save(job, owner, stage=JobStage.VERIFIED)

    def _finish(self, job: JobView, owner: str) -> None:
        with self._db.transaction() as session:
            row = self._queue.fenced(session, job.id, owner)
            if row.call_sid and row.call_ended:
                # Also when the call's end was never announced (a reconciled recording).
                schedule_call_log_erasure(session, row.call_sid)
            elif row.call_sid:
                nudge_call_log_erasure(session, row.call_sid)
            row.recording_sid = row.call_sid = None
            row.stage = JobStage.FINISHED
            if row.state is JobState.PENDING:
                row.state = JobState.DONE
            # Nothing kept says when this job ran: timestamps could date the call.
            row.not_before = row.lease_expires = None
            row.lease_owner = None
            row.last_error = None
            session.flush()
            # A follow-up answer brings its report back to its holder; a report is queued.
            if not followup.answer_stored(session, job.id):
                lifecycle.queue_when_complete(session, job.report_id)
        self._db.scrub()
        event(logger, "job.finished")

    def _save(self, job: JobView, owner: str, **values: object) -> None:
        with self._db.transaction() as session:
            row = self._queue.fenced(session, job.id, owner)
            for name, value in values.items():
                setattr(row, name, value)


def _received_on(session: Session, report_id: str) -> date:
    day = session.scalar(select(Report.received_on).where(Report.id == report_id))
    assert day is not None
    return day


def _bounded(media: Iterator[bytes]) -> Iterator[bytes]:
    size = 0
    for chunk in media:
        size += len(chunk)
        if size > MAX_MEDIA_BYTES:
            raise audio.AudioRejected("the recording is larger than any call can make")
        yield chunk
