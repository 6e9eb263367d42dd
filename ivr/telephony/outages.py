"""Since when work has waited for each outside service: what /metrics reports as its outage.

The first job to find a service down notes the time (one statement, so racing workers
note it once); the probe that finds it back clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.models.calls import ServiceOutage
from ivr.platform.db import Database, utcnow
from ivr.platform.outages import Service


def note(session: Session, service: Service) -> None:
    """Note that work waits for ``service`` from now, unless it already waits."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(ServiceOutage)
        .values(service=service.value, since=utcnow())
        .on_conflict_do_nothing(index_elements=["service"])
    )


def clear(db: Database, services: Iterable[Service]) -> None:
    """The services answer again (or nothing waits for them any more)."""
    with db.reading() as session:
        names = [service.value for service in services if service.value in noted(session)]
    if names:  # written only when there is something to clear: probes run every few seconds
        with db.transaction() as session:
            session.execute(delete(ServiceOutage).where(ServiceOutage.service.in_(names)))


def noted(session: Session) -> dict[str, datetime]:
    """Each service work is waiting for, and since when."""
    rows = session.execute(select(ServiceOutage.service, ServiceOutage.since)).tuples()
    return {service: since for service, since in rows}
