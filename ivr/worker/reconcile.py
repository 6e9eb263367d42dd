"""The safety net: ingest recordings held at Twilio that no callback told us about.

A callback can be lost, and the fallback URL can take a report while our database is
down. Every recording still at Twilio that we have no job for becomes a report marked
"received without menu choices", unless its call is still live (the callbacks are
probably on their way) or it is younger than a grace period.

The static fallback (``ivr.telephony.static_fallback``) takes reports while the edge is
down altogether; no callback ever tells us of them, so they are taken as soon as Twilio
has finished them, without a grace period, as reports from the fallback in the language
their recording shows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from ivr.crypto.hashing import keyed_hash
from ivr.models.calls import CallSession, RecordingJob
from ivr.models.reports import RecordingPart, ReportSource
from ivr.outside.twilio_api import TwilioApi
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event
from ivr.reports.intake import Recording, register_recording
from ivr.telephony.static_fallback import language_of

logger = logging.getLogger(__name__)


def reconcile(db: Database, twilio: TwilioApi, secret: bytes, grace: timedelta) -> int:
    """Create a report and a job for each unknown recording at Twilio; return how many."""
    now = utcnow()
    found = 0
    for listing in twilio.recordings():
        if listing.status not in {"completed", ""}:
            continue  # still being recorded or processed at Twilio
        language = language_of(listing.source, listing.channels)
        young = listing.created is not None and now - listing.created < grace
        if language is None and young:
            continue
        with db.transaction() as session:
            known = session.scalar(
                select(RecordingJob.id).where(
                    RecordingJob.recording_key == keyed_hash(secret, listing.sid)
                )
            )
            live = listing.call_sid and session.scalar(
                select(CallSession.call_key).where(
                    CallSession.call_key == keyed_hash(secret, listing.call_sid)
                )
            )
            if known is not None or live:
                continue
            job = register_recording(
                session,
                secret,
                Recording(
                    listing.sid,
                    listing.call_sid,
                    part=RecordingPart.REPORT,
                    source=ReportSource.RECONCILED if language is None else ReportSource.FALLBACK,
                    language=language,
                ),
            )
            job.call_ended = True
            found += 1
    if found:
        event(logger, "reconcile.ingested", logging.WARNING, recordings=found)
    return found
