"""What a handler sees of an online report: its text, contact details and cleaned files.

Attachments are cleaned of metadata (``ivr.outside.metadata``) the first time a person with the
need to know opens the report, before anything of them is shown. The cleaned copy is
stored encrypted as its own object, and the original destroyed once that is committed.
A file that cannot be cleaned, or is refused as larger than cleaning allows, is kept
(nothing reported is lost) but never shown; the page says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.crypto.keys import KeyUnwrapper, KeyWrapper
from ivr.models.online import OnlineObject, OnlinePart
from ivr.models.reports import Report
from ivr.outside.metadata import CannotClean, MetadataStripper
from ivr.outside.storage import ObjectStore
from ivr.reports import online

NOT_CLEANED = "could not be cleaned"


@dataclass(frozen=True)
class AttachmentView:
    id: str
    number: int
    media_type: str
    size: int
    removed: list[str]
    shown: bool  # cleaned: safe to show; otherwise it is withheld

    @property
    def inline(self) -> bool:
        return self.media_type.startswith("image/")

    @property
    def refusal(self) -> str:
        """Why a file is withheld ("the picture is ... pixels"), or "" when it is shown."""
        if self.shown or not self.removed:
            return ""
        return self.removed[0].removeprefix(NOT_CLEANED).removeprefix(": ")


@dataclass(frozen=True)
class OnlineView:
    answers: dict[str, str]
    contact: str | None  # None: none left, or this person may not see it
    attachments: list[AttachmentView]


def clean_and_read(
    session: Session,
    store: ObjectStore,
    keys: KeyWrapper,
    unwrapper: KeyUnwrapper,
    stripper: MetadataStripper,
    report: Report,
    *,
    with_contact: bool,
) -> OnlineView:
    """Clean any attachment not yet cleaned; return what the report page shows."""
    answers: dict[str, str] = {}
    contact: str | None = None
    attachments: list[AttachmentView] = []
    destroy: list[str] = []
    for item in session.scalars(
        select(OnlineObject)
        .where(OnlineObject.report_id == report.id)
        .order_by(OnlineObject.position)
        .with_for_update()
    ):
        match item.part:
            case OnlinePart.TEXT:
                answers = online.read_text(online.open_part(session, store, unwrapper, item))
            case OnlinePart.CONTACT:
                if with_contact:
                    contact = online.open_part(session, store, unwrapper, item).decode()
            case OnlinePart.ATTACHMENT:
                if not item.cleaned and not item.removed.startswith(NOT_CLEANED):
                    data = online.open_part(session, store, unwrapper, item)
                    try:
                        cleaned = stripper.strip(data, item.media_type)
                    except CannotClean as error:
                        item.removed = f"{NOT_CLEANED}: {error}"
                    else:
                        # A HEIC photo is shown as the JPEG it became.
                        item.media_type = cleaned.media_type
                        destroy.append(
                            online.replace_with_cleaned(
                                session, store, keys, item, cleaned.data, cleaned.removed
                            )
                        )
                attachments.append(
                    AttachmentView(
                        item.id,
                        len(attachments) + 1,
                        item.media_type,
                        item.size,
                        [line for line in item.removed.split("\n") if line],
                        item.cleaned,
                    )
                )
    if destroy:
        # The originals go only once the cleaned copies are committed in their place.
        sa_event.listen(session, "after_commit", lambda _: _delete(store, destroy), once=True)
    return OnlineView(answers, contact, attachments)


def read_cleaned(
    session: Session, store: ObjectStore, unwrapper: KeyUnwrapper, report: Report, item_id: str
) -> tuple[OnlineObject, bytes] | None:
    """Return a cleaned attachment of ``report`` and its bytes, or None if not shown."""
    item = session.get(OnlineObject, item_id)
    if (
        item is None
        or item.report_id != report.id
        or item.part is not OnlinePart.ATTACHMENT
        or not item.cleaned
    ):
        return None
    return item, online.open_part(session, store, unwrapper, item)


def _delete(store: ObjectStore, names: list[str]) -> None:
    for name in names:
        store.delete(name)
