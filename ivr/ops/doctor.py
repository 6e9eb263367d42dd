"""``ivr doctor``: check one tier's configuration against its live dependencies.

Each check answers in one line: what was found, and when something is wrong, what to do
about it. An operator runs it on each tier after a deployment or a change of settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ivr.config import Config, ConfigError, Tier
from ivr.crypto import day_keys
from ivr.crypto.keys import KeyServiceError, KmsKeyUnwrapper, LocalKeyUnwrapper, object_context
from ivr.outside.fallback_site import SiteUnavailable, fetch
from ivr.outside.mail import MailSettingError, MailUnavailable, SmtpMailer, SmtpSettings
from ivr.outside.storage import StoreUnavailable, new_object_name
from ivr.outside.twilio_api import (
    InvalidPhoneNumber,
    PhoneNumberNotFound,
    TwilioAuthFailed,
    TwilioUnavailable,
    compare,
    e164,
    hotline_settings,
)
from ivr.platform.db import Database
from ivr.platform.hosts import is_loopback
from ivr.platform.migrate import alembic_config
from ivr.services import key_unwrapper, key_wrapper, kms_client, object_store, twilio_api
from ivr.telephony import static_fallback
from ivr.telephony.spool import Spool


class Verdict(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" -> fix: {self.fix}" if self.fix else ""
        return f"{self.verdict.value:<4}  {self.name:<10}  {self.detail}{fix}"


def ok(name: str, detail: str) -> Check:
    return Check(name, Verdict.OK, detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Verdict.FAIL, detail, fix)


def diagnose(config: Config, *, web: bool = True) -> Iterator[Check]:
    """Run every check that applies to ``config``'s tier, one at a time.

    ``web`` is False for a process that runs only the job worker: it keeps no spool.
    """
    yield ok("tier", _TIER_ROLES[config.tier])
    db = Database.from_url(config.database_url)
    try:
        yield _guarded("database", lambda: check_database(db))
        yield _guarded("keys", lambda: check_keys(config, db))
    finally:
        db.engine.dispose()
    yield _guarded("store", lambda: check_store(config))
    if config.serves_webhooks:
        yield _guarded("twilio", lambda: check_twilio(config))
        yield check_token_rotation(config)
        yield _guarded("number", lambda: check_number(config))
        if web:
            yield _guarded("spool", lambda: check_spool(config))
        yield _guarded("fallback", lambda: check_fallback(config))
    if config.serves_console:
        yield _guarded("mail", lambda: check_mail(config))
    yield check_public_url(config)


_TIER_ROLES = {
    Tier.EDGE: "edge: answers Twilio and ingests recordings; can encrypt, never decrypt",
    Tier.CONSOLE: "console: serves handlers; decrypts recordings",
    Tier.ALL: "all: the embedded default, both tiers in one process (not for production)",
}


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """Turn an unexpected failure of a check into a failed line rather than a traceback."""
    try:
        return check()
    except (ConfigError, KeyServiceError) as error:
        return fail(name, str(error), "see the message; `ivr doctor` again once changed")
    except Exception as error:
        return fail(name, f"{type(error).__name__}: {error}", "see the message")


def check_database(db: Database) -> Check:
    if not db.is_reachable():
        return fail(
            "database",
            "not reachable",
            "check IVR_DATABASE_URL (host, port, name), IVR_DATABASE_PASSWORD and the network",
        )
    head = ScriptDirectory.from_config(alembic_config(str(db.engine.url))).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        return fail(
            "database",
            f"reachable, but at revision {current or '(none)'} where the code expects {head}",
            "run `ivr db upgrade` (one process, before starting the new version)",
        )
    return ok("database", f"reachable and migrated to {head}")


def check_keys(config: Config, db: Database) -> Check:
    findings: list[str] = []
    if config.serves_webhooks:
        wrapper = key_wrapper(config)
        probe = object_context("doctorprobe", "doctor", "probe")
        data_key = wrapper.generate(probe)
        findings.append(f"seals for key {wrapper.fingerprint().hex()}")
        if config.key_service == "kms" and config.tier is Tier.EDGE:
            try:
                KmsKeyUnwrapper(kms_client(config)).unwrap(data_key.wrapped, probe)
            except KeyServiceError:
                findings.append("cannot decrypt, as it should not")
            else:
                return fail(
                    "keys",
                    "the edge can decrypt recording keys with KMS",
                    "remove kms:Decrypt on the recordings key from the edge's role",
                )
    if config.serves_console:
        unwrapper = key_unwrapper(config)
        wrapped = _some_wrapped_key(db)
        if wrapped is None:
            findings.append("can unwrap: not tried, no recording stored yet")
        else:
            unwrapper.unwrap(*wrapped)
            findings.append("unwraps a stored recording's key")
        if isinstance(unwrapper, LocalKeyUnwrapper):
            findings.append(f"holds the private key {unwrapper.fingerprint.hex()}")
            if unwrapper.retired:
                findings.append(f"and {len(unwrapper.retired)} retired by `ivr keys rotate`")
    return ok("keys", "; ".join(findings))


def _some_wrapped_key(db: Database) -> tuple[bytes, dict[str, str]] | None:
    from sqlalchemy import select

    from ivr.models.reports import AudioObject

    with db.reading() as session:
        row = session.execute(
            select(
                AudioObject.id,
                AudioObject.object_name,
                AudioObject.report_id,
                AudioObject.part,
            ).limit(1)
        ).first()
        if row is None:
            return None
        stored = day_keys.stored_key(session, row.id)
    context = object_context(row.object_name, row.report_id, row.part.value)
    return stored.wrapped(context), context


def check_store(config: Config) -> Check:
    store = object_store(config)
    probe = "doctorprobe" + new_object_name()
    where = config.storage_url
    if not config.serves_webhooks:
        # The console reads and deletes; it never writes. A missing object proves access.
        try:
            store.size(probe)
        except FileNotFoundError:
            return ok("store", f"{where} is reachable")
        except StoreUnavailable as error:
            return fail("store", f"{where}: {error}", "give the console's role s3:GetObject")
        return ok("store", f"{where} is reachable")
    payload = os.urandom(64)
    try:
        store.put(probe, [payload])
        read_back = b"".join(store.read(probe))
        store.delete(probe)
    except (StoreUnavailable, OSError) as error:
        return fail(
            "store",
            f"cannot write, read back and delete in {where}: {error}",
            "check IVR_STORAGE_URL, and that this tier's role has s3:PutObject, s3:GetObject "
            "and s3:DeleteObject on it (and kms:GenerateDataKey on IVR_S3_KMS_KEY_ID)",
        )
    if read_back != payload:
        return fail("store", f"{where} returned other bytes than were written", "check the store")
    return ok("store", f"{where} is writable, readable and deletable")


def check_spool(config: Config) -> Check:
    """The edge must be able to spool callbacks durably while the database is down."""
    spool = Spool(config.spool_dir)
    try:
        spool.probe()
    except OSError as error:
        return fail(
            "spool",
            f"cannot write and fsync a file in {config.spool_dir}: {error}",
            "set IVR_SPOOL_DIR to a writable folder on a disk that outlives the process "
            "(recordings wait there while the database is down)",
        )
    waiting = spool.waiting()
    if waiting:
        return ok("spool", f"{config.spool_dir}: {waiting} callback(s) wait for the database")
    return ok("spool", f"{config.spool_dir} is writable; nothing waits in it")


def check_twilio(config: Config) -> Check:
    api = twilio_api(config)
    try:
        status = api.account_status()
    except TwilioAuthFailed:
        return fail(
            "twilio",
            f"Twilio refused account {config.twilio_account_sid}",
            "set IVR_TWILIO_ACCOUNT_SID and IVR_TWILIO_AUTH_TOKEN to the account's own "
            "(Twilio console: Account info)",
        )
    except TwilioUnavailable as error:
        return fail("twilio", f"{config.twilio_api_url} unreachable: {error}", "check egress")
    if status != "active":
        return fail("twilio", f"the account is {status}", "reactivate it with Twilio")
    return ok("twilio", f"account {config.twilio_account_sid} is active")


def check_number(config: Config) -> Check:
    """How Twilio holds the hotline's number: what provision sets, nothing it must not."""
    if not config.twilio_number:
        return Check(
            "number",
            Verdict.SKIP,
            "IVR_TWILIO_NUMBER is not set",
            "set it to the hotline's number, or run `ivr twilio provision NUMBER --check`",
        )
    provision = f"`ivr twilio provision {config.twilio_number}`"
    try:
        found = twilio_api(config).incoming_number(e164(config.twilio_number))
    except (InvalidPhoneNumber, PhoneNumberNotFound) as error:
        return fail("number", str(error), "set IVR_TWILIO_NUMBER to a number the account holds")
    except TwilioUnavailable as error:
        return fail("number", f"Twilio did not answer: {error}", "see the twilio line")
    if found.trunk_sid:
        return fail(
            "number",
            f"{found.phone_number} is on SIP trunk {found.trunk_sid}: calls never reach the hotline",
            "remove it from the trunk (Elastic SIP Trunking, the trunk's Numbers)",
        )
    entry = static_fallback.entry_url(config.fallback_url) if config.fallback_url else ""
    wanted = hotline_settings(config.public_url, config.twilio_api_url, entry)
    drifted = [d.name for d in compare(found.settings, wanted) if d.changed]
    if drifted:
        return fail(
            "number", f"{found.phone_number}: {', '.join(drifted)} drifted", f"run {provision}"
        )
    return ok(
        "number",
        f"{found.phone_number} in line: caller-name lookup off, no trunk, texts answered",
    )


