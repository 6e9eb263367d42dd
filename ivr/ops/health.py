"""Liveness for load balancers, and queue health for monitoring (``/metrics``).

A count that moves says a report was just made, so the scrape needs a bearer token
(``IVR_METRICS_TOKEN``) wherever one is set, and the internet-facing edge serves no
metrics at all without one.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ivr.ops.metrics import QueueCollector
from ivr.services import Services, services

bp = Blueprint("health", __name__)


def register_health(app: Flask, built: Services) -> None:
    """Serve liveness and the gauges, the queue's among them."""
    built.metrics.register(QueueCollector(built.db))
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer 200 when the database is reachable, 503 otherwise."""
    if services().db.is_reachable():
        return jsonify(status="ok")
    return jsonify(status="database unreachable"), 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus gauges of jobs and reports by state, read from the database."""
    built = services()
    config = built.config
    if config.metrics_token:
        offered = request.headers.get("Authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {config.metrics_token}".encode()):
            return Response(
                "a bearer token is required\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
            )
    elif not config.serves_console:
        abort(404)  # the edge without a token: nothing to see from the internet
    registry = built.metrics
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
