"""A handler works an online report like a call: its words, contact details and a cleaned photo."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from PIL import Image
from sqlalchemy import select

from ivr.config import Config
from ivr.models.audit import AuditEvent
from ivr.models.online import OnlineObject, OnlinePart
from ivr.models.reports import Report
from ivr.models.staff import Role
from ivr.outside.storage import LocalStore
from ivr.platform.db import Database
from ivr.reports.retention import purge
from tests.console.conftest import AsRole, post
from tests.online.helpers import photo_with_gps, send


def _objects(config: Config) -> set[str]:
    return {p.name for p in Path(config.storage_url).rglob("*") if p.is_file()}


def test_a_handler_sees_the_senders_words_and_a_photo_without_its_metadata(
    ingest_app: Flask, as_role: AsRole, db: Database, ingest_config: Config
) -> None:
    # Given a report sent online with contact details and a photo carrying GPS
    sender = ingest_app.test_client()
    sent = send(
        sender,
        what="PC Example took cash at the station",
        anonymity="contact",
        contact="call 01632 960001 after six",
        files=[(photo_with_gps(), "p.jpg")],
    )
    assert sent.status_code == 200
    before = _objects(ingest_config)
    # When a handler takes it and opens it
    handler = as_role(Role.HANDLER)
    taken = post(handler, "/console/take-next")
    reference = taken.headers["Location"].rsplit("/", 1)[1]
    page = handler.get(f"/console/reports/{reference}").get_data(as_text=True)
    # Then the sender's words start the transcript, the contact details are shown apart
    assert "PC Example took cash at the station" in page
    assert "call 01632 960001 after six" in page
    assert "Removed before showing: GPS position" in page
    # And the photo is served without its EXIF, the original destroyed, each view audited
    link = re.search(r'src="(/console/reports/[^"]+/attachments/[^"]+)"', page)
    assert link
    photo = handler.get(link.group(1))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(photo.data)) as image:
        assert not image.getexif()
    after = _objects(ingest_config)
    assert len(after) == len(before) and after != before  # the original replaced by its copy
    with db.transaction() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"view", "view_attachment", "read_contact"} <= actions
        assert all(p.cleaned for p in session.scalars(select(OnlineObject)))


def test_another_handler_may_not_fetch_an_attachment(
    ingest_app: Flask, as_role: AsRole, db: Database, staff: dict[Role, object]
) -> None:
    send(ingest_app.test_client(), what="x", files=[(photo_with_gps(), "p.jpg")])
    supervisor = as_role(Role.SUPERVISOR)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        item = session.scalars(
            select(OnlineObject).where(OnlineObject.part == OnlinePart.ATTACHMENT)
        ).one()
        reference, item_id = report.reference, item.id
    supervisor.get(f"/console/reports/{reference}")  # cleans it
    handler = as_role(Role.HANDLER)
    assert handler.get(f"/console/reports/{reference}/attachments/{item_id}").status_code == 403


def test_retention_destroys_an_online_reports_parts_like_audio(
    ingest_app: Flask, db: Database, ingest_config: Config
) -> None:
    send(ingest_app.test_client(), what="x", files=[(photo_with_gps(), "p.jpg")])
    assert _objects(ingest_config)
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        received = report.received_on
    from datetime import timedelta

    purge(
        db,
        LocalStore(Path(ingest_config.storage_url)),
        "(retention)",
        30,
        365,
        received + timedelta(days=400),
    )
    assert _objects(ingest_config) == set()
    with db.transaction() as session:
        assert session.scalars(select(OnlineObject)).first() is None
        assert session.scalars(select(Report)).one().audio_purged