def check_token_rotation(config: Config, now: datetime | None = None) -> Check:
    """Say whether a previous Twilio token is still accepted, and when it can be dropped."""
    until = config.twilio_previous_token_until
    if not config.twilio_previous_auth_token or until is None:
        return ok("rotation", "webhooks are checked with the current Twilio token only")
    moment = until.strftime("%Y-%m-%d %H:%M UTC")
    if (now or datetime.now(UTC)) < until:
        return ok(
            "rotation",
            f"the previous Twilio token is accepted until {moment}; remove "
            "IVR_TWILIO_PREVIOUS_AUTH_TOKEN and IVR_TWILIO_PREVIOUS_TOKEN_UNTIL after that",
        )
    return fail(
        "rotation",
        f"the previous Twilio token has been refused since {moment}, yet is still set",
        "remove IVR_TWILIO_PREVIOUS_AUTH_TOKEN and IVR_TWILIO_PREVIOUS_TOKEN_UNTIL",
    )


def check_fallback(config: Config) -> Check:
    """Fetch the static fallback as Twilio would, and compare it with this build's set."""
    publish = "run `ivr twilio fallback publish`"
    if not config.fallback_url:
        detail = "no IVR_FALLBACK_URL: while the edge is down, callers hear Twilio's error"
        fix = f"{publish}, set IVR_FALLBACK_URL, then `ivr twilio provision`"
        if is_loopback(urlsplit(config.public_url).hostname or ""):
            return Check("fallback", Verdict.SKIP, detail, fix)  # a developer's machine
        return fail("fallback", detail, fix)
    wanted = static_fallback.documents()
    stale = []
    for name, body in wanted.items():
        url = f"{config.fallback_url}/{name}"
        try:
            served = fetch(url)
        except SiteUnavailable as error:
            return fail("fallback", f"not served: {error}", f"{publish}; check the bucket's policy")
        if served != body:
            stale.append(name)
    version = static_fallback.version(wanted)
    if stale:
        return fail(
            "fallback",
            f"{config.fallback_url} serves an older set ({', '.join(stale)} differ from "
            f"version {version})",
            publish,
        )
    return ok(
        "fallback", f"version {version} served at {static_fallback.entry_url(config.fallback_url)}"
    )


