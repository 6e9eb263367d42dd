"""An online report's text, contact details and attachments, in the report page.

Attachments are stripped of metadata the first time the report is opened, before any of
them is shown (``ivr.reports.attachments``). Each image shown and each file downloaded
is audited, as each play of a recording is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from ivr.console import signed_in
from ivr.console.lookup import report_by_reference
from ivr.crypto import vault
from ivr.crypto.keys import KeyServiceError
from ivr.models.reports import Report, ReportSource
from ivr.models.staff import User
from ivr.outside.metadata import SandboxedStripper
from ivr.reports import access
from ivr.reports.attachments import clean_and_read, read_cleaned
from ivr.reports.questions import QUESTIONS
from ivr.services import services
from ivr.staff import audit
from ivr.staff.permissions import Action

bp = Blueprint("attachments", __name__, url_prefix="/console")

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    # HEIC and TIFF are shown as the JPEG and PNG they become; these name an original.
    "image/heic": "heic",
    "image/heif": "heif",
    "image/tiff": "tif",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
}


def attachments_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's attachments section (``console/_attachments.html``) shows."""
    if report.source is not ReportSource.ONLINE:
        return {}
    built = services()
    with_contact = access.may_see_contact(report, user)
    try:
        found = clean_and_read(
            db_session,
            built.store,
            built.key_wrapper,
            built.key_unwrapper,
            SandboxedStripper(),  # a file made to exhaust memory takes only a child down
            report,
            with_contact=with_contact,
        )
    except (KeyServiceError, vault.Unopenable, FileNotFoundError):
        return {"online_unreadable": True}
    # Reading is not working: taking the report starts its transcript from these words
    # (``online.fill_from_answers``); showing them changes nothing.
    if found.contact is not None:
        audit.record(db_session, user.name, "read_contact", report.reference, "online")
    return {"online": found, "questions": QUESTIONS}


@bp.get("/reports/<reference>/attachments/<item_id>")
@signed_in(Action.PLAY_AUDIO)
def attachment(reference: str, item_id: str) -> ResponseReturnValue:
    """Send one cleaned attachment: an image inline, anything else as a download."""
    built = services()
    with built.db.transaction() as db_session:
        report = report_by_reference(db_session, reference)
        if not access.may_open(db_session, report, g.user):
            audit.record(db_session, g.user.name, "access_refused", reference, "attachment")
            refused = True
        else:
            refused = False
            try:
                found = read_cleaned(db_session, built.store, built.key_unwrapper, report, item_id)
            except (vault.Unopenable, FileNotFoundError):
                found = None
            if found is not None:
                item, data = found
                inline = item.media_type.startswith("image/")
                audit.record(
                    db_session,
                    g.user.name,
                    "view_attachment" if inline else "download_attachment",
                    report.reference,
                    item.media_type,
                )
    if refused:
        abort(403)
    if found is None:
        abort(404)
    name = f"attachment-{item.position}.{EXTENSIONS.get(item.media_type, 'bin')}"
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype=item.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}"',
            # Whatever is inside a file, it runs nothing in the console's origin.
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        },
    )
