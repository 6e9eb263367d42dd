"""The report page over HTTP: saving never loses words, findings come with their places, and
a report that cannot be edited reads as text."""

from __future__ import annotations

import re
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.models.reports import Report
from ivr.models.staff import Role
from ivr.platform.db import Database
from tests.console.conftest import csrf_token, post
from tests.console.test_workflow import CHECKS, FIELDS

JSON = {"Accept": "application/json"}


def taken(as_role: Any, reference: str) -> tuple[FlaskClient, str, str]:
    """A handler who has taken the report: their client, the page's path and its CSRF token."""
    handler = as_role(Role.HANDLER)
    post(handler, "/console/take-next")
    page = f"/console/reports/{reference}"
    return handler, page, csrf_token(handler, page)


def transcript(db: Database) -> str:
    with db.transaction() as session:
        return session.scalars(select(Report.transcript)).one()


def idle_out(client: FlaskClient) -> None:
    """Make the session older than the idle limit, as a long break would."""
    with client.session_transaction() as session:
        session["seen"] = time.time() - 24 * 3600


def form_section(page: str, element_id: str) -> str:
    match = re.search(rf'<form[^>]*id="{element_id}".*?</form>', page, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(0)


def test_an_autosave_after_the_session_ended_gets_a_plain_401_and_saves_nothing(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    idle_out(handler)
    answer = handler.post(
        f"{page}/save", data={"csrf_token": token, "transcript": "after the break"}, headers=JSON
    )
    assert answer.status_code == 401
    assert answer.get_json() == {
        "saved": False,
        "signed_out": True,
        "error": "You were signed out, so this was not saved.",
    }
    assert transcript(db) == ""


def test_the_save_route_stays_csrf_protected(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, page, _ = taken(as_role, queued_report)
    script = handler.post(f"{page}/save", data={"transcript": "forged"}, headers=JSON)
    assert script.status_code == 400 and "expired" in script.get_json()["error"]
    # A plain form gets the console's own refusal (whatever page that is), and nothing is saved.
    form = handler.post(f"{page}/save", data={"transcript": "forged", "csrf_token": "x"})
    assert form.status_code in (303, 400)
    assert transcript(db) == ""


def test_a_beacon_with_the_forms_token_saves_the_last_words(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    # navigator.sendBeacon sends the form as multipart, accepting anything, and reads no answer.
    beacon = handler.post(
        f"{page}/save",
        data={"csrf_token": token, "transcript": "the very last words"},
        content_type="multipart/form-data",
        headers={"Accept": "*/*"},
    )
    assert beacon.status_code == 303
    assert transcript(db) == "the very last words"


def test_stay_signed_in_renews_the_session_and_is_csrf_protected(
    as_role: Any, queued_report: str
) -> None:
    handler, _, token = taken(as_role, queued_report)
    with handler.session_transaction() as session:
        session["seen"] = time.time() - 60
    assert handler.post("/console/keep-alive", headers=JSON).status_code == 400
    kept = handler.post("/console/keep-alive", data={"csrf_token": token}, headers=JSON)
    assert kept.status_code == 200 and kept.get_json()["signed_in"]
    with handler.session_transaction() as session:
        assert time.time() - session["seen"] < 30
    idle_out(handler)
    late = handler.post("/console/keep-alive", data={"csrf_token": token}, headers=JSON)
    assert late.status_code == 401 and late.get_json()["signed_out"]


def test_findings_come_with_their_field_and_place_as_the_browser_counts(
    as_role: Any, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    # A browser's textarea holds "\n" line ends and counts UTF-16 units: an emoji is two.
    text = "Hi \N{GRINNING FACE}\r\nMy name is Sam Jones"
    answer = handler.post(
        f"{page}/save",
        data={"csrf_token": token, "transcript": text, "where_text": "14 Acacia Avenue"},
        headers=JSON,
    ).get_json()
    assert answer["saved"]
    by_field = {span["field"]: span for span in answer["highlights"]}
    assert by_field["transcript"]["text"] == "Sam Jones"
    assert (by_field["transcript"]["start"], by_field["transcript"]["end"]) == (17, 26)
    assert by_field["where_text"]["text"] == "14 Acacia Avenue"
    assert (by_field["where_text"]["start"], by_field["where_text"]["end"]) == (0, 16)
    assert "the caller's name: Sam Jones" in answer["warnings"]
    # The page marks the same places for its list to jump to.
    shown = handler.get(page).get_data(as_text=True)
    assert 'data-field="transcript" data-start="17" data-end="26"' in shown


def test_a_refused_submission_keeps_the_ticks_and_says_why_beside_them(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    handler.post(f"{page}/save", data={"csrf_token": token, **FIELDS}, headers=JSON)
    refused = handler.post(f"{page}/submit", data={"csrf_token": token, "check": ["1", "3"]})
    # Back to the reasons at the top of the form, not to the top of the page
    assert refused.headers["Location"].endswith(f"{page}#error-summary")
    shown = handler.get(refused.headers["Location"]).get_data(as_text=True)
    summary = re.search(r'<div id="error-summary".*?</div>', shown, re.S)
    assert summary and (
        '<a href="#checks" data-field="checks">Confirm every sanitisation check before '
        "submitting</a>" in summary.group(0)
    )
    form = form_section(shown, "submit-form")
    assert 'id="checks-error"' in form and 'aria-describedby="checks-error"' in form
    ticked = re.findall(r'name="check" value="(\d)" checked', form)
    assert ticked == ["1", "3"]
    # The reason is said once: the next visit starts afresh.
    again = handler.get(page).get_data(as_text=True)
    assert "error-summary" not in again and "checked" not in form_section(again, "submit-form")
    assert (
        post(handler, f"{page}/submit", {**CHECKS, "warnings_reviewed": "yes"}, page=page)
        .headers["Location"]
        .endswith("/console/")
    )


def test_a_submission_missing_fields_gives_every_reason_beside_its_field(
    as_role: Any, db: Database, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    # Given a report whose handler wrote only the transcript
    handler.post(f"{page}/save", data={"csrf_token": token, "transcript": "Words"}, headers=JSON)
    fresh = handler.get(page).get_data(as_text=True)
    # The rule is seen before submitting: marked on the fields, listed in the status strip
    assert fresh.count('<span class="needed">(needed to submit)</span>') == 4
    strip = re.search(r'<section id="status-strip".*?</section>', fresh, re.S)
    assert strip and '<a href="#what" data-field="what">Say what happened</a>' in strip.group(0)
    assert '<a href="#transcript"' not in strip.group(0)
    # When they submit, every reason comes back at once, each beside its field
    refused = handler.post(f"{page}/submit", data={"csrf_token": token, **CHECKS})
    shown = handler.get(refused.headers["Location"]).get_data(as_text=True)
    for field, reason in (
        ("force", "Choose the force"),
        ("handler-category", "Choose a category"),
        ("what", "Say what happened"),
    ):
        assert f'<a href="#{field}" data-field="{field}">{reason}</a>' in shown
        assert (
            f'<p class="error-message" id="{field}-error"><span class="visually-hidden">'
            f"Error:</span> {reason}</p>" in shown
        )
    assert 'id="checks-error"' not in shown and 'id="transcript-error"' not in shown


def test_a_reviewer_reads_the_report_as_text_with_its_findings_marked(
    as_role: Any, queued_report: str
) -> None:
    handler, page, token = taken(as_role, queued_report)
    fields = {**FIELDS, "transcript": "First part.\r\n\r\nMy name is Sam Jones, that is all."}
    handler.post(f"{page}/save", data={"csrf_token": token, **fields}, headers=JSON)
    handler.post(
        f"{page}/submit",
        data={"csrf_token": token, **CHECKS, "warnings_reviewed": "yes"},
    )
    for reader in (as_role(Role.SUPERVISOR), handler):
        shown = reader.get(page).get_data(as_text=True)
        assert 'id="report-form"' not in shown and 'name="transcript"' not in shown
        assert "disabled" not in shown
        assert "<p>First part.</p>" in shown
        assert '<p>My name is <mark title="the caller&#39;s name">Sam Jones</mark>' in shown
        assert "<dt>What happened</dt><dd>Selling police information</dd>" in shown
        assert '<a class="skip-link" href="#transcript-text">Skip to transcript</a>' in shown
        assert 'id="transcript-text"' in shown


def test_the_editing_page_names_its_players_and_skips_to_the_transcript(
    as_role: Any, queued_report: str
) -> None:
    handler, page, _ = taken(as_role, queued_report)
    shown = handler.get(page).get_data(as_text=True)
    assert '<a class="skip-link" href="#transcript">Skip to transcript</a>' in shown
    assert 'aria-label="Recording of the report"' in shown
    assert 'aria-label="Recording of the contact details"' in shown
    assert 'data-idle-seconds="900"' in shown
    assert "<kbd>Ctrl</kbd>+<kbd>J</kbd>" in shown
