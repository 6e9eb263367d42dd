"""Staff users, signed-in clients and a report waiting in the queue."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ivr.config import Config
from ivr.models.reports import Report
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.services import Services
from ivr.staff.accounts import add_user, complete_enrolment
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import settle

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    name: str
    role: Role
    secret: str
    last_step: int = -1  # the console accepts each code once
    offered: int = -1

    def code(self) -> str:
        """A code the console has not seen: this time step's, or the next one's."""
        totp = pyotp.TOTP(self.secret)
        now = totp.timecode(datetime.now(UTC))
        if self.last_step > now:  # both used: wait for a fresh step
            time.sleep(31 - time.time() % 30)
            now = totp.timecode(datetime.now(UTC))
        self.offered = max(now, self.last_step + 1)
        return totp.generate_otp(self.offered)

    def accepted(self) -> None:
        self.last_step = self.offered


def make_staff(db: Database, name: str, role: Role) -> Staff:
    with db.transaction() as session:
        enrolment = add_user(session, name, role, "admin-test")
        user = session.get(User, enrolment.user_id)
        assert user is not None
        secret = user.totp_secret
        assert secret is not None
        totp = pyotp.TOTP(secret)
        complete_enrolment(session, enrolment.token, PASSWORD, PASSWORD, totp.now())
    return Staff(name, role, secret, last_step=totp.timecode(datetime.now(UTC)))


def csrf_token(client: FlaskClient, path: str = "/console/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(
    client: FlaskClient, staff: Staff, password: str = PASSWORD, code: str | None = None
) -> int:
    response = client.post(
        "/console/sign-in",
        data={
            "csrf_token": csrf_token(client),
            "name": staff.name,
            "password": password,
            "code": staff.code() if code is None else code,
        },
    )
    if response.status_code == 302 and code is None:
        staff.accepted()
    return response.status_code


def post(
    client: FlaskClient,
    path: str,
    data: Mapping[str, str | list[str]] | None = None,
    page: str = "/console/",
    **kwargs: object,
) -> TestResponse:
    """POST a console form as the browser would, with the page's CSRF token."""
    return client.post(
        path, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs
    )


class AsRole(Protocol):
    """The ``as_role`` fixture: a client signed in as that role's user."""

    def __call__(self, role: Role) -> FlaskClient: ...


@pytest.fixture
def staff(ingest_app: Flask, db: Database) -> dict[Role, Staff]:
    """One enrolled user per role (built on the app that can also ingest calls)."""
    return {role: make_staff(db, f"{role.value}-one", role) for role in Role}


@pytest.fixture
def as_role(ingest_app: Flask, staff: dict[Role, Staff]) -> AsRole:
    def client_for(role: Role) -> FlaskClient:
        client = ingest_app.test_client()
        assert sign_in(client, staff[role]) == 302
        return client

    return client_for


@pytest.fixture
def queued_report(emulator_caller: EmulatorCaller, ingest_config: Config, db: Database) -> str:
    """A report left on the phone, fetched and queued; returns its reference."""
    emulator_caller.call("1,1,2,2,#,1,#")
    settle(build_worker(Services(ingest_config, db=db)), db)
    with db.transaction() as session:
        return session.scalars(select(Report.reference)).one()
