"""The queue, a report's page, its audio, review and dissemination."""

from __future__ import annotations

from typing import NoReturn

from flask import (
    Blueprint,
    Response,
    abort,
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
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import audit
from ivr.casework import access, workflow
from ivr.casework.documents import Categories, as_pdf, as_text
from ivr.casework.sanitise import CHECKLIST
from ivr.console import signed_in
from ivr.console.playback import RangeNotSatisfiable, open_range
from ivr.crypto import day_keys
from ivr.crypto.keys import KeyServiceError, object_context
from ivr.mail import MailUnavailable
from ivr.models import AudioObject, Force, RecordingPart, Report, ReportStatus, Role, Urgency, User
from ivr.permissions import Action, can
from ivr.services import services

bp = Blueprint("reports", __name__, url_prefix="/console")


def _report(db_session: Session, reference: str) -> Report:
    report = db_session.scalars(select(Report).where(Report.reference == reference)).first()
    if report is None:
        abort(404)
    return report


def _categories() -> Categories:
    """The report categories of the published flow: one list, edited by the ops team."""
    return services().flows.current().flow.categories


def _back(reference: str) -> ResponseReturnValue:
    return redirect(url_for("reports.report_page", reference=reference), code=303)


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
        categories=_categories(),
        status=status or "",
        category=category or "",
    )


@bp.post("/take-next")
@signed_in(Action.CLAIM)
def take_next() -> ResponseReturnValue:
    reference = workflow.claim_next(services().db, g.user, services().config.claim_minutes)
    if reference is None:
        flash("No report is waiting.", "info")
        return redirect(url_for("reports.queue_page"), code=303)
    return _back(reference)


def _refuse(reference: str, what: str) -> NoReturn:
    """Refuse an access outside the user's need to know, and put it on the record."""
    with services().db.transaction() as db_session:
        audit.record(db_session, g.user.name, "access_refused", reference, what)
    abort(403)


def _need_to_know(reference: str, part: RecordingPart | None = None) -> None:
    """Refuse, on the record, unless this user may open the report (and this part of it)."""
    with services().db.reading() as db_session:
        report = _report(db_session, reference)
        allowed = access.may_open(db_session, report, g.user) and (
            part is not RecordingPart.CONTACT or access.may_see_contact(report, g.user)
        )
    if not allowed:
        _refuse(reference, f"play {part.value}" if part else "view")


@bp.get("/reports/<reference>")
@signed_in(Action.VIEW_REPORT)
def report_page(reference: str) -> ResponseReturnValue:
    _need_to_know(reference)
    with services().db.transaction() as db_session:
        report = _report(db_session, reference)
        audio = list(
            db_session.scalars(select(AudioObject).where(AudioObject.report_id == report.id))
        )
        forces = list(db_session.scalars(select(Force.name).order_by(Force.name)))
        users = list(
            db_session.scalars(
                select(User).where(User.role.in_((Role.HANDLER, Role.SUPERVISOR)), User.active)
            )
        )
        holder = db_session.get(User, report.claimed_by) if report.claimed_by else None
        show_contact = access.may_see_contact(report, g.user)
        audit.record(db_session, g.user.name, "view", report.reference)
    return render_template(
        "console/report.html",
        report=report,
        allowed=workflow.allowed(report, g.user),
        holder=holder,
        show_contact=show_contact,
        spoken=[a for a in audio if a.part is RecordingPart.REPORT],
        contact=[a for a in audio if a.part is RecordingPart.CONTACT] if show_contact else [],
        forces=forces,
        categories=_categories(),
        urgencies=list(Urgency),
        users=users,
        warnings=workflow.caller_details(report),
        checklist=CHECKLIST,
    )


@bp.post("/reports/<reference>/save")
@signed_in(Action.EDIT_REPORT)
def save(reference: str) -> ResponseReturnValue:
    """Save the handler's work; the page's script calls this to autosave."""
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.save(
                db_session, report, g.user, request.form.to_dict(), services().config.claim_minutes
            )
            found = workflow.caller_details(report)
    except workflow.WorkError as error:
        if wants_json:
            return jsonify(saved=False, error=str(error)), 409
        flash(str(error), "error")
        return _back(reference)
    if wants_json:
        return jsonify(saved=True, warnings=[f"{w.kind}: {w.text}" for w in found])
    flash("Saved.", "info")
    return _back(reference)


