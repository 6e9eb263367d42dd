"""The online form over HTTP: what it asks, what it refuses, and what it keeps (nothing of the sender)."""

from __future__ import annotations

import io
import logging
import struct
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.config import Config
from ivr.models.followup import FollowUp
from ivr.models.online import OnlineObject, OnlinePart
from ivr.models.reports import Anonymity, Report, ReportSource, ReportStatus
from ivr.platform.db import Database
from tests.online.helpers import form_action, form_fields, photo_with_gps, send
from tests.outside.made import heic_with_gps, tiff_with_artist
from tests.reports.test_attachments_bombs import png


def _stored_bytes(config: Config) -> bytes:
    root = Path(config.storage_url)
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_the_form_shows_the_999_message_first_then_the_flows_categories_and_the_forces(
    client: FlaskClient,
) -> None:
    response = client.get("/report")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("call 999") < page.index("<form")
    assert "call 101" in page
    assert "Using their position for personal advantage" in page  # from the published flow
    assert "Something else" in page
    assert page.count("<option") == 49 + 1  # the forces and "I am not sure"
    assert "Set-Cookie" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_form_is_in_welsh_at_report_cy_and_with_lang_cy(client: FlaskClient) -> None:
    for path in ("/report/cy", "/report?lang=cy"):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="cy">' in page
        assert "ffoniwch 999" in page
        assert "Am rywun yn defnyddio ei swydd er mantais bersonol" in page


def test_an_anonymous_report_is_queued_encrypted_with_only_its_day(
    client: FlaskClient, db: Database, config: Config
) -> None:
    response = send(client, what="PLANTED-WHAT-7731 took cash", who="PLANTED-WHO-5521")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Your report has been sent" in response.get_data(as_text=True)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        parts = list(session.scalars(select(OnlineObject)))
        assert (report.source, report.status) == (ReportSource.ONLINE, ReportStatus.QUEUED)
        assert report.anonymity is Anonymity.ANONYMOUS and not report.contact_left
        assert report.category == "personal_advantage" and report.queue_position == 1
        assert [p.part for p in parts] == [OnlinePart.TEXT]
    stored = _stored_bytes(config)
    assert stored and b"PLANTED-WHAT-7731" not in stored and b"PLANTED-WHO-5521" not in stored


