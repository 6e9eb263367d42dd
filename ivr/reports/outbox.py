"""Emails to forces that wait for the mail server: sent once it answers, never lost.

A dissemination by email is recorded as *pending* in the same transaction that moves the
report to disseminated; the email is sent after that commits, by the supervisor's own
request and then, if the mail server did not take it, by every console process every
few seconds until it does. The supervisor's page shows each send as pending or sent.

A send is claimed under a row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two
console processes never send the same email at once. A process killed between the mail
server taking a message and the row being marked sent sends it again when restarted:
a force may, rarely, get a report twice, but never not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import ColumnElement, select

from ivr.models.reports import Dissemination, Report
from ivr.outside.mail import Mailer, MailUnavailable
from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.reports.documents import Categories, as_pdf, as_text
from ivr.reports.workflow import PENDING, SENT, WorkError, force_address
from ivr.staff import audit

logger = logging.getLogger(__name__)

SENDER = "outbox"  # the actor named in the audit trail for a send the outbox made


class Outbox:
    def __init__(
        self, db: Database, mailer: Mailer, categories: Callable[[], Categories], marking: str
    ) -> None:
        self._db = db
        self._mailer = mailer
        self._categories = categories
        self._marking = marking

    def send(self, dissemination_id: int) -> bool:
        """Send one pending email now; False if the mail server did not take it (it waits)."""
        return self._send_one(dissemination_id) is not False

    def send_pending(self) -> int:
        """Send every pending email, oldest first, until the mail server refuses one."""
        sent = 0
        while (next_id := self._next_pending()) is not None:
            outcome = self._send_one(next_id)
            if outcome is False:
                break  # the mail server is down: every pending email waits for it alike
            sent += 1 if outcome else 0
        return sent

    def _next_pending(self) -> int | None:
        with self._db.reading() as session:
            found: int | None = session.scalar(
                select(Dissemination.id).where(_is_pending()).order_by(Dissemination.id).limit(1)
            )
            return found

    def _send_one(self, dissemination_id: int) -> bool | None:
        """True: sent. False: the mail server refused. None: nothing (any more) to send."""
        with self._db.transaction() as session:
            dissemination = session.scalars(
                select(Dissemination)
                .where(Dissemination.id == dissemination_id, _is_pending())
                .with_for_update(skip_locked=True)
            ).first()
            if dissemination is None:
                return None  # sent already, or another process is sending it now
            report = session.get(Report, dissemination.report_id)
            assert report is not None
            try:
                address = force_address(session, dissemination.force)
            except WorkError:
                return None  # the address was removed since: a supervisor sets it again
            text = as_text(report, self._categories(), self._marking)
            pdf = as_pdf(report, self._categories(), self._marking)
            try:
                self._mailer.send(
                    address,
                    f"Intelligence report {report.reference}",
                    text,
                    [(f"{report.reference}.pdf", "application/pdf", pdf)],
                )
            except MailUnavailable as error:
                event(logger, "mail.waiting", logging.WARNING, error=type(error).__name__)
                return False
            dissemination.delivery = SENT
            audit.record(session, SENDER, "email_sent", report.reference, dissemination.force)
        return True


def _is_pending() -> ColumnElement[bool]:
    return (Dissemination.method == "email") & (Dissemination.delivery == PENDING)
