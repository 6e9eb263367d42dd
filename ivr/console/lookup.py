"""What every report view needs: the report by its reference, its categories, the way back."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models.reports import Report
from ivr.reports.documents import Categories
from ivr.services import services


def report_by_reference(db_session: Session, reference: str) -> Report:
    """The report, or a 404 page."""
    report = db_session.scalars(select(Report).where(Report.reference == reference)).first()
    if report is None:
        abort(404)
    return report


def categories() -> Categories:
    """The report categories of the published flow: one list, edited by the ops team."""
    return services().flows.current().flow.categories


def back_to(reference: str) -> ResponseReturnValue:
    """Back to the report's page after a form (303: the browser follows with a GET)."""
    return redirect(url_for("reports.report_page", reference=reference), code=303)
