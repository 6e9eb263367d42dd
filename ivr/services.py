"""The composition root: everything a process uses, built once from its config.

The web app, the worker and the CLI each build one ``Services`` and take what they need
from it (``create_app(config, services=...)``, ``build_worker(services)``); nothing else
reads the environment or builds an adapter. The outside services come from the registry
in ``ivr.services``, through one set of AWS clients. Each part is made on first use, so a
process only builds what its tier and its work need (a console that never plays audio
never loads the private key; ``ivr users list`` never reads a flow).

Two parts belong to the web and are made by the app factory from these services: the
call handler (it renders TwiML) and the online form's state (``ivr.online.OnlineState``,
whose guard lives with the form).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app
from prometheus_client import CollectorRegistry

from ivr.config import Config, ConfigError, Tier
from ivr.crypto.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    KeyServiceError,
    KeyUnwrapper,
    KeyWrapper,
    KmsKeyUnwrapper,
    KmsKeyWrapper,
    LocalKeyUnwrapper,
    LocalKeyWrapper,
    retired_private_keys,
)
from ivr.flows.registry import FlowRegistry
from ivr.outside.anchors import AnchorLog, FileAnchors, S3Anchors
from ivr.outside.cloud_metrics import CloudWatchMetrics, HeldMetrics, MetricSink
from ivr.outside.fallback_site import FallbackSite, FolderSite, S3Site
from ivr.outside.mail import Mailer, MailSettingError, mailer_for
from ivr.outside.storage import LocalStore, ObjectStore, S3Store
from ivr.outside.twilio_api import TwilioApi, TwilioRest, TwilioUnavailable
from ivr.platform.db import Database
from ivr.platform.logs import event
from ivr.reports.outbox import Outbox
from ivr.staff.audit import AuditTrail
from ivr.staff.throttle import SourceThrottle
from ivr.telephony.jobs import CallLogQueue, JobQueue, RetryPolicy
from ivr.telephony.journal import Journal
from ivr.telephony.spool import Spool
from ivr.worker.erasure import CallLogEraser
from ivr.worker.ingest import Ingester
from ivr.worker.reconcile import reconcile

if TYPE_CHECKING:
    from ivr.staff.audit import Checkpoint
    from ivr.telephony.calls import CallHandler

EXTENSION_KEY = "ivr"

logger = logging.getLogger(__name__)

# After an outage, how old a recording at Twilio must be before reconciling takes it.
RECOVERY_RECONCILE_GRACE_SECONDS = 10


# The registry of outside services: for each, the implementation its config names.
#
# | service      | local (embedded default)          | production                    |
# | object store | a folder (``recordings/``)        | S3 (``s3://bucket/p``)        |
# | audit anchor | a file the console appends to     | S3 under Object Lock          |
# | key service  | a key pair under ``var/keys/``    | AWS KMS                       |
# | Twilio REST  | the loopback emulator             | api.twilio.com                |
#
# Stores and anchor logs are chosen by their URL's scheme, in STORES and ANCHORS; a new
# kind of store is one entry there. The AWS clients are made once, by AwsClients, so the
# store and the anchors share one S3 client. Only Services (and ``ivr doctor``, which
# probes each service as configured) build these.
#
# The storing side gets a key *wrapper* only; the *unwrapper* is for the console. Neither
# ever creates a key: the local pair is made by ``ivr keys init`` on the console side.


class AwsClients:
    """The process's AWS clients, each made on first use (boto3 is loaded only then)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def _client(self, service: str, endpoint_url: str) -> Any:
        import boto3

        region = self._config.aws_region or None
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url or None)

    @cached_property
    def s3(self) -> Any:
        return self._client("s3", self._config.s3_endpoint_url)

    @cached_property
    def kms(self) -> Any:
        return self._client("kms", self._config.kms_endpoint_url)

    @cached_property
    def cloudwatch(self) -> Any:
        return self._client("cloudwatch", self._config.cloudwatch_endpoint_url)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(parts.path if parts.scheme == "file" else url)


def _s3_store(url: str, config: Config, aws: AwsClients) -> ObjectStore:
    parts = urlsplit(url)
    return S3Store(aws.s3, parts.netloc, parts.path, config.s3_kms_key_id or None)


def _local_store(url: str, config: Config, aws: AwsClients) -> ObjectStore:
    return LocalStore(_local_path(url))


def _s3_anchors(url: str, config: Config, aws: AwsClients) -> AnchorLog:
    try:
        return S3Anchors.from_url(aws.s3, url)
    except ValueError as error:
        raise ConfigError(f"IVR_AUDIT_ANCHOR: {error}") from None


def _file_anchors(url: str, config: Config, aws: AwsClients) -> AnchorLog:
    return FileAnchors(_local_path(url))


_Opener = TypeVar("_Opener")

# By URL scheme; "" is a plain path.
STORES: Mapping[str, Callable[[str, Config, AwsClients], ObjectStore]] = {
    "s3": _s3_store,
    "file": _local_store,
    "": _local_store,
}
ANCHORS: Mapping[str, Callable[[str, Config, AwsClients], AnchorLog]] = {
    "s3": _s3_anchors,
    "file": _file_anchors,
    "": _file_anchors,
}


def _opener(registry: Mapping[str, _Opener], setting: str, url: str) -> _Opener:
    scheme = urlsplit(url).scheme
    found = registry.get(scheme)
    if found is None:
        known = ", ".join(f"{name}://" for name in registry if name)
        raise ConfigError(f"{setting}: unknown URL scheme {scheme!r}: use a path or {known}")
    return found


