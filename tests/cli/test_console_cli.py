"""The first admin is not called "admin": a name nobody can guess, or one the operator chose."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from ivr.cli import main
from ivr.cli.runtime import Runtime
from ivr.config import Config
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff import audit
from ivr.staff.accounts import add_user

ENV = {"IVR_SECRET_KEY": "s" * 32, "IVR_CONSOLE_SECRET_KEY": "c" * 32, "IVR_TWILIO_AUTH_TOKEN": "t"}


def cli(tmp_path: Path, *args: str) -> str:
    env = {**ENV, "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_first_admin_gets_an_unguessable_name_unless_one_is_chosen(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    made = cli(tmp_path, "users", "ensure-admin")
    found = re.search(r"created the admin '(admin-[0-9a-f]{6})'", made)
    assert found, made
    assert "/console/enrol/" in made
    # Once there is a user, it does nothing
    assert cli(tmp_path, "users", "ensure-admin") == ""
    assert found.group(1) in cli(tmp_path, "users", "list")


def test_the_operator_can_choose_the_first_admins_name(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    assert "created the admin 'j.okafor'" in cli(
        tmp_path, "users", "ensure-admin", "--name", "j.okafor"
    )


def test_an_admin_can_lift_a_lockout_from_the_command_line(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    cli(tmp_path, "users", "add", "hana", "--role", "handler")
    database = Database.from_url(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    with database.transaction() as session:
        user = session.scalars(select(User).where(User.name == "hana")).one()
        user.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    assert "hana can sign in again." in cli(tmp_path, "users", "unlock", "hana")
    with database.transaction() as session:
        assert session.scalars(select(User).where(User.name == "hana")).one().locked_until is None
        assert audit.events(session, action="user_unlock")


def test_a_command_can_be_given_its_config_directly(config: Config, db: Database) -> None:
    # Given a config built by the test, not read from the environment
    with db.transaction() as session:
        add_user(session, "kai", Role.SUPERVISOR, "admin-test")
    # When a command runs with it
    result = CliRunner().invoke(main, ["users", "list"], obj=Runtime(config), env={})
    # Then it works on that config's database
    assert result.exit_code == 0, result.output
    assert "kai" in result.output and "supervisor" in result.output
