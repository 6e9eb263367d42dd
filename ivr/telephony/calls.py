"""Drive live calls: each callback's answer from the state its URL carries, and the keys.

A call's state (flow version, step, language, retries, menu choices) travels in the
callback URLs that Twilio signs and sends back (:mod:`ivr.telephony.urlstate`). A menu
step reads nothing and writes nothing: it is a pure function of that state and the keys
pressed, so a repeated callback gets the same answer by construction, and any web
process can answer any step. Only a recording and the end of a call are written down,
through :class:`ivr.telephony.journal.Journal`, which spools them when the database is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from sqlalchemy import delete

from ivr.flows.engine import Turn
from ivr.flows.followup_steps import FollowUpDesk, PracticeDesk
from ivr.flows.registry import FlowRegistry
from ivr.models.calls import CallSession
from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.reports.followup import CallDesk, Verifier
from ivr.reports.intake import Recording
from ivr.telephony.journal import Journal
from ivr.telephony.urlstate import BadCallState, CallPoint, StateSealer, parse

logger = logging.getLogger(__name__)

# Twilio's final call statuses: after these the call's recordings may lose their call log.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

# How many menu answers each process remembers (a few kilobytes each).
REMEMBERED_ANSWERS = 4096

# Renders a turn given the query that carries the call's state after it.
Render = Callable[[Turn, Mapping[str, str]], str]


@dataclass(frozen=True)
class Remembered:
    twiml: str
    step: str
    moved_on: bool


class CallNotFound(LookupError):
    """A callback without a usable call state: answer with the fallback."""


class CallHandler:
    """Decide what each caller hears next; hand recordings and call ends to the journal."""

    def __init__(
        self,
        flows: FlowRegistry,
        journal: Journal,
        render: Render,
        *,
        followups: Verifier | None = None,
        secret: bytes = b"",
        state_keys: tuple[bytes, ...] = (),
    ) -> None:
        self._flows = flows
        self.journal = journal
        self._render = render
        self._answers: dict[tuple[str, str, int], Remembered] = {}
        # Follow-up calls: without a verifier, no reference is kept or accepted.
        self.followups = followups
        self._secret = secret
        # The call state's own keys when given (rotated apart from the secret), else one
        # derived from the secret.
        keys = state_keys or ((secret,) if secret else ())
        self.sealer = StateSealer(*keys) if keys else None

    def desk(self, call_sid: str) -> FollowUpDesk:
        """The follow-up side of the call ``call_sid``."""
        if self.followups is None:
            return _NoFollowUps()
        return CallDesk(self.followups, self._secret, call_sid)

    def answer(self) -> str:
        """Start a new call on the currently published flow version."""
        flow = self._flows.current()
        state, turn = self._flows.engine(flow.content_hash).begin()
        event(logger, "call.started", flow=flow.content_hash[:12])
        return self._answer(CallPoint.of(flow.content_hash, state), turn)

    def press(self, query: str, digits: str, call_sid: str = "") -> str:
        """Apply the keys pressed at the menu the callback's (signed) ``query`` names."""
        # The answer is a pure function of the signed URL (version and state), the key and
        # the recorded prompts, so it is remembered: most menu steps are the same few.
        key = (query, digits[:1], self._flows.prompts_revision)
        remembered = self._answers.get(key)
        if remembered is not None:
            event(logger, "call.keys", step=remembered.step, moved_on=remembered.moved_on)
            return remembered.twiml
        point = point_from_query(query, self.sealer)
        engine = self._flows.engine(point.flow)
        state = point.state()
        reply = engine.press(state, digits, self.desk(call_sid))
        leaving_welcome = point.step == engine.flow.start and state.step != engine.flow.start
        moved_on = state.step != point.step
        event(logger, "call.keys", step=point.step, moved_on=moved_on)
        answer = self._answer(CallPoint.of(point.flow, state), reply)
        # (Not after the welcome: the engine adds the announcement, which comes and goes
        # without a new version.) Nor one that depends on this call alone: digits keyed, a
        # reference, a question.
        if not leaving_welcome and not reply.fresh and not point.variables:
            if len(self._answers) >= REMEMBERED_ANSWERS:
                self._answers.clear()  # a bound, not a policy: they are cheap to make again
            self._answers[key] = Remembered(answer, point.step, moved_on)
        return answer

    def recorded(
        self, point: CallPoint, recording: Recording | None, call_sid: str = ""
    ) -> str | None:
        """Handle the ``<Record>`` action, or its absence when nothing was recorded.

        Returns None when the caller has already hung up: Twilio ignores the answer.
        """
        if recording is not None:
            self.journal.recording(recording)
            if recording.ended_by_hangup:
                return None
        state = point.state()
        if recording is not None:
            # A take choice ("record again" or "add more") applies to the next recording only.
            state.choices.pop("take", None)
        got_audio = recording is not None and recording.has_audio
        reply = self._flows.engine(point.flow).recorded(state, got_audio, self.desk(call_sid))
        return self._answer(CallPoint.of(point.flow, state), reply)

    def recording_status(self, recording: Recording) -> None:
        """Feed a recording status callback into the same report and job as the action."""
        self.journal.recording(recording)

    def ended(self, call_sid: str) -> None:
        """The call is over: its recordings' call log may be erased once they are stored."""
        self.journal.call_ended(call_sid)

    def text_done(self, message_sid: str) -> None:
        """A text to the hotline was answered, or our answer settled: erase its log."""
        self.journal.message_done(message_sid)

    def _answer(self, point: CallPoint, turn: Turn) -> str:
        return self._render(turn, point.query(self.sealer))


class _NoFollowUps(PracticeDesk):
    """A service without follow-ups: no reference is kept, none is accepted."""

    def register(self, reference: str, pin: str) -> bool:
        return False

    def verify(self, reference: str, pin: str) -> str | None:
        return None


def point_from_query(query: str, sealer: StateSealer | None = None) -> CallPoint:
    """The call point a callback's query carries (CallNotFound if it carries none)."""
    try:
        return parse(dict(parse_qsl(query, keep_blank_values=True)), sealer)
    except BadCallState as error:
        raise CallNotFound() from error


def sweep_expired_calls(db: Database, now: datetime | None = None) -> int:
    """Delete call state rows left by an earlier version, which kept calls in the database."""
    with db.transaction() as session:
        result = session.execute(
            delete(CallSession).where(CallSession.expires_at < (now or datetime.now(UTC)))
        )
        return int(getattr(result, "rowcount", 0) or 0)
