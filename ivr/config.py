"""Typed, frozen configuration built once from ``IVR_*`` environment variables."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar, assert_never

from sqlalchemy.engine import make_url

T = TypeVar("T", int, float)

# Twilio account SIDs are "AC" + 32 hex digits; this one is obviously not real.
DEV_ACCOUNT_SID = "AC" + "0" * 32


class ConfigError(ValueError):
    """A setting is missing or malformed."""


class Tier(StrEnum):
    """Which side of the service a process is.

    The *edge* faces the internet: it answers Twilio and ingests recordings, and can only
    encrypt. The *console* is private: it decrypts, and signs the handlers' sessions.
    *all* is the embedded default of ``make run``, both on one machine.
    """

    EDGE = "edge"
    CONSOLE = "console"
    ALL = "all"


# Settings that belong to one tier only. A process of the other tier refuses to start
# with any of them set, so a secret copied to the wrong side is caught at once.
EDGE_ONLY_SETTINGS = (
    "IVR_SECRET_KEY",
    "IVR_TWILIO_AUTH_TOKEN",
    "IVR_TWILIO_PREVIOUS_AUTH_TOKEN",
    "IVR_TWILIO_WEBHOOK_KEYS",
    "IVR_URL_STATE_KEY",
    "IVR_URL_STATE_PREVIOUS_KEY",
)
# Rotating Twilio's auth token: how long the previous one may stay valid at most. Long
# enough for every call and callback signed before the promotion to end (a call lasts at
# most 4 hours; Twilio retries a callback for minutes), short enough that a leaked old
# token is soon worthless.
MAX_PREVIOUS_TOKEN_WINDOW = timedelta(days=2)
CONSOLE_ONLY_SETTINGS = (
    "IVR_CONSOLE_SECRET_KEY",
    "IVR_CONSOLE_PREVIOUS_SECRET_KEY",
    "IVR_SMTP_URL",
    "IVR_AUDIT_KEY",
    "IVR_AUDIT_PREVIOUS_KEYS",
)


@dataclass(frozen=True)
class Config:
    """Everything the service needs to know about its surroundings."""

    database_url: str
    public_url: str
    twilio_account_sid: str
    # Edge (and all) only: Twilio's token checks signatures; the secret key keys the
    # hashes of call and recording SIDs. Both are empty on the console tier.
    twilio_auth_token: str
    secret_key: bytes
    tier: Tier = Tier.ALL
    # Rotating Twilio's auth token: the one it replaced, accepted on webhooks until the
    # given moment (UTC, at most two days ahead; see ivr.webhooks.signatures).
    twilio_previous_auth_token: str = ""
    twilio_previous_token_until: datetime | None = None
    # Seal what a call keys (a reference, a PIN) in its callback URLs: the current key and
    # the one it replaced, still opening calls begun under it. Empty: derived from
    # secret_key (which then stays the previous key once one is given).
    url_state_key: bytes = b""
    url_state_previous_key: bytes = b""
    # Shared keys a webhook signature-settings rule may name: key name -> secret.
    twilio_webhook_keys: Mapping[str, str] = field(default_factory=dict)
    # Console (and all): signs the handlers' session cookies. Never held by the edge.
    console_secret_key: bytes = b""
    # While rotating it: the one it replaced, still opening sessions and forms signed with it.
    console_previous_secret_key: bytes = b""
    twilio_api_url: str = "https://api.twilio.com"
    # The hotline's own number (E.164), for `ivr doctor` to check how Twilio holds it.
    twilio_number: str = ""
    bind: str = "127.0.0.1:8000"
    flow: str = "hotline"
    flows_dir: Path = field(default_factory=lambda: Path("call_flows"))
    storage_url: str = "recordings"
    s3_endpoint_url: str = ""
    key_service: str = "local"
    keys_dir: Path = field(default_factory=lambda: Path("var/keys"))
    kms_key_id: str = ""
    # The recordings public key as PEM text, instead of a file under keys_dir (the edge).
    recordings_public_key: str = ""
    # The key S3 encrypts objects at rest with (SSE-KMS); empty: the bucket's default.
    s3_kms_key_id: str = ""
    kms_endpoint_url: str = ""
    aws_region: str = "eu-west-2"
    log_level: str = "INFO"
    # Fetch jobs: attempts before a job is parked as failed, and how retries back off.
    job_max_attempts: int = 10
    job_lease_seconds: int = 30  # renewed by a heartbeat: a dead worker's jobs resume soon
    job_retry_base_seconds: float = 5.0
    job_retry_max_seconds: float = 3600.0
    worker_poll_seconds: float = 1.0
    # While jobs wait for a service that is down, how often a worker asks it again: its
    # return is noticed within this, and every job waiting for it is due at once.
    outage_probe_seconds: float = 3.0
    # How often each console process sends the emails the mail server did not take yet.
    outbox_retry_seconds: float = 5.0
    # Reconciliation looks at Twilio for recordings no callback told us about: the static
    # fallback's too, which need no grace, so they reach the queue within this of the
    # edge's return (one listing request each time, a page per 100 recordings held).
    reconcile_interval_seconds: int = 20
    reconcile_grace_seconds: int = 600
    # How often each process looks for a newly published flow version.
    flow_poll_seconds: float = 2.0
    # The static fallback (ivr.telephony.static_fallback): where ``ivr twilio fallback
    # publish`` writes it (s3://bucket/prefix, or a folder), and the https address it is
    # served from, which ``ivr twilio provision`` gives Twilio. Empty: the edge's own.
    fallback_site: str = ""
    fallback_url: str = ""
    # The fallback's bucket lives in another region than the edge (eu-west-2, London).
    fallback_region: str = "eu-west-1"
    # The worker sends the gauges alarms read (ivr.ops.alarms) to CloudWatch under this
    # namespace, e.g. IVR/production; empty: they are kept in memory only.
    cloudwatch_namespace: str = ""
    cloudwatch_endpoint_url: str = ""
    # /metrics answers only with this bearer token when set; the edge needs one to serve it.
    metrics_token: str = ""
    session_idle_minutes: int = 15
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    # A report in a language other than English is flagged to supervisors once this many
    # reports that came in after it have been taken while it waits (or it is from an
    # earlier day). Counted in reports, not hours: a report keeps the day it came, never
    # the time, so no clock can say how long it has waited; three later reports taken
    # means three handlers' turns went by and none who speaks it took work.
    language_wait_alert_after: int = 3
    # The console: how many proxies in front of it (its load balancer: 1) add the client's
    # address to X-Forwarded-For. 0 believes none: the address is the connection's.
    proxy_hops: int = 0
    audio_retention_days: int = 30  # after dissemination
    text_retention_days: int = 365  # after dissemination
    # Never disseminated: after the report's last day of activity (a claim, save, review).
    retention_undisseminated_days: int = 90
    retention_audio_failed_days: int = 30  # parked as "audio failed": after it was parked
    retention_awaiting_audio_days: int = 30  # still waiting for its audio
    smtp_url: str = ""  # see ivr.outside.mail; empty: messages go to outbox_dir
    smtp_ca_file: Path | None = None  # a private CA that signs the SMTP server's certificate
    mail_from: str = "hotline@localhost"
    outbox_dir: Path = field(default_factory=lambda: Path("var/outbox"))
    # Where recording and call-end callbacks wait, fsynced, while the database is down.
    spool_dir: Path = field(default_factory=lambda: Path("var/spool"))
    # How long a call's server-side state may live if Twilio never tells us the call ended.
    call_state_ttl_seconds: int = 4 * 3600
    # Console (and all): keys the audit chain's seals; empty: derived from the console's key.
    audit_key: bytes = b""
    # The keys it replaced (``ivr audit rekey``): the chain's older events were sealed
    # under them, so checking the whole chain needs them; nothing new is sealed with them.
    audit_previous_keys: tuple[bytes, ...] = ()
    # Where the chain's head is written down outside the database: a path, or s3://…
    # (Object Lock); empty: nowhere. And how often, at most minutes apart, while in use.
    audit_anchor: str = ""
    audit_anchor_minutes: int = 10
    # Printed at the top and bottom of every page of what is sent to a force.
    protective_marking: str = "OFFICIAL-SENSITIVE"
    # A published figure below this is withheld (``ivr.stats.disclosure``): 5 is the
    # threshold most UK official statistics on people use for small counts.
    stats_threshold: int = 5

    def __post_init__(self) -> None:
        self._check_tier_secrets()
        self._check_previous_token()
        self._check_url_state_keys()
        self._check_console_previous_key()
        self._check_audit_previous_keys()
        self._check_settings()

    def _check_tier_secrets(self) -> None:
        """Refuse a secret the tier must not hold, or one too short to be a secret."""
        if self.serves_webhooks:
            if not self.twilio_auth_token:
                raise ConfigError("IVR_TWILIO_AUTH_TOKEN must not be empty")
            if len(self.secret_key) < 32:
                raise ConfigError("IVR_SECRET_KEY must hold at least 32 bytes")
        elif self.secret_key or self.twilio_auth_token:
            raise ConfigError(
                "the console tier must not hold the edge's IVR_SECRET_KEY or IVR_TWILIO_AUTH_TOKEN"
            )
        if self.serves_console:
            if len(self.console_secret_key) < 32:
                raise ConfigError("IVR_CONSOLE_SECRET_KEY must hold at least 32 bytes")
            if self.console_secret_key == self.secret_key:
                raise ConfigError("IVR_CONSOLE_SECRET_KEY must differ from IVR_SECRET_KEY")
        elif self.console_secret_key:
            raise ConfigError(
                "the edge must not hold IVR_CONSOLE_SECRET_KEY: "
                "whoever holds the edge could sign console sessions"
            )
        if self.audit_key and (
            len(self.audit_key) < 32 or self.audit_key in {self.console_secret_key, self.secret_key}
        ):
            raise ConfigError("IVR_AUDIT_KEY must hold at least 32 bytes of its own")

    def _check_previous_token(self) -> None:
        """The previous Twilio token is accepted only within a short, stated window."""
        if self.twilio_previous_auth_token and self.twilio_previous_token_until is None:
            raise ConfigError(
                "IVR_TWILIO_PREVIOUS_AUTH_TOKEN needs IVR_TWILIO_PREVIOUS_TOKEN_UNTIL, the "
                "UTC time after which the old token is refused (e.g. 2026-12-05T09:00Z)"
            )
        if self.twilio_previous_token_until is not None:
            ahead = self.twilio_previous_token_until - datetime.now(UTC)
            if ahead > MAX_PREVIOUS_TOKEN_WINDOW:
                raise ConfigError(
                    "IVR_TWILIO_PREVIOUS_TOKEN_UNTIL may be at most "
                    f"{MAX_PREVIOUS_TOKEN_WINDOW.days} days ahead: an old token must not "
                    "stay valid for long"
                )

    def _check_audit_previous_keys(self) -> None:
        if self.audit_previous_keys and not self.audit_key:
            raise ConfigError(
                "IVR_AUDIT_PREVIOUS_KEYS needs IVR_AUDIT_KEY, the key that replaced them"
            )
        if any(len(key) < 32 or key == self.audit_key for key in self.audit_previous_keys):
            raise ConfigError(
                "IVR_AUDIT_PREVIOUS_KEYS must list the earlier audit keys (32 bytes or more "
                "each, comma-separated), not the current one"
            )

    def _check_console_previous_key(self) -> None:
        previous = self.console_previous_secret_key
        if previous and (len(previous) < 32 or previous == self.console_secret_key):
            raise ConfigError(
                "IVR_CONSOLE_PREVIOUS_SECRET_KEY must be the 32 bytes or more of the key "
                "IVR_CONSOLE_SECRET_KEY replaced"
            )

    def _check_url_state_keys(self) -> None:
        for name, key in (
            ("IVR_URL_STATE_KEY", self.url_state_key),
            ("IVR_URL_STATE_PREVIOUS_KEY", self.url_state_previous_key),
        ):
            if key and len(key) < 32:
                raise ConfigError(f"{name} must hold at least 32 bytes")
        if self.url_state_previous_key and not self.url_state_key:
            raise ConfigError("IVR_URL_STATE_PREVIOUS_KEY needs IVR_URL_STATE_KEY, the new key")

    def _check_settings(self) -> None:
        """Refuse a setting outside what the service can work with."""
        if not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"IVR_PUBLIC_URL must be an http(s) URL, not {self.public_url!r}")
        if self.key_service not in {"local", "kms"}:
            raise ConfigError(f"IVR_KEY_SERVICE must be local or kms, not {self.key_service!r}")
        if self.key_service == "kms" and not self.kms_key_id:
            raise ConfigError("IVR_KEY_SERVICE=kms needs IVR_KMS_KEY_ID")
        if not 0 < len(self.protective_marking) <= 60:
            raise ConfigError("IVR_PROTECTIVE_MARKING must be 1 to 60 characters")
        if self.job_max_attempts < 1 or self.job_lease_seconds < 1:
            raise ConfigError("IVR_JOB_MAX_ATTEMPTS and IVR_JOB_LEASE_SECONDS must be at least 1")
        if self.stats_threshold < 2:
            raise ConfigError(
                "IVR_STATS_THRESHOLD must be at least 2: below it a count of 1 is shown"
            )

    @property
    def serves_webhooks(self) -> bool:
        """True for the tier that answers Twilio and ingests recordings."""
        return self.tier is not Tier.CONSOLE

    @property
    def serves_console(self) -> bool:
        """True for the tier that serves the handlers' console and decrypts audio."""
        return self.tier is not Tier.EDGE

    @property
    def public_base(self) -> str:
        """Return the public URL without a trailing slash."""
        return self.public_url.rstrip("/")

    @property
    def flow_path(self) -> Path:
        """Return the file of the flow this service answers calls with."""
        candidate = Path(self.flow)
        if candidate.suffix in {".yaml", ".yml"}:
            return candidate
        return self.flows_dir / f"{self.flow}.yaml"

    @property
    def url_state_keys(self) -> tuple[bytes, ...]:
        """The call state's key ring, the sealing key first."""
        if not self.url_state_key:
            return (self.secret_key,) if self.secret_key else ()
        previous = self.url_state_previous_key or self.secret_key
        return tuple(key for key in (self.url_state_key, previous) if key)

    @property
    def audit_chain_key(self) -> bytes:
        """The key of the audit chain's seals: IVR_AUDIT_KEY, or one derived for that purpose."""
        if self.audit_key:
            return self.audit_key
        if not self.console_secret_key:
            raise ConfigError("only the console tier seals and checks the audit chain")
        return hmac.new(self.console_secret_key, b"ivr audit chain v1", hashlib.sha256).digest()

    @property
    def cookies_secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def bind_host(self) -> str:
        return self.bind.rsplit(":", 1)[0]

    @property
    def bind_port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, root: Path | None = None
    ) -> Config:
        """Build the config from the environment, creating local secrets on first use.

        Only the embedded default (``IVR_TIER=all``) writes anything: its secrets and a
        development Twilio token under ``var/``, so that ``make run`` needs no setup. A
        deployed tier is given its own secrets and refuses the other tier's.
        """
        env = os.environ if environ is None else environ
        root = Path.cwd() if root is None else root
        var = root / "var"

        def get(name: str, default: str) -> str:
            return env.get(f"IVR_{name}", "") or default

        tier = _tier(get("TIER", "all"))
        _refuse_other_tiers_settings(env, tier)
        # The embedded default makes its own secrets; a deployed tier must be given them.
        embedded = tier is Tier.ALL

        def secret(name: str, file: str, nbytes: int, needed: bool) -> str:
            given = env.get(f"IVR_{name}", "")
            if given or not needed:
                return given
            if embedded:
                return _local_secret(var / file, nbytes)
            raise ConfigError(f"IVR_{name} is required on the {tier} tier ({_NEEDS[name]})")

        webhooks, console = tier is not Tier.CONSOLE, tier is not Tier.EDGE
        return cls(
            database_url=_with_password(
                get("DATABASE_URL", f"sqlite:///{var / 'ivr.sqlite3'}"),
                env.get("IVR_DATABASE_PASSWORD", ""),
            ),
            public_url=get("PUBLIC_URL", "http://127.0.0.1:8000"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID", DEV_ACCOUNT_SID),
            twilio_auth_token=secret("TWILIO_AUTH_TOKEN", "dev-twilio-auth-token", 16, webhooks),
            twilio_previous_auth_token=env.get("IVR_TWILIO_PREVIOUS_AUTH_TOKEN", ""),
            twilio_previous_token_until=_moment(get("TWILIO_PREVIOUS_TOKEN_UNTIL", "")),
            twilio_webhook_keys=_named_secrets(get("TWILIO_WEBHOOK_KEYS", "")),
            url_state_key=env.get("IVR_URL_STATE_KEY", "").encode(),
            url_state_previous_key=env.get("IVR_URL_STATE_PREVIOUS_KEY", "").encode(),
            secret_key=secret("SECRET_KEY", "secret-key", 32, webhooks).encode(),
            tier=tier,
            console_secret_key=secret(
                "CONSOLE_SECRET_KEY", "console-secret-key", 32, console
            ).encode(),
            console_previous_secret_key=env.get("IVR_CONSOLE_PREVIOUS_SECRET_KEY", "").encode(),
            twilio_api_url=get("TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
            twilio_number=get("TWILIO_NUMBER", ""),
            bind=get("BIND", "127.0.0.1:8000"),
            flow=get("FLOW", "hotline"),
            flows_dir=Path(get("FLOWS_DIR", str(root / "call_flows"))),
            storage_url=get("STORAGE_URL", str(root / "recordings")),
            s3_endpoint_url=get("S3_ENDPOINT_URL", ""),
            key_service=get("KEY_SERVICE", "local"),
            keys_dir=Path(get("KEYS_DIR", str(var / "keys"))),
            kms_key_id=get("KMS_KEY_ID", ""),
            recordings_public_key=get("RECORDINGS_PUBLIC_KEY", ""),
            s3_kms_key_id=get("S3_KMS_KEY_ID", ""),
            kms_endpoint_url=get("KMS_ENDPOINT_URL", ""),
            aws_region=get("AWS_REGION", "eu-west-2"),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            job_max_attempts=_number(get, "JOB_MAX_ATTEMPTS", 10),
            job_lease_seconds=_number(get, "JOB_LEASE_SECONDS", 30),
            job_retry_base_seconds=float(_number(get, "JOB_RETRY_BASE_SECONDS", 5.0)),
            job_retry_max_seconds=float(_number(get, "JOB_RETRY_MAX_SECONDS", 3600.0)),
            worker_poll_seconds=float(_number(get, "WORKER_POLL_SECONDS", 1.0)),
            outage_probe_seconds=float(
                _number(get, "OUTAGE_PROBE_SECONDS", cls.outage_probe_seconds)
            ),
            outbox_retry_seconds=float(
                _number(get, "OUTBOX_RETRY_SECONDS", cls.outbox_retry_seconds)
            ),
            reconcile_interval_seconds=_number(
                get, "RECONCILE_INTERVAL_SECONDS", cls.reconcile_interval_seconds
            ),
            reconcile_grace_seconds=_number(get, "RECONCILE_GRACE_SECONDS", 600),
            flow_poll_seconds=float(_number(get, "FLOW_POLL_SECONDS", 2.0)),
            fallback_site=get("FALLBACK_SITE", ""),
            fallback_url=get("FALLBACK_URL", "").rstrip("/"),
            fallback_region=get("FALLBACK_REGION", cls.fallback_region),
            cloudwatch_namespace=get("CLOUDWATCH_NAMESPACE", ""),
            cloudwatch_endpoint_url=get("CLOUDWATCH_ENDPOINT_URL", ""),
            metrics_token=get("METRICS_TOKEN", ""),
            session_idle_minutes=_number(get, "SESSION_IDLE_MINUTES", 15),
            lockout_attempts=_number(get, "LOCKOUT_ATTEMPTS", 5),
            lockout_minutes=_number(get, "LOCKOUT_MINUTES", 15),
            language_wait_alert_after=_number(get, "LANGUAGE_WAIT_ALERT_AFTER", 3),
            proxy_hops=_number(get, "PROXY_HOPS", 0),
            # Retention's defaults are written once, as the fields' defaults above.
            audio_retention_days=_number(get, "AUDIO_RETENTION_DAYS", cls.audio_retention_days),
            text_retention_days=_number(get, "TEXT_RETENTION_DAYS", cls.text_retention_days),
            retention_undisseminated_days=_number(
                get, "RETENTION_UNDISSEMINATED_DAYS", cls.retention_undisseminated_days
            ),
            retention_audio_failed_days=_number(
                get, "RETENTION_AUDIO_FAILED_DAYS", cls.retention_audio_failed_days
            ),
            retention_awaiting_audio_days=_number(
                get, "RETENTION_AWAITING_AUDIO_DAYS", cls.retention_awaiting_audio_days
            ),
            smtp_url=get("SMTP_URL", ""),
            smtp_ca_file=Path(get("SMTP_CA_FILE", "")) if get("SMTP_CA_FILE", "") else None,
            mail_from=get("MAIL_FROM", "hotline@localhost"),
            outbox_dir=Path(get("OUTBOX_DIR", str(var / "outbox"))),
            spool_dir=Path(get("SPOOL_DIR", str(var / "spool"))),
            audit_key=get("AUDIT_KEY", "").encode(),
            audit_previous_keys=tuple(
                part.strip().encode()
                for part in get("AUDIT_PREVIOUS_KEYS", "").split(",")
                if part.strip()
            ),
            audit_anchor=get("AUDIT_ANCHOR", str(var / "audit-anchors.jsonl")) if console else "",
            audit_anchor_minutes=_number(get, "AUDIT_ANCHOR_MINUTES", 10),
            stats_threshold=_number(get, "STATS_THRESHOLD", cls.stats_threshold),
            protective_marking=get("PROTECTIVE_MARKING", "OFFICIAL-SENSITIVE").strip(),
        )


_NEEDS = {
    "TWILIO_AUTH_TOKEN": "Twilio's auth token, to check webhook signatures",
    "SECRET_KEY": "at least 32 random bytes, shared by the edge's web and worker processes",
    "CONSOLE_SECRET_KEY": "at least 32 random bytes that only the console holds",
}


def _tier(text: str) -> Tier:
    try:
        return Tier(text.lower())
    except ValueError:
        raise ConfigError(f"IVR_TIER must be edge, console or all, not {text!r}") from None


def _refuse_other_tiers_settings(env: Mapping[str, str], tier: Tier) -> None:
    if "IVR_CONSOLE" in env:
        raise ConfigError("IVR_CONSOLE is replaced by IVR_TIER (edge, console or all)")
    foreign: tuple[str, ...]
    match tier:
        case Tier.EDGE:
            foreign = CONSOLE_ONLY_SETTINGS
        case Tier.CONSOLE:
            foreign = EDGE_ONLY_SETTINGS
        case Tier.ALL:
            foreign = ()
        case _:
            assert_never(tier)
    found = [name for name in foreign if env.get(name)]
    if found:
        raise ConfigError(
            f"{', '.join(found)} belong(s) to the other tier and must not be set on the "
            f"{tier} tier: remove it from this process's environment"
        )


def _with_password(url: str, password: str) -> str:
    """Put a separately kept database password (a secret) into the URL."""
    if not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def _number(get: Callable[[str, str], str], name: str, default: T) -> T:
    text = get(name, str(default))
    try:
        return type(default)(text)
    except ValueError:
        raise ConfigError(f"IVR_{name} must be a number, not {text!r}") from None


def _moment(text: str) -> datetime | None:
    """An ISO 8601 time in UTC ("2026-12-05T09:00Z"), or None when not set."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a time such as 2026-12-05T09:00Z") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{text!r} must say its zone: end it with Z for UTC")
    return moment.astimezone(UTC)


def _named_secrets(text: str) -> dict[str, str]:
    """``name=secret,name2=secret2`` as a mapping; a part without both is refused."""
    named: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, separator, value = part.partition("=")
        if not (separator and name.strip() and value.strip()):
            raise ConfigError("IVR_TWILIO_WEBHOOK_KEYS must be name=secret pairs, comma-separated")
        named[name.strip()] = value.strip()
    return named


def _local_secret(path: Path, nbytes: int) -> str:
    """Read a secret kept in a local file, creating it (mode 0600) if absent."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
