"""The sign-in throttle: by account and client address, sparing a browser its owner signed in from.

Behind the console's load balancer every request used to come from the balancer's own
address, so twenty failures from one handler's PC turned away every other browser,
the owner's trusted one with the right password and code included.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.app import create_app
from ivr.config import Config
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff.throttle import Attempt, SourceThrottle
from tests.console.conftest import Staff, csrf_token, sign_in

BALANCER = "10.0.0.2"


def fail(client: FlaskClient, name: str, times: int = 20, **headers: str) -> None:
    """Sign in as ``name`` with a wrong password, ``times`` times."""
    for _ in range(times):
        refused = client.post(
            "/console/sign-in",
            data={"csrf_token": csrf_token(client), "name": name, "password": "x", "code": "0"},
            headers=headers,
        )
        assert refused.status_code in {401, 429}


def at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def a_fresh_code(db: Database, staff: Staff) -> None:
    """Let ``staff`` sign in again at once, without waiting 30 s for the next code."""
    with db.transaction() as session:
        session.scalars(select(User).where(User.name == staff.name)).one().totp_last_step = None
    staff.last_step = -1


def trusted_browser(app: Flask, db: Database, staff: Staff, address: str) -> FlaskClient:
    """A browser ``staff`` has signed in from (it keeps its device cookie), signed out."""
    own = at(app, address)
    assert sign_in(own, staff) == 302
    own.post("/console/sign-out", data={"csrf_token": csrf_token(own, "/console/")})
    a_fresh_code(db, staff)
    return own


def test_failures_at_one_address_leave_the_owners_trusted_browser_signing_in(
    ingest_app: Flask, staff: dict[Role, Staff], db: Database
) -> None:
    # Given a handler's own browser, at an address shared with colleagues (one office)
    handler = staff[Role.HANDLER]
    own = trusted_browser(ingest_app, db, handler, "10.0.0.5")
    # When a colleague fails 20 times at their own account, and a stranger 20 times at
    # the handler's, from that same address
    fail(at(ingest_app, "10.0.0.5"), staff[Role.SUPERVISOR].name)
    fail(at(ingest_app, "10.0.0.5"), handler.name)
    # Then a new browser there is turned away, even with the handler's right details...
    assert sign_in(at(ingest_app, "10.0.0.5"), handler) == 429
    # ...while the handler's own browser, with the right password and code, signs in
    assert sign_in(own, handler) == 302


def test_behind_the_load_balancer_each_client_is_throttled_at_its_own_address(
    ingest_config: Config, db: Database, staff: dict[Role, Staff]
) -> None:
    app = create_app(dataclasses.replace(ingest_config, proxy_hops=1), db=db)
    # Given one PC failing 20 times with names it guesses, writing in other addresses
    # itself before the one the balancer adds
    prowler = at(app, BALANCER)
    prowler.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.66"
    for attempt in range(20):
        fail(
            prowler,
            f"guess-{attempt}",
            1,
            **{"X-Forwarded-For": f"198.51.100.{attempt}, 192.0.2.66"},
        )
    # Then it is turned away, with someone's right details, whatever it writes in the header
    assert sign_in(prowler, staff[Role.SUPERVISOR]) == 429
    held = prowler.post(
        "/console/sign-in",
        data={"csrf_token": csrf_token(prowler), "name": "x", "password": "x", "code": "0"},
        headers={"X-Forwarded-For": "192.0.2.7, 192.0.2.66"},
    )
    assert held.status_code == 429
    # ...and a colleague's new browser, behind the same balancer, is not
    colleague = at(app, BALANCER)
    colleague.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.7"
    assert sign_in(colleague, staff[Role.SUPERVISOR]) == 302


def test_without_proxy_hops_a_client_cannot_choose_its_address(
    ingest_app: Flask, staff: dict[Role, Staff]
) -> None:
    prowler = at(ingest_app, "10.0.0.66")
    for attempt in range(20):
        fail(prowler, f"guess-{attempt}", 1, **{"X-Forwarded-For": f"192.0.2.{attempt}"})
    prowler.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.200"
    assert sign_in(prowler, staff[Role.SUPERVISOR]) == 429


def test_the_throttle_counts_trusted_browsers_apart() -> None:
    throttle = SourceThrottle(limit=3)
    stranger = Attempt("handler-one", "10.0.0.5", trusted=False)
    owner = Attempt("handler-one", "10.0.0.5", trusted=True)
    for _ in range(3):
        throttle.failed(stranger)
    assert throttle.refuses(stranger) and not throttle.refuses(owner)
    for _ in range(3):
        throttle.failed(owner)  # the owner's own mistakes hold only the owner there
    assert throttle.refuses(owner)
    assert not throttle.refuses(Attempt("handler-one", "10.0.0.6", trusted=False))


def test_proxy_hops_come_from_the_environment(tmp_path: Path) -> None:
    assert Config.from_env({}, root=tmp_path).proxy_hops == 0
    assert Config.from_env({"IVR_PROXY_HOPS": "1"}, root=tmp_path).proxy_hops == 1
