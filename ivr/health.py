"""Liveness for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ivr.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer 200 when the database is reachable, 503 otherwise."""
    if services().db.is_reachable():
        return jsonify(status="ok")
    return jsonify(status="database unreachable"), 503
