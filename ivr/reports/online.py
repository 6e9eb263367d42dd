"""An online report enters the handlers' queue, encrypted on arrival like a recording.

The edge takes what the form sent, already checked and held in memory only, and for each
part (the text, the contact details, each attachment) makes a fresh data key, streams
the part through the audio's envelope into the store under a random name, and records
the object with its wrapped key sealed under the day's key. Then the report is queued in
the same transaction, with the day and nothing finer. The edge can wrap keys but never
unwrap them: once sent, a report cannot be read back on the internet-facing side.

The console opens the parts with :func:`open_part`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.crypto import day_keys, envelope, vault
from ivr.crypto.keys import KeyUnwrapper, KeyWrapper
from ivr.models.audit import AuditEvent
from ivr.models.online import OnlineObject, OnlinePart
from ivr.models.reports import Anonymity, Report, ReportSource
from ivr.outside.storage import ObjectStore, new_object_name
from ivr.platform.db import Database
from ivr.reports import followup, lifecycle
from ivr.reports.questions import NAMES, QUESTIONS
from ivr.reports.status import INITIAL
from ivr.staff import audit

# The keys of the sealed text part: one per question (``ivr.reports.questions``).
ANSWERS = NAMES


@dataclass(frozen=True)
class Attachment:
    """A checked file, in memory: its bytes and the media type we recognised in them."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class OnlineSubmission:
    """What a sender sent, already checked by the form."""

    language: str  # a flow language tag, e.g. en-GB
    category: str | None
    answers: dict[str, str]  # ANSWERS -> text (empty when not given)
    contact: str = ""  # only when the sender chose to leave contact details
    attachments: list[Attachment] = field(default_factory=list)
    pin: str | None = None  # chosen for a follow-up reference usable by phone


@dataclass(frozen=True)
class Receipt:
    """What the sender is told once the report is safe."""

    follow_up_reference: str | None  # a follow-up reference usable by phone


def receive(
    db: Database,
    store: ObjectStore,
    keys: KeyWrapper,
    submission: OnlineSubmission,
    chunk_size: int = envelope.DEFAULT_CHUNK,
) -> Receipt:
    """Encrypt and store every part of ``submission``, then queue its report."""
    report_id = str(uuid.uuid4())
    contact = submission.contact.strip()
    parts: list[tuple[OnlinePart, bytes, str]] = [
        (OnlinePart.TEXT, _text_body(submission), "application/json")
    ]
    if contact:
        parts.append((OnlinePart.CONTACT, contact.encode(), "text/plain"))
    parts += [(OnlinePart.ATTACHMENT, a.data, a.media_type) for a in submission.attachments]
    sealed: list[vault.Sealed] = []
    try:
        for part, data, _ in parts:
            sealed.append(_seal(store, keys, report_id, part, data, chunk_size))
        with db.transaction() as session:
            report = Report(
                id=report_id,
                # A day is enough: the exact time could help identify the sender.
                received_on=datetime.now(UTC).date(),
                source=ReportSource.ONLINE,
                status=INITIAL,
                language=submission.language,
                category=submission.category,
                anonymity=Anonymity.CONTACT if contact else Anonymity.ANONYMOUS,
                contact_left=bool(contact),
                has_audio=False,
            )
            session.add(report)
            session.flush()
            for position, ((part, _, media_type), item) in enumerate(
                zip(parts, sealed, strict=True)
            ):
                row = OnlineObject(
                    report_id=report_id,
                    part=part,
                    position=position,
                    media_type=media_type,
                    # Attachments are cleaned by the console before anyone sees them.
                    cleaned=part is not OnlinePart.ATTACHMENT,
                    removed="",
                )
                item.keep(session, report.received_on, row)
                session.add(row)
            session.flush()
            # No recordings to wait for: queued at once, as a call is once its audio is safe.
            lifecycle.queue_when_complete(session, report_id)
            reference = (
                followup.mint_reference(session, report, submission.pin) if submission.pin else None
            )
    except BaseException:
        # Nothing half-made is left behind: the sender is asked to send it again.
        for item in sealed:
            store.delete(item.name)
        raise
    # Shown once and never kept: only its digest is stored (``ivr.reports.followup``).
    return Receipt(follow_up_reference=reference)


