"""Delete an ended call's log at Twilio, after every recording of the call is stored.

A text message's log (one sent to the hotline's number, or our answer) is erased by the
same jobs: nothing of ours waits on it, so it goes at once.

One job per call (see :mod:`ivr.telephony.call_logs`). The log goes only when nothing of the call
is left to fetch: no recording job of ours for the call is unfinished, and Twilio holds
no recording of the call that could still become a report (one whose callback was lost
or is waiting in a spool). Otherwise the job waits, without spending an attempt.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models.calls import JobStage, RecordingJob
from ivr.outside.twilio_api import TwilioApi, is_message_sid
from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.platform.outages import ServiceDown
from ivr.telephony.jobs import CallLogQueue, LeaseLost

logger = logging.getLogger(__name__)

# A recording of ours still to store: its job brings the erasure forward when it finishes,
# so this is only a safety net.
WAIT_FOR_OUR_JOBS = timedelta(minutes=10)
# A recording at Twilio we have no job for yet: reconciliation (or a replayed spool) will
# make one; look again soon, so the log goes within a minute of it being stored.
WAIT_FOR_TWILIO = timedelta(seconds=20)
# Twilio's statuses for a recording that holds, or will hold, audio we have not stored.
UNSETTLED_AT_TWILIO = frozenset({"in-progress", "paused", "stopped", "processing", "completed", ""})


class CallLogEraser:
    def __init__(self, db: Database, queue: CallLogQueue, twilio: TwilioApi) -> None:
        self._db = db
        self._queue = queue
        self._twilio = twilio

    def run(self, job_id: int, owner: str) -> None:
        """Erase the call log, or wait for the call's recordings; on failure, retry later."""
        try:
            call_sid = self._call_sid(job_id, owner)
            if is_message_sid(call_sid):
                # A text to the hotline, or our answer to it: no recording waits on it.
                self._twilio.delete_message(call_sid)  # False: already gone
                self._forget(job_id, owner, "message_log.erased")
                return
            # Asked under the erasure's lock: a recording job finishing after this
            # commits brings the erasure forward again (see ivr.telephony.call_logs).
            if self._queue.defer(
                job_id,
                owner,
                WAIT_FOR_OUR_JOBS,
                "recording_not_stored",
                only_if=lambda session: _ours_unfinished(session, call_sid),
            ):
                return
            if any(r.status in UNSETTLED_AT_TWILIO for r in self._twilio.recordings(call_sid)):
                self._queue.defer(job_id, owner, WAIT_FOR_TWILIO, "recording_at_twilio")
                return
            self._twilio.delete_call(call_sid)  # False: already gone
            self._forget(job_id, owner)
        except LeaseLost:
            event(logger, "job.lease_lost", logging.WARNING, kind=self._queue.kind)
        except ServiceDown as down:
            self._queue.wait_for(job_id, owner, down)  # Twilio's outage is not this job's
        except Exception as error:
            # Anything unexpected (a malformed SID, a bug) is a failed attempt too, so a job
            # that can never succeed is parked for a person rather than retried for ever.
            self._queue.retry_later(job_id, owner, f"{type(error).__name__}: {error}")

    def _call_sid(self, job_id: int, owner: str) -> str:
        with self._db.transaction() as session:
            return self._queue.fenced(session, job_id, owner).call_sid

    def _forget(self, job_id: int, owner: str, done: str = "call_log.erased") -> None:
        """Drop the CallSid: the job's row goes, so nothing kept names or dates the call."""
        with self._db.transaction() as session:
            session.delete(self._queue.fenced(session, job_id, owner))
        self._db.scrub()
        event(logger, done)


def _ours_unfinished(session: Session, call_sid: str) -> bool:
    """True while one of our recording jobs for the call has not finished."""
    found = session.scalar(
        select(RecordingJob.id)
        .where(RecordingJob.call_sid == call_sid, RecordingJob.stage != JobStage.FINISHED)
        .limit(1)
    )
    return found is not None
