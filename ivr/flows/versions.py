"""Flow versions in the database: publish, history, diff and roll back.

The files in ``call_flows/`` are the source a version is made from. Publishing checks
the file first and refuses it with its problems; the version then becomes what every
web process serves to new calls within seconds. Calls in progress stay on the version
they started with. Nothing is ever deleted: a rollback publishes an earlier version again.

Every save, publish and rollback appends a :class:`FlowEvent` (who, what, why, when); no
later action changes an earlier one, so the history keeps every message ever given.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.flows.loader import LoadedFlow, load_flow_text
from ivr.models.flows import FlowAction, FlowEvent, FlowState, FlowVersion
from ivr.platform.db import Database, utcnow
from ivr.staff import audit


class VersionError(LookupError):
    """No such version, or it cannot be published."""


@dataclass(frozen=True)
class Published:
    number: int
    content_hash: str
    changed: bool  # False when that very content was already what callers hear


def record(
    session: Session, flow: str, number: int, action: FlowAction, author: str, message: str
) -> FlowEvent:
    """Append one event to the flow's history."""
    entry = FlowEvent(
        flow=flow, number=number, action=action, author=author, message=message, at=utcnow()
    )
    session.add(entry)
    return entry


def _version_for(session: Session, loaded: LoadedFlow, author: str, message: str) -> FlowVersion:
    """Return the stored version of ``loaded``, storing it (as a draft) if it is new."""
    version = session.get(FlowVersion, loaded.content_hash)
    if version is None:
        last = session.scalar(
            select(func.max(FlowVersion.number)).where(FlowVersion.name == loaded.flow.name)
        )
        version = FlowVersion(
            content_hash=loaded.content_hash,
            name=loaded.flow.name,
            content=loaded.content,
            number=(last or 0) + 1,
            state=FlowState.DRAFT,
            author=author,
            message=message,
            changed_at=utcnow(),
        )
        session.add(version)
        session.flush()
    return version


def save_draft(db: Database, loaded: LoadedFlow, author: str, message: str) -> int:
    """Keep a valid flow as a draft; return its version number. Audited."""
    with db.transaction() as session:
        number = _version_for(session, loaded, author, message).number
        record(session, loaded.flow.name, number, FlowAction.SAVE_DRAFT, author, message)
        audit.record(session, author, "flow_save_draft", detail=f"{loaded.flow.name} v{number}")
        return number


def publish(
    db: Database, loaded: LoadedFlow, author: str, message: str, action: str = "flow_publish"
) -> Published:
    """Make ``loaded`` the version new calls hear; the one before is retired. Audited.

    The version keeps the author and message it was made with; this publish is appended
    to the history with its own ``message``, which must say something.
    """
    if not message.strip():
        raise VersionError("say what this publish changes: the message is kept in the history")
    try:
        with db.transaction() as session:
            version = _version_for(session, loaded, author, message)
            if version.state is FlowState.PUBLISHED:
                return Published(version.number, version.content_hash, changed=False)
            audit.record(session, author, action, detail=f"{version.name} v{version.number}")
            session.execute(
                update(FlowVersion)
                .where(FlowVersion.name == version.name, FlowVersion.state == FlowState.PUBLISHED)
                .values(state=FlowState.RETIRED)
            )
            session.flush()
            version.state = FlowState.PUBLISHED
            kind = FlowAction.ROLLBACK if action == "flow_rollback" else FlowAction.PUBLISH
            record(session, version.name, version.number, kind, author, message.strip())
            return Published(version.number, version.content_hash, changed=True)
    except IntegrityError:
        raise VersionError(
            "someone else published this flow at the same moment; look at the history and try again"
        ) from None


def rollback(
    db: Database, name: str, number: int, author: str, flows_dir: Path, message: str = ""
) -> Published:
    """Publish version ``number`` again (checked again: its audio files must still exist)."""
    with db.reading() as session:
        version = session.scalars(
            select(FlowVersion).where(FlowVersion.name == name, FlowVersion.number == number)
        ).first()
        if version is None:
            raise VersionError(f"{name} has no version {number} (see: ivr flows history)")
        content = version.content
    loaded = load_flow_text(content, f"<{name} version {number}>", flows_dir)
    return publish(
        db, loaded, author, message or f"rolled back to version {number}", action="flow_rollback"
    )


def history(session: Session, name: str) -> list[FlowVersion]:
    return list(
        session.scalars(
            select(FlowVersion)
            .where(FlowVersion.name == name, FlowVersion.number > 0)
            .order_by(FlowVersion.number.desc())
        )
    )


def events(session: Session, name: str) -> list[FlowEvent]:
    """The flow's history, newest first: every save, publish, rollback and prompt change."""
    return list(
        session.scalars(
            select(FlowEvent).where(FlowEvent.flow == name).order_by(FlowEvent.id.desc())
        )
    )


def last_published(session: Session, name: str, number: int) -> FlowEvent | None:
    """The event that last made version ``number`` what callers hear."""
    return session.scalars(
        select(FlowEvent)
        .where(
            FlowEvent.flow == name,
            FlowEvent.number == number,
            FlowEvent.action.in_([FlowAction.PUBLISH, FlowAction.ROLLBACK]),
        )
        .order_by(FlowEvent.id.desc())
    ).first()


def published(session: Session, name: str) -> FlowVersion | None:
    return session.scalars(
        select(FlowVersion).where(
            FlowVersion.name == name, FlowVersion.state == FlowState.PUBLISHED
        )
    ).first()


def diff(session: Session, name: str, older: int, newer: int) -> str:
    """A unified diff between two versions, as the ops team reads a change."""
    texts = {}
    for number in (older, newer):
        version = session.scalars(
            select(FlowVersion).where(FlowVersion.name == name, FlowVersion.number == number)
        ).first()
        if version is None:
            raise VersionError(f"{name} has no version {number} (see: ivr flows history)")
        texts[number] = version.content.splitlines(keepends=True)
    return "".join(
        difflib.unified_diff(texts[older], texts[newer], f"version {older}", f"version {newer}")
    )
