"""The audit trail: append-only, sealed into a chain keyed with a secret the database lacks.

Writing an event is a plain insert, with no lock, in the caller's transaction: claims
and other audited actions never wait on each other. Only the console writes events, and
tags each with an HMAC of its content under the audit key as it writes it (the key comes
with the console's sessions: ``ivr.platform.db.Database``). The console then *seals* waiting
events in order, each with an HMAC over the one before, and now and then writes the
chain's head down outside the database (``ivr.outside.anchors``). An event without a valid tag
was written by someone without the key: it is never sealed, and ``ivr audit verify``
reports it. Rewriting a sealed event, even with every later hash recomputed, needs the
key; removing the newest events shows because an anchor names a later one.

A follow-up call (the edge) writes no event: it queues the day and an action from a
short list (``PhoneEvent``), and the console moves each day's queue into the trail once
the day is over, all at once and in no telling order, so that neither an event's time
nor its place in the chain dates the call. Events name staff and report references,
never callers.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.models.audit import AuditEvent, AuditHead
from ivr.models.followup import PhoneAction, PhoneEvent
from ivr.outside.anchors import Anchor, AnchorLog
from ivr.platform.db import AUDIT_KEY_INFO, Database, utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_BATCH = 1000
PHONE_ACTOR = "phone"  # the trail's actor for a caller's follow-up call


class AuditKeyMissing(RuntimeError):
    """This process holds no audit key: only the console writes audit events."""


def record(
    session: Session, actor: str, action: str, report: str | None = None, detail: str = ""
) -> None:
    """Append one tagged event, in the caller's transaction; the console seals it soon after."""
    key = session.info.get(AUDIT_KEY_INFO)
    if not key:
        raise AuditKeyMissing("only the console, which holds the audit key, writes audit events")
    session.add(tagged_event(key, utcnow(), actor, action, report, detail[:2000]))


def record_phone(session: Session, action: PhoneAction) -> None:
    """Queue a follow-up call's event: its day and action only, for the console to seal."""
    session.add(PhoneEvent(on=utcnow().date(), action=action))


def tagged_event(
    key: bytes, at: datetime, actor: str, action: str, report: str | None = None, detail: str = ""
) -> AuditEvent:
    """Return a new event tagged with ``key``, as the console writes one."""
    event = AuditEvent(at=at, actor=actor, action=action, report_reference=report, detail=detail)
    event.tag = _tag(key, event)
    return event


def _tag(key: bytes, event: AuditEvent) -> str:
    body = json.dumps(
        [event.at.isoformat(), event.actor, event.action, event.report_reference, event.detail],
        separators=(",", ":"),
    )
    return hmac.new(key, b"tag:" + body.encode(), hashlib.sha256).hexdigest()


def _written_with(key: bytes, event: AuditEvent, legacy_through: int) -> bool:
    """True if the console wrote ``event`` (or it predates tags), so that it may be sealed."""
    if event.tag is None:
        return event.id <= legacy_through
    return hmac.compare_digest(_tag(key, event), event.tag)


# The event that moves the chain to a new key: it names that key, and it and every event
# after it are sealed under it (``ivr audit rekey``).
REKEYED = "audit_rekeyed"
_REKEY_DETAIL = "sealed from here on under key "


def key_id(key: bytes) -> str:
    """A short name for an audit key (a digest: it reveals nothing of the key)."""
    return hashlib.sha256(b"ivr audit key id" + key).hexdigest()[:16]


class UnknownAuditKey(RuntimeError):
    """The chain is sealed under a key this process does not hold."""


def _epoch_key(session: Session, ring: Sequence[bytes], at_most: int | None = None) -> bytes:
    """The key that seals the chain after event ``at_most`` (by default: from now on).

    It is the key the last rekey event names; before any rekey, the key the first
    event was sealed with (the current key, for a chain not yet begun).
    """
    query = select(AuditEvent.detail).where(
        AuditEvent.action == REKEYED, AuditEvent.seq.is_not(None)
    )
    if at_most is not None:
        query = query.where(AuditEvent.seq <= at_most)
    named = session.scalar(query.order_by(AuditEvent.seq.desc()).limit(1))
    if named is not None:
        return _named_key(ring, named)
    if len(ring) == 1:  # no rotation under way: the one key is the chain's
        return ring[0]
    first = session.scalars(select(AuditEvent).where(AuditEvent.seq == 1)).first()
    if first is None or first.hash is None:
        return ring[0]
    for key in ring:
        if hmac.compare_digest(_mac(key, GENESIS, first), first.hash):
            return key
    return ring[0]  # no key fits the first event: the walk reports it as changed


