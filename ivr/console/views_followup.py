"""Anonymous follow-up: the holder's question to the caller, and the caller's answers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from ivr.console import signed_in
from ivr.console.lookup import back_to
from ivr.console.lookup import report_by_reference as _report
from ivr.models.calls import RecordingJob
from ivr.models.followup import QUESTION_MAX_CHARS
from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.reports import followup
from ivr.services import services
from ivr.staff.permissions import Action

bp = Blueprint("followup", __name__, url_prefix="/console")


def followup_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's followup section (``console/_followup.html``) shows."""
    answers = []
    for answer in followup.answers_of(db_session, report.id):
        job = db_session.get(RecordingJob, answer.job_id)
        answers.append(
            {
                "stored": answer.stored,
                "audio_id": job.audio_id if job is not None else None,
                "question_id": answer.question_id,
            }
        )
    return {
        "followup_reference": followup.has_reference(db_session, report.id),
        "followup_questions": followup.questions_of(db_session, report.id),
        "followup_awaiting": followup.open_question(db_session, report.id),
        "followup_answers": answers,
        "followup_may_ask": followup.may_ask(report, user),
        "followup_may_end": user.role is Role.SUPERVISOR,
        "question_max": QUESTION_MAX_CHARS,
    }


@bp.post("/reports/<reference>/followup/question")
@signed_in(Action.EDIT_REPORT)
def ask(reference: str) -> ResponseReturnValue:
    """Put a question to the caller, who hears it when they call back with their reference."""
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            followup.ask(db_session, report, g.user, request.form.get("question", ""))
    except followup.FollowUpError as error:
        flash(str(error), "error")
        return back_to(reference)
    flash("The question awaits the caller.", "info")
    return back_to(reference)


@bp.post("/reports/<reference>/followup/end")
@signed_in(Action.REVIEW)
def end(reference: str) -> ResponseReturnValue:
    """Close the case to the caller: their reference stops working."""
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            followup.end_followup(db_session, report, g.user)
    except followup.FollowUpError as error:
        flash(str(error), "error")
        return back_to(reference)
    flash("The follow-up reference no longer works.", "info")
    return back_to(reference)
