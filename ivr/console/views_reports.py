"""A report's page: the handler's work on it, and its audio."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from ivr.console import signed_in
from ivr.console.lookup import back_to, categories
from ivr.console.lookup import report_by_reference as _report
from ivr.console.playback import RangeNotSatisfiable, open_range
from ivr.console.views_attachments import attachments_context
from ivr.console.views_followup import followup_context
from ivr.console.views_review import supervisor_context
from ivr.crypto import vault
from ivr.models.reports import AudioObject, Force, RecordingPart, Report, Urgency
from ivr.models.staff import Role, User
from ivr.reports import access, workflow
from ivr.reports.highlights import Highlight, highlights, paragraphs
from ivr.reports.sanitise import CHECKLIST
from ivr.services import services
from ivr.staff import audit
from ivr.staff.permissions import Action

bp = Blueprint("reports", __name__, url_prefix="/console")
F = TypeVar("F", bound=Callable[..., Any])


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


SIGNED_OUT = "You were signed out, so this was not saved."
CSRF_REFUSED = "This page had expired: reload it, then try again."


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _json_when_signed_out(view: F) -> F:
    """Answer the page's script with a JSON 401 once the session has ended, not a sign-in page.

    The script can then say so plainly and keep what was typed.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None and _wants_json():
            return jsonify(saved=False, signed_out=True, error=SIGNED_OUT), 401
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _csrf_refusal() -> ResponseReturnValue | None:
    """Check the CSRF token here, for routes exempt from the check made before every request.

    Those routes first tell a script that its session ended (a 401): the check made before
    every request would refuse first, since the token lives in the session.
    """
    try:
        current_app.extensions["csrf"].protect()
    except CSRFError:
        if _wants_json():
            return jsonify(saved=False, error=CSRF_REFUSED), 400
        raise
    return None


def _browser_offset(text: str, at: int) -> int:
    """Where ``at`` falls in ``text`` as a textarea holds it: "\\n" line ends, UTF-16 units."""
    return len(text[:at].replace("\r\n", "\n").encode("utf-16-le")) // 2


def _spans(report: Report, found: list[Highlight]) -> list[dict[str, object]]:
    """Each finding with its field and place, counted as the page's script counts."""
    spans: list[dict[str, object]] = []
    for item in found:
        text = getattr(report, item.field) or ""
        spans.append(
            {
                "kind": item.kind,
                "text": item.text,
                "label": item.label,
                "field": item.field,
                "start": _browser_offset(text, item.start),
                "end": _browser_offset(text, item.end),
            }
        )
    return spans


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
        # Each part of the page that has its own module gives its own context.
        parts = {
            **supervisor_context(db_session, report, g.user),
            **attachments_context(db_session, report, g.user),
            **followup_context(db_session, report, g.user),
        }
        found = highlights(report)
        spans = _spans(report, found)
    # A refused submission comes back with its ticks and its reasons, each beside its field.
    attempt = session.pop("submit_refused", None)
    if not isinstance(attempt, dict) or attempt.get("reference") != reference:
        attempt = {}
    reasons = {
        str(field): str(text)
        for field, text in attempt.get("reasons", [])
        if isinstance(field, str) and isinstance(text, str)
    }
    ticked = set(attempt.get("ticked", []))
    reviewed = bool(attempt.get("reviewed"))
    return render_template(
        "console/report.html",
        **parts,
        report=report,
        allowed=workflow.allowed(report, g.user),
        holder=holder,
        show_contact=show_contact,
        spoken=[a for a in audio if a.part is RecordingPart.REPORT],
        contact=[a for a in audio if a.part is RecordingPart.CONTACT] if show_contact else [],
        forces=forces,
        categories=categories(),
        urgencies=list(Urgency),
        users=users,
        warnings=found,
        spans=spans,
        paragraphs=paragraphs(
            report.transcript or "", [h for h in found if h.field == "transcript"]
        ),
        checklist=CHECKLIST,
        idle_seconds=services().config.session_idle_minutes * 60,
        submit_error=attempt.get("error", ""),
        reasons=reasons,
        ticked=ticked,
        reviewed=reviewed,
        blockers=_blockers(report, found, len(ticked), reviewed),
    )