def object_store(config: Config, aws: AwsClients | None = None) -> ObjectStore:
    """Open the store ``IVR_STORAGE_URL`` names."""
    url = config.storage_url
    return _opener(STORES, "IVR_STORAGE_URL", url)(url, config, aws or AwsClients(config))


def anchor_log(config: Config, aws: AwsClients | None = None) -> AnchorLog | None:
    """Open the audit anchor log ``IVR_AUDIT_ANCHOR`` names (none if it names none)."""
    url = config.audit_anchor
    if not url:
        return None
    return _opener(ANCHORS, "IVR_AUDIT_ANCHOR", url)(url, config, aws or AwsClients(config))


def fallback_site(config: Config) -> FallbackSite:
    """Open where ``IVR_FALLBACK_SITE`` says the static fallback is published."""
    url = config.fallback_site
    parts = urlsplit(url)
    if not url:
        raise ConfigError(
            "IVR_FALLBACK_SITE is not set: name the bucket (s3://bucket/prefix) or the folder "
            "the static fallback is published to (see README, Deploying)"
        )
    if parts.scheme == "s3":
        import boto3

        # The fallback's own region: the bucket is kept away from the edge's.
        client = boto3.client(
            "s3",
            region_name=config.fallback_region,
            endpoint_url=config.s3_endpoint_url or None,
        )
        return S3Site(client, parts.netloc, parts.path)
    if parts.scheme in {"", "file"}:
        return FolderSite(_local_path(url))
    raise ConfigError(
        f"IVR_FALLBACK_SITE: unknown URL scheme {parts.scheme!r}: use s3:// or a path"
    )


def kms_client(config: Config) -> Any:
    return AwsClients(config).kms


def key_wrapper(config: Config, aws: AwsClients | None = None) -> KeyWrapper:
    """Return what seals data keys for the console; refuse to run without its key."""
    if config.key_service == "kms":
        return KmsKeyWrapper((aws or AwsClients(config)).kms, config.kms_key_id)
    private_path = config.keys_dir / PRIVATE_KEY_FILE
    if config.tier is Tier.EDGE and private_path.exists():
        raise ConfigError(
            f"a recordings private key is at {private_path}: the edge must never hold it. "
            "Remove it from this host; only the console keeps it"
        )
    try:
        return LocalKeyWrapper(_public_key_pem(config))
    except KeyServiceError as error:
        raise ConfigError(f"the recordings public key is unusable: {error}") from None


def _public_key_pem(config: Config) -> bytes:
    if config.recordings_public_key:
        return config.recordings_public_key.encode()
    public_path = config.keys_dir / PUBLIC_KEY_FILE
    if not public_path.exists():
        raise ConfigError(
            f"no recordings public key at {public_path}: run `ivr keys init` on the console "
            "side and give this host its public half (that file, or IVR_RECORDINGS_PUBLIC_KEY)"
        )
    return public_path.read_bytes()


def key_unwrapper(config: Config, aws: AwsClients | None = None) -> KeyUnwrapper:
    """Return what opens data keys: the console's alone."""
    if not config.serves_console:
        raise ConfigError("only the console tier may unwrap recording keys")
    if config.key_service == "kms":
        return KmsKeyUnwrapper((aws or AwsClients(config)).kms)
    private_path = config.keys_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        raise ConfigError(f"no recordings private key at {private_path}: run `ivr keys init`")
    return LocalKeyUnwrapper(private_path.read_bytes(), *retired_private_keys(config.keys_dir))


def twilio_api(config: Config) -> TwilioApi:
    return TwilioRest(config.twilio_api_url, config.twilio_account_sid, config.twilio_auth_token)


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
    def aws(self) -> AwsClients:
        """One set of AWS clients: the store and the anchors share one S3 client."""
        return AwsClients(self.config)

    @cached_property
    def store(self) -> ObjectStore:
        return object_store(self.config, self.aws)

    @cached_property
    def anchors(self) -> AnchorLog | None:
        return anchor_log(self.config, self.aws)

    @cached_property
    def twilio(self) -> TwilioApi:
        return twilio_api(self.config)

    @cached_property
    def key_wrapper(self) -> KeyWrapper:
        return key_wrapper(self.config, self.aws)

    @cached_property
    def key_unwrapper(self) -> KeyUnwrapper:
        return key_unwrapper(self.config, self.aws)

    @cached_property
    def alarm_metrics(self) -> MetricSink:
        """Where the worker sends the gauges alarms read: CloudWatch when a namespace is set."""
        namespace = self.config.cloudwatch_namespace
        return CloudWatchMetrics(self.aws.cloudwatch, namespace) if namespace else HeldMetrics()

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
    def sign_in_throttle(self) -> SourceThrottle:
        return SourceThrottle()

    @cached_property
    def audit_trail(self) -> AuditTrail:
        """Seals, anchors and checks the audit chain: the console's, which holds its key."""
        config = self.config
        every = timedelta(minutes=config.audit_anchor_minutes)
        return AuditTrail(
            self.db, config.audit_chain_key, self.anchors, every, config.audit_previous_keys
        )

    @cached_property
    def outbox(self) -> Outbox:
        """Emails to forces, sent once the mail server takes them (the console's)."""
        config = self.config
        return Outbox(
            self.db,
            self.mailer,
            lambda: self.flows.current().flow.categories,
            config.protective_marking,
        )

    @cached_property
    def metrics(self) -> CollectorRegistry:
        """The process's gauges: the app factory registers the queue's, the online form its own."""
        return CollectorRegistry(auto_describe=False)


def services(app: Flask | None = None) -> Services:
    """Return the services of ``app`` (default: the current application)."""
    found: Services = (app or current_app).extensions[EXTENSION_KEY]
    return found