def _named_key(ring: Sequence[bytes], detail: str) -> bytes:
    wanted = detail.removeprefix(_REKEY_DETAIL)
    for key in ring:
        if key_id(key) == wanted:
            return key
    raise UnknownAuditKey(
        f"the audit chain is sealed under key {wanted}, which this process does not hold: "
        "set IVR_AUDIT_KEY (and IVR_AUDIT_PREVIOUS_KEYS) as the other console processes have"
    )


def _tag_keys(current: bytes, epoch: bytes) -> tuple[bytes, ...]:
    # Events are tagged with the writer's current key: during a rotation, before the rekey,
    # console processes already on the new key write events the old epoch seals.
    return (current,) if current == epoch else (current, epoch)


def _written_with_any(keys: Sequence[bytes], event: AuditEvent, legacy_through: int) -> bool:
    return any(_written_with(key, event, legacy_through) for key in keys)


def move_phone_events(db: Database, key: bytes, today: date | None = None) -> int:
    """Move the queued follow-up events of days before ``today`` into the trail, tagged.

    Each takes its day's midnight as its time, and a day's events go in together, by
    action rather than by arrival: their place among the console's events says nothing of
    when in the day the calls came. Returns how many moved.
    """
    today = today or utcnow().date()
    with db.transaction() as session:
        due = session.scalars(
            select(PhoneEvent)
            .where(PhoneEvent.on < today)
            .order_by(PhoneEvent.on, PhoneEvent.action)
            .with_for_update(skip_locked=True)
        ).all()
        for queued in due:
            midnight = datetime.combine(queued.on, time(0), UTC)
            session.add(tagged_event(key, midnight, PHONE_ACTOR, queued.action.value, None, ""))
            session.delete(queued)
    return len(due)


def _mac(key: bytes, previous: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            event.seq,
            event.id,
            event.at.isoformat(),
            event.actor,
            event.action,
            event.report_reference,
            event.detail,
        ],
        separators=(",", ":"),
    )
    return hmac.new(key, (previous + body).encode(), hashlib.sha256).hexdigest()


def seal(db: Database, key: bytes, previous_keys: Sequence[bytes] = ()) -> int:
    """Chain every committed event not yet sealed, in the order written; return how many.

    Only sealers lock the head row, never writers. The chain's order is the order of
    sealing: an event whose transaction commits late (its id lower than ones already
    sealed) simply takes the next place, so no event is ever out of place. If the head
    does not name the newest sealed event, someone has moved one of them: nothing is
    sealed on top of that, and ``verify`` says what it found.
    """
    move_phone_events(db, key)
    waiting_one = select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1)
    with db.reading() as session:  # most looks find nothing: take no write lock for that
        if session.scalar(waiting_one) is None:
            return 0
    ring = [key, *previous_keys]
    sealed = after = 0
    while True:
        with db.transaction() as session:
            head = _head(session)
            epoch = _epoch_key(session, ring)
            accepted = _tag_keys(key, epoch)
            newest = session.execute(
                select(AuditEvent.seq, AuditEvent.hash)
                .where(AuditEvent.seq.is_not(None))
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            if tuple(newest or (0, GENESIS)) != (head.last_seq, head.last_hash):
                return sealed
            # Past the last one looked at: refused events stay behind, and cannot stall this.
            waiting = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq.is_(None), AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(SEAL_BATCH)
            ).all()
            for event in waiting:
                after = event.id
                if not _written_with_any(accepted, event, head.legacy_through):
                    continue
                event.seq = head.last_seq + 1
                event.hash = _mac(epoch, head.last_hash, event)
                head.last_seq, head.last_hash = event.seq, event.hash
                sealed += 1
        if len(waiting) < SEAL_BATCH:
            return sealed


