"""Anonymous follow-up: a reference and a PIN, the holder's question, the caller's answer.

A caller who reported anonymously may take a follow-up reference (12 digits, the last a
Damm check digit, random: it says nothing of when or in what order reports came) and
choose a 4-6 digit PIN. Only a digest of the reference (to find it) and an Argon2id
hash of the PIN are kept. Calling back, the caller keys both; if they are right the
caller hears the holder's question and records an answer, which joins the same report.

Brute force: every attempt runs exactly one Argon2 verification (against a dummy hash
when the reference is unknown), so a wrong reference and a wrong PIN cost the same and
sound the same. Five wrong PINs lock a reference through the next day (at least 24
hours), and each further one doubles the lock; there is also a global limit on failed
attempts per clock hour. The caller's number is never used: it never reaches us.
Nothing here logs or audits the digits keyed, or names the report on a caller's event,
and nothing it writes holds a time finer than the day: the edge has no audit key, so a
caller's events are queued by day for the console to seal (``ivr.staff.audit.record_phone``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, timedelta
from typing import assert_never

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.models.followup import (
    QUESTION_MAX_CHARS,
    FollowUp,
    FollowUpAnswer,
    FollowUpFailures,
    FollowUpQuestion,
    PhoneAction,
)
from ivr.models.reports import Report, ReportStatus
from ivr.models.staff import Role, User
from ivr.models.stats import StatEvent
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event
from ivr.reports import lifecycle, status
from ivr.reports.intake import report_id_for_call
from ivr.reports.sanitise import caller_details_in
from ivr.reports.workflow import holds
from ivr.staff import audit
from ivr.stats import counters

logger = logging.getLogger(__name__)

REFERENCE_DIGITS = 12  # 11 random digits and a check digit: read as three groups of four
PIN_DIGITS = (4, 6)
LOCK_AFTER = 5  # wrong PINs before a reference locks
HOURLY_FAILURE_LIMIT = 100  # failed attempts per clock hour, over every reference
# An answered report is held for its asker through the next day: an answer that came
# late in the day still waits for them in the morning.
ANSWER_HOLD = timedelta(days=1)

# The Damm algorithm's quasigroup: catches every single-digit error and every swap of
# two adjacent digits, the two mistakes people make keying a number.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class FollowUpError(ValueError):
    """A rule of the follow-up stopped the action: the message says which."""


def _damm(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return interim


def new_reference() -> str:
    """Return a fresh random reference: 11 random digits and their Damm check digit."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(REFERENCE_DIGITS - 1))
    return body + str(_damm(body))


def well_formed(reference: str) -> bool:
    """True if ``reference`` has the right length and its check digit holds."""
    return len(reference) == REFERENCE_DIGITS and reference.isdigit() and _damm(reference) == 0


def valid_pin(pin: str) -> bool:
    return pin.isdigit() and PIN_DIGITS[0] <= len(pin) <= PIN_DIGITS[1]


def _digest(reference: str) -> str:
    return hashlib.sha256(f"ivr-followup:{reference}".encode()).hexdigest()


_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters


def register(
    session: Session,
    report_id: str,
    reference: str,
    pin: str | None,
    hasher: PasswordHasher = _hasher,
) -> None:
    """Give the report ``reference`` (and, with a PIN, make it usable by phone)."""
    if not well_formed(reference) or (pin is not None and not valid_pin(pin)):
        raise FollowUpError("a reference is 12 digits with a check digit; a PIN 4 to 6 digits")
    row = session.get(FollowUp, report_id) or FollowUp(report_id=report_id)
    row.reference_digest = _digest(reference)
    row.pin_hash = hasher.hash(pin) if pin is not None else None
    row.failed_attempts = 0
    row.locked_through = None
    session.add(row)
    session.flush()


def mint_reference(session: Session, report: Report, pin: str | None = None) -> str:
    """Give ``report`` a new follow-up reference and return it (say it once; it is not kept).

    Without a PIN the reference cannot be used on the phone line until one is set.
    """
    for _ in range(5):  # a clash among 10^11 references is all but impossible
        reference = new_reference()
        taken = session.scalar(
            select(FollowUp.report_id).where(FollowUp.reference_digest == _digest(reference))
        )
        if taken is None:
            register(session, report.id, reference, pin)
            return reference
    raise FollowUpError("no free reference could be found")


