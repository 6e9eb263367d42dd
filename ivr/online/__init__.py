"""The anonymous online report form, served by the edge tier at ``/report``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from ivr.online.form import OnlineRequest
from ivr.online.guard import FormGuard, GlobalLimit, Limits, OnlineCollector
from ivr.services import Services

EXTENSION_KEY = "ivr.online"


@dataclass(frozen=True)
class OnlineState:
    limits: Limits
    guard: FormGuard
    limit: GlobalLimit


def register_online(app: Flask, built: Services, limits: Limits | None = None) -> None:
    """Serve the form on ``app``; its outcomes and global limit are shown in ``/metrics``."""
    from ivr.online.views import bp

    limits = limits or Limits()
    state = OnlineState(limits, FormGuard(built.config.secret_key, limits), GlobalLimit(limits))
    app.extensions[EXTENSION_KEY] = state
    app.request_class = OnlineRequest
    built.metrics.register(OnlineCollector(lambda: app.extensions[EXTENSION_KEY].limit))
    app.register_blueprint(bp)
