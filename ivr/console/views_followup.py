"""Anonymous follow-up: the handler's question and the caller's answers (issue 13)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy.orm import Session

from ivr.models import Report, User

bp = Blueprint("followup", __name__, url_prefix="/console")


def followup_context(db_session: Session, report: Report, user: User) -> dict[str, Any]:
    """What the report page's followup section (``console/_followup.html``) shows."""
    return {}