def _text_body(submission: OnlineSubmission) -> bytes:
    answers = {key: submission.answers.get(key, "").strip() for key in ANSWERS}
    return json.dumps(answers, ensure_ascii=False).encode()


def parts_of(session: Session, report_id: str) -> list[OnlineObject]:
    """Return the online parts of a report, text first, attachments in the order sent."""
    return list(
        session.scalars(
            select(OnlineObject)
            .where(OnlineObject.report_id == report_id)
            .order_by(OnlineObject.position)
        )
    )


def open_part(
    session: Session, store: ObjectStore, unwrapper: KeyUnwrapper, item: OnlineObject
) -> bytes:
    """Decrypt one part (console side only: it needs the key unwrapper)."""
    return vault.open(session, store, unwrapper, item).whole()


def read_text(data: bytes) -> dict[str, str]:
    """Return the sender's answers from a decrypted text part."""
    found = json.loads(data.decode())
    return {key: str(found.get(key, "")) for key in ANSWERS}


# The audit action that says a report's transcript was started from the sender's answers.
FILLED = "fill_from_answers"


def fill_from_answers(
    session: Session, store: ObjectStore, unwrapper: KeyUnwrapper, report: Report, actor: str
) -> bool:
    """Start an online report's transcript from the sender's answers, once; True if it did.

    The operation that opens the report for work calls this (taking it), never a page:
    reading a report changes nothing. Only empty fields are filled, and never a second
    time, so a retake cannot put back the sender's words a handler has sanitised away.
    """
    if report.source is not ReportSource.ONLINE:
        return False
    # The row lock: two takes at once (a double click) copy only once.
    session.refresh(report, with_for_update=True)
    done = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.report_reference == report.reference, AuditEvent.action == FILLED)
        .limit(1)
    )
    if done is not None:
        return False
    answers: dict[str, str] = {}
    contact = ""
    for item in parts_of(session, report.id):
        if item.part is OnlinePart.TEXT:
            answers = read_text(open_part(session, store, unwrapper, item))
        elif item.part is OnlinePart.CONTACT:
            contact = open_part(session, store, unwrapper, item).decode()
    if not report.transcript:
        for question in QUESTIONS:
            if question.report_field and not getattr(report, question.report_field):
                setattr(report, question.report_field, answers.get(question.name, ""))
    if contact and not report.contact_transcript:
        report.contact_transcript = contact
    audit.record(session, actor, FILLED, report.reference, "online")
    return True


def replace_with_cleaned(
    session: Session,
    store: ObjectStore,
    keys: KeyWrapper,
    item: OnlineObject,
    cleaned: bytes,
    removed: list[str],
) -> str:
    """Store the cleaned copy as its own encrypted object in place of the original.

    Return the original's name: the caller destroys it once this transaction commits.
    """
    day = session.scalar(select(Report.received_on).where(Report.id == item.report_id))
    assert day is not None
    original = item.object_name
    _seal(store, keys, item.report_id, item.part, cleaned, item.chunk_size).keep(session, day, item)
    item.cleaned, item.removed = True, "\n".join(removed)
    # The original's wrapped key lingers in old row versions: its day key is replaced.
    day_keys.forget(session, day)
    return original


def _seal(
    store: ObjectStore,
    keys: KeyWrapper,
    report_id: str,
    part: OnlinePart,
    data: bytes,
    chunk_size: int,
) -> vault.Sealed:
    """Encrypt ``data`` with a fresh data key and store it under a random name."""
    return vault.seal(
        store,
        keys,
        name=new_object_name(),
        report_id=report_id,
        part=OnlineObject.key_part_of(part),
        plaintext=(data,),
        chunk_size=chunk_size,
    )
