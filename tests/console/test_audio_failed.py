"""Supervisors see the reports whose audio could not be stored, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ivr.config import Config
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.reports import Report
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.services import Services
from ivr.worker.runner import build_worker
from tests.conftest import EmulatorCaller
from tests.worker.conftest import settle


def test_a_report_whose_audio_failed_is_shown_to_supervisors_with_the_reason(
    as_role: Any,
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
    ingest_config: Config,
    db: Database,
) -> None:
    # Given a report whose recording Twilio never has (404, the job's own fault, not an
    # outage of Twilio's), parked by the worker after its attempts
    emulator.state.faults["media_404"] = 100
    emulator_caller.call("1,1,1,1,#,1")
    settle(build_worker(Services(ingest_config, db=db)), db)
    with db.transaction() as session:
        reference = session.scalars(select(Report.reference)).one()
    # When a supervisor opens the queue
    page = as_role(Role.SUPERVISOR).get("/console/").get_data(as_text=True)
    # Then the report is listed as "audio failed", with the reason
    assert "Audio failed" in page and reference in page
    assert "not found" in page and "ivr jobs retry" in page
    # (and handlers, who can do nothing about it, are not shown it)
    assert "Audio failed" not in as_role(Role.HANDLER).get("/console/").get_data(as_text=True)
