"""Users (admins) and the audit trail (supervisors and admins)."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr.console import signed_in
from ivr.models.staff import Role, User
from ivr.outside.anchors import AnchorUnavailable
from ivr.platform.db import utcnow
from ivr.reports import audit_search, workflow
from ivr.services import services
from ivr.staff import audit
from ivr.staff.accounts import (
    AccountError,
    Enrolment,
    add_user,
    enrolment_link,
    new_enrolment,
    set_active,
    set_languages,
    sign_out_everywhere,
    unlock,
)
from ivr.staff.permissions import Action

bp = Blueprint("admin", __name__, url_prefix="/console")

CHANGES = {"sign-out", "re-enrol", "disable", "enable", "unlock"}
# Changes that end someone's access: each asks "are you sure?" on its own page first, and
# none is done to the admin's own account (another admin does that, so nobody locks
# themself out of the console).
ENDS_ACCESS = {
    "sign-out": (
        "Sign {name} out everywhere?",
        "Every browser {name} is signed in on is signed out at once; they can sign in again.",
        "Sign out everywhere",
    ),
    "re-enrol": (
        "Re-issue the enrolment link for {name}?",
        "Their password and authenticator stop working now, and any link sent before no "
        "longer works: they must enrol again with the new link.",
        "Re-issue link",
    ),
    "disable": (
        "Disable {name}'s account?",
        "They are signed out everywhere and cannot sign in until an admin enables the account.",
        "Disable account",
    ),
}


def enrolment_url(token: str) -> str:
    return url_for("auth.enrol", token=token, _external=True)


def _link_key() -> bytes:
    """The key enrolment links are made with, so that a valid one can be shown again."""
    return _link_key_of(services().config.console_secret_key)


def _link_key_of(secret: bytes) -> bytes:
    return hmac.new(secret, b"ivr enrolment links v1", hashlib.sha256).digest()


def _shown_link(user: User) -> Enrolment | None:
    """The user's valid enrolment link, made with the current key or the one it replaced."""
    previous = services().config.console_previous_secret_key
    keys = [_link_key(), *([_link_key_of(previous)] if previous else [])]
    return next((found for key in keys if (found := enrolment_link(user, key))), None)


@bp.get("/users")
@signed_in(Action.MANAGE_USERS)
def users_page() -> ResponseReturnValue:
    now, shown = utcnow(), None
    wanted = request.args.get("link", "")
    with services().db.transaction() as db_session:
        users = list(db_session.scalars(select(User).order_by(User.name)))
        links = {u.id: _shown_link(u) is not None for u in users}
        locked = {u.id: u.locked_until is not None and u.locked_until > now for u in users}
        chosen = next((u for u in users if str(u.id) == wanted), None)
        if chosen is not None:
            enrolment = _shown_link(chosen)
            if enrolment is None:
                flash(f"{chosen.name} has no enrolment link that can be shown.", "error")
            else:
                audit.record(db_session, g.user.name, "user_link_shown", detail=f"user {chosen.id}")
                shown = (enrolment.name, enrolment_url(enrolment.token))
        expiry = {u.id: u.enrolment_expires for u in users}
    confirming = _confirming(users)
    return render_template(
        "console/users.html",
        users=users,
        roles=list(Role),
        links=links,
        locked=locked,
        expiry=expiry,
        shown=shown,
        confirming=confirming,
        languages=workflow.LANGUAGES,
        works_reports=(Role.HANDLER, Role.SUPERVISOR),
    )


def _confirming(users: list[User]) -> dict[str, object] | None:
    """The change waiting for the admin's "yes", from ``?confirm=CHANGE&user=ID``."""
    change, wanted = request.args.get("confirm", ""), request.args.get("user", "")
    user = next((u for u in users if str(u.id) == wanted), None)
    if change not in ENDS_ACCESS or user is None or user.id == g.user.id:
        return None
    title, consequence, button = ENDS_ACCESS[change]
    return {
        "user": user,
        "change": change,
        "title": title.format(name=user.name),
        "consequence": consequence.format(name=user.name),
        "button": button,
    }