class Verifier:
    """Checks references and PINs keyed on the phone, with the brute-force rules."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher = _hasher,
        hourly_limit: int = HOURLY_FAILURE_LIMIT,
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.hourly_limit = hourly_limit
        # Same parameters as a real PIN's hash, so checking it costs the same; no PIN
        # matches it.
        self._dummy = hasher.hash(secrets.token_hex(16))

    def verify(self, reference: str, pin: str) -> str | None:
        """Return the report id if ``reference`` and ``pin`` are right and allowed, else None.

        Every call runs exactly one Argon2 verification and writes the same kind of
        rows, whatever was wrong: an unknown reference, a wrong PIN, a locked reference,
        or the hourly limit reached.
        """
        now = utcnow()
        today, hour = now.date(), now.replace(minute=0, second=0, microsecond=0)
        with self.db.transaction() as session:
            row = session.scalar(
                select(FollowUp).where(FollowUp.reference_digest == _digest(reference))
            )
            target = row.pin_hash if row is not None and well_formed(reference) else None
            matched = self._check(target or self._dummy, pin)
            right = matched and target is not None and valid_pin(pin)
            failures = session.get(FollowUpFailures, hour)
            limited = failures is not None and failures.failures >= self.hourly_limit
            locked = (
                row is not None and row.locked_through is not None and row.locked_through >= today
            )
            if right and row is not None and not locked and not limited:
                row.failed_attempts = 0
                audit.record_phone(session, PhoneAction.VERIFIED)
                event(logger, "followup.verified")
                return row.report_id
            if failures is None:
                # A new hour: the counts of hours before it no longer limit anything.
                session.execute(delete(FollowUpFailures).where(FollowUpFailures.hour < hour))
                failures = FollowUpFailures(hour=hour, failures=0)
                session.add(failures)
            failures.failures += 1
            if row is not None and not right:
                row.failed_attempts += 1
                if row.failed_attempts >= LOCK_AFTER:
                    # Refused through tomorrow at least: never less than 24 hours.
                    days = 2 ** min(row.failed_attempts - LOCK_AFTER, 12)
                    row.locked_through = today + timedelta(days=days)
            audit.record_phone(session, PhoneAction.REFUSED)
            event(logger, "followup.refused", logging.WARNING)
            return None

    def _check(self, hashed: str, pin: str) -> bool:
        try:
            return bool(self.hasher.verify(hashed, pin))
        except (VerificationError, InvalidHashError):
            return False


class CallDesk:
    """The follow-up side of one live call (see ``ivr.flows.engine.FollowUpDesk``)."""

    def __init__(self, verifier: Verifier, secret: bytes, call_sid: str) -> None:
        self._verifier = verifier
        self._secret = secret
        self._call_sid = call_sid

    def mint(self) -> str:
        return new_reference()

    def register(self, reference: str, pin: str) -> bool:
        """Keep the reference and PIN for this call's report; False if that cannot be done."""
        if not self._call_sid:
            return False
        report_id = report_id_for_call(self._secret, self._call_sid)
        try:
            with self._verifier.db.transaction() as session:
                if session.get(Report, report_id) is None:
                    return False  # the report is still in the spool: no reference now
                register(session, report_id, reference, pin, self._verifier.hasher)
                audit.record_phone(session, PhoneAction.REFERENCE_GIVEN)
        except (SQLAlchemyError, IntegrityError, FollowUpError) as error:
            event(logger, "followup.not_registered", logging.WARNING, error=type(error).__name__)
            return False
        event(logger, "followup.registered")
        return True

    def verify(self, reference: str, pin: str) -> str | None:
        return self._verifier.verify(reference, pin)

    def question(self, followup: str) -> tuple[str, str] | None:
        with self._verifier.db.reading() as session:
            question = open_question(session, followup)
            return (question.text, question.language) if question is not None else None


def open_question(session: Session, report_id: str) -> FollowUpQuestion | None:
    """The question awaiting the caller, if any."""
    return session.scalar(
        select(FollowUpQuestion)
        .where(FollowUpQuestion.report_id == report_id, FollowUpQuestion.answered_on.is_(None))
        .order_by(FollowUpQuestion.id.desc())
        .limit(1)
    )


def has_reference(session: Session, report_id: str) -> bool:
    row = session.get(FollowUp, report_id)
    return row is not None and row.pin_hash is not None


def may_ask(report: Report, user: User) -> bool:
    """The holder of the report, or a supervisor, may ask the caller a question."""
    if report.status is ReportStatus.CLOSED:
        return False
    return user.role is Role.SUPERVISOR or (user.role is Role.HANDLER and holds(report, user))


