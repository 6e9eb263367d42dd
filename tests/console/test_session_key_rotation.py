"""Rotating the console's secret signs nobody out and loses no form a handler has open."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.app import create_app
from ivr.config import Config, ConfigError
from ivr.console.views_admin import _link_key_of
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff.accounts import add_user
from tests.console.conftest import csrf_token, make_staff, sign_in

OLD = b"o" * 32
NEW = b"n" * 32


def console(config: Config, db: Database, **keys: bytes) -> FlaskClient:
    return create_app(dataclasses.replace(config, **keys), db=db).test_client()  # type: ignore[arg-type]


def carry_session(before: FlaskClient, after: FlaskClient) -> None:
    cookie = before.get_cookie("console")
    assert cookie is not None
    after.set_cookie("console", cookie.value)


def test_after_a_rotation_the_handler_stays_signed_in_and_their_open_form_goes_through(
    config: Config, db: Database
) -> None:
    # Given a handler signed in to a console with the old secret, a form open on their screen
    before = console(config, db, console_secret_key=OLD)
    alex = make_staff(db, "alex", Role.HANDLER)
    assert sign_in(before, alex) == 302
    token = csrf_token(before, "/console/")
    # When the console restarts with the new secret, the old one kept as previous
    after = console(config, db, console_secret_key=NEW, console_previous_secret_key=OLD)
    carry_session(before, after)
    # Then their next page is theirs, not the sign-in page
    queue = after.get("/console/")
    assert queue.status_code == 200 and "alex" in queue.get_data(as_text=True)
    # And the form they had open (its token signed with the old secret) is taken
    out = after.post("/console/sign-out", data={"csrf_token": token})
    assert out.status_code == 302 and "form_expired" not in out.get_data(as_text=True)
    assert after.get("/console/").status_code == 302  # signed out, as they asked


def test_without_the_previous_secret_everyone_would_be_signed_out(
    config: Config, db: Database
) -> None:
    before = console(config, db, console_secret_key=OLD)
    alex = make_staff(db, "alex", Role.HANDLER)
    assert sign_in(before, alex) == 302
    after = console(config, db, console_secret_key=NEW)
    carry_session(before, after)
    assert after.get("/console/").status_code == 302


def test_the_previous_secret_must_be_a_real_key(config: Config) -> None:
    with pytest.raises(ConfigError, match="IVR_CONSOLE_PREVIOUS_SECRET_KEY"):
        dataclasses.replace(config, console_previous_secret_key=b"short")


def test_an_enrolment_link_made_before_the_rotation_can_still_be_shown(
    config: Config, db: Database
) -> None:
    # Given an admin who issued an enrolment link on the console with the old secret
    ada = make_staff(db, "ada", Role.ADMIN)
    with db.transaction() as session:
        enrolment = add_user(session, "newbie", Role.HANDLER, "ada", _link_key_of(OLD))
        newbie = session.scalars(select(User).where(User.name == "newbie")).one().id
    # When the console restarts with the new secret, the old one kept as previous
    after = console(config, db, console_secret_key=NEW, console_previous_secret_key=OLD)
    assert sign_in(after, ada) == 302
    # Then the link can still be shown (and copied) for the person who has not used it yet
    page = after.get(f"/console/users?link={newbie}").get_data(as_text=True)
    assert enrolment.token in page
