"""Take in what Twilio tells us about recordings and call ends: into the database, or the spool.

These are the only two moments a call touches the database. Each is written in one
transaction when the database answers; when it does not, the news is spooled to local
disk (:mod:`ivr.spool`), Twilio still gets its success, and a replayer in every web
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
from dataclasses import asdict, dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.call_logs import schedule_call_log_erasure
from ivr.casework import followup
from ivr.casework.intake import RecordingNotice, register_recording, report_id_for_call
from ivr.db import Database
from ivr.flows.engine import CallState
from ivr.logs import event
from ivr.models import RecordingJob, RecordingPart, ReportSource
from ivr.spool import Entry, Spool, StopReplay

logger = logging.getLogger(__name__)

REPLAY_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Recording:
    """One recording callback, as registered (or spooled): no caller identifier."""

    recording_sid: str
    call_sid: str
    part: RecordingPart
    source: ReportSource
    duration_seconds: int | None
    ended_by_hangup: bool = False
    absent: bool = False
    # The caller's language and menu choices, from the callback URL (None: unknown).
    language: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    # The report a follow-up caller's answer joins (their verified follow-up), if any.
    followup: str | None = None

    def notice(self) -> RecordingNotice:
        return RecordingNotice(
            self.recording_sid,
            self.call_sid,
            self.duration_seconds,
            ended_by_hangup=self.ended_by_hangup,
            absent=self.absent,
        )

    def call(self) -> CallState | None:
        if self.language is None:
            return None
        # Only the language and choices fill in the report; the step is not needed.
        return CallState(step="", language=self.language, choices=dict(self.choices))


class Intake:
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
        entry: Entry = {
            "kind": "recording",
            "group": report_id_for_call(self._secret, recording.call_sid),
            **asdict(recording),
        }
        self._apply_or_spool(entry)

    def call_ended(self, call_sid: str) -> None:
        """Note that a call ended, and schedule the erasure of its call log at Twilio."""
        self._apply_or_spool({"kind": "ended", "call_sid": call_sid})

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

    def _apply_or_spool(self, entry: Entry) -> None:
        # While older entries wait in the spool, newer ones queue behind them: a call's
        # end must never reach the database before the recordings it ends.
        if not self.spool.pending():
            try:
                self._transaction(entry)
                return
            except SQLAlchemyError as error:
                event(logger, "intake.database_down", logging.WARNING, error=type(error).__name__)
        self.spool.append(entry)
        self.start_replayer()
        self._wake.set()

    def _replay_entry(self, entry: Entry) -> None:
        try:
            self._transaction(entry)
        except SQLAlchemyError as error:
            if isinstance(error, IntegrityError):
                raise  # not an outage: the entry cannot be replayed
            raise StopReplay() from error

    def _transaction(self, entry: Entry) -> None:
        # Two first callbacks for one recording (or one call) can race to insert the same
        # report or job; the loser sees the winner's rows on its second attempt.
        for tries_left in (1, 0):
            try:
                with self._db.transaction() as session:
                    _apply(session, self._secret, entry)
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


def _apply(session: Session, secret: bytes, entry: Entry) -> None:
    """Write one entry (fresh or replayed from the spool); a repeat changes nothing."""
    kind = entry.get("kind")
    if kind == "recording":
        recording = Recording(
            recording_sid=entry["recording_sid"],
            call_sid=entry["call_sid"],
            part=RecordingPart(entry["part"]),
            source=ReportSource(entry["source"]),
            duration_seconds=entry.get("duration_seconds"),
            ended_by_hangup=bool(entry.get("ended_by_hangup")),
            absent=bool(entry.get("absent")),
            language=entry.get("language"),
            choices=dict(entry.get("choices") or {}),
        )
        # An answer joins the report its reference names; if that reference died
        # meanwhile, the answer still makes a report of its own: nothing said is lost.
        answers = (
            followup.report_for_answer(session, entry["followup"])
            if entry.get("followup")
            else None
        )
        job = register_recording(
            session,
            secret,
            recording.notice(),
            call=recording.call(),
            report_id=answers or entry.get("group"),
            part=recording.part,
            source=recording.source,
        )
        if answers is not None:
            session.flush()
            followup.note_answer(session, answers, job.id)
    elif kind == "ended":
        session.execute(
            update(RecordingJob)
            .where(RecordingJob.call_sid == entry["call_sid"])
            .values(call_ended=True)
        )
        # In the same transaction, so that a call's end spooled during an outage still
        # leads to its call log being erased once it is replayed.
        schedule_call_log_erasure(session, entry["call_sid"])
        event(logger, "call.ended")
    else:
        raise ValueError(f"unknown spool entry kind {kind!r}")