def rekey(db: Database, key: bytes, previous_keys: Sequence[bytes]) -> bool:
    """Move the chain to ``key``: seal what waits under the old key, then a checkpoint.

    The checkpoint is an event that names the new key, chained to the last event sealed
    under the old one and sealed under the new key itself, as is every event after it:
    ``verify`` walks the whole chain across the change, and someone holding only the old
    key can neither make a checkpoint nor add after one. Returns False if the chain is
    already sealed under ``key``.
    """
    ring = [key, *previous_keys]
    seal(db, key, previous_keys)
    with db.transaction() as session:
        head = _head(session)
        epoch = _epoch_key(session, ring)
        if epoch == key:
            return False
        checkpoint = tagged_event(
            key, utcnow(), "operations", REKEYED, None, _REKEY_DETAIL + key_id(key)
        )
        session.add(checkpoint)
        session.flush()
        checkpoint.seq = head.last_seq + 1
        # Sealed under the new key: only its holder can make (or remake) the checkpoint.
        checkpoint.hash = _mac(key, head.last_hash, checkpoint)
        head.last_seq, head.last_hash = checkpoint.seq, checkpoint.hash
    return True


def _head(session: Session) -> AuditHead:
    """Lock the chain's head row, creating it once (the migration already does)."""
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.scalars(locked).first()
    if head is None:
        try:
            with session.begin_nested():  # two first sealers may race to create it
                session.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
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
    """The last event a walk found intact: its place, its hash and the hash before it."""

    seq: int
    hash: str
    previous: str


CHANGED = "this event was changed after it was sealed (or sealed without the audit key)"
MISSING = "an event before it is missing"
REMOVED = "the newest events were removed"
FORGED = "this event waits to be sealed but was written without the audit key (not by the console)"


CHANGED_SINCE = "it changed since it was last found intact"
STILL_OLD_KEY = (
    "the chain is still sealed under a previous key: run `ivr audit rekey` once every "
    "console process runs with the new IVR_AUDIT_KEY"
)


def _fault(
    key: bytes,
    event: AuditEvent,
    previous: str,
    last: int,
    since: Checkpoint | None,
    anchors: Iterable[Anchor],
) -> str | None:
    """Say what is wrong with the next sealed event of the walk, or None if it fits."""
    if since and event.seq == since.seq and event.hash != since.hash:
        return CHANGED_SINCE
    if event.seq != last + 1:
        return MISSING
    if event.hash is None or not hmac.compare_digest(_mac(key, previous, event), event.hash):
        return CHANGED
    for anchor in anchors:
        if anchor.hash != event.hash:
            return f"it differs from the anchor written {anchor.at}"
    return None


def _first_forged(session: Session, keys: Sequence[bytes], legacy: int) -> int | None:
    """Return the id of the first event waiting to be sealed that the console did not write."""
    unsealed = select(AuditEvent).where(
        AuditEvent.seq.is_(None), or_(AuditEvent.tag.is_not(None), AuditEvent.id > legacy)
    )
    for event in session.scalars(unsealed.order_by(AuditEvent.id)).yield_per(1000):
        if not _written_with_any(keys, event, legacy):
            return event.id
    return None