@bp.post("/users")
@signed_in(Action.MANAGE_USERS)
def add() -> ResponseReturnValue:
    try:
        role = Role(request.form.get("role", ""))
        with services().db.transaction() as db_session:
            enrolment = add_user(
                db_session, request.form.get("name", ""), role, g.user.name, _link_key()
            )
    except ValueError as error:
        message = str(error) if isinstance(error, AccountError) else "choose a role from the list"
        flash(message, "error")
        return redirect(url_for("admin.users_page"), code=303)
    flash(f"{enrolment.name} is added. Send them the link below by a trusted route.", "info")
    return redirect(url_for("admin.users_page", link=enrolment.user_id), code=303)


@bp.post("/users/<int:user_id>/<change>")
@signed_in(Action.MANAGE_USERS)
def change(user_id: int, change: str) -> ResponseReturnValue:
    shown = None
    with services().db.transaction() as db_session:
        user = db_session.get(User, user_id)
        if user is None or change not in CHANGES:
            flash("No such user or change.", "error")
            return redirect(url_for("admin.users_page"), code=303)
        if change in ENDS_ACCESS and user.id == g.user.id:
            flash(
                "You cannot do that to your own account: it could lock you out of the "
                "console. Ask another admin.",
                "error",
            )
            return redirect(url_for("admin.users_page"), code=303)
        if change in ENDS_ACCESS and request.form.get("confirmed") != "yes":
            # Nothing changes yet: the page asks first, with the consequence spelled out.
            return redirect(url_for("admin.users_page", confirm=change, user=user.id), code=303)
        if change == "sign-out":
            sign_out_everywhere(db_session, user, g.user.name)
            flash(f"{user.name} is signed out everywhere.", "info")
        elif change == "re-enrol":
            new_enrolment(db_session, user, g.user.name, _link_key())
            flash(
                f"A new enrolment link for {user.name} is below; any link sent before no "
                "longer works, and they must enrol again.",
                "info",
            )
            shown = user.id
        elif change == "unlock":
            unlock(db_session, user, g.user.name)
            flash(f"{user.name} is unlocked and can sign in again.", "info")
        else:
            set_active(db_session, user, change == "enable", g.user.name)
            flash(f"{user.name} is {'enabled' if user.active else 'disabled'}.", "info")
    return redirect(url_for("admin.users_page", link=shown), code=303)


@bp.post("/users/<int:user_id>/languages")
@signed_in(Action.MANAGE_USERS)
def languages(user_id: int) -> ResponseReturnValue:
    """Set the languages a handler or supervisor takes reports in (their skills)."""
    try:
        with services().db.transaction() as db_session:
            user = db_session.get(User, user_id)
            if user is None:
                raise AccountError("there is no such user")
            set_languages(
                db_session, user, request.form.getlist("language"), workflow.LANGUAGES, g.user.name
            )
            name, spoken = user.name, [workflow.language_name(t) for t in user.language_tags]
    except AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.users_page"), code=303)
    flash(f"{name} now takes reports in {' and '.join(spoken)}.", "info")
    return redirect(url_for("admin.users_page"), code=303)


@bp.get("/audit")
@signed_in(Action.VIEW_AUDIT)
def audit_page() -> ResponseReturnValue:
    query, problems = audit_search.AuditQuery.from_form(request.args)
    for problem in problems:
        flash(problem, "error")
    if request.args.get("export") == "csv":
        with services().db.transaction() as db_session:
            rows = audit_search.export(db_session, query)
            audit.record(db_session, g.user.name, "audit_export")
            name = query.csv_filename(utcnow().date())
            return Response(
                audit.as_csv(rows),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    with services().db.reading() as db_session:
        found = audit_search.search(db_session, query)
        actions = audit_search.action_names(db_session)
    built = services()
    try:
        verdict = built.audit_trail.verify(since=built.audit_checkpoint)
        built.audit_trail.anchor_if_due()
    except AnchorUnavailable as error:
        verdict = audit.Verdict(False, 0, reason=f"the anchors cannot be read ({error})")
    if verdict.ok:
        # The next look walks only what was written since this one.
        built.audit_checkpoint = verdict.checkpoint
    return render_template(
        "console/audit.html", found=found, query=query, actions=actions, verdict=verdict
    )
