"""The anonymous online report form, served by the edge tier at ``/report``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from ivr.online.form import OnlineRequest
from ivr.online.guard import FormGuard, GlobalLimit, Limits, OnlineCollector
from ivr.services import Services

EXTENSION_KEY = "ivr.online"


@dataclass(frozen=True)
class OnlineState:
    """The form's limits, its token guard and its global limit: one per app."""

    limits: Limits
    guard: FormGuard
    limit: GlobalLimit

    @classmethod
    def build(cls, built: Services, limits: Limits | None = None) -> OnlineState:
        """Make the form's state from the process's services.

        Their key signs the tokens; their database keeps the spent ones for every process.
        """
        limits = limits or Limits()
        guard = FormGuard(built.config.secret_key, limits, built.db)
        return cls(limits, guard, GlobalLimit(limits))


def online_state(app: Flask | None = None) -> OnlineState:
    """Return the online form's state on ``app`` (default: the current application)."""
    found = (app or current_app).extensions[EXTENSION_KEY]
    if not isinstance(found, OnlineState):
        raise TypeError(f"app.extensions[{EXTENSION_KEY!r}] is not the online form's state")
    return found


def register_online(app: Flask, built: Services, limits: Limits | None = None) -> None:
    """Serve the form on ``app``; its outcomes and global limit are shown in ``/metrics``."""
    from ivr.online.views import bp

    app.extensions[EXTENSION_KEY] = OnlineState.build(built, limits)
    app.request_class = OnlineRequest
    # Read at each scrape, not now: a test may give the app a state of its own.
    built.metrics.register(OnlineCollector(lambda: online_state(app).limit))
    app.register_blueprint(bp)
