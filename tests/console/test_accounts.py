"""Staff sign in with a password and a code; mistakes lock; sessions end as they should."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff import audit
from ivr.staff.accounts import add_user
from tests.console.conftest import PASSWORD, Staff, csrf_token, post, sign_in


def test_an_enrolment_link_sets_password_and_second_factor_once(
    ingest_app: Flask, db: Database
) -> None:
    with db.transaction() as session:
        enrolment = add_user(session, "new-handler", Role.HANDLER, "admin-test")
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
        post(
            admin, f"/console/users/{user_id}/sign-out", {"confirmed": "yes"}, page="/console/users"
        ).status_code
        == 303
    )
    assert handler.get("/console/").status_code == 302


def test_a_form_without_its_csrf_token_changes_nothing(
    ingest_app: Flask, as_role: object, db: Database
) -> None:
    admin = as_role(Role.ADMIN)  # type: ignore[operator]
    refused = admin.post("/console/users", data={"name": "intruder", "role": "admin"})
    # A page in the console's layout says so, with a way back: no bare error
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "This form had expired" in page and "Nothing was changed" in page
    assert 'id="way-back" href="/console/users"' in page  # an admin's own page
    with db.transaction() as session:
        assert session.scalars(select(User).where(User.name == "intruder")).first() is None


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


def sign_out(client: FlaskClient) -> None:
    assert post(client, "/console/sign-out").status_code == 302


def test_signing_out_ends_the_session_on_the_server(
    ingest_app: Flask, staff: dict[Role, Staff]
) -> None:
    # Given a handler's session, and a copy of its cookie taken before they sign out
    client = ingest_app.test_client()
    assert sign_in(client, staff[Role.HANDLER]) == 302
    copied = client.get_cookie("console")
    assert copied is not None
    sign_out(client)
    # When someone replays the copied cookie
    thief = ingest_app.test_client()
    thief.set_cookie("console", copied.value)
    # Then it is no longer a session
    assert thief.get("/console/").status_code == 302


def test_a_stranger_guessing_cannot_lock_the_owner_out_of_their_own_browser(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    handler = staff[Role.HANDLER]
    # Given a handler who has signed in from their own browser before
    own = ingest_app.test_client()
    assert sign_in(own, handler) == 302
    sign_out(own)
    with db.transaction() as session:  # a later code, without waiting 30 s for one
        session.scalars(select(User).where(User.name == handler.name)).one().totp_last_step = None
    handler.last_step = -1
    # When a stranger guesses at their password until the account locks
    stranger = ingest_app.test_client()
    for _ in range(6):
        assert sign_in(stranger, handler, password="guess " * 3) == 401
    # Then the stranger is held even with the right password and code...
    assert sign_in(ingest_app.test_client(), handler) == 401
    # ...while the owner, in their own browser, signs in as usual
    assert sign_in(own, handler) == 302


def test_one_source_failing_again_and_again_is_throttled(
    ingest_app: Flask, staff: dict[Role, Staff]
) -> None:
    # Given one machine trying name after name
    prowler = ingest_app.test_client()
    prowler.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    for attempt in range(20):
        prowler.post(
            "/console/sign-in",
            data={
                "csrf_token": csrf_token(prowler),
                "name": f"guess-{attempt}",
                "password": "x",
                "code": "000000",
            },
        )
    # Then it is turned away, even with someone's right details
    assert sign_in(prowler, staff[Role.SUPERVISOR]) == 429
    # And staff elsewhere are not
    colleague = ingest_app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert sign_in(colleague, staff[Role.SUPERVISOR]) == 302


def test_every_refusal_costs_the_same_work(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Count the expensive steps of each sign-in: Argon2 checks and TOTP codes computed
    counts = {"argon2": 0, "totp": 0}
    real_verify, real_otp = PasswordHasher.verify, pyotp.TOTP.generate_otp

    def verify(self: PasswordHasher, hashed: str, password: str) -> bool:
        counts["argon2"] += 1
        return real_verify(self, hashed, password)

    def generate_otp(self: pyotp.TOTP, step: int) -> str:
        counts["totp"] += 1
        return real_otp(self, step)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(pyotp.TOTP, "generate_otp", generate_otp)
    handler, admin = staff[Role.HANDLER], staff[Role.ADMIN]
    with db.transaction() as session:
        locked = session.scalars(select(User).where(User.name == admin.name)).one()
        locked.locked_until = datetime.now(UTC) + timedelta(minutes=10)

    def work_of(client: FlaskClient, staff_member: Staff, **given: str) -> tuple[int, int]:
        given.setdefault("code", staff_member.code())  # the phone's work, not the server's
        counts.update(argon2=0, totp=0)
        assert sign_in(client, staff_member, **given) == 401
        return counts["argon2"], counts["totp"]

    nobody = Staff("nobody-at-all", Role.HANDLER, pyotp.random_base32())
    paths = {
        "unknown name": work_of(ingest_app.test_client(), nobody),
        "locked account": work_of(ingest_app.test_client(), admin),
        "wrong password": work_of(ingest_app.test_client(), handler, password="guess " * 3),
        "wrong code": work_of(ingest_app.test_client(), handler, code="000000"),
    }
    assert set(paths.values()) == {(1, 3)}, paths


def test_over_https_the_consoles_own_forms_pass_and_other_sites_do_not(
    ingest_app: Flask, as_role: object, db: Database
) -> None:
    # Given an admin whose browser reaches the console over HTTPS, where CSRF protection
    # also wants the Referer of the page the form came from
    admin = as_role(Role.ADMIN)  # type: ignore[operator]
    page = admin.get("/console/users", base_url="https://localhost")
    # Then the console lets the browser send its own address back to itself, and no further
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = csrf_token(admin, "/console/users")

    def add(name: str, referrer: str) -> int:
        return admin.post(
            "/console/users",
            data={"csrf_token": token, "name": name, "role": "ops"},
            base_url="https://localhost",
            headers={"Referer": referrer},
        ).status_code

    # When a form is sent from the console's own page, it is accepted
    assert add("robin", "https://localhost/console/users") == 303
    # And when the same request comes from another site, it is refused
    assert add("intruder", "https://elsewhere.example/") == 400
    with db.transaction() as session:
        names = set(session.scalars(select(User.name)))
    assert "robin" in names and "intruder" not in names


def test_the_password_hash_is_checked_outside_any_write_lock(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a handler signing in, when Argon2 checks the password, then no transaction
    is open: on SQLite a transaction is the one write lock, and ten sign-ins at a shift's
    start queued behind each other's hashes (2.5 s), with every autosave behind them."""
    inside: list[bool] = []
    real_verify = PasswordHasher.verify
    real_begin = db.transaction
    open_transactions = [0]

    def verify(self: PasswordHasher, hashed: str, password: str) -> bool:
        inside.append(open_transactions[0] > 0)
        return real_verify(self, hashed, password)

    from contextlib import contextmanager

    @contextmanager
    def counted():  # type: ignore[no-untyped-def]
        open_transactions[0] += 1
        try:
            with real_begin() as session:
                yield session
        finally:
            open_transactions[0] -= 1

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(db, "transaction", counted)
    assert sign_in(ingest_app.test_client(), staff[Role.HANDLER]) == 302
    assert inside == [False]


