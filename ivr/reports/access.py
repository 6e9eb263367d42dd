"""Who may open which report: need-to-know, not role alone.

A handler opens only the reports they hold or have worked on; a supervisor opens any.
Contact details, the one part of a report that names a caller who chose to be
contactable, go only to the report's holder and to supervisors. Every refusal is audited.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from ivr.models.audit import AuditEvent

# The audit actions that mean a person has worked on a report.
from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.reports.workflow import WORKABLE, holds

WORKED_ON = ("claim", "transcript_save", "submit", "reassign")


def may_open(session: Session, report: Report, user: User) -> bool:
    """True if ``user`` may read ``report`` and play its account of what happened."""
    if user.role is Role.SUPERVISOR:
        return True
    if user.role is not Role.HANDLER:
        return False
    if user.id in (report.claimed_by, report.submitted_by):
        return True
    worked = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.actor == user.name,
            AuditEvent.report_reference == report.reference,
            AuditEvent.action.in_(WORKED_ON),
        )
        .limit(1)
    )
    return worked is not None


def may_see_contact(report: Report, user: User) -> bool:
    """True if ``user`` may hear and read the contact details the caller left."""
    return user.role is Role.SUPERVISOR or holds(report, user)


def listed_for(user: User) -> ColumnElement[bool]:
    """The queue rows ``user`` may see: a handler, the waiting ones and their own."""
    if user.role is Role.SUPERVISOR:
        return true()
    return or_(
        and_(Report.claimed_by.is_(None), Report.status.in_(WORKABLE)),
        Report.claimed_by == user.id,
        Report.submitted_by == user.id,
    )
