"""Staff accounts: enrolment links, Argon2id passwords, TOTP codes, lockout, sign-out.

Nothing here knows about callers. Secrets are compared in constant time, the enrolment
token and the password are kept only as hashes, and a sign-in that fails for any reason
says the same thing and costs the same work (one Argon2 check, one TOTP check), so the
form cannot be used to find out who has an account or whose account is locked.

Failures lock an account against *new* browsers only: a browser the user has signed in
from before carries a signed device cookie, and keeps working, so a stranger guessing at
a name cannot lock its owner out (OWASP's "device cookies").
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import assert_never

import pyotp
import qrcode
import qrcode.image.svg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models.staff import Role, User
from ivr.platform.db import utcnow
from ivr.staff import audit

ISSUER = "Hotline console"
MIN_PASSWORD = 12
ENROLMENT_VALID = timedelta(hours=72)
# Argon2id at the library's parameters (RFC 9106's second recommended option: 64 MiB,
# 3 passes, 4 lanes), above OWASP's minimum (19 MiB, 2 passes, 1 lane): kept, not
# weakened: the hash is checked outside any database lock (``check_password``), so
# nobody else waits on it. benchmarks/sign_in.py measures sign-in with them.
HASHER = PasswordHasher()
_hasher = HASHER
# Checked when there is no real hash to check, so that every refusal costs the same.
_STAND_IN_HASH = _hasher.hash(secrets.token_urlsafe(16))
_STAND_IN_TOTP = pyotp.random_base32()


class AccountError(ValueError):
    """A clear, safe message for the person at the form."""


@dataclass(frozen=True)
class Enrolment:
    user_id: int
    name: str
    token: str  # shown once, in the link; only its hash is stored


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Who acts when no person signed in does: a command, or the retention timer.
COMMAND_LINE = "(command line)"


def add_user(
    session: Session, name: str, role: Role, actor: str, link_key: bytes | None = None
) -> Enrolment:
    """Create an account that can only be used after enrolling through its link.

    With ``link_key`` the link can be shown again while it is valid (``enrolment_link``).
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("a name of 1 to 100 characters is needed")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AccountError(f"there is already a user called {name!r}")
    user = User(name=name, role=role, failed_sign_ins=0, session_epoch=0, active=True)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_add", detail=f"user {user.id} as {role.value}")
    return _enrolment(user, link_key)


def new_enrolment(
    session: Session, user: User, actor: str, link_key: bytes | None = None
) -> Enrolment:
    """Issue a fresh one-time enrolment link (also to reset a lost phone or password).

    The link issued before, if any, stops working.
    """
    audit.record(session, actor, "user_re_enrol", detail=f"user {user.id}")
    return _enrolment(user, link_key)


def _enrolment(user: User, link_key: bytes | None) -> Enrolment:
    user.totp_secret = pyotp.random_base32()
    token = _link_token(user, link_key) if link_key else secrets.token_urlsafe(24)
    user.enrolment_token_hash = _token_hash(token)
    user.enrolment_expires = utcnow() + ENROLMENT_VALID
    user.password_hash = None
    user.totp_last_step = None
    user.session_epoch += 1
    return Enrolment(user.id, user.name, token)


def _link_token(user: User, link_key: bytes) -> str:
    """Derive the link from the server's key and this enrolment's fresh TOTP secret.

    The database keeps only the token's hash, as for a random one; the token can be made
    again only with the key, and a new enrolment (a new secret) makes a new one.
    """
    message = f"enrolment:{user.id}:{user.totp_secret}".encode()
    digest = hmac.new(link_key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def enrolment_link(user: User, link_key: bytes) -> Enrolment | None:
    """The user's enrolment link again, if it is still valid and was made with ``link_key``."""
    if not user.active or not user.totp_secret or user.enrolment_token_hash is None:
        return None
    if user.enrolment_expires is None or user.enrolment_expires < utcnow():
        return None
    token = _link_token(user, link_key)
    if not constant_time_equal(_token_hash(token), user.enrolment_token_hash):
        return None  # a random link (from the command line): only its hash was kept
    return Enrolment(user.id, user.name, token)


def user_for_enrolment(session: Session, token: str) -> User:
    user = session.scalars(
        select(User).where(User.enrolment_token_hash == _token_hash(token))
    ).first()
    if (
        user is None
        or not user.active
        or user.enrolment_expires is None
        or user.enrolment_expires < utcnow()
    ):
        raise AccountError(
            "this enrolment link is not valid (it may have been used or expired); ask an admin for a new one"
        )
    return user


def provisioning_qr_svg(user: User) -> str:
    """The authenticator QR code as an SVG document (shown as an image: no script)."""
    assert user.totp_secret is not None
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.name, issuer_name=ISSUER)
    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue().decode()


