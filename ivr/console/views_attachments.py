"""Attachments of an online report, shown once their metadata is stripped (issue 14)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.orm import Session

from ivr.models import Report, User

bp = Blueprint("attachments", __name__, url_prefix="/console")


def attachments_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's attachments section (``console/_attachments.html``) shows."""
    return {}
