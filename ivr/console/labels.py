"""Words the console shows for a report's state: one place, so the queue, the report page
and the review page never disagree about what a report is doing."""

from __future__ import annotations

from ivr.models.reports import Report, ReportStatus

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
