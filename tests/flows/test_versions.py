"""The operations team publishes, reviews and rolls back flow versions."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.config import Config
from ivr.flows.diagram import to_dot
from ivr.flows.loader import load_flow_file
from ivr.flows.versions import VersionError, diff, history, publish, published, rollback
from ivr.models.flows import FlowState
from ivr.platform.db import Database
from ivr.staff import audit
from tests.conftest import IN_CI


def changed(flows_dir: Path, old: str, new: str) -> Path:
    path = flows_dir / "hotline.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    return path


def test_publishing_retires_the_previous_version_and_rollback_restores_it(
    db: Database, flows_dir: Path
) -> None:
    first = publish(db, load_flow_file(flows_dir / "hotline.yaml"), "ops-one", "launch")
    again = publish(db, load_flow_file(flows_dir / "hotline.yaml"), "ops-one", "launch again")
    assert (first.number, first.changed, again.changed) == (1, True, False)
    path = changed(
        flows_dir, "Thank you. Your report has been received.", "Thank you. We have your report."
    )
    second = publish(db, load_flow_file(path), "ops-two", "warmer thanks")
    with db.reading() as session:
        states = [(v.number, v.state, v.author, v.message) for v in history(session, "hotline")]
        assert states == [
            (2, FlowState.PUBLISHED, "ops-two", "warmer thanks"),
            (1, FlowState.RETIRED, "ops-one", "launch"),
        ]
        change = diff(session, "hotline", 1, 2)
    assert "-      en-GB: Thank you. Your report has been received." in change
    assert "+      en-GB: Thank you. We have your report." in change
    rollback(db, "hotline", 1, "ops-one", flows_dir)
    with db.reading() as session:
        current = published(session, "hotline")
        assert current is not None and (current.number, current.message) == (1, "launch")
        assert second.number == 2
    with pytest.raises(VersionError, match="has no version 9"):
        rollback(db, "hotline", 9, "ops-one", flows_dir)


def test_the_diagram_names_every_step_and_every_key(flows_dir: Path) -> None:
    flow = load_flow_file(flows_dir / "hotline.yaml").flow
    dot = to_dot(flow)
    assert all(f'"{name}" [shape=' in dot for name in flow.steps)
    assert '"main_menu" -> "report_about" [label="press 1"]' in dot
    assert '"main_menu" -> "report_about" [style=dashed, label="no key x3"]' in dot


def flows_cli(config: Config, flows_dir: Path) -> CliRunner:
    """The ivr command, pointed at the test's database and flow folder."""
    return CliRunner(
        env={
            "IVR_DATABASE_URL": config.database_url,
            "IVR_SECRET_KEY": "s" * 32,
            "IVR_CONSOLE_SECRET_KEY": "c" * 32,
            "IVR_TWILIO_AUTH_TOKEN": "t",
            "IVR_FLOWS_DIR": str(flows_dir),
        }
    )


def test_the_commands_publish_show_history_diff_draw_and_roll_back(
    config: Config, db: Database, flows_dir: Path, tmp_path: Path
) -> None:
    runner = flows_cli(config, flows_dir)
    hotline = str(flows_dir / "hotline.yaml")
    assert (
        "Published hotline version 1."
        in runner.invoke(main, ["flows", "publish", hotline, "-m", "launch"]).output
    )
    broken = changed(flows_dir, "next: main_menu", "next: nowhere")
    refused = runner.invoke(main, ["flows", "publish", str(broken), "-m", "oops"])
    assert refused.exit_code == 1 and "refers to missing step 'nowhere'" in refused.output
    assert "was refused: nothing was published" in refused.output
    changed(flows_dir, "next: nowhere", "next: main_menu")
    changed(flows_dir, "Goodbye.", "Take care. Goodbye.")
    assert (
        "version 2"
        in runner.invoke(
            main, ["flows", "publish", hotline, "-m", "kinder goodbye", "--author", "ops-one"]
        ).output
    )
    listing = runner.invoke(main, ["flows", "history"]).output.splitlines()
    assert (
        listing[0].startswith("v2") and "published" in listing[0] and "kinder goodbye" in listing[0]
    )
    assert "retired" in listing[1]
    change = runner.invoke(main, ["flows", "diff", "1", "2"]).output.splitlines()
    assert any(line.startswith("+") and "Take care. Goodbye." in line for line in change)
    assert any(
        line.startswith("-") and "Goodbye." in line and "Take care" not in line for line in change
    )
    if shutil.which("dot") is None:
        if IN_CI:
            pytest.fail("Graphviz's dot is required under CI=true (apt-get install graphviz)")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    svg = tmp_path / "hotline.svg"
    drawn = runner.invoke(main, ["flows", "diagram", "hotline", "-o", str(svg)])
    assert drawn.exit_code == 0, drawn.output
    text = ET.parse(svg).getroot().itertext()  # noqa: S314 - our own dot just wrote it
    shown = " ".join(text)
    assert all(name in shown for name in load_flow_file(flows_dir / "hotline.yaml").flow.steps)
    assert "press 9" in shown
    assert "Version 1 is published again." in runner.invoke(main, ["flows", "rollback", "1"]).output


def test_publishing_and_rolling_back_from_the_command_line_are_audited(
    config: Config, db: Database, flows_dir: Path
) -> None:
    runner = flows_cli(config, flows_dir)
    hotline = str(flows_dir / "hotline.yaml")
    runner.invoke(main, ["flows", "publish", hotline, "-m", "first", "--author", "ops-one"])
    changed(flows_dir, "Goodbye.", "Take care. Goodbye.")
    runner.invoke(main, ["flows", "publish", hotline, "-m", "kinder", "--author", "ops-one"])
    runner.invoke(main, ["flows", "rollback", "1", "--author", "ops-two"])
    with db.transaction() as session:
        trail = [(e.actor, e.action, e.detail) for e in audit.events(session)]
    assert sorted(trail) == sorted(
        [
            ("ops-one", "flow_publish", "hotline v1"),
            ("ops-one", "flow_publish", "hotline v2"),
            ("ops-two", "flow_rollback", "hotline v1"),
        ]
    )
