"""Erase every call's log at Twilio once the call has ended and its recordings are safe.

Twilio's call log holds the caller's number. It is deleted by a durable job (a
:class:`~ivr.models.calls.CallLogErasure`, run by ``ivr.worker.erasure``) made when the call's
final status arrives, whether or not anything was recorded. The job waits while any
recording of the call is still to be stored, and is brought forward when the last one
is. Once Twilio has deleted the log, the job's row, with the CallSid, is deleted too.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.models.calls import CallLogErasure, JobState


def schedule_call_log_erasure(session: Session, call_sid: str) -> None:
    """Make (once) the job that deletes this ended call's log, or bring it forward."""
    if not call_sid:
        return
    # One statement, so that two status callbacks racing for one call cannot both insert.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(CallLogErasure)
        .values(call_sid=call_sid, state=JobState.PENDING, attempts=0)
        .on_conflict_do_update(index_elements=["call_sid"], set_={"not_before": None})
    )


def nudge_call_log_erasure(session: Session, call_sid: str) -> None:
    """A recording of the call is safe: let its erasure (if the call has ended) run now."""
    session.execute(
        update(CallLogErasure)
        .where(CallLogErasure.call_sid == call_sid, CallLogErasure.state == JobState.PENDING)
        .values(not_before=None)
    )
