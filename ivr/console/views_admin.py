"""Users (admins) and the audit trail (supervisors and admins)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr import audit
from ivr.accounts import AccountError, add_user, new_enrolment, set_active, sign_out_everywhere
from ivr.anchors import AnchorUnavailable
from ivr.console import signed_in
from ivr.models import Role, User
from ivr.permissions import Action
from ivr.services import services

bp = Blueprint("admin", __name__, url_prefix="/console")


def enrolment_url(token: str) -> str:
    return url_for("auth.enrol", token=token, _external=True)


@bp.get("/users")
@signed_in(Action.MANAGE_USERS)
def users_page() -> ResponseReturnValue:
    with services().db.transaction() as db_session:
        users = list(db_session.scalars(select(User).order_by(User.name)))
    return render_template("console/users.html", users=users, roles=list(Role))


@bp.post("/users")
@signed_in(Action.MANAGE_USERS)
def add() -> ResponseReturnValue:
    try:
        role = Role(request.form.get("role", ""))
        with services().db.transaction() as db_session:
            enrolment = add_user(db_session, request.form.get("name", ""), role, g.user.name)
    except ValueError as error:
        message = str(error) if isinstance(error, AccountError) else "choose a role from the list"
        flash(message, "error")
        return redirect(url_for("admin.users_page"), code=303)
    flash(
        f"Send this one-time enrolment link to {enrolment.name} by a trusted route: "
        f"{enrolment_url(enrolment.token)}",
        "info",
    )
    return redirect(url_for("admin.users_page"), code=303)


@bp.post("/users/<int:user_id>/<change>")
@signed_in(Action.MANAGE_USERS)
def change(user_id: int, change: str) -> ResponseReturnValue:
    with services().db.transaction() as db_session:
        user = db_session.get(User, user_id)
        if user is None or change not in {"sign-out", "re-enrol", "disable", "enable"}:
            flash("No such user or change.", "error")
            return redirect(url_for("admin.users_page"), code=303)
        if change == "sign-out":
            sign_out_everywhere(db_session, user, g.user.name)
            flash(f"{user.name} is signed out everywhere.", "info")
        elif change == "re-enrol":
            enrolment = new_enrolment(db_session, user, g.user.name)
            flash(
                f"New one-time enrolment link for {user.name}: {enrolment_url(enrolment.token)}",
                "info",
            )
        else:
            set_active(db_session, user, change == "enable", g.user.name)
            flash(f"{user.name} is {'enabled' if user.active else 'disabled'}.", "info")
    return redirect(url_for("admin.users_page"), code=303)


@bp.get("/audit")
@signed_in(Action.VIEW_AUDIT)
def audit_page() -> ResponseReturnValue:
    wanted = {k: request.args.get(k, "") for k in ("actor", "action", "report")}
    if request.args.get("export") == "csv":
        with services().db.transaction() as db_session:
            rows = audit.events(db_session, wanted["actor"], wanted["action"], wanted["report"])
            audit.record(db_session, g.user.name, "audit_export")
            return Response(
                audit.as_csv(rows),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
            )
    with services().db.reading() as db_session:
        rows = audit.events(db_session, wanted["actor"], wanted["action"], wanted["report"])
    built = services()
    try:
        verdict = built.audit_trail.verify(since=built.audit_checkpoint)
        built.audit_trail.anchor_if_due()
    except AnchorUnavailable as error:
        verdict = audit.Verdict(False, 0, reason=f"the anchors cannot be read ({error})")
    if verdict.ok:
        # The next look walks only what was written since this one.
        built.audit_checkpoint = verdict.checkpoint
    return render_template("console/audit.html", rows=rows, verdict=verdict, **wanted)