def _blockers(
    report: Report, found: list[Highlight], ticked: int, reviewed: bool
) -> list[tuple[str, str]]:
    """What still stands between the report as saved and its submission: (field id, what to
    do), as the status strip lists them (report.js keeps the list current as the handler works)."""
    blockers = workflow.missing(report)
    if ticked < len(CHECKLIST):
        blockers.append(("checks", f"Tick the {len(CHECKLIST)} checks"))
    if found and not reviewed:
        blockers.append(("warnings-reviewed", "Confirm the highlights"))
    return blockers


@bp.post("/reports/<reference>/save")
@_json_when_signed_out
@signed_in(Action.EDIT_REPORT)
def save(reference: str) -> ResponseReturnValue:
    """Save the handler's work; the page's script calls this to autosave (and as a beacon)."""
    refused = _csrf_refusal()
    if refused is not None:
        return refused
    wants_json = _wants_json()
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.save(db_session, report, g.user, request.form.to_dict())
            found = highlights(report)
            spans = _spans(report, found)
    except workflow.WorkError as error:
        if wants_json:
            return jsonify(saved=False, error=str(error)), 409
        flash(str(error), "error")
        return back_to(reference)
    if wants_json:
        return jsonify(saved=True, warnings=[w.label for w in found], highlights=spans)
    flash("Saved.", "info")
    return back_to(reference)


@bp.post("/keep-alive")
@_json_when_signed_out
@signed_in()
def keep_alive() -> ResponseReturnValue:
    """Keep the session: the handler pressed "Stay signed in" (any request renews it)."""
    refused = _csrf_refusal()
    if refused is not None:
        return refused
    return jsonify(signed_in=True, idle_seconds=services().config.session_idle_minutes * 60)


@bp.record_once
def _check_csrf_in_view(state: BlueprintSetupState) -> None:
    csrf = state.app.extensions["csrf"]
    csrf.exempt(save)
    csrf.exempt(keep_alive)


@bp.post("/reports/<reference>/submit")
@signed_in(Action.EDIT_REPORT)
def submit(reference: str) -> ResponseReturnValue:
    ticked = request.form.getlist("check")
    reviewed = request.form.get("warnings_reviewed") == "yes"
    try:
        with services().db.transaction() as db_session:
            report = _report(db_session, reference)
            workflow.submit(db_session, report, g.user, len(ticked), reviewed)
    except workflow.WorkError as error:
        reasons = error.reasons if isinstance(error, workflow.SubmitRefused) else []
        session["submit_refused"] = {
            "reference": reference,
            "error": str(error),
            "reasons": reasons,
            "ticked": ticked[: len(CHECKLIST)],
            "reviewed": reviewed,
        }
        # Back to the reasons, at the top of the form (the page's script focuses them), not
        # to the top of the page with the reasons out of view.
        return redirect(
            url_for("reports.report_page", reference=reference, _anchor="error-summary"), code=303
        )
    flash(f"{reference} was sent for review.", "info")
    return redirect(url_for("queue.queue_page"), code=303)


@bp.post("/reports/<reference>/release")
@signed_in(Action.CLAIM)
def release(reference: str) -> ResponseReturnValue:
    to_id = request.form.get("to", "")
    with services().db.transaction() as db_session:
        report = _report(db_session, reference)
        target = db_session.get(User, int(to_id)) if to_id.isascii() and to_id.isdigit() else None
        wanted = workflow.ReportAction.REASSIGN if target else workflow.ReportAction.RELEASE
        if wanted not in workflow.allowed(report, g.user):
            abort(403)
        try:
            workflow.release(db_session, report, g.user, target)
        except workflow.WorkError as error:
            flash(str(error), "error")
    return back_to(reference)


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
        # The first access to each recording in a session is a play, whatever its range:
        # a range that skips byte 0 must not stream the file unaudited.
        played: list[str] = session.get("played", [])
        if audio_id not in played:
            audit.record(db_session, g.user.name, "play", report.reference, item.part.value)
            session["played"] = [*played, audio_id][-50:]
        try:
            opened = vault.open(db_session, services().store, services().key_unwrapper, item)
        except vault.Unopenable:
            opened = None
    if opened is None:
        with services().db.transaction() as db_session:
            audit.record(db_session, g.user.name, "audio_refused", reference, "key does not fit")
        return Response(
            "This recording was not stored for this report, or was altered: it is not played.",
            409,
            mimetype="text/plain",
        )
    try:
        playable = open_range(opened, request.headers.get("Range"))
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
