"""Drive live calls: load a call's state, apply what Twilio told us, save, answer.

Each callback is one transaction that locks the call's row, so two callbacks for the
same call never interleave. Callback URLs carry the step and turn they were issued
for. A repeat of the last callback (Twilio retrying a request whose answer it lost)
gets the very same answer again; an older one hears the current step again. Neither
changes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.db import Database
from ivr.flows.engine import CallState, Engine, Turn
from ivr.flows.registry import FlowRegistry
from ivr.logs import event
from ivr.models import CallSession, RecordingJob, RecordingPart, ReportSource
from ivr.reports import RecordingNotice, register_recording
from ivr.webhooks.boundary import keyed_hash

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Twilio's final call statuses: after these the call's state is deleted.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class CallNotFound(LookupError):
    """No state for this call: it ended, expired, or never started here."""


class CallHandler:
    """Apply Twilio callbacks to calls and decide what each caller hears next."""

    def __init__(
        self,
        db: Database,
        flows: FlowRegistry,
        secret: bytes,
        state_ttl: timedelta,
        render: Callable[[Turn], str],
    ) -> None:
        self._render = render
        self._db = db
        self._flows = flows
        self._secret = secret
        self._state_ttl = state_ttl

    def answer(self, call_sid: str) -> str:
        """Start a new call on the current flow (or answer again, if Twilio asked twice)."""
        flow = self._flows.current()

        def attempt(session: Session) -> str:
            row = self._lock(session, call_sid)
            if row is not None:
                return row.last_reply or self._render(self._engine(row).replay(_state_of(row)))
            engine = self._flows.engine(flow.content_hash)
            state, turn = engine.begin()
            row = CallSession(
                call_key=self._key(call_sid),
                flow_hash=flow.content_hash,
                expires_at=datetime.now(UTC) + self._state_ttl,
            )
            session.add(row)
            event(logger, "call.started", flow=flow.content_hash[:12])
            return self._save(row, state, turn)

        return self._transaction(attempt)

    def press(self, call_sid: str, step: str, turn: int, digits: str) -> str:
        """Apply the keys pressed at ``step`` during ``turn``."""

        def attempt(session: Session) -> str:
            row = self._require(session, call_sid)
            stale = self._stale(row, step, turn)
            if stale is not None:
                return stale
            state = _state_of(row)
            reply = self._engine(row).press(state, digits)
            event(logger, "call.keys", step=step, moved_on=state.step != step)
            return self._save(row, state, reply)

        return self._transaction(attempt)

    def recorded(
        self,
        call_sid: str,
        step: str,
        turn: int,
        part: RecordingPart,
        notice: RecordingNotice | None,
    ) -> str | None:
        """Handle the ``<Record>`` action, or its absence when nothing was recorded.

        Returns None when the caller has already hung up: Twilio ignores the answer.
        """

        def attempt(session: Session) -> str | None:
            row = self._lock(session, call_sid)
            if notice is not None:
                register_recording(session, self._secret, notice, call=row, part=part)
            if notice is not None and notice.ended_by_hangup:
                return None
            if row is None:
                raise CallNotFound()
            stale = self._stale(row, step, turn)
            if stale is not None:
                return stale
            state = _state_of(row)
            got_audio = notice is not None and notice.has_audio
            return self._save(row, state, self._engine(row).recorded(state, got_audio))

        return self._transaction(attempt)

    def recording_status(
        self,
        call_sid: str,
        part: RecordingPart,
        notice: RecordingNotice,
        source: ReportSource = ReportSource.MENU,
    ) -> None:
        """Feed the recording status callback into the same job as the action."""

        def attempt(session: Session) -> None:
            row = self._lock(session, call_sid)
            register_recording(session, self._secret, notice, call=row, part=part, source=source)

        self._transaction(attempt)

    def ended(self, call_sid: str) -> None:
        """Forget the call's state; its recordings' call logs may now be erased."""

        def attempt(session: Session) -> None:
            session.execute(delete(CallSession).where(CallSession.call_key == self._key(call_sid)))
            session.execute(
                update(RecordingJob)
                .where(RecordingJob.call_sid == call_sid)
                .values(call_ended=True)
            )

        self._transaction(attempt)
        event(logger, "call.ended")

    def sweep_expired(self, now: datetime | None = None) -> int:
        """Delete state of calls whose end was never reported to us."""
        with self._db.transaction() as session:
            result = session.execute(
                delete(CallSession).where(CallSession.expires_at < (now or datetime.now(UTC)))
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def _transaction(self, attempt: Callable[[Session], T]) -> T:
        # Two first callbacks for one call or one recording can race to insert the same
        # key; the loser sees the winner's row on its second attempt.
        for tries_left in (1, 0):
            try:
                with self._db.transaction() as session:
                    return attempt(session)
            except IntegrityError:
                if not tries_left:
                    raise
        raise AssertionError("unreachable")

    def _key(self, call_sid: str) -> str:
        return keyed_hash(self._secret, call_sid)

    def _lock(self, session: Session, call_sid: str) -> CallSession | None:
        return session.scalars(
            select(CallSession).where(CallSession.call_key == self._key(call_sid)).with_for_update()
        ).first()

    def _require(self, session: Session, call_sid: str) -> CallSession:
        row = self._lock(session, call_sid)
        if row is None:
            raise CallNotFound()
        return row

    def _engine(self, row: CallSession) -> Engine:
        return self._flows.engine(row.flow_hash)

    def _stale(self, row: CallSession, step: str, turn: int) -> str | None:
        """Return the answer to a callback for an earlier turn, or None if it is current."""
        if (row.step, row.turn) == (step, turn):
            return None
        if turn == row.turn - 1 and row.last_reply:
            return row.last_reply  # Twilio repeated the request we answered last
        return self._render(self._engine(row).replay(_state_of(row)))

    def _save(self, row: CallSession, state: CallState, turn: Turn) -> str:
        """Store the call's new state and the answer given; return that answer."""
        row.step, row.language, row.retries, row.turn = (
            state.step,
            state.language,
            state.retries,
            state.turn,
        )
        # Reassign, not mutate: the JSON column only notices a new object.
        row.choices = dict(state.choices)
        row.last_reply = self._render(turn)
        return row.last_reply


def _state_of(row: CallSession) -> CallState:
    return CallState(
        step=row.step,
        language=row.language,
        retries=row.retries,
        turn=row.turn,
        choices=dict(row.choices or {}),
    )
