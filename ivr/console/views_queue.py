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
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.console import signed_in
from ivr.console.labels import age_label, channel_label, language_label
from ivr.console.lookup import back_to, categories, report_by_reference
from ivr.crypto.keys import KeyServiceError
from ivr.models.reports import Report, ReportStatus, Urgency
from ivr.models.review import MessageKind, ReviewMessage
from ivr.models.staff import Role, User
from ivr.reports import access, online, routing, workflow
from ivr.reports.followup_flags import queue_flags
from ivr.services import services
from ivr.staff.permissions import Action, can

bp = Blueprint("queue", __name__, url_prefix="/console")
for _label in (age_label, channel_label, language_label):
    bp.add_app_template_filter(_label)

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


def _language_filter(wanted: str) -> ColumnElement[bool] | None:
    """The reports the language filter keeps: "mine" (the user's languages) or one tag."""
    if wanted == "mine":
        return routing.in_languages(g.user.language_tags)
    if wanted in workflow.LANGUAGES:
        return Report.language == wanted
    if wanted:
        flash("That language is not one the queue knows.", "error")
    return None


def _queue_view() -> dict[str, Any]:
    """What the queue shows for the request's filters: the page and its live updates alike."""
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    language = request.args.get("language", "")
    mine = request.args.get("mine") == "1"
    try:
        wanted = ReportStatus(status) if status else None
    except ValueError:
        flash("That status is not one the queue knows.", "error")
        wanted = None
    visible = access.listed_for(g.user)
    if mine:
        visible = and_(visible, workflow.held_by(g.user))
    spoken = _language_filter(language)
    if spoken is not None:
        visible = and_(visible, spoken)
    supervisor = can(g.user.role, Action.REVIEW)
    with services().db.reading() as db_session:
        reports = workflow.queue(db_session, wanted, category, visible)
        if mine:  # what came back to be mended comes first, as a ticket reopened would
            reports.sort(key=lambda r: r.status is not ReportStatus.RETURNED)
        # The urgent list ignores the filters: a risk to life is never filtered away.
        filtered = wanted or category or mine or spoken is not None
        everything = reports if not filtered else None
        if everything is None:
            everything = workflow.queue(db_session, None, None, access.listed_for(g.user))
        urgent = [r for r in everything if r.urgency is Urgency.RISK_TO_LIFE]
        names = {u.id: u.name for u in db_session.scalars(select(User))}
        # Supervisors see the reports whose audio could not be stored, and why.
        failed = workflow.audio_failures(db_session) if supervisor else []
        # ... and the reports in a language nobody taking work speaks, waiting.
        unattended = (
            routing.waiting_for_a_speaker(db_session, services().config.language_wait_alert_after)
            if supervisor
            else []
        )
        takeable = {r.reference for r in reports if workflow.takeable(r, g.user)}
        # Free, but not in this user's languages: the row says who it waits for.
        for_others = {r.reference for r in reports if workflow.takeable(r)} - takeable
        holders = {r.reference: names.get(r.claimed_by or 0) for r in reports if _held(r)}
        comments = _return_comments(db_session, [r for r in reports if _held(r)])
        follow_ups = queue_flags(db_session, [r.id for r in reports])
    return {
        "reports": reports,
        "urgent": urgent,
        "unattended": unattended,
        "failed": failed,
        "names": names,
        "holders": holders,
        "comments": comments,
        "takeable": takeable if can(g.user.role, Action.CLAIM) else set(),
        "for_others": for_others,
        "supervisor": supervisor,
        "statuses": list(ReportStatus),
        "categories": categories(),
        "languages": workflow.LANGUAGES,
        "status": status or "",
        "category": category or "",
        "language": language,
        "mine": mine,
        "follow_ups": follow_ups,
    }


def _held(report: Report) -> bool:
    """True while someone holds ``report`` (a lapsed claim is nobody's)."""
    return report.claimed_by is not None and not workflow.takeable(report)


def _return_comments(db_session: Session, reports: list[Report]) -> dict[str, str]:
    """The supervisor's last word on each returned report: what needs changing."""
    returned = {r.id: r.reference for r in reports if r.status is ReportStatus.RETURNED}
    if not returned:
        return {}
    rows = db_session.execute(
        select(ReviewMessage.report_id, ReviewMessage.text)
        .where(ReviewMessage.report_id.in_(returned), ReviewMessage.kind == MessageKind.RETURN)
        .order_by(ReviewMessage.id)
    ).tuples()
    return {returned[report_id]: text for report_id, text in rows}  # the last one wins


@bp.app_context_processor
def _returned_to_me() -> dict[str, int]:
    """How many reports came back to the signed-in user: the navigation shows the count."""
    user = g.get("user")
    if user is None or not can(user.role, Action.CLAIM):
        return {}
    try:
        with services().db.reading() as db_session:
            count = db_session.scalar(
                select(func.count(Report.id)).where(
                    Report.claimed_by == user.id, Report.status == ReportStatus.RETURNED
                )
            )
    except SQLAlchemyError:
        return {}  # the page saying the database is down must still render: no count
    return {"returned_to_me": count or 0}


@bp.get("/")
@signed_in()
def queue_page() -> ResponseReturnValue:
    if g.user.role is Role.ADMIN:
        return redirect(url_for("admin.users_page"))
    if g.user.role is Role.OPS:
        return redirect(url_for("flows.overview"))
    if g.user.role is Role.MANAGER:
        return redirect(url_for("stats.statistics_page"))
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
        urgent_count=len(view["urgent"]) + len(view["unattended"]),
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
    """Claim the oldest report in the user's languages (a supervisor's: in any, if asked)."""
    any_language = request.form.get("any_language") == "1"
    try:
        reference = workflow.claim_next(services().db, g.user, any_language=any_language)
    except workflow.WorkError as error:
        flash(str(error), "error")
        return redirect(url_for("queue.queue_page"), code=303)
    if reference is None:
        spoken = " or ".join(workflow.language_name(t) for t in g.user.language_tags)
        flash(
            "No report is waiting." if any_language else f"No report in {spoken} is waiting.",
            "info",
        )
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
