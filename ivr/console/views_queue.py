"""The queue: what is waiting, and taking the next report."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr.casework import access, workflow
from ivr.console import signed_in
from ivr.console.lookup import back_to, categories
from ivr.models import ReportStatus, Role, Urgency, User
from ivr.permissions import Action, can
from ivr.services import services

bp = Blueprint("queue", __name__, url_prefix="/console")


@bp.get("/")
@signed_in()
def queue_page() -> ResponseReturnValue:
    if g.user.role is Role.ADMIN:
        return redirect(url_for("admin.users_page"))
    if g.user.role is Role.OPS:
        return redirect(url_for("flows.overview"))
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    try:
        wanted = ReportStatus(status) if status else None
    except ValueError:
        flash("That status is not one the queue knows.", "error")
        wanted = None
    with services().db.transaction() as db_session:
        reports = workflow.queue(db_session, wanted, category, access.listed_for(g.user))
        urgent = [
            r
            for r in reports
            if r.urgency is Urgency.RISK_TO_LIFE and r.status is not ReportStatus.DISSEMINATED
        ]
        names = {u.id: u.name for u in db_session.scalars(select(User))}
        # Supervisors see the reports whose audio could not be stored, and why.
        failed = workflow.audio_failures(db_session) if can(g.user.role, Action.REVIEW) else []
    return render_template(
        "console/queue.html",
        reports=reports,
        urgent=urgent,
        failed=failed,
        names=names,
        statuses=list(ReportStatus),
        categories=categories(),
        status=status or "",
        category=category or "",
    )


@bp.post("/take-next")
@signed_in(Action.CLAIM)
def take_next() -> ResponseReturnValue:
    reference = workflow.claim_next(services().db, g.user, services().config.claim_minutes)
    if reference is None:
        flash("No report is waiting.", "info")
        return redirect(url_for("queue.queue_page"), code=303)
    return back_to(reference)
