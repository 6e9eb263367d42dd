"""A supervisor's part of a report: review, its thread, and dissemination to the force."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from ivr.console import signed_in
from ivr.console.lookup import back_to, categories
from ivr.console.lookup import report_by_reference as _report
from ivr.models.reports import Force, Report
from ivr.models.review import MESSAGE_MAX_CHARS
from ivr.models.staff import User
from ivr.reports import review, workflow
from ivr.reports.documents import as_pdf, as_text
from ivr.services import services
from ivr.staff.permissions import Action

bp = Blueprint("review", __name__, url_prefix="/console")

METHODS = {"email": "by email", "pdf": "as a PDF download", "text": "as a text download"}


def supervisor_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's supervisor section (``console/_supervisor.html``) shows."""
    force = db_session.get(Force, report.force) if report.force else None
    return {
        "thread": review.thread(db_session, report),
        "may_comment": review.may_comment(report, user),
        "message_max": MESSAGE_MAX_CHARS,
        "sent": review.disseminations(db_session, report),
        "methods": METHODS,
        "ccu_address": force.ccu_email if force else None,
        # Once disseminated, a download is a copy (workflow.is_copy): no confirmation needed.
        "downloads_are_copies": workflow.is_copy(report, "pdf"),
    }


@bp.post("/reports/<reference>/review")
@signed_in(Action.REVIEW)
def decide(reference: str) -> ResponseReturnValue:
    """Approve or return: two forms on the page, each naming its decision."""
    decision = request.form.get("decision")
    if decision not in {"approve", "return"}:
        flash("Choose to approve the report or to return it.", "error")
        return back_to(reference)
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            comment = request.form.get("comment", "")
            if decision == "approve":
                review.approve(db_session, report, g.user, comment)
            else:
                review.send_back(db_session, report, g.user, comment)
    except workflow.WorkError as error:
        flash(str(error), "error")
        return back_to(reference)
    flash(
        f"{reference} is approved: it can now be disseminated."
        if decision == "approve"
        else f"{reference} is back in the queue for its handler, with your message.",
        "info",
    )
    return back_to(reference)


@bp.post("/reports/<reference>/comment")
@signed_in(Action.VIEW_REPORT)
def comment(reference: str) -> ResponseReturnValue:
    """Add a message to the report's review thread."""
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            review.comment(db_session, report, g.user, request.form.get("text", ""))
    except workflow.WorkError as error:
        flash(str(error), "error")
        return back_to(reference)
    flash("Your message was added to the thread.", "info")
    return back_to(reference)


@bp.post("/reports/<reference>/disseminate")
@signed_in(Action.DISSEMINATE)
def disseminate(reference: str) -> ResponseReturnValue:
    method = request.form.get("method", "")
    if method not in METHODS:
        flash("Choose how to disseminate the report.", "error")
        return back_to(reference)
    again = request.form.get("again") == "yes"
    marking = services().config.protective_marking
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            address = ""
            if method == "email":
                address = workflow.force_address(db_session, report.force or "")
            # A download of a report already disseminated is a copy: audited, nothing sent.
            sent = workflow.disseminate(db_session, report, g.user, method, again)
            sent_id = sent.id if sent is not None else 0
            body = b""
            if method != "email":
                body = (
                    as_pdf(report, categories(), marking)
                    if method == "pdf"
                    else as_text(report, categories(), marking).encode()
                )
    except workflow.WorkError as error:
        flash(str(error), "error")
        return back_to(reference)
    if method == "email":
        # Recorded first, sent after: a mail server that is down delays the email, it
        # never loses it (the console's outbox sends it the moment the server answers).
        if services().outbox.send(sent_id):
            flash(
                f"{reference} was sent to the force's Counter Corruption Unit at {address}.", "info"
            )
        else:
            flash(
                f"The mail server is not answering: the email to {address} is queued and will "
                "be sent as soon as it answers. It shows as pending below until then.",
                "info",
            )
        return back_to(reference)
    mime, suffix = (
        ("application/pdf", "pdf") if method == "pdf" else ("text/plain; charset=utf-8", "txt")
    )
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{reference}.{suffix}"'},
    )