def complete_enrolment(
    session: Session, token: str, password: str, confirm: str, code: str
) -> User:
    user = user_for_enrolment(session, token)
    if password != confirm:
        raise AccountError("the two passwords differ")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"choose a password of at least {MIN_PASSWORD} characters")
    if not _accept_code(user, code):
        raise AccountError(
            "that code does not match: check the authenticator app and the phone's clock"
        )
    user.password_hash = _hasher.hash(password)
    user.enrolment_token_hash = None
    user.enrolment_expires = None
    user.failed_sign_ins = 0
    user.locked_until = None
    audit.record(session, user.name, "enrol")
    return user


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    USED = "used"  # a right code, but one already used (or older than the last used)
    WRONG = "wrong"


def _accept_code(user: User, code: str) -> bool:
    return _use_code(user, code) is CodeCheck.ACCEPTED


def _use_code(user: User, code: str) -> CodeCheck:
    """Accept a code once: from this step or one either side (a phone clock a little out).

    A code already used, or any code from before it, is refused, so one seen over a
    shoulder or in a proxy log cannot be replayed (RFC 6238, section 5.2).
    """
    if not user.totp_secret:
        return CodeCheck.WRONG
    totp = pyotp.TOTP(user.totp_secret)
    given = code.strip().replace(" ", "")
    now = totp.timecode(datetime.now(UTC))
    # All three codes are made and compared, whichever matches: the same work every time.
    matches = [
        step
        for step in (now - 1, now, now + 1)
        if constant_time_equal(totp.generate_otp(step), given)
    ]
    fresh = [step for step in matches if step > (user.totp_last_step or -1)]
    if fresh:
        user.totp_last_step = fresh[0]
        return CodeCheck.ACCEPTED
    return CodeCheck.USED if matches else CodeCheck.WRONG


SIGN_IN_REFUSED = "the name, password or code is not right, or the account is locked"
CODE_USED = (
    "that code has been used already (each code works once, for example the one you "
    "enrolled with): wait for the app to show the next code, then sign in with it"
)


@dataclass(frozen=True)
class PasswordCheck:
    """A password checked against the hash an account had when it was read.

    Made outside any transaction (``check_password``): the Argon2 work, a fifth of a
    second and more under load, then holds no lock. On SQLite a transaction is the
    database's one write lock, so a hash inside it made every other sign-in, autosave
    and take wait behind it (on PostgreSQL, it held the account's row lock).
    """

    name: str
    password_hash: str | None  # the hash checked: a re-enrolment since makes it stale
    matches: bool
    new_hash: str | None = None  # the password hashed again, if its parameters are old


def check_password(session: Session, name: str, password: str) -> PasswordCheck:
    """Check ``password`` for the account ``name`` (one Argon2 check whatever the name)."""
    stored = session.scalar(
        select(User.password_hash).where(User.name == name.strip(), User.active.is_(True))
    )
    matches = _password_matches(stored, password)
    old = matches and stored is not None and _hasher.check_needs_rehash(stored)
    rehashed = _hasher.hash(password) if old else None
    return PasswordCheck(name.strip(), stored, matches, rehashed)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: the user, or why not (the message to show)."""

    user: User | None
    refusal: str = ""


def sign_in(
    session: Session,
    name: str,
    password: str,
    code: str,
    attempts: int,
    lockout: timedelta,
    trusted_for: int | None = None,
) -> User | None:
    """Check name, password and code; return the user, or None when refused."""
    return check_sign_in(session, name, password, code, attempts, lockout, trusted_for).user


def check_sign_in(
    session: Session,
    name: str,
    password: str,
    code: str,
    attempts: int,
    lockout: timedelta,
    trusted_for: int | None = None,
    checked: PasswordCheck | None = None,
) -> SignIn:
    """Check name, password and code; lock the account to new browsers after failures.

    ``trusted_for`` is the user id of the browser's device cookie, if it has a valid one:
    that user's own browser is not held by a lock that strangers' guesses caused.
    It does not raise, so that the caller's transaction commits the failure count (a
    rolled-back count would never lock anyone out). Every refusal says the same, except
    the right password with a code already used: that is no guess, so it is explained and
    not counted (most often the code just used to enrol; RFC 6238 section 5.2).

    ``checked``, the password already checked outside the transaction, spares the
    transaction the hash; without it the password is checked here.
    """
    user = session.scalars(select(User).where(User.name == name.strip()).with_for_update()).first()
    if checked is None or checked.name != name.strip():
        checked = check_password(session, name, password)
    outcome = _check(user, checked, code, attempts, lockout, trusted_for)
    # Only a real user's name is recorded: what a stranger typed is free text.
    audit.record(
        session,
        user.name if user else "(unknown name)",
        "sign_in" if outcome is CodeCheck.ACCEPTED else "sign_in_failed",
        detail="code already used" if outcome is CodeCheck.USED else "",
    )
    match outcome:
        case CodeCheck.ACCEPTED:
            return SignIn(user)
        case CodeCheck.USED:
            return SignIn(None, CODE_USED)
        case CodeCheck.WRONG:
            return SignIn(None, SIGN_IN_REFUSED)
        case _:
            assert_never(outcome)


def is_trusted_browser(session: Session, name: str, trusted_for: int | None) -> bool:
    """True if the browser's device cookie (``trusted_for``) is that of the account ``name``."""
    if trusted_for is None:
        return False
    user = session.get(User, trusted_for)
    return user is not None and user.name == name.strip()


