"""A report's status, moved only here: which changes are allowed, and what each one records.

Every status write is ``move()``: it checks the change against ``TRANSITIONS``, notes
the day (and only the day) of the report's last activity, from which retention counts,
and writes the change's audit event in the caller's transaction. A change on the phone
side (a recording stored or parked, a follow-up answer) writes no event: the edge holds
no audit key, and its database role may not write the trail.

A report waits for its audio (or is parked as "audio failed"), is queued, written up,
submitted, approved or returned, and disseminated; retention closes it from any status.
New material queues it again from any later status: a late recording of it is stored,
or the caller answers a follow-up question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

from sqlalchemy.orm import Session

from ivr.models.reports import Report, ReportStatus
from ivr.models.stats import NOT_TIMED, StatEvent
from ivr.platform.db import utcnow
from ivr.staff import audit
from ivr.stats import counters

# Every report is created waiting for its audio (an online report too: it is queued at
# once, in the same transaction, as a call's is once its audio is safe).
INITIAL = ReportStatus.AWAITING_AUDIO

_S = ReportStatus
# Retention may close a report in any status but closed.
_CLOSABLE = frozenset({_S.CLOSED})
TRANSITIONS: Mapping[ReportStatus, frozenset[ReportStatus]] = {
    # Every recording dealt with; a recording's job parked.
    _S.AWAITING_AUDIO: frozenset({_S.QUEUED, _S.AUDIO_FAILED}) | _CLOSABLE,
    # Every parked job retried; or every job finished after all.
    _S.AUDIO_FAILED: frozenset({_S.AWAITING_AUDIO, _S.QUEUED}) | _CLOSABLE,
    # A later recording of a queued report queues it again, in the same place.
    _S.QUEUED: frozenset({_S.QUEUED, _S.SUBMITTED}) | _CLOSABLE,
    _S.RETURNED: frozenset({_S.QUEUED, _S.SUBMITTED}) | _CLOSABLE,
    _S.SUBMITTED: frozenset({_S.APPROVED, _S.RETURNED, _S.QUEUED}) | _CLOSABLE,
    _S.APPROVED: frozenset({_S.DISSEMINATED, _S.QUEUED}) | _CLOSABLE,
    # Sent again, once confirmed: a second dissemination keeps the first one's day.
    _S.DISSEMINATED: frozenset({_S.DISSEMINATED, _S.QUEUED}) | _CLOSABLE,
    _S.CLOSED: frozenset(),
}


class WorkError(ValueError):
    """A rule of the workflow stopped the action: the message says which."""


class TransitionRefused(WorkError):
    """The report cannot move from its status to the one asked for."""


@dataclass(frozen=True)
class _Effect:
    audit_action: str | None  # None: a phone-side change, which writes no audit event
    activity: bool  # counts as a day of activity, from which retention counts


def _effect(to: ReportStatus) -> _Effect:
    match to:
        case ReportStatus.AWAITING_AUDIO | ReportStatus.AUDIO_FAILED | ReportStatus.QUEUED:
            return _Effect(None, activity=True)
        case ReportStatus.SUBMITTED:
            return _Effect("submit", activity=True)
        case ReportStatus.RETURNED:
            return _Effect("return", activity=True)
        case ReportStatus.APPROVED:
            return _Effect("approve", activity=True)
        case ReportStatus.DISSEMINATED:
            return _Effect("disseminate", activity=True)
        case ReportStatus.CLOSED:
            # The end of retention is no one's work on it: nothing counts from it any more.
            return _Effect("purge_text", activity=False)
        case _:
            assert_never(to)


def _label(status: ReportStatus) -> str:
    return status.value.replace("_", " ")


def _count(session: Session, report: Report, to: ReportStatus) -> None:
    """Add the move to the service's figures, in its own transaction, before the report goes.

    Only the console's moves are counted here (the edge's queueing is counted where the
    report is first queued); a resend is not a second dissemination.
    """
    today = utcnow().date()
    match to:
        case ReportStatus.SUBMITTED | ReportStatus.RETURNED | ReportStatus.APPROVED:
            counted, days = StatEvent(to.value), NOT_TIMED
        case ReportStatus.DISSEMINATED if report.status is ReportStatus.APPROVED:
            counted, days = StatEvent.DISSEMINATED, (today - report.received_on).days
        # A report that was received (queued) and never sent; not one whose audio never came.
        case ReportStatus.CLOSED if (
            report.disseminated_on is None and report.queue_position is not None
        ):
            counted, days = StatEvent.DESTROYED_UNSENT, NOT_TIMED
        case _:
            return
    counters.count_report(session, counted, report, today, handlers_choices=True, days=days)


def check(report: Report, to: ReportStatus) -> None:
    """Refuse, changing nothing, a move the table does not allow."""
    if to not in TRANSITIONS[report.status]:
        raise TransitionRefused(
            f"a report that is {_label(report.status)} cannot become {_label(to)}"
        )


def move(
    session: Session, report: Report, to: ReportStatus, actor: str | None, detail: str = ""
) -> None:
    """Move ``report`` to ``to``, noting the day and auditing it as the change requires.

    ``actor`` names the person (or ``(retention)``) in the audit event; the phone side,
    which writes none, passes None.
    """
    check(report, to)
    effect = _effect(to)
    action = effect.audit_action
    if action is not None and actor is None:
        raise ValueError(f"moving a report to {_label(to)} is audited: name who does it")
    _count(session, report, to)
    report.status = to
    if effect.activity:
        report.last_active_on = utcnow().date()
    if action is not None and actor is not None:
        audit.record(session, actor, action, report.reference, detail)
