"""A supervisor's part of a report: review, and dissemination to the force."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from ivr.casework import workflow
from ivr.casework.documents import as_pdf, as_text
from ivr.console import signed_in
from ivr.console.lookup import back_to, categories
from ivr.console.lookup import report_by_reference as _report
from ivr.mail import MailUnavailable
from ivr.models import Report, User
from ivr.permissions import Action
from ivr.services import services

bp = Blueprint("review", __name__, url_prefix="/console")


def supervisor_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's supervisor section (``console/_supervisor.html``) shows."""
    return {}


@bp.post("/reports/<reference>/review")
@signed_in(Action.REVIEW)
def review(reference: str) -> ResponseReturnValue:
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.review(
                db_session,
                report,
                g.user,
                request.form.get("decision") == "approve",
                request.form.get("comment", ""),
            )
    except workflow.WorkError as error:
        flash(str(error), "error")
    return back_to(reference)


@bp.post("/reports/<reference>/disseminate")
@signed_in(Action.DISSEMINATE)
def disseminate(reference: str) -> ResponseReturnValue:
    method = request.form.get("method", "")
    if method not in {"email", "pdf", "text"}:
        flash("Choose how to disseminate the report.", "error")
        return back_to(reference)
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.record_dissemination(db_session, report, g.user, method)
            if method == "email":
                address = workflow.force_address(db_session, report.force or "")
                services().mailer.send(
                    address,
                    f"Intelligence report {report.reference}",
                    as_text(report, categories()),
                    [(f"{report.reference}.pdf", "application/pdf", as_pdf(report, categories()))],
                )
            body = (
                as_pdf(report, categories())
                if method == "pdf"
                else as_text(report, categories()).encode()
            )
    except workflow.WorkError as error:
        flash(str(error), "error")
        return back_to(reference)
    except MailUnavailable as error:
        flash(f"The email could not be sent ({error}); nothing was recorded. Try again.", "error")
        return back_to(reference)
    if method == "email":
        flash(f"{reference} was sent to the force's Counter Corruption Unit.", "info")
        return back_to(reference)
    mime, suffix = (
        ("application/pdf", "pdf") if method == "pdf" else ("text/plain; charset=utf-8", "txt")
    )
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{reference}.{suffix}"'},
    )
