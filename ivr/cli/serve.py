"""``ivr serve`` and ``ivr twilio-emulator``: the long-running processes."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, cast

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import ConfigError

if TYPE_CHECKING:
    from ivr.cli.front import ASGIApp, Route
    from ivr.services import Services

# Twilio's callbacks are small form posts (the webhooks' own limit is the same).
WEBHOOK_MAX_BYTES = 64 * 1024


@click.command()
@click.option("--workers", default=2, show_default=True, help="Web worker processes.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
@click.option(
    "--header-timeout",
    default=30.0,
    show_default=True,
    help="Seconds a request's headers may take to arrive.",
)
@click.option(
    "--body-timeout",
    default=60.0,
    show_default=True,
    help="Seconds a request's body may go silent before the request is dropped.",
)
@click.option(
    "--body-min-rate",
    default=2048.0,
    show_default=True,
    help="Bytes a second a request body must average once its first 10 s have passed "
    "(0: no floor).",
)
@click.option(
    "--form-memory-mb",
    default=128,
    show_default=True,
    help="Megabytes of online form uploads one web process holds at once.",
)
@click.option(
    "--with-worker",
    is_flag=True,
    help="Also run a job worker in each web process (the embedded default).",
)
@pass_runtime
def serve(
    runtime: Runtime,
    workers: int,
    threads: int,
    header_timeout: float,
    body_timeout: float,
    body_min_rate: float,
    form_memory_mb: int,
    with_worker: bool,
) -> None:
    """Serve the webhooks (and the console) with gunicorn on IVR_BIND, behind the front."""
    from a2wsgi import WSGIMiddleware
    from gunicorn.app.base import BaseApplication

    from ivr.app import create_app
    from ivr.cli.front import Front, Timeouts, worker_class
    from ivr.flows.loader import FlowInvalid

    config = runtime.config
    if with_worker and not config.serves_webhooks:
        raise ConfigError("--with-worker runs the edge's job worker: not on the console tier")
    try:
        app = create_app(config, services=runtime.services)
    except FlowInvalid as invalid:
        for problem in invalid.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("the call flow is invalid; fix it and start again") from None
    timeouts = Timeouts(headers=header_timeout, body_idle=body_timeout, body_min_rate=body_min_rate)
    front = Front(
        cast("ASGIApp", WSGIMiddleware(cast("Any", app), workers=threads)),
        _routes(app, form_memory_mb * 1024 * 1024),
        default_max_bytes=int(app.config["MAX_CONTENT_LENGTH"]),
        timeouts=timeouts,
    )

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings: dict[str, Any] = {
                "bind": config.bind,
                "workers": workers,
                # Connections wait as coroutines; only whole requests take one of the
                # ``threads`` that run the Flask app.
                "worker_class": worker_class(timeouts),
                # ivr.access logs each request by path only; gunicorn's would add queries.
                "accesslog": None,
                "errorlog": "-",
                "loglevel": config.log_level.lower(),
                "proc_name": "ivr",
            }
            settings["post_worker_init"] = _after_fork
            # gunicorn 25+ opens a control socket under $HOME: nothing here uses it, and the
            # deployed image's root filesystem is read-only.
            if "control_socket_disable" in self.cfg.settings:
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return front

    def _after_fork(_web_worker: Any) -> None:
        _start_in_web_process(app, with_worker)

    click.echo(f"Serving the hotline on http://{config.bind} (public URL {config.public_base})")
    Server().run()


def _start_in_web_process(app: Any, with_worker: bool) -> None:
    """Start what every web process runs beside its requests, once it has forked."""
    # Connections must not cross a fork: each web process opens its own.
    from ivr.services import services

    found = services(app)
    db = found.db
    db.engine.dispose(close=False)
    if found.calls is not None:
        # Spooled callbacks (from an outage, or a previous run) are replayed by every
        # web process; and the published flow is loaded now, so menus keep working if
        # the database goes away before this process has answered a call.
        found.calls.journal.start_replayer()
        with contextlib.suppress(Exception):
            found.flows.current()
    if with_worker:
        from ivr.cli.worker import start_worker_thread

        start_worker_thread(found)
    if found.config.serves_console:
        # Seal the audit chain and anchor it outside the database on a timer, in every
        # console process (sealing is idempotent; the head row serialises sealers).
        threading.Thread(
            target=found.audit_trail.keep_sealed,
            args=(threading.Event(),),
            name="ivr-audit-sealer",
            daemon=True,
        ).start()
        # The whole chain checked every day, the result sent to the alarms.
        from ivr.ops.alarms import verify_daily

        threading.Thread(
            target=verify_daily,
            args=(found.audit_trail, found.alarm_metrics, threading.Event()),
            name="ivr-audit-verifier",
            daemon=True,
        ).start()
        # Emails to forces the mail server did not take: sent the moment it answers.
        threading.Thread(
            target=_send_waiting_mail, args=(found,), name="ivr-outbox", daemon=True
        ).start()
        if not with_worker:
            # Retention is the console's (the edge may not blank report text); with a
            # worker in the process, the worker applies it.
            threading.Thread(
                target=_apply_retention_daily, args=(found,), name="ivr-retention", daemon=True
            ).start()


def _send_waiting_mail(found: Services) -> None:
    """Send pending emails every few seconds, for as long as the process runs."""
    import logging
    import time

    while True:
        try:
            found.outbox.send_pending()
        except Exception:  # the database is down: the emails wait with it
            logging.getLogger(__name__).warning("outbox.failed", exc_info=False)
        time.sleep(found.config.outbox_retry_seconds)


def _apply_retention_daily(found: Services) -> None:
    """Apply the retention periods now and then once a day, for as long as the process runs."""
    import logging
    import time

    from ivr.reports.retention import purge_as_configured

    while True:
        try:
            purge_as_configured(found.db, found.store, found.config)
        except Exception:  # a database or store blip: the next day tries again
            logging.getLogger(__name__).exception("retention.failed")
        time.sleep(86400)


def _routes(app: Any, form_memory: int) -> list[Route]:
    """The front's caps: webhooks are small form posts; the online form, its files' limits."""
    from ivr.cli.front import Budget, Route
    from ivr.online import EXTENSION_KEY as ONLINE

    routes = [Route("/twilio", WEBHOOK_MAX_BYTES)]
    online = app.extensions.get(ONLINE)
    if online is not None:
        routes.append(
            Route(
                "/report",
                online.limits.max_request_bytes,
                gate=online.guard.form_in_query,
                private=True,
                budget=Budget(max(form_memory, online.limits.max_request_bytes)),
            )
        )
    return routes


@click.command("twilio-emulator")
@click.option("--port", default=8010, show_default=True)
@pass_runtime
def twilio_emulator(runtime: Runtime, port: int) -> None:
    """Run the loopback Twilio emulator (media and REST) for development."""
    from werkzeug.serving import run_simple

    from ivr.dev.twilio_emulator import create_emulator

    config = runtime.config
    app = create_emulator(config.twilio_account_sid, config.twilio_auth_token)
    click.echo(f"Twilio emulator on http://127.0.0.1:{port}")
    run_simple("127.0.0.1", port, app, threaded=True)
