"""The access log names routes, never the tokens or references in a path."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.staff.accounts import add_user


def test_the_access_log_keeps_neither_enrolment_tokens_nor_report_references(
    ingest_app: Flask,
    db: Database,
    as_role: Any,
    queued_report: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a one-time enrolment link and a report in the queue
    with db.transaction() as session:
        token = add_user(session, "new-handler", Role.HANDLER, "admin-test").token
    caplog.clear()
    # When someone opens the link, and a supervisor opens the report
    assert ingest_app.test_client().get(f"/console/enrol/{token}").status_code == 200
    assert as_role(Role.SUPERVISOR).get(f"/console/reports/{queued_report}").status_code == 200
    # Then the access log says which pages were asked for, and nothing in their paths
    requests = [r.getMessage() for r in caplog.records if r.name == "ivr.access"]
    assert any("route=/console/enrol/<token>" in line for line in requests)
    assert any("route=/console/reports/<reference>" in line for line in requests)
    assert token not in caplog.text
    assert queued_report not in "\n".join(requests)