def _check(
    user: User | None,
    checked: PasswordCheck,
    code: str,
    attempts: int,
    lockout: timedelta,
    trusted_for: int | None,
) -> CodeCheck:
    # The same work on every path: one Argon2 check (in ``checked``) and one TOTP check.
    if user is None or not user.active or not user.password_hash:
        _spend_a_code_check(code)
        return CodeCheck.WRONG
    now = utcnow()
    trusted = trusted_for == user.id
    locked = user.locked_until is not None and user.locked_until > now and not trusted
    # A password checked against a hash the account no longer has (re-enrolled since) fails.
    password_ok = checked.matches and constant_time_equal(
        checked.password_hash or "", user.password_hash
    )
    if locked:  # refused whatever was given; the code is checked but not used up
        _spend_a_code_check(code)
        return CodeCheck.WRONG
    outcome = _use_code(user, code) if password_ok else CodeCheck.WRONG
    if not password_ok:
        _spend_a_code_check(code)
    if outcome is CodeCheck.USED:
        return outcome
    if outcome is CodeCheck.WRONG:
        if not trusted:  # mistakes in the owner's own browser do not lock them out
            user.failed_sign_ins += 1
            if user.failed_sign_ins >= attempts:
                user.locked_until = now + lockout
                user.failed_sign_ins = 0
        return outcome
    user.failed_sign_ins = 0
    user.locked_until = None
    if checked.new_hash is not None:  # hashed again, outside the lock, at today's parameters
        user.password_hash = checked.new_hash
    return outcome


def _password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _STAND_IN_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _spend_a_code_check(code: str) -> bool:
    """Do the work of a TOTP check that cannot succeed."""
    totp = pyotp.TOTP(_STAND_IN_TOTP)
    now = totp.timecode(datetime.now(UTC))
    for step in (now - 1, now, now + 1):
        constant_time_equal(totp.generate_otp(step), code.strip())
    return False


def unlock(session: Session, user: User, actor: str) -> None:
    """Lift a lockout (an admin, after checking with the user)."""
    user.locked_until = None
    user.failed_sign_ins = 0
    audit.record(session, actor, "user_unlock", detail=f"user {user.id}")


def sign_out(session: Session, user: User) -> None:
    """End the user's session on the server (and their others): a copied cookie is dead."""
    user.session_epoch += 1
    audit.record(session, user.name, "sign_out")


def sign_out_everywhere(session: Session, user: User, actor: str) -> None:
    """End every session the user has (an admin's call): their cookies carry the old epoch."""
    user.session_epoch += 1
    audit.record(session, actor, "user_sign_out", detail=f"user {user.id}")


def set_active(session: Session, user: User, active: bool, actor: str) -> None:
    """Enable or disable an account; disabling ends its sessions."""
    user.active = active
    user.session_epoch += 1
    audit.record(
        session, actor, "user_enable" if active else "user_disable", detail=f"user {user.id}"
    )


def set_languages(
    session: Session, user: User, tags: list[str], known: Mapping[str, str], actor: str
) -> None:
    """Set the languages ``user`` takes reports in: at least one, each one ``known``."""
    if user.role not in (Role.HANDLER, Role.SUPERVISOR):
        raise AccountError(f"{user.name} does not take reports, so has no languages to set")
    chosen = [tag for tag in known if tag in tags]  # in the known order, without repeats
    if not chosen or len(chosen) != len(set(tags)):
        raise AccountError("choose at least one of the languages listed")
    user.languages = " ".join(chosen)
    audit.record(session, actor, "user_languages", detail=f"user {user.id}: {user.languages}")


def constant_time_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
