"""The queue: what is waiting, taking a report, my reports, search, and the live view."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, select

from ivr.console import signed_in
from ivr.console.lookup import back_to, categories, report_by_reference
from ivr.crypto.keys import KeyServiceError
from ivr.models.reports import ReportStatus, Urgency
from ivr.models.staff import Role, User
from ivr.reports import access, online, workflow
from ivr.reports.followup_flags import queue_flags
from ivr.services import services
from ivr.staff.permissions import Action, can

bp = Blueprint("queue", __name__, url_prefix="/console")

# How often the queue page asks for changes (milliseconds): a risk to life must reach
# every supervisor within 5 s, so well under that, even on a busy machine.
POLL_MS = 2000


@bp.before_app_request
def _keep_idle_clock() -> None:
    """Remember when the user was last active before the live queue's poll asks.

    A poll is the page, not a person: it must not keep an idle session alive. This runs
    before ``load_user`` (the console registers its blueprints first), which restarts
    the idle clock on every request; ``live`` puts the clock back.
    """
    if request.endpoint == "queue.live":
        g.seen_before_poll = session.get("seen")


def _queue_view() -> dict[str, Any]:
    """What the queue shows for the request's filters: the page and its live updates alike."""
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    mine = request.args.get("mine") == "1"
    try:
        wanted = ReportStatus(status) if status else None
    except ValueError:
        flash("That status is not one the queue knows.", "error")
        wanted = None
    visible = access.listed_for(g.user)
    if mine:
        visible = and_(visible, workflow.held_by(g.user))
    with services().db.reading() as db_session:
        reports = workflow.queue(db_session, wanted, category, visible)
        # The urgent list ignores the filters: a risk to life is never filtered away.
        everything = reports if not (wanted or category or mine) else None
        if everything is None:
            everything = workflow.queue(db_session, None, None, access.listed_for(g.user))
        urgent = [r for r in everything if r.urgency is Urgency.RISK_TO_LIFE]
        names = {u.id: u.name for u in db_session.scalars(select(User))}
        # Supervisors see the reports whose audio could not be stored, and why.
        failed = workflow.audio_failures(db_session) if can(g.user.role, Action.REVIEW) else []
        takeable = {r.reference for r in reports if workflow.takeable(r)}
        follow_ups = queue_flags(db_session, [r.id for r in reports])
    return {
        "reports": reports,
        "urgent": urgent,
        "failed": failed,
        "names": names,
        "takeable": takeable if can(g.user.role, Action.CLAIM) else set(),
        "statuses": list(ReportStatus),
        "categories": categories(),
        "status": status or "",
        "category": category or "",
        "mine": mine,
        "follow_ups": follow_ups,
    }


@bp.get("/")
@signed_in()
def queue_page() -> ResponseReturnValue:
    if g.user.role is Role.ADMIN:
        return redirect(url_for("admin.users_page"))
    if g.user.role is Role.OPS:
        return redirect(url_for("flows.overview"))
    return render_template("console/queue.html", poll_ms=POLL_MS, **_queue_view())


@bp.get("/queue/live")
@signed_in(Action.VIEW_QUEUE)
def live() -> ResponseReturnValue:
    """The queue's changing parts, rendered, for the page to swap in without a reload."""
    if "seen_before_poll" in g and g.seen_before_poll is not None:
        session["seen"] = g.seen_before_poll
    view = _queue_view()
    return jsonify(
        urgent=render_template("console/_queue_urgent.html", **view),
        rows=render_template("console/_queue_rows.html", **view),
        urgent_count=len(view["urgent"]),
    )


@bp.get("/find")
@signed_in(Action.VIEW_QUEUE)
def find() -> ResponseReturnValue:
    """Search by reference: an exact reference opens that report (if the user may)."""
    text = request.args.get("reference", "")
    with services().db.reading() as db_session:
        reference = workflow.find_reference(db_session, text)
    if reference is None:
        flash(f"No report has the reference {text.strip()!r}. Check it and try again.", "error")
        return redirect(url_for("queue.queue_page"), code=303)
    # The report page applies need-to-know, and audits a refusal.
    return back_to(reference)


@bp.post("/take-next")
@signed_in(Action.CLAIM)
def take_next() -> ResponseReturnValue:
    reference = workflow.claim_next(services().db, g.user)
    if reference is None:
        flash("No report is waiting.", "info")
        return redirect(url_for("queue.queue_page"), code=303)
    _start_work(reference)
    return back_to(reference)


@bp.post("/reports/<reference>/take")
@signed_in(Action.CLAIM)
def take(reference: str) -> ResponseReturnValue:
    """Take the report chosen in the queue; if someone was quicker, say so."""
    try:
        workflow.take(services().db, g.user, reference)
    except workflow.WorkError as error:
        flash(str(error), "error")
        return redirect(url_for("queue.queue_page"), code=303)
    _start_work(reference)
    return back_to(reference)


def _start_work(reference: str) -> None:
    """Start the taken report's transcript from what its sender wrote online, if it was."""
    built = services()
    try:
        with built.db.transaction() as db_session:
            report = report_by_reference(db_session, reference)
            online.fill_from_answers(
                db_session, built.store, built.key_unwrapper, report, g.user.name
            )
    except (KeyServiceError, FileNotFoundError):
        # Taken all the same: its page says the words cannot be opened, and the next
        # take tries again (nothing was copied, so nothing is marked as copied).
        pass
