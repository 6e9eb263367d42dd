"""A supervisor's review: approve, return, and the thread of messages about a report.

Every decision and comment appends a message (author, day, text) to the report's
thread, which its handler and every supervisor read in order. Messages are report text:
they are destroyed with it (``ivr.reports.retention``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.models.reports import Dissemination, Report, ReportStatus
from ivr.models.review import MESSAGE_MAX_CHARS, MessageKind, ReviewMessage
from ivr.models.staff import Role, User
from ivr.platform.db import utcnow
from ivr.reports.status import move
from ivr.reports.workflow import WorkError, active, holds, return_to_author
from ivr.staff import audit


@dataclass(frozen=True)
class Message:
    """One message as people read it."""

    author: str
    on: date
    kind: MessageKind
    text: str


@dataclass(frozen=True)
class Sent:
    """One dissemination as a supervisor reads it: the day only, never a time."""

    on: date
    method: str
    by: str
    force: str
    delivery: str | None = None  # by email: "pending" (waits for the mail server) or "sent"


def _text(text: str, needed: bool) -> str:
    text = text.strip()
    if needed and not text:
        raise WorkError("say what needs changing when returning a report")
    if len(text) > MESSAGE_MAX_CHARS:
        raise WorkError(
            f"a message is at most {MESSAGE_MAX_CHARS} characters "
            f"(this one has {len(text)}): shorten it"
        )
    return text


def _append(session: Session, report: Report, author: User, kind: MessageKind, text: str) -> None:
    session.add(
        ReviewMessage(
            report_id=report.id, author_id=author.id, kind=kind, on=utcnow().date(), text=text
        )
    )


def _reviewable(report: Report, supervisor: User) -> None:
    if supervisor.role is not Role.SUPERVISOR:
        raise WorkError("only a supervisor reviews a report")
    if report.status is not ReportStatus.SUBMITTED:
        raise WorkError("only a submitted report can be reviewed")
    if report.submitted_by == supervisor.id:
        raise WorkError("a report is reviewed by someone other than the person who wrote it")


def approve(session: Session, report: Report, supervisor: User, comment: str = "") -> None:
    """Approve a submitted report for dissemination; a comment is optional."""
    _reviewable(report, supervisor)
    text = _text(comment, needed=False)
    move(session, report, ReportStatus.APPROVED, supervisor.name)
    _append(session, report, supervisor, MessageKind.APPROVE, text)


def send_back(session: Session, report: Report, supervisor: User, comment: str) -> None:
    """Return a submitted report to its handler, saying what needs changing."""
    _reviewable(report, supervisor)
    text = _text(comment, needed=True)
    move(session, report, ReportStatus.RETURNED, supervisor.name)
    return_to_author(report)  # to its author's "My reports", for nobody else to take
    # The comment stays with the report, and is destroyed with its text.
    _append(session, report, supervisor, MessageKind.RETURN, text)


def may_comment(report: Report, user: User) -> bool:
    """Supervisors, and the handler who holds or wrote the report, add to its thread."""
    return user.role is Role.SUPERVISOR or (
        user.role is Role.HANDLER and (holds(report, user) or report.submitted_by == user.id)
    )


def comment(session: Session, report: Report, user: User, text: str) -> None:
    """Add a message to the thread without changing the report."""
    if not may_comment(report, user):
        raise WorkError("only supervisors and the report's handler write in its thread")
    text = _text(text, needed=False)
    if not text:
        raise WorkError("write a message first")
    _append(session, report, user, MessageKind.COMMENT, text)
    active(report)
    audit.record(session, user.name, "review_comment", report.reference)


def thread(session: Session, report: Report) -> list[Message]:
    """The report's messages, oldest first."""
    rows = session.execute(
        select(ReviewMessage, User.name)
        .outerjoin(User, User.id == ReviewMessage.author_id)
        .where(ReviewMessage.report_id == report.id)
        .order_by(ReviewMessage.id)
    ).tuples()
    return [Message(name or "a supervisor", m.on, m.kind, m.text) for m, name in rows]


def forget_thread(session: Session, report: Report) -> None:
    """Destroy the report's messages (with the rest of its text, at the end of its life)."""
    session.execute(delete(ReviewMessage).where(ReviewMessage.report_id == report.id))


def disseminations(session: Session, report: Report) -> list[Sent]:
    """Every time the report went to a force, oldest first."""
    rows = session.execute(
        select(Dissemination, User.name)
        .join(User, User.id == Dissemination.user_id)
        .where(Dissemination.report_id == report.id)
        .order_by(Dissemination.id)
    ).tuples()
    return [Sent(d.on, d.method, name, d.force, d.delivery) for d, name in rows]
