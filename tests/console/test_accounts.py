"""Staff sign in with a password and a code; mistakes lock; sessions end as they should."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pyotp
from flask import Flask
from sqlalchemy import select

from ivr.console import audit
from ivr.console.accounts import add_user
from ivr.db import Database
from ivr.models import Role, User
from tests.console.conftest import PASSWORD, Staff, csrf_token, post, sign_in


def test_an_enrolment_link_sets_password_and_second_factor_once(
    ingest_app: Flask, db: Database
) -> None:
    with db.transaction() as session:
        enrolment = add_user(session, "new-handler", Role.HANDLER)
    client = ingest_app.test_client()
    page = client.get(f"/console/enrol/{enrolment.token}").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code, as an image
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    token = csrf_token(client, f"/console/enrol/{enrolment.token}")
    short = client.post(
        f"/console/enrol/{enrolment.token}",
        data={
            "csrf_token": token,
            "password": "short",
            "confirm": "short",
            "code": pyotp.TOTP(secret).now(),
        },
    )
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    done = client.post(
        f"/console/enrol/{enrolment.token}",
        data={
            "csrf_token": token,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "code": pyotp.TOTP(secret).now(),
        },
    )
    assert done.status_code == 302
    assert client.get(f"/console/enrol/{enrolment.token}").status_code == 404  # used once
    used = pyotp.TOTP(secret).timecode(datetime.now(UTC))  # enrolment used this step's code
    assert sign_in(client, Staff("new-handler", Role.HANDLER, secret, last_step=used)) == 302
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == "new-handler")).one()
        assert user.password_hash and user.password_hash.startswith("$argon2id$")


def test_a_wrong_code_or_password_is_refused_without_saying_which(
    ingest_app: Flask, staff: dict[Role, Staff]
) -> None:
    client = ingest_app.test_client()
    wrong_code = client.post(
        "/console/sign-in",
        data={
            "csrf_token": csrf_token(client),
            "name": "handler-one",
            "password": PASSWORD,
            "code": "000000",
        },
    )
    wrong_password = client.post(
        "/console/sign-in",
        data={
            "csrf_token": csrf_token(client),
            "name": "handler-one",
            "password": "nope",
            "code": staff[Role.HANDLER].code(),
        },
    )
    nobody = client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_token(client), "name": "nobody", "password": "x", "code": "1"},
    )
    messages = {r.status_code for r in (wrong_code, wrong_password, nobody)}
    assert messages == {401}
    assert "the name, password or code is not right" in wrong_code.get_data(as_text=True)


def test_repeated_failures_lock_the_account(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    client = ingest_app.test_client()
    handler = staff[Role.HANDLER]
    for _ in range(5):
        assert sign_in(client, handler, password="guess " * 3) == 401
    # Even the right password and code are refused while locked.
    assert sign_in(client, handler) == 401
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == handler.name)).one()
        assert user.locked_until is not None
        user.locked_until = None  # the lockout period passes
    assert sign_in(client, handler) == 302
    with db.transaction() as session:
        failed = audit.events(session, actor=handler.name, action="sign_in_failed")
    assert len(failed) == 6


def test_a_session_ends_after_idling(
    ingest_app: Flask, as_role: object, monkeypatch: object
) -> None:
    client = as_role(Role.HANDLER)  # type: ignore[operator]
    assert client.get("/console/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = time.time() - 16 * 60  # sixteen minutes without activity
    expired = client.get("/console/")
    assert expired.status_code == 302 and "/console/sign-in" in expired.headers["Location"]


def test_an_admin_can_sign_a_user_out_everywhere(
    ingest_app: Flask, as_role: object, db: Database
) -> None:
    handler = as_role(Role.HANDLER)  # type: ignore[operator]
    admin = as_role(Role.ADMIN)  # type: ignore[operator]
    with db.transaction() as session:
        user_id = session.scalars(select(User.id).where(User.name == "handler-one")).one()
    assert (
        post(admin, f"/console/users/{user_id}/sign-out", page="/console/users").status_code == 303
    )
    assert handler.get("/console/").status_code == 302


def test_a_form_without_its_csrf_token_changes_nothing(
    ingest_app: Flask, as_role: object, db: Database
) -> None:
    admin = as_role(Role.ADMIN)  # type: ignore[operator]
    refused = admin.post("/console/users", data={"name": "intruder", "role": "admin"})
    assert refused.status_code == 303
    with db.transaction() as session:
        assert session.scalars(select(User).where(User.name == "intruder")).first() is None
    assert "The form had expired" in admin.get(refused.headers["Location"]).get_data(as_text=True)


def test_every_console_page_is_uncached_and_script_locked(as_role: object) -> None:
    client = as_role(Role.SUPERVISOR)  # type: ignore[operator]
    for path in ("/console/", "/console/audit", "/console/sign-in"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<script>" not in response.get_data(as_text=True)
    cookie = client.get_cookie("console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"


def test_a_code_is_accepted_only_once(ingest_app: Flask, staff: dict[Role, Staff]) -> None:
    handler = staff[Role.HANDLER]
    code = handler.code()
    first, second = ingest_app.test_client(), ingest_app.test_client()
    assert sign_in(first, handler, code=code) == 302
    assert sign_in(second, handler, code=code) == 401  # the same code, replayed