def test_contact_details_and_each_file_are_separate_encrypted_parts(
    client: FlaskClient, db: Database, config: Config
) -> None:
    response = send(
        client,
        what="They threatened a witness",
        anonymity="contact",
        contact="PLANTED-CONTACT-0770",
        files=[(photo_with_gps(), "my-own-name.jpg"), (b"notes PLANTED-NOTE\n", "n.txt")],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        parts = list(session.scalars(select(OnlineObject).order_by(OnlineObject.position)))
        assert report.anonymity is Anonymity.CONTACT and report.contact_left
        assert [(p.part, p.media_type) for p in parts] == [
            (OnlinePart.TEXT, "application/json"),
            (OnlinePart.CONTACT, "text/plain"),
            (OnlinePart.ATTACHMENT, "image/jpeg"),
            (OnlinePart.ATTACHMENT, "text/plain"),
        ]
    stored = _stored_bytes(config)
    for planted in (b"PLANTED-CONTACT-0770", b"PLANTED-NOTE", b"PlantedCameraMake", b"my-own-name"):
        assert planted not in stored


def test_contact_details_written_while_anonymous_is_chosen_are_asked_about_not_kept(
    client: FlaskClient, db: Database, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """Given details written in the box while "stay anonymous" is chosen (no JavaScript
    hides the box), when the form is sent, then it comes back asking whether they meant
    to leave them, the words still in the box and the report in the form, and nothing is
    stored or logged; sent again with the box emptied, the report is anonymous."""
    caplog.set_level(logging.DEBUG)
    response = send(client, what="A bribe", anonymity="anonymous", contact="PLANTED-ASKED-0771")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="anonymity-error"' in page and "Did you mean to leave them?" in page
    assert '<a href="#anonymity-contact">' in page  # the summary links to the choice meant
    assert ">PLANTED-ASKED-0771</textarea>" in page and ">A bribe</textarea>" in page
    assert 'id="anonymity-anonymous" name="anonymity" value="anonymous" checked' in page
    with db.transaction() as session:
        assert session.scalars(select(Report)).all() == []
        assert session.scalars(select(OnlineObject)).all() == []
    assert b"PLANTED-ASKED-0771" not in _stored_bytes(config)
    assert "PLANTED-ASKED-0771" not in caplog.text

    send(client, what="A bribe", anonymity="anonymous", contact="  \n ")
    with db.transaction() as session:
        assert [p.part for p in session.scalars(select(OnlineObject))] == [OnlinePart.TEXT]
        assert not session.scalars(select(Report)).one().contact_left


def test_the_same_words_sent_as_contact_details_are_kept_apart(
    client: FlaskClient, db: Database
) -> None:
    send(client, what="A bribe", anonymity="contact", contact="PLANTED-CHOSEN-0772")
    with db.transaction() as session:
        assert session.scalars(select(Report)).one().contact_left


def test_a_pin_gets_a_follow_up_reference_shown_once_and_kept_only_as_a_digest(
    client: FlaskClient, db: Database
) -> None:
    page = send(client, what="A bribe", pin="4821", pin_again="4821").get_data(as_text=True)
    assert "Your follow-up reference is" in page
    with db.transaction() as session:
        assert session.scalars(select(FollowUp)).one().pin_hash


def test_bad_input_gets_a_message_beside_its_field_and_keeps_what_was_typed(
    client: FlaskClient, db: Database
) -> None:
    # An empty report
    page = send(client, what="  ", who="Sergeant KEPT-WHO").get_data(as_text=True)
    assert 'id="what-error"' in page and "Tell us what happened" in page
    assert "Sergeant KEPT-WHO" in page
    # A file that is not a type we take
    response = send(client, what="KEPT-WHAT", files=[(b"MZ\x90\x00\x03\x00binary", "a.exe")])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="files-error"' in page and "File 1 is not a type we accept" in page
    assert "KEPT-WHAT" in page
    # An oversize file
    big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 1)
    page = send(client, what="KEPT-BIG", files=[(big, "big.jpg")]).get_data(as_text=True)
    assert "File 1 is too big" in page and "KEPT-BIG" in page
    # A picture whose header claims far more pixels than can be cleaned: refused at once
    bomb = png(13_000, 13_000)
    page = send(client, what="KEPT-BOMB", files=[(bomb, "huge.png")]).get_data(as_text=True)
    assert "File 1 is a picture too large to check" in page and "KEPT-BOMB" in page
    # Contact chosen, but none given; and PINs that differ
    page = send(client, what="x", anonymity="contact", pin="1234", pin_again="1243").get_data(
        as_text=True
    )
    assert 'id="contact-error"' in page and 'id="pin-error"' in page
    # A PIN in other digits than a phone's keypad has
    page = send(
        client, what="x", pin="\u0661\u0662\u0663\u0664", pin_again="\u0661\u0662\u0663\u0664"
    )
    assert 'id="pin-error"' in page.get_data(as_text=True)
    # Nothing of these was kept.
    with db.transaction() as session:
        assert session.scalars(select(Report)).first() is None


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def heic_claiming(width: int, height: int) -> bytes:
    """The boxes of a HEIC file whose picture claims ``width`` x ``height``; no picture."""
    extents = _box(b"ispe", b"\x00" * 4 + struct.pack(">II", width, height))
    meta = _box(b"meta", b"\x00" * 4 + _box(b"iprp", _box(b"ipco", extents)))
    return _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta


def test_an_iphone_heic_photo_and_a_tiff_scan_are_taken(client: FlaskClient, db: Database) -> None:
    response = send(
        client,
        what="Photos of the logbook",
        files=[(heic_with_gps(), "IMG_0001.HEIC"), (tiff_with_artist(), "scan.tif")],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    with db.transaction() as session:
        kinds = session.scalars(
            select(OnlineObject.media_type)
            .where(OnlineObject.part == OnlinePart.ATTACHMENT)
            .order_by(OnlineObject.position)
        ).all()
    assert kinds == ["image/heic", "image/tiff"]


def test_a_heic_photo_claiming_too_many_pixels_is_refused_at_once(client: FlaskClient) -> None:
    bomb = heic_claiming(13_000, 13_000)
    page = send(client, what="KEPT-BOMB", files=[(bomb, "huge.heic")]).get_data(as_text=True)
    assert "File 1 is a picture too large to check" in page and "KEPT-BOMB" in page


def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in names.items():
            archive.writestr(name, data)
    return out.getvalue()


WORD_PROCESSOR_FILES = {
    "statement.docx": _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
    "statement.odt": _zip({"mimetype": b"application/vnd.oasis.opendocument.text"}),
    "statement.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
    "statement.rtf": b"{\\rtf1\\ansi{\\info{\\author Jane Whistleblower}} Statement}",
}


@pytest.mark.parametrize("name", sorted(WORD_PROCESSOR_FILES))
def test_a_word_processor_file_is_refused_with_how_to_send_it_instead(
    client: FlaskClient, name: str
) -> None:
    response = send(client, what="KEPT-WHAT", files=[(WORD_PROCESSOR_FILES[name], name)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "File 1 is a word-processor document" in page
    assert "Save it as a PDF, or take screenshots of it" in page and "KEPT-WHAT" in page


def test_an_expired_or_reused_form_is_refused_with_the_answers_kept(
    client: FlaskClient, db: Database
) -> None:
    page = client.get("/report").get_data(as_text=True)
    data = {**form_fields(page), "category": "other", "anonymity": "anonymous", "what": "KEPT-ONCE"}
    assert client.post(form_action(page), data=data).status_code == 200
    again = client.post(form_action(page), data=data)  # the same form, sent twice
    assert again.status_code == 400
    assert "This form had expired" in again.get_data(as_text=True)
    assert "KEPT-ONCE" in again.get_data(as_text=True)
    forged = client.post("/report?token=not-a-token", data=data)
    assert "This form had expired" in forged.get_data(as_text=True)
    with db.transaction() as session:
        assert len(list(session.scalars(select(Report)))) == 1


def test_metrics_count_outcomes_and_show_the_limit(client: FlaskClient) -> None:
    send(client, what="counted")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'ivr_online_submissions_total{outcome="accepted"} 1.0' in metrics
    assert 'ivr_online_rate_limit{kind="limit_per_minute"} 30.0' in metrics


def test_uploads_never_become_temporary_files(client: FlaskClient, monkeypatch: object) -> None:
    import tempfile

    made: list[str] = []
    real = tempfile.SpooledTemporaryFile

    def spy(*args: object, **kwargs: object) -> object:
        made.append("spooled")
        return real(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", spy)  # type: ignore[attr-defined]
    photo = photo_with_gps() + b"\x00" * (2 * 1024 * 1024)  # far over werkzeug's 500 KB spool
    assert send(client, what="x", files=[(photo, "p.jpg")]).status_code == 200
    assert made == []
    assert io  # the form reads uploads into memory
