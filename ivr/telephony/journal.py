"""Write down Twilio's news of recordings and call ends: in the database, or the spool.

These are the only two moments a call touches the database. Each is written in one
transaction when the database answers; when it does not, the news is spooled to local
disk (:mod:`ivr.telephony.spool`), Twilio still gets its success, and a replayer in every web
process brings the spool into the database as soon as it is back. Then it triggers a
reconciliation with Twilio at once, rather than at the next periodic run.

Why a thread in each web process replays (and not the job worker): the spool is on the
web machine's own disk, which a worker elsewhere cannot see; and menu steps no longer
touch the database, so "on the next request that reaches the database" might not come
for a long time after an outage. A thread that looks at the spool's size once a second
costs nothing while the spool is empty, and ``replay.lock`` lets only one process at
a time replay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.models.calls import CallLogErasure, RecordingJob
from ivr.models.reports import Report
from ivr.models.stats import Channel, StatEvent
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event
from ivr.reports import followup
from ivr.reports.intake import Recording, register_recording, report_id_for_call
from ivr.stats import counters
from ivr.telephony.call_logs import schedule_call_log_erasure
from ivr.telephony.spool import Entry, Spool, StopReplay

logger = logging.getLogger(__name__)

REPLAY_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class CallEnded:
    """Twilio's news that a call is over (or a text message answered): its log can go."""

    call_sid: str


# What the journal writes down: one transaction each, or one spool entry each.
News = Recording | CallEnded


class Journal:
    """Register recordings and call ends, spooling them while the database is down."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        spool: Spool,
        on_recovered: Callable[[], object] = lambda: None,
    ) -> None:
        self._db = db
        self._secret = secret
        self.spool = spool
        self._on_recovered = on_recovered
        self._replayer: threading.Thread | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()

    def recording(self, recording: Recording) -> None:
        """Register a recording: a report (once per call) and its fetch job (once)."""
        self._apply_or_spool(recording)

    def call_ended(self, call_sid: str) -> None:
        """Note that a call ended, and schedule the erasure of its call log at Twilio."""
        self._apply_or_spool(CallEnded(call_sid))

    def message_done(self, message_sid: str) -> None:
        """Schedule the erasure of a text message's log at Twilio, as a call log's is."""
        self._apply_or_spool(CallEnded(message_sid))

    def replay_now(self) -> int:
        """Replay the spool into the database; reconcile if anything was replayed."""
        applied = self.spool.replay(self._replay_entry)
        if applied and not self.spool.pending():
            try:
                self._on_recovered()
            except Exception:
                logger.exception("intake.reconcile_failed")
        return applied

    def start_replayer(self) -> None:
        """Start this process's replayer thread (once; call it after any fork)."""
        with self._lock:
            if self._replayer is not None and self._replayer.is_alive():
                return
            self._replayer = threading.Thread(
                target=self._replay_forever, name="ivr-spool-replayer", daemon=True
            )
            self._replayer.start()

    def _apply_or_spool(self, news: News) -> None:
        # While older entries wait in the spool, newer ones queue behind them: a call's
        # end must never reach the database before the recordings it ends.
        if not self.spool.pending():
            try:
                self._transaction(news)
                return
            except SQLAlchemyError as error:
                event(logger, "intake.database_down", logging.WARNING, error=type(error).__name__)
        self.spool.append(to_entry(news))
        self.start_replayer()
        self._wake.set()

    def _replay_entry(self, entry: Entry) -> None:
        news = from_entry(entry)  # an entry no release could have written is dropped
        try:
            self._transaction(news)
        except SQLAlchemyError as error:
            if isinstance(error, IntegrityError):
                raise  # not an outage: the entry cannot be replayed
            raise StopReplay() from error

    def _transaction(self, news: News) -> None:
        # Two first callbacks for one recording (or one call) can race to insert the same
        # report or job; the loser sees the winner's rows on its second attempt.
        for tries_left in (1, 0):
            try:
                with self._db.transaction() as session:
                    _apply(session, self._secret, news)
                return
            except IntegrityError:
                if not tries_left:
                    raise

    def _replay_forever(self) -> None:
        while True:
            self._wake.wait(REPLAY_POLL_SECONDS)
            self._wake.clear()
            if not self.spool.pending():
                continue
            try:
                self.replay_now()
            except Exception:
                logger.exception("intake.replay_failed")


def to_entry(news: News) -> Entry:
    """Return ``news`` as a spool entry."""
    match news:
        case Recording():
            return {"kind": "recording", **news.to_entry()}
        case CallEnded():
            return {"kind": "ended", "call_sid": news.call_sid}
        case _:
            assert_never(news)


def from_entry(entry: Entry) -> News:
    """Read a spool entry back, whichever release wrote it."""
    kind = entry.get("kind")
    if kind == "recording":
        return Recording.from_entry(entry)
    if kind == "ended":
        return CallEnded(entry["call_sid"])
    raise ValueError(f"unknown spool entry kind {kind!r}")


def _apply(session: Session, secret: bytes, news: News) -> None:
    """Write one piece of news (fresh or replayed from the spool); a repeat changes nothing."""
    match news:
        case Recording():
            _register(session, secret, news)
        case CallEnded():
            if _ended_without_report(session, secret, news.call_sid):
                counters.count(
                    session, StatEvent.CALL_WITHOUT_REPORT, utcnow().date(), channel=Channel.PHONE
                )
            session.execute(
                update(RecordingJob)
                .where(RecordingJob.call_sid == news.call_sid)
                .values(call_ended=True)
            )
            # In the same transaction, so that a call's end spooled during an outage still
            # leads to its call log being erased once it is replayed.
            schedule_call_log_erasure(session, news.call_sid)
            event(logger, "call.ended")
        case _:
            assert_never(news)


def _ended_without_report(session: Session, secret: bytes, call_sid: str) -> bool:
    """True the first time Twilio says a call ended that recorded nothing (abandonment).

    A text message's end is no call. A repeated status callback finds the call's log
    erasure still scheduled, so each call is counted once; one repeated after the log was
    already erased at Twilio (Twilio repeats within seconds, the erasure takes longer) would
    count twice, an error of one call in the month's figure, never a lost report.
    """
    if not call_sid.startswith("CA"):
        return False
    repeated = session.scalar(
        select(CallLogErasure.id).where(CallLogErasure.call_sid == call_sid).limit(1)
    )
    recorded = session.scalar(
        select(RecordingJob.id).where(RecordingJob.call_sid == call_sid).limit(1)
    )
    reported = session.get(Report, report_id_for_call(secret, call_sid))
    return repeated is None and recorded is None and reported is None


def _register(session: Session, secret: bytes, recording: Recording) -> None:
    # An answer joins the report its reference names; if that reference died
    # meanwhile, the answer still makes a report of its own: nothing said is lost.
    answers = (
        followup.report_for_answer(session, recording.followup) if recording.followup else None
    )
    # The call's report, even for a callback without a CallSid. (Entries an earlier
    # release spooled also carry this id, as "group": the same keyed hash.)
    report_id = answers or report_id_for_call(secret, recording.call_sid)
    job = register_recording(session, secret, recording, report_id=report_id)
    if answers is not None:
        session.flush()
        followup.note_answer(session, answers, job.id)
