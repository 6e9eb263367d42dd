"""The follow-up state a queue row shows, for many reports at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models.followup import FollowUpAnswer, FollowUpQuestion


def queue_flags(session: Session, report_ids: list[str]) -> dict[str, str]:
    """For the queue: "awaiting caller" while a question is open, "caller answered" once an
    answer is stored and no question is open."""
    if not report_ids:
        return {}
    waiting = set(
        session.scalars(
            select(FollowUpQuestion.report_id).where(
                FollowUpQuestion.report_id.in_(report_ids), FollowUpQuestion.answered_on.is_(None)
            )
        )
    )
    answered = set(
        session.scalars(
            select(FollowUpAnswer.report_id).where(
                FollowUpAnswer.report_id.in_(report_ids), FollowUpAnswer.stored
            )
        )
    )
    flags = {report_id: "caller answered" for report_id in answered - waiting}
    return flags | {report_id: "awaiting caller" for report_id in waiting}
