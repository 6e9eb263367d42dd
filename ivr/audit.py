"""The audit trail: append-only, each event chained to the one before by its hash.

Appending locks the chain's head row, so concurrent events still form one chain; any
later change to an event, or a deleted one, breaks the chain at that point, which
``ivr audit verify`` reports. Events name staff and report references, never callers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.db import Database, utcnow
from ivr.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(previous: str, event: AuditEvent) -> str:
    body = json.dumps(
        [event.at.isoformat(), event.actor, event.action, event.report_reference, event.detail],
        separators=(",", ":"),
    )
    return hashlib.sha256((previous + body).encode()).hexdigest()


def record(
    session: Session, actor: str, action: str, report: str | None = None, detail: str = ""
) -> None:
    """Append one event to the chain, in the caller's transaction."""
    head = _head(session)
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=action,
        report_reference=report,
        detail=detail[:2000],
        previous_hash=head.last_hash,
        hash="",
    )
    event.hash = _digest(head.last_hash, event)
    session.add(event)
    head.last_hash = event.hash


def _head(session: Session) -> AuditHead:
    """Lock the chain's head row, creating it once (the migration already does)."""
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.scalars(locked).first()
    if head is None:
        try:
            with session.begin_nested():  # two first events may race to create it
                session.add(AuditHead(id=1, last_hash=GENESIS))
        except IntegrityError:
            pass
        head = session.scalars(locked).one()
    return head


@dataclass(frozen=True)
class Verdict:
    ok: bool
    events: int
    first_bad: int | None = None
    reason: str = ""
    # Where this walk ended: the next one can start here instead of at the beginning.
    checkpoint: Checkpoint | None = None


@dataclass(frozen=True)
class Checkpoint:
    """The last event a walk found intact, and its hash."""

    event_id: int
    hash: str


def verify(db: Database, since: Checkpoint | None = None) -> Verdict:
    """Walk the chain (from ``since``, if given); report the first event that does not fit.

    A walk from a checkpoint trusts what came before it: the console's page walks only
    what is new since its last look, and ``ivr audit verify`` walks everything.
    """
    previous = since.hash if since else GENESIS
    count = 0
    last_id = since.event_id if since else 0
    query = select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
    with db.reading() as session:
        for event in session.scalars(query).yield_per(1000):
            count += 1
            last_id = event.id
            if event.previous_hash != previous:
                return Verdict(
                    False, count, event.id, "an event before it is missing or was changed"
                )
            if _digest(previous, event) != event.hash:
                return Verdict(
                    False, count, event.id, "this event was changed after it was written"
                )
            previous = event.hash
        head = session.get(AuditHead, 1)
        if head is not None and head.last_hash != previous:
            return Verdict(False, count, None, "the newest events were removed")
    return Verdict(True, count, checkpoint=Checkpoint(last_id, previous))


def events(
    session: Session, actor: str = "", action: str = "", report: str = "", limit: int = 500
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if report:
        query = query.where(AuditEvent.report_reference == report.strip().upper())
    return list(session.scalars(query))


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """Return ``value`` as text a spreadsheet shows rather than runs."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_csv(rows: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "action", "report", "detail", "hash"])
    for row in rows:
        writer.writerow(
            spreadsheet_safe(cell)
            for cell in (
                row.id,
                row.at.isoformat(),
                row.actor,
                row.action,
                row.report_reference or "",
                row.detail,
                row.hash,
            )
        )
    return out.getvalue()
