"""The services one application holds, built once in the factory and found on the app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from twilio.request_validator import RequestValidator

from ivr.calls import CallHandler
from ivr.config import Config
from ivr.db import Database
from ivr.flows.registry import FlowRegistry

EXTENSION_KEY = "ivr"


@dataclass(frozen=True)
class Services:
    config: Config
    db: Database
    flows: FlowRegistry
    # The edge's alone: a console process answers no webhooks and holds no Twilio token.
    validator: RequestValidator | None
    calls: CallHandler | None


def services(app: Flask | None = None) -> Services:
    """Return the services of ``app`` (default: the current application)."""
    found: Services = (app or current_app).extensions[EXTENSION_KEY]
    return found
