"""Searching the audit trail: filters, pages, the actions on record, and export names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ivr.models.audit import AuditEvent

PER_PAGE = 100
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class AuditQuery:
    """What the reader asked for; every field optional."""

    actor: str = ""
    action: str = ""
    report: str = ""
    since: date | None = None  # whole days, UTC, both ends included
    until: date | None = None
    page: int = 1

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> tuple[AuditQuery, list[str]]:
        """Read the filter form; return the query and a message for each field not understood."""
        problems = []
        days: dict[str, date | None] = {}
        for field, label in (("since", "From"), ("until", "To")):
            text = form.get(field, "").strip()
            try:
                days[field] = date.fromisoformat(text) if text else None
            except ValueError:
                problems.append(f"{label}: give a day as YYYY-MM-DD (not {text[:20]!r})")
                days[field] = None
        if days["since"] and days["until"] and days["since"] > days["until"]:
            problems.append("From is after To: nothing could match, so both were ignored")
            days = {"since": None, "until": None}
        page = form.get("page", "1")
        return (
            cls(
                actor=form.get("actor", "").strip(),
                action=form.get("action", "").strip(),
                report=form.get("report", "").strip().upper(),
                since=days["since"],
                until=days["until"],
                page=max(1, int(page)) if page.isascii() and page.isdigit() else 1,
            ),
            problems,
        )

    def statement(self) -> Select[tuple[AuditEvent]]:
        query = select(AuditEvent)
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.report:
            query = query.where(AuditEvent.report_reference == self.report)
        if self.since:
            query = query.where(AuditEvent.at >= datetime.combine(self.since, time(), UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            query = query.where(AuditEvent.at < end)
        return query

    def csv_filename(self, today: date) -> str:
        """Name an export after what it holds, e.g. ``audit-play-2026-11-01-to-2026-11-29.csv``."""
        parts = ["audit"]
        for value in (self.action, self.actor, self.report):
            slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40]
            if slug:
                parts.append(slug)
        if self.since or self.until:
            start = self.since.isoformat() if self.since else "start"
            parts.append(f"{start}-to-{(self.until or today).isoformat()}")
        else:
            parts.append(f"to-{today.isoformat()}")
        return "-".join(parts) + ".csv"

    def args(self, page: int) -> dict[str, str]:
        """The query string for ``page`` of these results (only the fields given)."""
        fields = {
            "actor": self.actor,
            "action": self.action,
            "report": self.report,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "page": str(page) if page > 1 else "",
        }
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEvent]
    total: int
    page: int
    pages: int


def search(session: Session, query: AuditQuery, per_page: int = PER_PAGE) -> AuditPage:
    """One page of matching events, newest first, and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(query.statement().subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    rows = session.scalars(
        query.statement()
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return AuditPage(list(rows), total, page, pages)


def export(session: Session, query: AuditQuery) -> list[AuditEvent]:
    """Every matching event, newest first (up to ``EXPORT_LIMIT``), for a CSV download."""
    statement = query.statement().order_by(AuditEvent.id.desc()).limit(EXPORT_LIMIT)
    return list(session.scalars(statement))


def action_names(session: Session) -> list[str]:
    """The actions the trail holds, for the filter's list."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
