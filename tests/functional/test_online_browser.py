"""Online reports in a real browser: sent with JavaScript off and on, in English and Welsh,
worked by a handler, and nothing of the sender left in any store, log or metric."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from ivr.models.reports import Report, ReportSource
from ivr.models.staff import Role
from ivr.staff.accounts import add_user
from tests.functional.axe import NARROW, assert_accessible, assert_no_sideways_scroll
from tests.functional.online_pages import OnlineFormPage
from tests.functional.pages import EnrolPage, SignInPage
from tests.online.helpers import form_action, form_fields, photo_with_gps

pytestmark = pytest.mark.slow
PASSWORD = "a long and private passphrase"
PLANTED_IP = "203.0.113.77"
PLANTED_AGENT = "PlantedAgent/9.9 (sender-device-4417)"
PLANTED_REFERRER = "https://planted-referrer.example/sender-4417"
HEADERS = {"X-Forwarded-For": PLANTED_IP, "X-Real-IP": PLANTED_IP, "Forwarded": f"for={PLANTED_IP}"}


def test_online_reports_reach_the_queue_and_leave_no_trace_of_their_senders(
    browser: Any, console: Any, tmp_path: Path, capfd: Any
) -> None:
    base, config, db, _, _, app = console
    guard = app.extensions["ivr.online"].guard

    # Given a sender without JavaScript, on a phone-sized screen, from a planted address
    no_js = browser.new_context(
        java_script_enabled=False, user_agent=PLANTED_AGENT, extra_http_headers=HEADERS
    )
    page = no_js.new_page()
    page.set_viewport_size({"width": 320, "height": 800})
    form = OnlineFormPage(page, base)
    form.open()
    assert_accessible(page, "the online form")
    assert_no_sideways_scroll(page, "the online form at 320 px")

    # When they send nothing, they are told beside the field, in plain words
    form.read_the_picture(guard)
    form.send()
    assert "Tell us what happened" in form.error_beside("what")
    assert_accessible(page, "the form with errors")

    # And when they write an anonymous report and type the picture's characters, it is sent
    form.fill("personal_advantage", "PLANTED-WHAT-ANON-8812 took cash", who="PLANTED-WHO-3391")
    form.read_the_picture(guard)
    form.send()
    form.sent()
    assert_accessible(page, "the sent page")

    # Given a Welsh sender without JavaScript, the form speaks Welsh and passes axe
    page.set_viewport_size(NARROW)
    form.open(welsh=True)
    assert page.locator("html").get_attribute("lang") == "cy"
    assert "ffoniwch 999" in page.locator("#safety").inner_text()
    assert_accessible(page, "the Welsh form")

    # Given a sender with JavaScript (its proof of work replaces the picture), who leaves
    # contact details and a photo carrying a GPS position
    photo = tmp_path / "IMG_sender_name.jpg"
    photo.write_bytes(photo_with_gps())
    with_js = browser.new_context(user_agent=PLANTED_AGENT, extra_http_headers=HEADERS)
    page = with_js.new_page()
    form = OnlineFormPage(page, base)
    form.open()
    form.fill("discrimination", "PLANTED-WHAT-CONTACT-5530 racist messages", force="Kent Police")
    form.leave_contact("PLANTED-CONTACT-0770 900 123")
    form.attach(photo)
    assert page.locator("#question").is_hidden()
    form.send()
    form.sent()
    assert_accessible(page, "the sent page, with JavaScript")

    # And a sender whose software does send a referrer (the form asks browsers not to)
    planted = {**HEADERS, "User-Agent": PLANTED_AGENT, "Referer": PLANTED_REFERRER}
    shown = requests.get(f"{base}/report", headers=planted, timeout=60).text
    fields = form_fields(shown)
    sent = requests.post(
        f"{base}{form_action(shown)}",
        data={**fields, "category": "other", "what": "PLANTED-WHAT-REFERRED-6610"},
        headers=planted,
        timeout=60,
    )
    assert sent.status_code == 200 and "Set-Cookie" not in sent.headers

    # Then the reports are in the handlers' queue, as online reports
    with db.transaction() as session:
        online = list(session.scalars(select(Report).where(Report.source == ReportSource.ONLINE)))
        assert len(online) == 3
        references = [r.reference for r in online]
        with_photo = next(r.reference for r in online if r.contact_left)

    with db.transaction() as session:
        link = add_user(session, "Sam", Role.SUPERVISOR, "admin-test").token
    staff = browser.new_context().new_page()
    secret = EnrolPage(staff).enrol(f"{base}/console/enrol/{link}", PASSWORD)
    SignInPage(staff, base).sign_in("Sam", PASSWORD, secret)
    staff.goto(f"{base}/console/")
    for reference in references:
        assert staff.locator(f"text={reference}").count() >= 1

    # And the photo a supervisor opens has lost its GPS position and camera details
    staff.goto(f"{base}/console/reports/{with_photo}")
    assert "GPS position" in staff.locator("#attachments").inner_text()
    assert "PLANTED-CONTACT-0770" in staff.locator("#online-contact").inner_text()
    source = staff.locator(".attachment-image").get_attribute("src")
    shown = staff.request.get(f"{base}{source}")
    with Image.open(io.BytesIO(shown.body())) as image:
        assert not image.getexif()

    # And nothing of either sender is anywhere: database, object store, logs or metrics
    metrics = requests.get(f"{base}/metrics", timeout=60).text
    assert "ivr_online_submissions_total" in metrics
    database = Path(config.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as connection:
        dumped = "\n".join(connection.iterdump()).encode()
    raw = b"".join(p.read_bytes() for p in database.parent.glob("ivr.sqlite3*"))
    stored = b"".join(p.read_bytes() for p in Path(config.storage_url).rglob("*") if p.is_file())
    logged = "".join(capfd.readouterr()).encode()
    everywhere = {
        "database": dumped + raw,
        "store": stored,
        "logs": logged,
        "metrics": metrics.encode(),
    }
    planted = [
        PLANTED_IP,
        PLANTED_AGENT,
        "sender-device-4417",
        "planted-referrer",
        "IMG_sender_name",
        "PLANTED-WHAT-ANON-8812",
        "PLANTED-WHO-3391",
        "PlantedCameraMake",
        "SERIAL-PLANTED",
    ]
    for where, content in everywhere.items():
        for secret_text in planted:
            assert secret_text.encode() not in content, f"{secret_text} found in the {where}"
    # The contact details and the report text the supervisor opened are now in the
    # handler's fields (as a transcript is), but never in a log or a metric.
    for where in ("logs", "metrics"):
        for secret_text in ("PLANTED-CONTACT-0770", "PLANTED-WHAT-CONTACT-5530"):
            assert secret_text.encode() not in everywhere[where], f"{secret_text} in the {where}"


def _online_reports(db: Any) -> list[Report]:
    with db.transaction() as session:
        return list(session.scalars(select(Report).where(Report.source == ReportSource.ONLINE)))


def test_the_contact_box_shows_only_when_the_sender_chooses_to_leave_details(
    browser: Any, console: Any
) -> None:
    """Given a sender with JavaScript on the form, "Yes, stay anonymous" chosen (the default),
    then the box for contact details is not shown (nor sent);
    when they choose to leave details, the box shows and they type in it;
    when they change their mind back to anonymous, the box is hidden again;
    then the report sent is anonymous, and their details were not sent."""
    base, _config, db, _, _, _app = console
    page = browser.new_context().new_page()
    form = OnlineFormPage(page, base)
    form.open()
    details = page.locator("#contact")  # the box, and its label and hint with it
    expect(page.locator("#anonymity-anonymous")).to_be_checked()
    expect(details).to_be_hidden()
    assert_accessible(page, "the form, anonymous chosen, no contact box")

    page.check("#anonymity-contact")
    expect(details).to_be_visible()
    page.fill("#contact", "PLANTED-CHANGED-MIND-0773")
    assert_accessible(page, "the form with the contact box shown")

    page.check("#anonymity-anonymous")
    expect(details).to_be_hidden()
    # Kept in the page should they choose again, but it is no longer part of the form.
    expect(page.locator("#contact")).to_be_disabled()

    form.fill("personal_advantage", "PLANTED-WHAT-0774 took cash")
    form.send()
    form.sent()
    (report,) = _online_reports(db)
    assert not report.contact_left


def test_without_javascript_details_written_while_anonymous_get_a_question_back(
    browser: Any, console: Any
) -> None:
    """Given a sender without JavaScript, who leaves "Yes, stay anonymous" chosen and
    writes contact details in the box below it,
    when they send the form,
    then it comes back asking whether they meant to leave their details, linked from the
    summary to the choice that sends them, with everything they wrote still in the form,
    and nothing is stored;
    when they choose to leave details and send it again, it is sent with the details."""
    base, _config, db, _, _, app = console
    guard = app.extensions["ivr.online"].guard
    page = browser.new_context(java_script_enabled=False).new_page()
    form = OnlineFormPage(page, base)
    form.open()
    expect(page.locator("#contact")).to_be_visible()  # without script the box is always there
    form.fill("personal_advantage", "PLANTED-WHAT-0775 took cash")
    page.fill("#contact", "PLANTED-UNCHOSEN-0776 07700 900 123")
    form.read_the_picture(guard)
    form.send()

    assert "Did you mean to leave them?" in form.error_beside("anonymity")
    summary = page.locator("#error-summary a[href='#anonymity-contact']")
    expect(summary).to_contain_text("you wrote contact details")
    expect(page.locator("#contact")).to_have_value("PLANTED-UNCHOSEN-0776 07700 900 123")
    expect(page.locator("#what")).to_have_value("PLANTED-WHAT-0775 took cash")
    expect(page.locator("#anonymity-anonymous")).to_be_checked()
    assert _online_reports(db) == []
    assert_accessible(page, "the question about details written while anonymous")

    page.check("#anonymity-contact")
    form.read_the_picture(guard)
    form.send()
    form.sent()
    (report,) = _online_reports(db)
    assert report.contact_left
