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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.db import Database
from ivr.flows.engine import CallState, Engine, Spoken, Turn
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


@dataclass
class StoredCall:
    """One call's row, read with a lock and written back once per callback."""

    key: str
    flow_hash: str
    state: CallState
    report_id: str | None
    last_reply: str


_calls = cast(Table, CallSession.__table__)
_STATE_COLUMNS = ("step", "language", "retries", "turn", "choices", "report_id", "last_reply")
# Built once: constructing statements per request was a third of a menu step's cost.
_LOAD = select(_calls).where(_calls.c.call_key == bindparam("key")).with_for_update()
_WRITE = (
    update(_calls)
    .where(_calls.c.call_key == bindparam("key"))
    .values({name: bindparam(name) for name in _STATE_COLUMNS})
)


class CallHandler:
    """Apply Twilio callbacks to calls and decide what each caller hears next.

    The call's row is read and written with Core statements: it is one flat record per
    callback, on the webhook hot path, where the ORM's unit of work buys nothing.
    """

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
            stored = self._load(session, call_sid)
            if stored is not None:
                return stored.last_reply or self._replay(stored)
            state, turn = self._flows.engine(flow.content_hash).begin()
            reply = self._render(turn)
            session.execute(
                insert(_calls).values(
                    call_key=self._key(call_sid),
                    flow_hash=flow.content_hash,
                    **_columns(state),
                    report_id=None,
                    last_reply=reply,
                    expires_at=datetime.now(UTC) + self._state_ttl,
                )
            )
            event(logger, "call.started", flow=flow.content_hash[:12])
            return reply

        return self._transaction(attempt)

    def press(self, call_sid: str, step: str, turn: int, digits: str) -> str:
        """Apply the keys pressed at ``step`` during ``turn``."""

        def attempt(session: Session) -> str:
            stored = self._require(session, call_sid)
            stale = self._stale(stored, step, turn)
            if stale is not None:
                return stale
            engine = self._engine(stored)
            leaving_welcome = stored.state.step == engine.flow.start
            reply = engine.press(stored.state, digits)
            if leaving_welcome and stored.state.step != engine.flow.start:
                reply = self._with_announcement(engine, stored.state.language, reply)
            event(logger, "call.keys", step=step, moved_on=stored.state.step != step)
            return self._save(session, stored, reply)

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
            stored = self._load(session, call_sid)
            if notice is not None:
                self._register(session, stored, notice, part, ReportSource.MENU)
            if notice is not None and notice.ended_by_hangup:
                return None
            if stored is None:
                raise CallNotFound()
            stale = self._stale(stored, step, turn)
            if stale is not None:
                return stale
            got_audio = notice is not None and notice.has_audio
            return self._save(
                session, stored, self._engine(stored).recorded(stored.state, got_audio)
            )

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
            self._register(session, self._load(session, call_sid), notice, part, source)

        self._transaction(attempt)

    def _register(
        self,
        session: Session,
        stored: StoredCall | None,
        notice: RecordingNotice,
        part: RecordingPart,
        source: ReportSource,
    ) -> None:
        job = register_recording(
            session,
            self._secret,
            notice,
            call=stored.state if stored is not None else None,
            report_id=stored.report_id if stored is not None else None,
            part=part,
            source=source,
        )
        if stored is None:
            return
        changed = stored.report_id != job.report_id
        stored.report_id = job.report_id
        if "take" in stored.state.choices:
            # A take choice ("record again" or "add more") applies to the next recording only.
            del stored.state.choices["take"]
            changed = True
        if changed:
            self._write(session, stored)

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

    def _load(self, session: Session, call_sid: str) -> StoredCall | None:
        row = session.connection().execute(_LOAD, {"key": self._key(call_sid)}).first()
        if row is None:
            return None
        state = CallState(
            step=row.step,
            language=row.language,
            retries=row.retries,
            turn=row.turn,
            choices=dict(row.choices or {}),
        )
        return StoredCall(row.call_key, row.flow_hash, state, row.report_id, row.last_reply)

    def _require(self, session: Session, call_sid: str) -> StoredCall:
        stored = self._load(session, call_sid)
        if stored is None:
            raise CallNotFound()
        return stored

    def _with_announcement(self, engine: Engine, language: str, turn: Turn) -> Turn:
        """Put the service announcement (if one is on) right after the welcome."""
        text = self._flows.announcement(language)
        if not text:
            return turn
        voice = engine.flow.languages[language].voice
        return replace(turn, said=(Spoken(" ".join(text.split()), language, voice), *turn.said))

    def _engine(self, stored: StoredCall) -> Engine:
        return self._flows.engine(stored.flow_hash)

    def _replay(self, stored: StoredCall) -> str:
        return self._render(self._engine(stored).replay(stored.state))

    def _stale(self, stored: StoredCall, step: str, turn: int) -> str | None:
        """Return the answer to a callback for an earlier turn, or None if it is current."""
        if (stored.state.step, stored.state.turn) == (step, turn):
            return None
        if turn == stored.state.turn - 1 and stored.last_reply:
            return stored.last_reply  # Twilio repeated the request we answered last
        return self._replay(stored)

    def _save(self, session: Session, stored: StoredCall, turn: Turn) -> str:
        """Store the call's new state and the answer given; return that answer."""
        stored.last_reply = self._render(turn)
        self._write(session, stored)
        return stored.last_reply

    def _write(self, session: Session, stored: StoredCall) -> None:
        session.execute(
            update(_calls)
            .where(_calls.c.call_key == stored.key)
            .values(
                **_columns(stored.state), report_id=stored.report_id, last_reply=stored.last_reply
            )
        )


def _columns(state: CallState) -> dict[str, Any]:
    return {
        "step": state.step,
        "language": state.language,
        "retries": state.retries,
        "turn": state.turn,
        "choices": dict(state.choices),
    }


def sweep_expired_calls(db: Database, now: datetime | None = None) -> int:
    """Delete the state of calls whose end was never reported to us."""
    with db.transaction() as session:
        result = session.execute(
            delete(CallSession).where(CallSession.expires_at < (now or datetime.now(UTC)))
        )
        return int(getattr(result, "rowcount", 0) or 0)
