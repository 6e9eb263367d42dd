"""The forces' Counter Corruption Unit addresses, kept by supervisors on a web page."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ivr.console import signed_in
from ivr.models.reports import Force
from ivr.reports import workflow
from ivr.services import services
from ivr.staff.permissions import Action

bp = Blueprint("forces", __name__, url_prefix="/console")


def _page(typed: dict[str, str], errors: dict[str, str], status: int = 200) -> ResponseReturnValue:
    with services().db.reading() as db_session:
        forces = [
            (f.name, f.ccu_email or "", _anchor(f.name))
            for f in db_session.scalars(select(Force).order_by(Force.name))
        ]
    return (
        render_template("console/forces.html", forces=forces, typed=typed, errors=errors),
        status,
    )


@bp.get("/forces")
@signed_in(Action.MANAGE_FORCES)
def forces_page() -> ResponseReturnValue:
    return _page({}, {})


@bp.post("/forces")
@signed_in(Action.MANAGE_FORCES)
def set_address() -> ResponseReturnValue:
    """Set one force's address; a bad one is shown again, with what is wrong beside it."""
    name = request.form.get("force", "")
    address = request.form.get("address", "")
    try:
        with services().db.transaction() as db_session:
            workflow.set_force_address(db_session, name, address, g.user.name)
    except workflow.WorkError as error:
        message = f"{str(error)[0].upper()}{str(error)[1:]}."
        return _page({name: address}, {name: message}, 400)
    flash(f"Reports for {name} now go to {address.strip()}.", "info")
    return redirect(url_for("forces.forces_page") + f"#force-{_anchor(name)}", code=303)


def _anchor(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower())
