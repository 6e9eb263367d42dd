"""The first admin is not called "admin": a name nobody can guess, or one the operator chose."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main

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
