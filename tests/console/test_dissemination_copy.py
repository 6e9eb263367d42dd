"""Dissemination is one act: once a report has gone to its force, downloading its PDF or
text is a copy, audited as a download, never a second dissemination; only sending the
email again asks for a confirmation."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from ivr.models.reports import Dissemination, Force, Report, ReportStatus
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.staff import audit
from tests.console.conftest import post
from tests.console.test_queue_and_review import text_of
from tests.console.test_workflow import write_and_submit


def approved(as_role: Any, db: Database, reference: str) -> Any:
    handler, supervisor = as_role(Role.HANDLER), as_role(Role.SUPERVISOR)
    post(handler, "/console/take-next")
    write_and_submit(handler, reference, transcript="[00:03] A constable [01:10] sells checks.")
    with db.transaction() as session:
        session.scalars(select(Report)).one().status = ReportStatus.APPROVED
    return supervisor


def sent_and_audited(db: Database, reference: str) -> tuple[int, list[tuple[str, str]]]:
    with db.transaction() as session:
        count = len(session.scalars(select(Dissemination)).all())
        events = [
            (e.action, e.detail)
            for e in audit.events(session, report=reference)
            if e.action in {"disseminate", "download"}
        ]
    return count, events[::-1]  # oldest first


def test_a_download_after_dissemination_is_a_copy_audited_as_a_download(
    as_role: Any, db: Database, queued_report: str
) -> None:
    supervisor = approved(as_role, db, queued_report)
    page = f"/console/reports/{queued_report}"
    # Given an approved report: its first download is its dissemination
    shown = text_of(supervisor.get(page))
    assert "Download PDF (disseminates it)" in shown and 'id="send-again"' not in shown
    first = post(supervisor, f"{page}/disseminate", {"method": "pdf"}, page=page)
    assert first.mimetype == "application/pdf"
    assert sent_and_audited(db, queued_report) == (
        1,
        [("disseminate", "pdf to West Yorkshire Police")],
    )

    # When the supervisor downloads the PDF, then the text, again, without any confirmation
    shown = text_of(supervisor.get(page))
    assert "Download a copy (PDF)" in shown and "audited as a download" in shown
    pdf = post(supervisor, f"{page}/disseminate", {"method": "pdf"}, page=page)
    text = post(supervisor, f"{page}/disseminate", {"method": "text"}, page=page)

    # Then both are given, as copies: still one dissemination, two downloads on the record
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert text.status_code == 200 and text.mimetype == "text/plain"
    assert sent_and_audited(db, queued_report) == (
        1,
        [
            ("disseminate", "pdf to West Yorkshire Police"),
            (
                "download",
                "downloaded a copy as a PDF (already disseminated to West Yorkshire Police)",
            ),
            (
                "download",
                "downloaded a copy as a text file (already disseminated to West Yorkshire Police)",
            ),
        ],
    )
    assert text_of(supervisor.get(page)).count("as a PDF download to West Yorkshire Police") == 1
    # And the copy, like the original, carries none of the handler's timestamps
    body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "A constable sells checks." in body and "[0" not in body
    assert "A constable sells checks." in text.get_data(as_text=True)


def test_only_sending_the_email_again_asks_for_a_confirmation(
    as_role: Any, db: Database, queued_report: str
) -> None:
    supervisor = approved(as_role, db, queued_report)
    with db.transaction() as session:
        session.get(Force, "West Yorkshire Police").ccu_email = "ccu@wyp.police.example"  # type: ignore[union-attr]
    page = f"/console/reports/{queued_report}"
    post(supervisor, f"{page}/disseminate", {"method": "text"}, page=page)
    # Given a disseminated report, the email form asks to confirm; the downloads do not
    shown = text_of(supervisor.get(page))
    assert 'id="send-again"' in shown and "Email again the Counter Corruption Unit" in shown
    # When the supervisor emails it without the confirmation, nothing is sent
    refused = post(supervisor, f"{page}/disseminate", {"method": "email"}, page=page)
    assert "confirm that it should be sent again" in text_of(
        supervisor.get(refused.headers["Location"])
    )
    assert sent_and_audited(db, queued_report)[0] == 1
