"""Words the console shows for a report's state: one place, so the queue, the report page
and the review page never disagree about what a report is doing."""

from __future__ import annotations

from datetime import date

from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.platform.db import utcnow
from ivr.reports.workflow import LANGUAGES

_WORDS = {
    ReportStatus.AWAITING_AUDIO: "awaiting audio",
    ReportStatus.AUDIO_FAILED: "audio failed",
    ReportStatus.QUEUED: "queued",
    ReportStatus.SUBMITTED: "submitted for review",
    ReportStatus.RETURNED: "returned",
    ReportStatus.APPROVED: "approved",
    ReportStatus.DISSEMINATED: "disseminated",
    ReportStatus.CLOSED: "closed",
}


def status_label(report: Report, holder_name: str | None = None) -> str:
    """What the report is doing, as a handler would say it: "in progress (Alex)" while a
    handler holds a queued report, "returned (Alex)" while its author has it back."""
    if report.status is ReportStatus.QUEUED and holder_name:
        return f"in progress ({holder_name})"
    words = _WORDS[report.status]
    if report.status is ReportStatus.RETURNED and holder_name:
        return f"{words} ({holder_name})"
    return words


def channel_label(report: Report) -> str:
    """How the report came: "online" (the web form) or "phone" (every kind of call)."""
    return "online" if report.source is ReportSource.ONLINE else "phone"


def age_label(received_on: date, today: date | None = None) -> str:
    """The report's age in whole days, as a queue says it: "today", "1 day", "3 days"."""
    days = ((today or utcnow().date()) - received_on).days
    if days <= 0:
        return "today"
    return "1 day" if days == 1 else f"{days} days"


def language_label(tag: str | None) -> str:
    """A language tag as people name it ("Welsh" for cy-GB); "not known" for none."""
    return LANGUAGES.get(tag, tag) if tag else "not known"