def clean_question(text: str) -> str:
    """Return the question as it will be spoken, or refuse it with the reason."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    cleaned = cleaned.replace("<", "").replace(">", "")
    if not cleaned:
        raise FollowUpError("write the question first")
    if len(cleaned) > QUESTION_MAX_CHARS:
        raise FollowUpError(
            f"a question is at most {QUESTION_MAX_CHARS} characters; this one is {len(cleaned)}"
        )
    found = caller_details_in(cleaned)
    if found:
        listed = "; ".join(f"{detail.kind}: {detail.text}" for detail in found)
        raise FollowUpError("whoever keys the reference hears this question: take out " + listed)
    return cleaned


def ask(session: Session, report: Report, user: User, text: str) -> FollowUpQuestion:
    """Put a question to the caller (replacing one not yet answered), audited."""
    if not may_ask(report, user):
        raise FollowUpError("only the report's holder or a supervisor may ask the caller")
    if not has_reference(session, report.id):
        raise FollowUpError("the caller took no follow-up reference: they cannot be asked")
    cleaned = clean_question(text)
    question = open_question(session, report.id)
    # Rewording a question not yet heard is not a second question.
    first_asked = question is None
    if question is None:
        question = FollowUpQuestion(report_id=report.id)
        session.add(question)
    question.text = cleaned
    question.language = report.language or "en-GB"
    question.asked_by = user.id
    question.asked_on = utcnow().date()
    report.last_active_on = utcnow().date()
    session.flush()
    if first_asked:
        counters.count_report(
            session, StatEvent.FOLLOW_UP_ASKED, report, question.asked_on, handlers_choices=True
        )
    audit.record(session, user.name, "followup_question", report.reference)
    return question


def end_followup(session: Session, report: Report, user: User) -> None:
    """A supervisor closes the case to the caller: the reference stops working."""
    if user.role is not Role.SUPERVISOR:
        raise FollowUpError("only a supervisor may end the follow-up")
    session.execute(delete(FollowUp).where(FollowUp.report_id == report.id))
    audit.record(session, user.name, "followup_ended", report.reference)


def forget(session: Session, report: Report) -> None:
    """Retention: the reference, the questions and the answers' links go with the text."""
    session.execute(delete(FollowUp).where(FollowUp.report_id == report.id))
    session.execute(delete(FollowUpAnswer).where(FollowUpAnswer.report_id == report.id))
    session.execute(delete(FollowUpQuestion).where(FollowUpQuestion.report_id == report.id))


def report_for_answer(session: Session, report_id: str) -> str | None:
    """The report an answer joins: None if its reference died meanwhile."""
    return report_id if session.get(FollowUp, report_id) is not None else None


def note_answer(session: Session, report_id: str, job_id: int) -> None:
    """Mark a recording job as the caller's answer (once), to the open question if any."""
    found = session.scalar(select(FollowUpAnswer).where(FollowUpAnswer.job_id == job_id))
    if found is None:
        question = open_question(session, report_id)
        session.add(
            FollowUpAnswer(
                report_id=report_id,
                job_id=job_id,
                question_id=question.id if question else None,
                stored=False,
            )
        )


def answer_stored(session: Session, job_id: int) -> bool:
    """The answer's audio is stored: flag the report answered, back with its holder.

    Returns False if the job is no answer (the caller's report takes its usual path).
    """
    answer = session.scalar(select(FollowUpAnswer).where(FollowUpAnswer.job_id == job_id))
    if answer is None:
        return False
    report = session.get(Report, answer.report_id)
    assert report is not None
    answer.stored = True
    today = utcnow().date()
    question = session.get(FollowUpQuestion, answer.question_id) if answer.question_id else None
    if question is not None and question.answered_on is None:
        question.answered_on = today
        # Here, on the edge: by the caller's own choices, which is all its login may read.
        counters.count_report(
            session, StatEvent.FOLLOW_UP_ANSWERED, report, today, handlers_choices=False
        )
    match report.status:
        case ReportStatus.AWAITING_AUDIO | ReportStatus.AUDIO_FAILED:
            lifecycle.queue_when_complete(session, report.id)
        case ReportStatus.SUBMITTED | ReportStatus.APPROVED | ReportStatus.DISSEMINATED:
            status.move(session, report, ReportStatus.QUEUED, actor=None)  # new material
            _back_to_holder(report, question, today)
        case ReportStatus.QUEUED | ReportStatus.RETURNED:
            _back_to_holder(report, question, today)
        case ReportStatus.CLOSED:
            pass  # its retention ran out meanwhile: it is not worked again
        case _:
            assert_never(report.status)
    audit.record_phone(session, PhoneAction.ANSWERED)
    event(logger, "followup.answered")
    return True


def _back_to_holder(report: Report, question: FollowUpQuestion | None, today: date) -> None:
    holder = question.asked_by if question is not None else report.claimed_by
    if holder is not None:  # whoever asked the question, or else holds the report
        report.claimed_by, report.claimed_through = holder, today + ANSWER_HOLD
    report.last_active_on = today


def answers_of(session: Session, report_id: str) -> list[FollowUpAnswer]:
    query = select(FollowUpAnswer).where(FollowUpAnswer.report_id == report_id)
    return list(session.scalars(query.order_by(FollowUpAnswer.id)))


def questions_of(session: Session, report_id: str) -> list[FollowUpQuestion]:
    query = select(FollowUpQuestion).where(FollowUpQuestion.report_id == report_id)
    return list(session.scalars(query.order_by(FollowUpQuestion.id)))


def failures_this_hour(session: Session) -> int:
    """Failed follow-up attempts in the current clock hour, over every reference."""
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    return int(
        session.scalar(
            select(func.coalesce(func.sum(FollowUpFailures.failures), 0)).where(
                FollowUpFailures.hour == hour
            )
        )
        or 0
    )
