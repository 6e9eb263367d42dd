"""Routing by language: which reports a person is offered, and which wait for a speaker.

As Amazon Connect routes a contact to an agent with its language as a skill, "Take
next" offers a handler only reports in the languages their account lists. A report of
unknown language (an old one, or a recording whose language was never known) is
offered to anyone: a person can tell by listening. Reports in a language fewer people
speak can wait while others are taken; once enough later reports have been taken, it is
flagged to supervisors, who can take it in any language or reassign it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ivr.models.reports import Report, ReportStatus
from ivr.models.staff import DEFAULT_LANGUAGES, Role, User
from ivr.platform.db import utcnow

_WORKABLE = (ReportStatus.QUEUED, ReportStatus.RETURNED)
_NOT_YET_WORK = (ReportStatus.AWAITING_AUDIO, ReportStatus.AUDIO_FAILED, ReportStatus.QUEUED)


def in_languages(tags: tuple[str, ...]) -> ColumnElement[bool]:
    """Reports in one of ``tags``, or of no known language."""
    return or_(Report.language.is_(None), Report.language.in_(tags))


def speaks(user: User, report: Report) -> bool:
    """True if ``report`` is in one of ``user``'s languages (or in none known)."""
    return report.language is None or report.language in user.language_tags


def may_take_any_language(user: User) -> bool:
    """Supervisors may take a report in any language (to translate, or to reassign)."""
    return user.role is Role.SUPERVISOR


def waiting_for_a_speaker(session: Session, after: int) -> list[tuple[Report, int]]:
    """Reports not in English, waiting unclaimed, that ``after`` later reports passed.

    Each comes with how many reports that arrived after it have been taken since; a
    report from an earlier day is listed whatever the count (it waited overnight).
    """
    waiting = list(
        session.scalars(
            select(Report)
            .where(
                Report.status.in_(_WORKABLE),
                Report.claimed_by.is_(None),
                Report.language.is_not(None),
                Report.language != DEFAULT_LANGUAGES,
            )
            .order_by(Report.received_on, Report.queue_position, Report.reference)
            .limit(50)
        )
    )
    found = []
    today = utcnow().date()
    for report in waiting:
        passed = session.scalar(
            select(func.count(Report.id)).where(
                or_(
                    Report.received_on > report.received_on,
                    and_(
                        Report.received_on == report.received_on,
                        Report.queue_position > (report.queue_position or 0),
                    ),
                ),
                or_(Report.claimed_by.is_not(None), Report.status.not_in(_NOT_YET_WORK)),
            )
        )
        if (passed or 0) >= after or report.received_on < today:
            found.append((report, passed or 0))
    return found