def check_mail(config: Config) -> Check:
    if not config.smtp_url:
        return ok("mail", f"no IVR_SMTP_URL: reports to forces are written to {config.outbox_dir}")
    try:
        mailer = SmtpMailer(SmtpSettings.from_url(config.smtp_url, config.smtp_ca_file), "")
        mailer.check()
    except MailSettingError as error:
        return fail("mail", str(error), "change IVR_SMTP_URL")
    except MailUnavailable as error:
        return fail(
            "mail",
            f"cannot reach, secure or sign in to the SMTP server: {error}",
            "check IVR_SMTP_URL's host, port and credentials, and IVR_SMTP_CA_FILE for a "
            "private CA",
        )
    return ok("mail", "the SMTP server takes a secured, signed-in connection")


def check_public_url(config: Config) -> Check:
    parts = urlsplit(config.public_url)
    if parts.query or parts.fragment:
        return fail("public url", config.public_url, "IVR_PUBLIC_URL takes no query or fragment")
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        return fail(
            "public url",
            f"{config.public_url} is not https",
            "serve behind TLS and set IVR_PUBLIC_URL to the https address"
            + (" Twilio calls" if config.serves_webhooks else " staff open"),
        )
    use = "Twilio's callbacks and signatures" if config.serves_webhooks else "console links"
    return ok("public url", f"{config.public_base} (for {use})")
