"""``ivr serve`` and ``ivr twilio-emulator``: the long-running processes."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import click

from ivr.cli.runtime import Runtime, pass_runtime
from ivr.config import ConfigError


@click.command()
@click.option("--workers", default=2, show_default=True, help="Web worker processes.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
@click.option(
    "--with-worker",
    is_flag=True,
    help="Also run a job worker in each web process (the embedded default).",
)
@pass_runtime
def serve(runtime: Runtime, workers: int, threads: int, with_worker: bool) -> None:
    """Serve the webhooks with gunicorn on IVR_BIND."""
    from gunicorn.app.base import BaseApplication

    from ivr.app import create_app
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

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings: dict[str, Any] = {
                "bind": config.bind,
                "workers": workers,
                "threads": threads,
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
            return app

    def _after_fork(_web_worker: Any) -> None:
        # Connections must not cross a fork: each web process opens its own.
        from ivr.services import services

        found = services(app)
        db = found.db
        db.engine.dispose(close=False)
        if found.calls is not None:
            # Spooled callbacks (from an outage, or a previous run) are replayed by every
            # web process; and the published flow is loaded now, so menus keep working if
            # the database goes away before this process has answered a call.
            found.calls.intake.start_replayer()
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

    click.echo(f"Serving the hotline on http://{config.bind} (public URL {config.public_base})")
    Server().run()


@click.command("twilio-emulator")
@click.option("--port", default=8010, show_default=True)
@pass_runtime
def twilio_emulator(runtime: Runtime, port: int) -> None:
    """Run the loopback Twilio emulator (media and REST) for development."""
    from werkzeug.serving import run_simple

    from ivr.twilio_emulator import create_emulator

    config = runtime.config
    app = create_emulator(config.twilio_account_sid, config.twilio_auth_token)
    click.echo(f"Twilio emulator on http://127.0.0.1:{port}")
    run_simple("127.0.0.1", port, app, threaded=True)
