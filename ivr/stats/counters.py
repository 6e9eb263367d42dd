"""Add one to a month's counter, in the same transaction as the change it counts.

Counting when things happen, not reading reports back, is what lets the figures outlive
the reports: retention destroys a report's text and audio, never what it added here.
Each counter holds a month and the facts a manager asks about; it holds no reference,
no day and no time, and its key is the combination itself, so not even the order of
its rows says anything.

One statement per event (an upsert): two workers counting the same combination at once
both land, on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.models.reports import Anonymity, Report, ReportSource
from ivr.models.stats import NOT_TIMED, UNKNOWN, Channel, StatCount, StatEvent

CHANNELS = {
    ReportSource.MENU: Channel.PHONE,
    # Found at Twilio without its callback: a call all the same.
    ReportSource.RECONCILED: Channel.PHONE,
    ReportSource.FALLBACK: Channel.FALLBACK,
    ReportSource.ONLINE: Channel.ONLINE,
}


def month_of(day: date) -> str:
    """The month a counter is kept under: "2027-03", never a finer time."""
    return f"{day.year:04d}-{day.month:02d}"


def count(
    session: Session,
    event: StatEvent,
    on: date,
    *,
    channel: str = UNKNOWN,
    language: str | None = None,
    category: str | None = None,
    force: str | None = None,
    anonymity: str | None = None,
    days: int = NOT_TIMED,
) -> None:
    """Add one to the counter of ``event`` in the month of ``on`` for these facts."""
    facts = {
        "month": month_of(on),
        "event": event,
        "channel": channel,
        "language": language or UNKNOWN,
        "category": category or UNKNOWN,
        "force": force or UNKNOWN,
        "anonymity": anonymity or UNKNOWN,
        "days": max(days, 0) if days != NOT_TIMED else NOT_TIMED,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(StatCount).values(**facts, count=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(facts), set_={"count": StatCount.count + 1}
        )
    )


def count_report(
    session: Session,
    event: StatEvent,
    report: Report,
    on: date,
    *,
    handlers_choices: bool,
    days: int = NOT_TIMED,
) -> None:
    """Count ``event`` for ``report``, by its facts.

    ``handlers_choices`` says whether this side may read what a handler chose (the force,
    their category): the console may; the edge, whose database login cannot read them,
    counts with the caller's own menu choice and no force.
    """
    category = report.category
    force = None
    if handlers_choices:
        category = report.handler_category or report.category
        force = report.force
    count(
        session,
        event,
        on,
        channel=CHANNELS[report.source],
        language=report.language,
        category=category,
        force=force,
        anonymity=_anonymity(report),
        days=days,
    )


def _anonymity(report: Report) -> str:
    # What happened, not what was chosen: a caller who chose to leave details and then
    # recorded none stayed anonymous. A report found at Twilio made no choice at all.
    if report.contact_left:
        return Anonymity.CONTACT.value
    return UNKNOWN if report.anonymity is None else Anonymity.ANONYMOUS.value