def verify(
    db: Database,
    key: bytes,
    anchors: Sequence[Anchor] = (),
    since: Checkpoint | None = None,
    previous_keys: Sequence[bytes] = (),
) -> Verdict:
    """Walk the sealed chain (from ``since``, if given); report the first event that does not fit.

    A walk from a checkpoint trusts what came before it, once it has found the
    checkpoint's event unchanged: the console's page walks only what is new since its
    last look, and ``ivr audit verify`` walks everything. Every anchor must match.
    """
    anchored: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        anchored.setdefault(anchor.seq, []).append(anchor)
    before = GENESIS
    previous, last = (since.previous, since.seq - 1) if since else (GENESIS, 0)
    count = -1 if since else 0  # the checkpoint's own event is checked again, not counted
    ring = [key, *previous_keys]
    query = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq)
    with db.reading() as session:
        try:
            sealing = _epoch_key(session, ring, last)
        except UnknownAuditKey as error:
            return Verdict(False, 0, None, str(error))
        for event in session.scalars(query).yield_per(1000):
            count += 1
            if event.action == REKEYED:
                # The checkpoint is sealed under the key it names, as is all that follows.
                try:
                    sealing = _named_key(ring, event.detail)
                except UnknownAuditKey as error:
                    return Verdict(False, count, event.id, str(error))
            reason = _fault(sealing, event, previous, last, since, anchored.get(event.seq or 0, ()))
            if reason is not None:
                return Verdict(False, 0 if reason == CHANGED_SINCE else count, event.id, reason)
            before, previous, last = previous, event.hash or "", event.seq or 0
        head = session.get(AuditHead, 1)
        if head is not None and (head.last_seq, head.last_hash) != (last, previous):
            return Verdict(False, count, None, REMOVED)
        accepted = _tag_keys(key, sealing)
        forged = _first_forged(session, accepted, head.legacy_through if head is not None else 0)
        if forged is not None:
            return Verdict(False, count, forged, FORGED)
    beyond = [anchor for anchor in anchors if anchor.seq > last]
    if beyond:
        return Verdict(
            False,
            count,
            None,
            f"{REMOVED}: the anchor written {beyond[-1].at} names event {beyond[-1].seq}, "
            f"and the chain now ends at {last}",
        )
    if sealing != key:
        return Verdict(False, count, None, STILL_OLD_KEY)
    if since and last < since.seq:
        return Verdict(False, 0, None, f"{REMOVED}: event {since.seq} was found intact before")
    mark = Checkpoint(last, previous, before) if last else None
    return Verdict(True, max(count, 0), checkpoint=mark)


class AuditTrail:
    """The console's hold on the chain: it alone has the key that seals and checks it."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        anchors: AnchorLog | None,
        anchor_every: timedelta,
        previous_keys: Sequence[bytes] = (),
    ) -> None:
        self.db, self._key, self.anchors, self._every = db, key, anchors, anchor_every
        self._previous = tuple(previous_keys)
        self._last_anchor: Anchor | None = None

    def seal(self) -> int:
        try:
            return seal(self.db, self._key, self._previous)
        except UnknownAuditKey:
            # Another process moved the chain to a key this one lacks (a rotation it
            # has not been restarted for): it seals nothing rather than break the chain.
            logger.warning("audit.sealed_under_unknown_key")
            return 0

    def rekey(self) -> bool:
        """Move the chain to this process's key (``ivr audit rekey``)."""
        return rekey(self.db, self._key, self._previous)

    def verify(self, since: Checkpoint | None = None) -> Verdict:
        """Seal what is waiting, then check the chain against the key and every anchor."""
        self.seal()
        anchors = self.anchors.read() if self.anchors else ()
        return verify(self.db, self._key, anchors, since, self._previous)

    def anchor(self) -> Anchor | None:
        """Seal what is waiting and write the head down outside the database (if it moved)."""
        self.seal()
        if self.anchors is None:
            return None
        with self.db.reading() as session:
            head = session.get(AuditHead, 1)
            if head is None or head.last_seq == 0:
                return None
            current = Anchor.now(head.last_seq, head.last_hash)
        latest = self._last_anchor or next(reversed(self.anchors.read()), None)
        if latest is None or latest.seq != current.seq:
            self.anchors.append(current)
            latest = current
        self._last_anchor = latest
        return latest

    def anchor_if_due(self) -> None:
        """Anchor if the last anchor this process wrote or read is older than the interval."""
        last = self._last_anchor
        if self.anchors is not None and (last is None or utcnow() - last.written >= self._every):
            self.anchor()

    def keep_sealed(self, stop: threading.Event, seconds: float = 60.0) -> None:
        """Seal and anchor on a timer until ``stop``: the chain does not wait for a page view."""
        while not stop.wait(seconds):
            try:
                self.seal()
                self.anchor_if_due()
            except Exception:  # a database or store blip: try again at the next tick
                logger.exception("audit.seal_failed")


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
