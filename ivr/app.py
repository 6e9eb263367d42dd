"""The application factory."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from functools import partial

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.config import Config, Tier
from ivr.platform.db import Database
from ivr.platform.logs import configure_logging, event
from ivr.reports.followup import Verifier
from ivr.services import EXTENSION_KEY, Services
from ivr.telephony.calls import CallHandler
from ivr.webhooks.twiml import CallbackUrls, render_turn

access_logger = logging.getLogger("ivr.access")


def create_app(
    config: Config, *, db: Database | None = None, services: Services | None = None
) -> Flask:
    """Build the web application for ``config`` (or around ``services`` already built)."""
    configure_logging(config.log_level)
    app = Flask(__name__)
    # Never let Flask render a debugger or a traceback to the internet.
    # The webhooks lower this to a few kilobytes for themselves; 16 MB is for prompt uploads.
    app.config.update(DEBUG=False, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=16 * 1024 * 1024)
    built = services or Services(config, db=db)
    if config.serves_console and config.proxy_hops > 0:
        # Only the client address the load balancer added is believed (the sign-in throttle
        # keys on it); whatever a client writes in X-Forwarded-For itself is not. Nothing
        # else a proxy may rewrite (scheme, host, prefix) is taken from the request.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=0, x_host=0)  # type: ignore[method-assign]
    if config.tier is Tier.EDGE:
        # Fail at start-up, not at the first recording, if the edge lacks the key it seals
        # recordings for (or holds one it must not).
        built.key_wrapper  # noqa: B018
    if config.serves_webhooks:
        built.calls = CallHandler(
            built.flows,
            built.journal,
            render=partial(render_turn, urls=CallbackUrls(config.public_base)),
            followups=Verifier(built.db),
            secret=config.secret_key,
            state_keys=config.url_state_keys,
        )
    app.extensions[EXTENSION_KEY] = built

    from ivr.ops.health import register_health

    register_health(app, built)
    app.before_request(_start_timer)
    if config.serves_webhooks:
        from ivr.webhooks.prompts import bp as prompts_bp
        from ivr.webhooks.views import bp as twilio_bp

        app.register_blueprint(prompts_bp)
        app.register_blueprint(twilio_bp)
        # The online report form is the edge's second way in.
        from ivr.online import register_online

        register_online(app, built)
    if config.serves_console:
        from ivr.console import load_user, register_console, secure_headers

        csrf = register_console(app, built)
        if config.serves_webhooks:
            csrf.exempt(twilio_bp)  # Twilio proves itself with its signature instead
            # The form carries its own signed token: no CSRF cookie for a sender to keep.
            csrf.exempt(app.blueprints["online"])
        app.before_request(_only_for_console(load_user))
        app.after_request(secure_headers)
    app.after_request(_log_access)
    return app


def _only_for_console(hook: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        if request.path.startswith("/console"):
            hook()

    return run


def _start_timer() -> None:
    g.request_id = uuid.uuid4().hex[:12]
    g.started = time.perf_counter()


def _log_access(response: Response) -> Response:
    # The route, never the path: a path can hold a report's reference (which, with the
    # log's time, dates a call) or a one-time enrolment token. Queries and bodies stay out.
    if request.blueprint == "online":
        # The online form is not logged at all: a line's time would date a report.
        return response
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    event(
        access_logger,
        "request",
        method=request.method,
        route=request.url_rule.rule if request.url_rule is not None else "(no route)",
        status=response.status_code,
        ms=f"{elapsed_ms:.1f}",
        request_id=g.get("request_id"),
    )
    return response