@bp.post("/reports/<reference>/submit")
@signed_in(Action.EDIT_REPORT)
def submit(reference: str) -> ResponseReturnValue:
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.submit(
                db_session,
                report,
                g.user,
                len(request.form.getlist("check")),
                request.form.get("warnings_reviewed") == "yes",
            )
    except workflow.WorkError as error:
        flash(str(error), "error")
        return _back(reference)
    flash(f"{reference} was sent for review.", "info")
    return redirect(url_for("reports.queue_page"), code=303)


@bp.post("/reports/<reference>/release")
@signed_in(Action.CLAIM)
def release(reference: str) -> ResponseReturnValue:
    to_id = request.form.get("to", "")
    with services().db.transaction() as db_session:
        report = _report(db_session, reference)
        target = db_session.get(User, int(to_id)) if to_id.isdigit() else None
        wanted = workflow.ReportAction.REASSIGN if target else workflow.ReportAction.RELEASE
        if wanted not in workflow.allowed(report, g.user):
            abort(403)
        try:
            workflow.release(db_session, report, g.user, target, services().config.claim_minutes)
        except workflow.WorkError as error:
            flash(str(error), "error")
    return _back(reference)


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
    return _back(reference)


@bp.post("/reports/<reference>/disseminate")
@signed_in(Action.DISSEMINATE)
def disseminate(reference: str) -> ResponseReturnValue:
    method = request.form.get("method", "")
    if method not in {"email", "pdf", "text"}:
        flash("Choose how to disseminate the report.", "error")
        return _back(reference)
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.record_dissemination(db_session, report, g.user, method)
            if method == "email":
                address = workflow.force_address(db_session, report.force or "")
                services().mailer.send(
                    address,
                    f"Intelligence report {report.reference}",
                    as_text(report, _categories()),
                    [(f"{report.reference}.pdf", "application/pdf", as_pdf(report, _categories()))],
                )
            body = (
                as_pdf(report, _categories())
                if method == "pdf"
                else as_text(report, _categories()).encode()
            )
    except workflow.WorkError as error:
        flash(str(error), "error")
        return _back(reference)
    except MailUnavailable as error:
        flash(f"The email could not be sent ({error}); nothing was recorded. Try again.", "error")
        return _back(reference)
    if method == "email":
        flash(f"{reference} was sent to the force's Counter Corruption Unit.", "info")
        return _back(reference)
    mime, suffix = (
        ("application/pdf", "pdf") if method == "pdf" else ("text/plain; charset=utf-8", "txt")
    )
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{reference}.{suffix}"'},
    )


@bp.get("/reports/<reference>/audio/<audio_id>")
@signed_in(Action.PLAY_AUDIO)
def audio(reference: str, audio_id: str) -> ResponseReturnValue:
    """Decrypt on the fly, honouring Range so the player can seek."""
    with services().db.reading() as db_session:
        found = db_session.get(AudioObject, audio_id)
        part = found.part if found is not None else None
    _need_to_know(reference, part)
    with services().db.transaction() as db_session:
        report = _report(db_session, reference)
        item = db_session.get(AudioObject, audio_id)
        if item is None or item.report_id != report.id:
            abort(404)
        name, chunk_size = item.object_name, item.chunk_size
        stored = day_keys.stored_key(db_session, item.id)  # sealed under its day's key
        # Bound into the wrapped key: a row moved to another report or part will not open.
        context = object_context(name, item.report_id, item.part.value)
        range_header = request.headers.get("Range")
        # The first access to each recording in a session is a play, whatever its range:
        # a range that skips byte 0 must not stream the file unaudited.
        played: list[str] = session.get("played", [])
        if audio_id not in played:
            audit.record(db_session, g.user.name, "play", report.reference, item.part.value)
            session["played"] = [*played, audio_id][-50:]
    try:
        key = services().key_unwrapper.unwrap(stored.wrapped(context), context)
    except KeyServiceError:
        with services().db.transaction() as db_session:
            audit.record(db_session, g.user.name, "audio_refused", reference, "key does not fit")
        return Response(
            "This recording was not stored for this report, or was altered: it is not played.",
            409,
            mimetype="text/plain",
        )
    try:
        playable = open_range(services().store, name, key, chunk_size, range_header)
    except RangeNotSatisfiable:
        return Response(status=416, headers={"Content-Range": "bytes */*"})
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(playable.end - playable.start + 1)}
    if playable.partial:
        headers["Content-Range"] = f"bytes {playable.start}-{playable.end}/{playable.size}"
    return Response(
        playable.body,
        status=206 if playable.partial else 200,
        mimetype="audio/wav",
        headers=headers,
        direct_passthrough=True,
    )
