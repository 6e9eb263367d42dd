"""The ops console keeps what people type, asks before publishing, and shows what changed."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ivr.models.staff import Role
from tests.conftest import SAMPLES
from tests.console.test_flows_console import line_of, post

HOTLINE = SAMPLES.parent.parent / "call_flows" / "hotline.yaml"


@pytest.fixture
def ops(as_role: Any, ingest_app: Any) -> FlaskClient:
    client: FlaskClient = as_role(Role.OPS)
    assert client.get("/console/flows/").status_code == 200  # publishes the file as version 1
    return client


def draft(client: FlaskClient, old: str, new: str, message: str) -> None:
    text = HOTLINE.read_text()
    assert old in text
    saved = post(
        client, "/console/flows/edit", {"content": text.replace(old, new, 1), "message": message}
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)


def test_publishing_without_a_message_is_refused_and_keeps_the_form(ops: FlaskClient) -> None:
    # Given a draft
    draft(ops, "concerned. Goodbye.", "concerned. Take care.", "kinder goodbye")
    # When it is published with only spaces as its message
    refused = post(ops, "/console/flows/v/2/publish", {"message": "   "})
    page = refused.get_data(as_text=True)
    # Then nothing is published, the page says why, and the form is still there to fill in
    assert refused.status_code == 400
    assert "Nothing was published: say what this version changes" in page
    assert 'id="publish-message" value="   "' in page
    assert 'data-confirm="Publish version 2 to all callers?"' in page
    assert "version 1</strong>" in ops.get("/console/flows/").get_data(as_text=True)


def test_the_history_keeps_the_drafts_message_and_the_rollback_reason(ops: FlaskClient) -> None:
    # Given a draft saved with its message, published, then rolled back with a reason
    draft(ops, "concerned. Goodbye.", "concerned. Take care.", "kinder goodbye")
    post(ops, "/console/flows/v/2/publish", {"message": "approved by the lead"})
    post(ops, "/console/flows/v/1/publish", {"message": "callers hung up early"})
    # Then the history shows all four entries, v1's first publish included
    page = ops.get("/console/flows/").get_data(as_text=True)
    history = page.split('id="history"')[1].split("</table>")[0]
    order = [
        "callers hung up early",
        "approved by the lead",
        "kinder goodbye",
        "first published from hotline.yaml",
    ]
    assert all(said in history for said in order)
    assert [history.index(said) for said in order] == sorted(history.index(s) for s in order)
    assert "rolled back to v1" in history and "saved draft v2" in history
    # and the overview says who put the live version back, and why
    assert "put back by ops-one on " in page and "callers hung up early</p>" in page


def test_the_announcement_form_keeps_its_text_after_a_refusal(ops: FlaskClient) -> None:
    # When an announcement in English only is switched on
    refused = post(
        ops,
        "/console/flows/announcement",
        {"text_en-GB": "Lines are busy during our appeal.", "active": "on", "ends_at": ""},
    )
    page = refused.get_data(as_text=True)
    # Then it is refused, and what was typed is still in the form
    assert refused.status_code == 400
    assert "give the announcement in every language" in page
    assert ">Lines are busy during our appeal.</textarea>" in page
    assert 'name="active" checked' in page


def test_a_bad_end_time_is_refused_and_the_texts_stay(ops: FlaskClient) -> None:
    refused = post(
        ops,
        "/console/flows/announcement",
        {"text_en-GB": "Busy.", "text_cy-GB": "Prysur.", "ends_at": "tomorrow"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "The announcement was not changed" in page
    assert ">Busy.</textarea>" in page and ">Prysur.</textarea>" in page
    assert 'value="tomorrow"' in page


def test_a_draft_lists_and_draws_the_steps_it_changes(ops: FlaskClient) -> None:
    # Given a draft that rewords the goodbye
    draft(ops, "concerned. Goodbye.", "concerned. Take care.", "kinder goodbye")
    # Then its page names the changed step and no added or removed one
    page = ops.get("/console/flows/v/2").get_data(as_text=True)
    assert 'id="steps-changed">thanks<' in page
    assert 'id="steps-added">none<' in page and 'id="steps-removed">none<' in page
    # and its diagram marks that step and has a legend
    svg = ops.get("/console/flows/v/2/diagram.svg").get_data(as_text=True)
    assert "changed step" in svg and "removed steps:" in svg
    # while the published version's own page and diagram mark nothing
    assert 'id="step-changes"' not in ops.get("/console/flows/v/1").get_data(as_text=True)
    assert "changed step" not in ops.get("/console/flows/v/1/diagram.svg").get_data(as_text=True)


def test_a_refused_edit_links_each_problem_to_its_line(ops: FlaskClient) -> None:
    text = HOTLINE.read_text()
    broken = post(
        ops,
        "/console/flows/edit",
        {"content": text.replace("next: anonymity_promise", "next: nowhere"), "message": "x"},
    )
    page = broken.get_data(as_text=True)
    line = line_of(text, "next: anonymity_promise")
    assert broken.status_code == 400
    assert (
        f'<a href="#flow-text" class="problem-line" data-line="{line}">hotline.yaml:{line}</a>: '
        "step &#39;safety&#39; refers to missing step &#39;nowhere&#39;" in page
    )