def test_an_old_hash_still_signs_in_and_is_hashed_again_at_todays_parameters(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    """Given a password hashed with older, weaker parameters, when its owner signs in,
    then it is accepted and the stored hash now has the current parameters."""
    handler = staff[Role.HANDLER]
    old = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(PASSWORD)
    with db.transaction() as session:
        session.scalars(select(User).where(User.name == handler.name)).one().password_hash = old
    assert sign_in(ingest_app.test_client(), handler) == 302
    with db.reading() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == handler.name))
    assert stored != old and not PasswordHasher().check_needs_rehash(stored or "")


def test_a_password_checked_before_a_re_enrolment_does_not_sign_in(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    """Given a password checked against the old hash, when the account is re-enrolled
    before the sign-in's transaction, then the sign-in is refused (the hash is stale)."""
    from ivr.staff.accounts import check_password, check_sign_in, new_enrolment

    handler = staff[Role.HANDLER]
    with db.reading() as session:
        checked = check_password(session, handler.name, PASSWORD)
    assert checked.matches
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == handler.name)).one()
        new_enrolment(session, user, "admin-test")
        user.password_hash = PasswordHasher().hash(PASSWORD)  # enrolled again, same words
    with db.transaction() as session:
        result = check_sign_in(
            session, handler.name, PASSWORD, handler.code(), 5, timedelta(minutes=5), None, checked
        )
    assert result.user is None
