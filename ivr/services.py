"""The composition root: everything a process uses, built once from its config.

The web app, the worker and the CLI each build one ``Services`` and take what they need
from it (``create_app(config, services=...)``, ``build_worker(services)``); nothing else
reads the environment or builds an adapter. The outside services come from the registry
in ``ivr.adapters``, through one set of AWS clients. Each part is made on first use, so a
process only builds what its tier and its work need (a console that never plays audio
never loads the private key; ``ivr users list`` never reads a flow).

Two parts belong to the web and are made by the app factory from these services: the
call handler (it renders TwiML) and the online form's state (``ivr.online.OnlineState``,
whose guard lives with the form).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from flask import Flask, current_app
from twilio.request_validator import RequestValidator

from ivr import adapters
from ivr.anchors import AnchorLog
from ivr.audit import AuditTrail
from ivr.config import Config, ConfigError
from ivr.crypto.keys import KeyUnwrapper, KeyWrapper
from ivr.db import Database
from ivr.flows.registry import FlowRegistry
from ivr.jobs import CallLogQueue, JobQueue, RetryPolicy
from ivr.journal import Journal
from ivr.logs import event
from ivr.mail import Mailer, MailSettingError, mailer_for
from ivr.spool import Spool
from ivr.storage import ObjectStore
from ivr.throttle import SourceThrottle
from ivr.twilio_api import TwilioApi, TwilioUnavailable
from ivr.worker.erasure import CallLogEraser
from ivr.worker.ingest import Ingester
from ivr.worker.reconcile import reconcile

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ivr.audit import Checkpoint
    from ivr.calls import CallHandler

EXTENSION_KEY = "ivr"

logger = logging.getLogger(__name__)

# After an outage, how old a recording at Twilio must be before reconciling takes it.
RECOVERY_RECONCILE_GRACE_SECONDS = 10


class Services:
    """A process's outside services and shared state, each made once, on first use."""

    def __init__(self, config: Config, *, db: Database | None = None) -> None:
        self.config = config
        self.db = db or Database.from_url(config.database_url)
        if config.serves_console:
            # The console's sessions carry the audit key: they tag the events they write,
            # and read a report's text. The edge's carry neither.
            self.db.hold_audit_key(config.audit_chain_key)
        # Set by the app factory on the edge: the call handler renders TwiML, which only
        # the web side knows how to do.
        self.calls: CallHandler | None = None
        # How far the console's audit page has found the chain intact, in this process.
        self.audit_checkpoint: Checkpoint | None = None

    @cached_property
    def flows(self) -> FlowRegistry:
        config = self.config
        return FlowRegistry(config.flow_path, self.db, config.flow_poll_seconds)

    @cached_property
    def aws(self) -> adapters.AwsClients:
        """One set of AWS clients: the store and the anchors share one S3 client."""
        return adapters.AwsClients(self.config)

    @cached_property
    def store(self) -> ObjectStore:
        return adapters.object_store(self.config, self.aws)

    @cached_property
    def anchors(self) -> AnchorLog | None:
        return adapters.anchor_log(self.config, self.aws)

    @cached_property
    def twilio(self) -> TwilioApi:
        return adapters.twilio_api(self.config)

    @cached_property
    def key_wrapper(self) -> KeyWrapper:
        return adapters.key_wrapper(self.config, self.aws)

    @cached_property
    def key_unwrapper(self) -> KeyUnwrapper:
        return adapters.key_unwrapper(self.config, self.aws)

    @cached_property
    def mailer(self) -> Mailer:
        config = self.config
        try:
            return mailer_for(
                config.smtp_url, config.outbox_dir, config.mail_from, config.smtp_ca_file
            )
        except MailSettingError as error:
            raise ConfigError(str(error)) from None

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        config = self.config
        return RetryPolicy(
            config.job_max_attempts, config.job_retry_base_seconds, config.job_retry_max_seconds
        )

    @cached_property
    def jobs(self) -> JobQueue:
        lease = timedelta(seconds=self.config.job_lease_seconds)
        return JobQueue(self.db, lease, self.retry_policy)

    @cached_property
    def call_logs(self) -> CallLogQueue:
        lease = timedelta(seconds=self.config.job_lease_seconds)
        return CallLogQueue(self.db, lease, self.retry_policy)

    @cached_property
    def journal(self) -> Journal:
        """Write down recordings and call ends, spooled while the database is down (the edge)."""
        config = self.config
        return Journal(
            self.db, config.secret_key, Spool(config.spool_dir), on_recovered=self._reconcile_now
        )

    def _reconcile_now(self) -> None:
        # Recordings whose callbacks were lost while the database was down are found now,
        # not at the next periodic run; the short grace lets in-flight callbacks land.
        grace = min(RECOVERY_RECONCILE_GRACE_SECONDS, self.config.reconcile_grace_seconds)
        try:
            reconcile(self.db, self.twilio, self.config.secret_key, timedelta(seconds=grace))
        except TwilioUnavailable as error:
            event(logger, "reconcile.postponed", logging.WARNING, error=str(error))

    @cached_property
    def ingester(self) -> Ingester:
        """Fetch, seal and store recordings: the worker's main job (the edge)."""
        return Ingester(self.db, self.jobs, self.twilio, self.store, self.key_wrapper)

    @cached_property
    def call_log_eraser(self) -> CallLogEraser:
        return CallLogEraser(self.db, self.call_logs, self.twilio)

    @cached_property
    def validator(self) -> RequestValidator:
        """Checks Twilio's signatures (the edge; its webhooks are the only users)."""
        return RequestValidator(self.config.twilio_auth_token)

    @cached_property
    def sign_in_throttle(self) -> SourceThrottle:
        return SourceThrottle()

    @cached_property
    def audit_trail(self) -> AuditTrail:
        """Seals, anchors and checks the audit chain: the console's, which holds its key."""
        config = self.config
        every = timedelta(minutes=config.audit_anchor_minutes)
        return AuditTrail(self.db, config.audit_chain_key, self.anchors, every)

    @cached_property
    def metrics(self) -> CollectorRegistry:
        from ivr.metrics import registry_for

        return registry_for(self.db)


def services(app: Flask | None = None) -> Services:
    """Return the services of ``app`` (default: the current application)."""
    found: Services = (app or current_app).extensions[EXTENSION_KEY]
    return found
