"""The operations team checks and tries a flow from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.models.flows import Announcement
from ivr.platform.db import Base, Database
from tests.conftest import REPO

ENV = {
    "IVR_SECRET_KEY": "s" * 32,
    "IVR_CONSOLE_SECRET_KEY": "c" * 32,
    "IVR_TWILIO_AUTH_TOKEN": "tok",
    "IVR_FLOWS_DIR": str(REPO / "call_flows"),
}


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    # The service's database: absent unless a test makes it (never the repository's var/).
    return CliRunner(env={**ENV, "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"})


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "call_flows" / "hotline.yaml").read_text()
    assert old in text
    path = tmp_path / "hotline.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_validate_accepts_the_national_flow(runner: CliRunner) -> None:
    result = runner.invoke(main, ["flows", "validate"])
    assert result.exit_code == 0
    assert "hotline.yaml: valid (39 steps; en-GB, cy-GB; version " in result.output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "next: anonymity_promise",
            "next: anonymity_promis",
            ":70: step 'safety' refers to missing step 'anonymity_promis'"
            " (did you mean 'anonymity_promise'?)\n",
        ),
        (
            "  other_ways:\n",
            "  other_routes:\n",
            ":101: step 'main_menu' refers to missing step 'other_ways'"
            " (did you mean 'other_routes'?)\n",
        ),
        (
            "  other_ways:\n",
            "  leftover:\n",
            ":134: step 'leftover' is unreachable from 'welcome'",
        ),
        (
            "      cy-GB: Byddwch yn aros yn gwbl ddienw.\n",
            "",
            ":200: step 'stay_anonymous': prompt has no cy-GB translation",
        ),
        (
            "    timeout: 4\n",
            "    timeout: [4\n",
            ":61: YAML syntax error: expected ',' or ']', but got '?' (while parsing a flow sequence that starts on line 59)",
        ),
    ],
    ids=["dangling", "renamed", "unreachable", "translation", "syntax"],
)
def test_validate_refuses_a_broken_flow_with_file_and_line(
    runner: CliRunner, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = broken_copy(tmp_path, old, new)
    result = runner.invoke(main, ["flows", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}{expected}" in result.output
    assert f"{path}: refused" in result.output
    if "did you mean" in expected:  # a typo is one mistake: no follow-on "unreachable"
        assert "unreachable" not in result.output
        assert f"{path}: refused (1 problems)" in result.output


def test_simulate_prints_what_the_caller_hears(runner: CliRunner) -> None:
    result = runner.invoke(main, ["flows", "simulate", "hotline", "--keys", "9,1,1,1,#,1"])
    assert result.exit_code == 0, result.output
    assert "[cy-GB] Am wasanaeth Cymraeg, pwyswch 9." in result.output
    assert "You press 9" in result.output
    assert "You speak for 19 s, then press #." in result.output
    assert result.output.rstrip().endswith("Call ended.")
    assert "Rydym wedi derbyn eich adroddiad" in result.output


def test_simulate_plays_the_announcement_callers_hear(runner: CliRunner, tmp_path: Path) -> None:
    # Given the service's database, where the ops team has switched an announcement on
    database = Database.from_url(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    Base.metadata.create_all(database.engine)
    with database.transaction() as session:
        session.add(
            Announcement(
                flow="hotline",
                texts={"en-GB": "During our national appeal, lines are busy.", "cy-GB": "Prysur."},
                active=True,
            )
        )
    database.engine.dispose()
    # When the ops team simulates a call
    result = runner.invoke(main, ["flows", "simulate", "hotline", "--keys", "1,1,1,1,#,1"])
    # Then it is heard after the welcome, as on a real call, and the call goes on
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    pressed = lines.index("  You press 1")
    assert lines[pressed + 1] == "  [en-GB] During our national appeal, lines are busy."
    assert "immediate danger" in lines[pressed + 2]
    assert result.output.count("national appeal") == 1
    assert result.output.rstrip().endswith("Call ended.")


def test_simulate_refuses_an_invalid_flow(runner: CliRunner, tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "next: anonymity_promise", "next: nowhere")
    result = runner.invoke(main, ["flows", "simulate", str(path), "--keys", "1"])
    assert result.exit_code == 1
    assert "refers to missing step 'nowhere'" in result.output
