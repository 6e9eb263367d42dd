"""Each question, declared once, is asked in both languages, reaches the handler and starts its field."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.flows.loader import load_flow_file
from ivr.flows.versions import publish
from ivr.models.reports import Force, Report
from ivr.models.staff import Role
from ivr.platform.db import Database
from ivr.reports.questions import QUESTIONS, Kind, Question
from tests.console.conftest import AsRole, post
from tests.online.helpers import send


def _text_of(page: str, element_id: str) -> str:
    found = re.search(rf'<p id="{element_id}">([^<]*)</p>', page)
    assert found, f"the page has no #{element_id}"
    return html.unescape(found.group(1))


def test_the_999_and_101_wording_stays_when_the_phone_prompts_are_reworded(
    client: FlaskClient, db: Database, flows_dir: Path
) -> None:
    # Given the form's wording, in English and Welsh, on the first published flow
    before = {path: client.get(path).get_data(as_text=True) for path in ("/report", "/report/cy")}
    # When the ops team rewords the phone's 999 and 101 prompts (and a category) and publishes
    flow_file = flows_dir / "hotline.yaml"
    text = flow_file.read_text()
    for old, new in (
        ("please hang up now and call 999.", "PHONE-ONLY-999 hang up and dial 999."),
        ("nawr a ffoniwch 999.", "nawr PHONE-ONLY-CY-999 ffoniwch 999."),
        ("or call 101. In an emergency", "or PHONE-ONLY-101 call 101. In an emergency"),
        ("neu ffoniwch 101.", "neu PHONE-ONLY-CY-101 ffoniwch 101."),
        ("Something else", "Something else entirely"),
    ):
        assert old in text
        text = text.replace(old, new)
    flow_file.write_text(text)
    publish(db, load_flow_file(flow_file), "ops-one", "reworded for the phone")
    # Then the form reads the new flow (its categories) but keeps its own 999 and 101 words
    for path, page in before.items():
        now = client.get(path).get_data(as_text=True)
        assert "PHONE-ONLY" not in now
        for element_id in ("safety", "complaints"):
            assert _text_of(now, element_id) == _text_of(page, element_id)
    assert "Something else entirely" in client.get("/report").get_data(as_text=True)
    assert "call 999" in _text_of(before["/report"], "safety")
    assert "call 101" in _text_of(before["/report"], "complaints")
    assert "ffoniwch 999" in _text_of(before["/report/cy"], "safety")


def test_every_declared_question_is_asked_in_english_and_in_welsh(client: FlaskClient) -> None:
    for path, lang in (("/report", "en"), ("/report/cy", "cy")):
        page = html.unescape(client.get(path).get_data(as_text=True))
        for question in QUESTIONS:
            assert question.label[lang] in page, (question.name, lang)
            assert f'name="{question.name}"' in page
            if question.hint:
                assert question.hint[lang] in page
            for choice in question.choices:
                assert choice.label[lang] in page
                if question.kind is Kind.CHOICE:
                    assert f'id="{question.name}-{choice.value}"' in page


def test_a_question_left_unanswered_that_must_be_answered_says_so_in_its_own_words(
    client: FlaskClient,
) -> None:
    required = [question for question in QUESTIONS if question.required]
    assert required  # what happened
    for path, lang in (("/report", "en"), ("/report/cy", "cy")):
        blank: dict[str, Any] = {question.name: "  " for question in required}
        response = send(client, path, **blank)
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 400
        for question in required:
            assert f'id="{question.name}-error"' in page
            assert question.required[lang] in page


def _an_answer_to(question: Question, force: str) -> str:
    match question.kind:
        case Kind.TEXT:
            return f"PLANTED-{question.name.upper()}-ANSWER"
        case Kind.CHOICE:
            return question.choices[0].value
        case Kind.FORCE:
            return force


def test_every_answer_reaches_the_handler_in_its_words_and_starts_its_report_field(
    ingest_app: Flask, as_role: AsRole, db: Database
) -> None:
    # Given a sender who answers every question
    with db.reading() as session:
        force = session.scalars(select(Force.name).where(Force.name != "Unknown")).first()
    assert force is not None
    answers: dict[str, Any] = {q.name: _an_answer_to(q, force) for q in QUESTIONS}
    assert send(ingest_app.test_client(), **answers).status_code == 200
    # When a handler takes the next report and opens it
    handler = as_role(Role.HANDLER)
    reference = post(handler, "/console/take-next").headers["Location"].rsplit("/", 1)[1]
    page = html.unescape(handler.get(f"/console/reports/{reference}").get_data(as_text=True))
    # Then each answer is shown under the question's label, as the handler reads it
    listed = page[page.index('id="online-answers"') :]
    listed = listed[: listed.index("</dl>")]
    for question in QUESTIONS:
        shown = question.shown(answers[question.name])
        assert f"<dt>{question.handler}</dt><dd>{shown}</dd>" in listed
    # And each question that feeds a report field has started it
    with db.transaction() as session:
        report = session.scalars(select(Report).where(Report.reference == reference)).one()
        for question in QUESTIONS:
            if question.report_field:
                assert getattr(report, question.report_field) == answers[question.name]
