"""Admins re-show and re-issue enrolment links and unlock accounts; errors keep the layout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
from flask import Flask
from sqlalchemy import select

from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff import audit
from tests.console.conftest import PASSWORD, AsRole, Staff, csrf_token, post, sign_in


def shown_link(page: str) -> str:
    match = re.search(r'id="enrolment-url" class="wide" value="([^"]+)"', page)
    assert match, "no enrolment link shown"
    return match.group(1).split("/console", 1)[1]


def user_id(db: Database, name: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(User.id).where(User.name == name)).one()


def test_an_enrolment_link_can_be_shown_again_until_it_is_re_issued(
    ingest_app: Flask, as_role: AsRole, db: Database
) -> None:
    # Given an admin who adds a user and is shown the link
    admin = as_role(Role.ADMIN)
    added = post(admin, "/console/users", {"name": "Robin", "role": "handler"}, "/console/users")
    assert added.status_code == 303
    first = shown_link(admin.get(added.headers["Location"]).get_data(as_text=True))
    # When they come back to the Users page later, the same link is there to show again
    users = admin.get("/console/users").get_data(as_text=True)
    robin = user_id(db, "Robin")
    assert f'href="/console/users?link={robin}"' in users
    assert shown_link(admin.get(f"/console/users?link={robin}").get_data(as_text=True)) == first
    # And when they re-issue it, there is a new link and the old one no longer works
    reissued = post(
        admin, f"/console/users/{robin}/re-enrol", {"confirmed": "yes"}, page="/console/users"
    )
    second = shown_link(admin.get(reissued.headers["Location"]).get_data(as_text=True))
    assert second != first
    assert ingest_app.test_client().get(f"/console{first}").status_code == 404
    assert ingest_app.test_client().get(f"/console{second}").status_code == 200
    with db.transaction() as session:
        shown = audit.events(session, actor="admin-one", action="user_link_shown")
        assert len(shown) == 3 and audit.events(session, action="user_re_enrol")


def test_a_used_link_is_not_shown_again(as_role: AsRole, db: Database) -> None:
    admin = as_role(Role.ADMIN)
    handler = user_id(db, "handler-one")  # enrolled already
    page = admin.get(f"/console/users?link={handler}").get_data(as_text=True)
    assert "has no enrolment link that can be shown" in page
    assert 'id="enrolment-url"' not in page


def test_an_admin_unlocks_a_locked_account(
    ingest_app: Flask, as_role: AsRole, staff: dict[Role, Staff], db: Database
) -> None:
    # Given a handler locked out by repeated failures
    handler = staff[Role.HANDLER]
    for _ in range(5):
        assert sign_in(ingest_app.test_client(), handler, password="guess " * 3) == 401
    assert sign_in(ingest_app.test_client(), handler) == 401
    handler.last_step = -1
    admin = as_role(Role.ADMIN)
    page = admin.get("/console/users").get_data(as_text=True)
    assert "<strong>locked</strong>" in page and 'data-change="unlock"' in page
    # When an admin unlocks the account
    unlocked = post(
        admin, f"/console/users/{user_id(db, handler.name)}/unlock", page="/console/users"
    )
    assert "is unlocked" in admin.get(unlocked.headers["Location"]).get_data(as_text=True)
    # Then the handler signs in, and the audit says who unlocked whom
    with db.transaction() as session:  # the held sign-in spent no code; wait for none
        session.scalars(select(User).where(User.name == handler.name)).one().totp_last_step = None
    assert sign_in(ingest_app.test_client(), handler) == 302
    with db.transaction() as session:
        assert audit.events(session, actor="admin-one", action="user_unlock")


def test_signing_in_with_the_code_just_used_to_enrol_asks_for_the_next(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    # Given a handler who has just enrolled with this time step's code
    handler = staff[Role.HANDLER]
    totp = pyotp.TOTP(handler.secret)
    with db.transaction() as session:
        used = session.scalars(select(User).where(User.name == handler.name)).one().totp_last_step
    assert used is not None
    # When they sign in at once with that same code, again and again
    client = ingest_app.test_client()
    for _ in range(6):
        response = client.post(
            "/console/sign-in",
            data={
                "csrf_token": csrf_token(client),
                "name": handler.name,
                "password": PASSWORD,
                "code": totp.generate_otp(used),
            },
        )
        # Then they are told to wait for the next code, not the generic refusal
        assert response.status_code == 401
        assert "wait for the app to show the next code" in response.get_data(as_text=True)
    # And it counted as no failure: the account is not locked, and the next code works
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == handler.name)).one()
        assert user.failed_sign_ins == 0 and user.locked_until is None
    assert sign_in(client, handler) == 302


def test_a_replayed_code_with_a_wrong_password_gets_the_generic_refusal(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    handler = staff[Role.HANDLER]
    with db.transaction() as session:
        used = session.scalars(select(User).where(User.name == handler.name)).one().totp_last_step
    assert used is not None
    code = pyotp.TOTP(handler.secret).generate_otp(used)
    client = ingest_app.test_client()
    assert sign_in(client, handler, password="guess " * 3, code=code) == 401
    page = client.get("/console/sign-in").get_data(as_text=True)
    assert "next code" not in page


def test_console_errors_use_the_console_layout_with_a_way_back(
    ingest_app: Flask, as_role: AsRole
) -> None:
    # A page that does not exist, signed out: the layout, and a way to sign in
    missing = ingest_app.test_client().get("/console/no-such-page")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "Page not found" in page and 'class="skip-link"' in page
    assert 'id="way-back" href="/console/sign-in"' in page
    # A page the role may not see: the layout, and a way back to their own work
    ops = as_role(Role.OPS)
    refused = ops.get("/console/users")
    assert refused.status_code == 403
    assert 'id="way-back" href="/console/flows/"' in refused.get_data(as_text=True)


def test_an_unexpected_failure_shows_no_detail(ingest_app: Flask, as_role: AsRole) -> None:
    # Given a console route that fails in a way nobody planned for
    def broken() -> str:
        raise RuntimeError("secret detail: R-SECRET at /var/private")

    ingest_app.add_url_rule("/console/broken-for-test", "broken_for_test", broken)
    response = as_role(Role.HANDLER).get("/console/broken-for-test")
    # Then the page says something went wrong, in the layout, and nothing of the cause
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and 'id="way-back" href="/console/"' in page
    assert "R-SECRET" not in page and "Traceback" not in page and "RuntimeError" not in page


def test_outside_the_console_errors_are_as_before(ingest_app: Flask) -> None:
    response = ingest_app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert "console" not in response.get_data(as_text=True).lower()


def test_an_account_locked_long_ago_is_not_shown_locked(as_role: AsRole, db: Database) -> None:
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == "handler-one")).one()
        user.locked_until = datetime.now(UTC) - timedelta(minutes=1)
    page = as_role(Role.ADMIN).get("/console/users").get_data(as_text=True)
    assert "<strong>locked</strong>" not in page


def test_the_server_refuses_what_would_lock_an_admin_out_of_their_own_account(
    as_role: AsRole, db: Database
) -> None:
    """Given an admin, when they post sign-out, re-issue or disable for their own
    account (a crafted form: the page offers none), then each is refused, unchanged."""
    admin = as_role(Role.ADMIN)
    own = user_id(db, "admin-one")
    for change in ("sign-out", "re-enrol", "disable"):
        answer = post(
            admin,
            f"/console/users/{own}/{change}",
            {"confirmed": "yes"},
            page="/console/users",
            follow_redirects=True,
        )
        assert "cannot do that to your own account" in answer.get_data(as_text=True)
    assert admin.get("/console/users").status_code == 200  # still signed in, still enrolled


def test_ending_someones_access_asks_first_and_changes_nothing_until_confirmed(
    as_role: AsRole, db: Database
) -> None:
    admin = as_role(Role.ADMIN)
    handler = user_id(db, "handler-one")
    asked = post(admin, f"/console/users/{handler}/disable", page="/console/users")
    assert asked.status_code == 303 and "confirm=disable" in asked.headers["Location"]
    page = admin.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Disable handler-one&#39;s account?" in page
    with db.reading() as session:
        assert session.get(User, handler).active  # type: ignore[union-attr]
