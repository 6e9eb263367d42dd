"""``ivr users``, ``ivr purge``, ``ivr audit`` and ``ivr forces``: running the console."""

from __future__ import annotations

import secrets
import time

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import Config
from ivr.models.reports import Force
from ivr.models.staff import Role, User
from ivr.outside.anchors import AnchorUnavailable
from ivr.reports.retention import purge_as_configured
from ivr.reports.workflow import WorkError, set_force_address
from ivr.staff.accounts import (
    COMMAND_LINE,
    AccountError,
    add_user,
    new_enrolment,
    sign_out_everywhere,
    unlock,
)
from ivr.staff.audit import UnknownAuditKey, key_id


def _user(session: Session, name: str) -> User:
    found = session.scalars(select(User).where(User.name == name)).first()
    if found is None:
        raise click.ClickException(f"no user called {name!r}")
    return found


def _link(config: Config, token: str) -> str:
    return f"{config.public_base}/console/enrol/{token}"


@click.group()
def users() -> None:
    """Manage console users."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@pass_runtime
def users_add(runtime: Runtime, name: str, role: str) -> None:
    """Add a user and print their one-time enrolment link."""
    config = runtime.config
    try:
        with runtime.services.db.transaction() as session:
            enrolment = add_user(session, name, Role(role), COMMAND_LINE)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added {enrolment.name} ({role}). One-time enrolment link, valid 72 hours:")
    click.echo(_link(config, enrolment.token))


@users.command("ensure-admin")
@click.option(
    "--name",
    default=None,
    help="The first admin's sign-in name (default: admin- and six random characters).",
)
@pass_runtime
def users_ensure_admin(runtime: Runtime, name: str | None) -> None:
    """Create a first admin if there are no users yet, and say how to sign in."""
    config = runtime.config
    # Not plain "admin": a well-known name is the first one a guesser tries.
    chosen = name or f"admin-{secrets.token_hex(3)}"
    try:
        with runtime.services.db.transaction() as session:
            if session.scalar(select(User.id).limit(1)) is not None:
                return
            enrolment = add_user(session, chosen, Role.ADMIN, COMMAND_LINE)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"\nNo console users yet: created the admin {chosen!r}. To sign in, open this one-time link,"
    )
    click.echo("scan the code with an authenticator app and choose a password:")
    click.echo(f"  {_link(config, enrolment.token)}\n")


@users.command("list")
@pass_runtime
def users_list(runtime: Runtime) -> None:
    with runtime.services.db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.name)):
            state = (
                "disabled"
                if not user.active
                else ("enrolling" if not user.password_hash else "active")
            )
            click.echo(f"{user.name:<24} {user.role.value:<11} {state}")


@users.command("re-enrol")
@click.argument("name")
@pass_runtime
def users_re_enrol(runtime: Runtime, name: str) -> None:
    """Issue a new enrolment link (a lost phone or password); ends their sessions."""
    config = runtime.config
    with runtime.services.db.transaction() as session:
        user = _user(session, name)
        enrolment = new_enrolment(session, user, COMMAND_LINE)
    click.echo(_link(config, enrolment.token))


@users.command("sign-out")
@click.argument("name")
@pass_runtime
def users_sign_out(runtime: Runtime, name: str) -> None:
    """Sign a user out of every session."""
    with runtime.services.db.transaction() as session:
        user = _user(session, name)
        sign_out_everywhere(session, user, COMMAND_LINE)
    click.echo(f"{name} is signed out everywhere.")


@users.command("unlock")
@click.argument("name")
@pass_runtime
def users_unlock(runtime: Runtime, name: str) -> None:
    """Lift a lockout early (after checking with the user that it was not them)."""
    with runtime.services.db.transaction() as session:
        user = _user(session, name)
        unlock(session, user, COMMAND_LINE)
    click.echo(f"{name} can sign in again.")


@click.command()
@pass_runtime
def purge(runtime: Runtime) -> None:
    """Apply the retention periods: every report's audio, then its text, by its state."""
    result = purge_as_configured(runtime.services.db, runtime.services.store, runtime.config)
    click.echo(
        f"Destroyed {result.audio_destroyed} recording(s); closed {result.reports_closed} report(s)."
    )


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@pass_runtime
def audit_verify(runtime: Runtime) -> None:
    """Seal waiting events, then check the whole chain with the key and against every anchor."""
    try:
        verdict = runtime.services.audit_trail.verify()
    except AnchorUnavailable as error:
        raise click.ClickException(f"cannot check the audit chain: {error}") from None
    if not verdict.ok:
        where = f" at event {verdict.first_bad}" if verdict.first_bad else ""
        raise click.ClickException(f"the audit chain is broken{where}: {verdict.reason}")
    anchors = runtime.services.audit_trail.anchors
    against = "no anchors (IVR_AUDIT_ANCHOR is empty)" if anchors is None else "its anchors"
    click.echo(f"The audit chain of {verdict.events} events is intact, checked against {against}.")


@audit_group.command("rekey")
@pass_runtime
def audit_rekey(runtime: Runtime) -> None:
    """Move the audit chain to IVR_AUDIT_KEY, after a change of key.

    Run it once every console process runs with the new IVR_AUDIT_KEY and the old one in
    IVR_AUDIT_PREVIOUS_KEYS: it seals what waits under the old key, then a checkpoint
    naming the new one, which seals everything after it.
    """
    trail = runtime.services.audit_trail
    try:
        moved = trail.rekey()
        if moved and trail.anchors is not None:
            trail.anchor()  # the checkpoint, written down outside the database at once
    except (AnchorUnavailable, UnknownAuditKey) as error:
        raise click.ClickException(str(error)) from None
    if not moved:
        click.echo("The audit chain is already sealed under IVR_AUDIT_KEY: nothing to do.")
        return
    click.echo(
        f"The audit chain is sealed from here on under key {key_id(runtime.config.audit_chain_key)}. "
        "Keep the old key in IVR_AUDIT_PREVIOUS_KEYS: `ivr audit verify` needs it for the "
        "events before the change."
    )


@audit_group.command("anchor")
@click.option(
    "--every", type=int, default=0, help="Keep running, anchoring every this many seconds."
)
@pass_runtime
def audit_anchor(runtime: Runtime, every: int) -> None:
    """Seal waiting events and write the chain's head down outside the database."""
    trail = runtime.services.audit_trail
    if trail.anchors is None:
        raise click.ClickException("IVR_AUDIT_ANCHOR is empty: there is nowhere to anchor")
    while True:
        try:
            anchor = trail.anchor()
        except AnchorUnavailable as error:
            if not every:
                raise click.ClickException(str(error)) from None
            click.echo(f"Not anchored this time: {error}", err=True)
        else:
            click.echo(f"Anchored event {anchor.seq}." if anchor else "Nothing to anchor yet.")
        if not every:
            return
        time.sleep(every)


@click.group()
def forces() -> None:
    """Police forces and their Counter Corruption Unit addresses."""


@forces.command("set-email")
@click.argument("force")
@click.argument("address")
@pass_runtime
def forces_set_email(runtime: Runtime, force: str, address: str) -> None:
    """Set where a force's Counter Corruption Unit takes reports."""
    try:
        with runtime.services.db.transaction() as session:
            set_force_address(session, force, address, COMMAND_LINE)
    except WorkError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{force}: {address}")


@forces.command("list")
@pass_runtime
def forces_list(runtime: Runtime) -> None:
    with runtime.services.db.transaction() as session:
        for force in session.scalars(select(Force).order_by(Force.name)):
            click.echo(f"{force.name:<45} {force.ccu_email or '(no address)'}")
