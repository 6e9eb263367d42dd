"""References, PINs and the brute-force rules of the anonymous follow-up."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from ivr.models.audit import AuditEvent
from ivr.models.followup import FollowUp, PhoneEvent
from ivr.models.reports import Report, ReportSource, ReportStatus
from ivr.platform.db import Database, utcnow
from ivr.reports import followup
from ivr.staff import audit
from tests.staff.test_audit import KEY

PIN = "4826"


class CountingHasher(PasswordHasher):
    """Argon2id with cheap parameters, counting every verification."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


def a_report(db: Database) -> str:
    report_id = str(uuid.uuid4())
    with db.transaction() as session:
        session.add(
            Report(
                id=report_id,
                received_on=date.today(),
                source=ReportSource.MENU,
                status=ReportStatus.QUEUED,
                language="en-GB",
            )
        )
    return report_id


def given(db: Database, hasher: PasswordHasher) -> tuple[str, str]:
    report_id = a_report(db)
    reference = followup.new_reference()
    with db.transaction() as session:
        followup.register(session, report_id, reference, PIN, hasher)
    return report_id, reference


def test_a_reference_is_random_twelve_digits_with_a_check_digit() -> None:
    references = {followup.new_reference() for _ in range(200)}
    assert len(references) == 200
    for reference in references:
        assert len(reference) == 12 and reference.isdigit()
        assert followup.well_formed(reference)
    reference = references.pop()
    # Any one digit mistyped, or two neighbours swapped, fails the check digit.
    for index in range(12):
        wrong = str((int(reference[index]) + 3) % 10)
        assert not followup.well_formed(reference[:index] + wrong + reference[index + 1 :])
    swapped = reference[1] + reference[0] + reference[2:]
    assert reference[0] == reference[1] or not followup.well_formed(swapped)


def test_only_a_digest_of_the_reference_and_an_argon2id_hash_of_the_pin_are_kept(
    db: Database,
) -> None:
    report_id, reference = given(db, CountingHasher())
    with db.reading() as session:
        row = session.get(FollowUp, report_id)
        assert row is not None and row.pin_hash is not None
        assert reference not in row.reference_digest
        assert row.pin_hash.startswith("$argon2id$") and PIN not in row.pin_hash


def test_the_right_reference_and_pin_find_the_report(db: Database) -> None:
    hasher = CountingHasher()
    report_id, reference = given(db, hasher)
    assert followup.Verifier(db, hasher).verify(reference, PIN) == report_id


def test_wrong_reference_and_wrong_pin_cost_one_verification_each(db: Database) -> None:
    hasher = CountingHasher()
    _, reference = given(db, hasher)
    verifier = followup.Verifier(db, hasher)
    for wrong_reference, pin in (
        (followup.new_reference(), PIN),  # unknown
        (reference, "0000"),  # wrong PIN
        ("12", PIN),  # malformed
        (reference, "12"),  # malformed PIN
    ):
        before = hasher.verifications
        assert verifier.verify(wrong_reference, pin) is None
        assert hasher.verifications == before + 1


def test_five_wrong_pins_lock_a_reference_for_a_day_and_more_double_it(db: Database) -> None:
    hasher = CountingHasher()
    report_id, reference = given(db, hasher)
    verifier = followup.Verifier(db, hasher)
    for _ in range(4):
        assert verifier.verify(reference, "1111") is None
    # Four wrong tries: the right PIN still works, and clears the count.
    assert verifier.verify(reference, PIN) == report_id
    for _ in range(5):
        assert verifier.verify(reference, "1111") is None
    today = utcnow().date()
    with db.reading() as session:
        row = session.get(FollowUp, report_id)
        assert row is not None and row.locked_through == today + timedelta(days=1)
    # Locked: even the right PIN is refused, exactly as a wrong one is.
    before = hasher.verifications
    assert verifier.verify(reference, PIN) is None
    assert hasher.verifications == before + 1
    for days in (2, 4, 8):
        verifier.verify(reference, "1111")
        with db.reading() as session:
            row = session.get(FollowUp, report_id)
            assert row is not None and row.locked_through == today + timedelta(days=days)


def test_a_lock_ends_after_its_days(db: Database) -> None:
    hasher = CountingHasher()
    report_id, reference = given(db, hasher)
    with db.transaction() as session:
        row = session.get(FollowUp, report_id)
        assert row is not None
        row.failed_attempts, row.locked_through = 5, utcnow().date() - timedelta(days=1)
    assert followup.Verifier(db, hasher).verify(reference, PIN) == report_id


def test_a_global_hourly_limit_refuses_even_the_right_details(db: Database) -> None:
    hasher = CountingHasher()
    _, reference = given(db, hasher)
    verifier = followup.Verifier(db, hasher, hourly_limit=3)
    for _ in range(3):
        assert verifier.verify(followup.new_reference(), PIN) is None
    with db.reading() as session:
        assert followup.failures_this_hour(session) == 3
    assert verifier.verify(reference, PIN) is None
    with db.reading() as session:
        assert followup.failures_this_hour(session) == 4


def test_attempts_are_audited_without_the_digits_or_the_report(db: Database) -> None:
    hasher = CountingHasher()
    _, reference = given(db, hasher)
    verifier = followup.Verifier(db, hasher)
    verifier.verify(reference, "9999")
    verifier.verify(reference, PIN)
    # The edge writes no audit event: it queues the day and the action, nothing else
    with db.reading() as session:
        assert session.scalars(select(AuditEvent)).all() == []
        queued = [(e.on, e.action.value) for e in session.scalars(select(PhoneEvent))]
    today = utcnow().date()
    assert sorted(queued) == [(today, "followup_refused"), (today, "followup_verified")]
    # and the console seals them once the day is over, at its midnight, naming no report
    assert audit.move_phone_events(db, KEY, today) == 0
    assert audit.move_phone_events(db, KEY, today + timedelta(days=1)) == 2
    with db.reading() as session:
        events = list(session.scalars(select(AuditEvent)))
        assert session.scalars(select(PhoneEvent)).all() == []
    assert sorted(e.action for e in events) == ["followup_refused", "followup_verified"]
    for item in events:
        assert item.at == datetime.combine(today, time(0), UTC) and item.actor == "phone"
        assert item.report_reference is None and item.detail == ""
    assert audit.seal(db, KEY) == 2 and audit.verify(db, KEY).ok


def test_mint_reference_gives_an_online_report_a_reference(db: Database) -> None:
    report_id = a_report(db)
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        reference = followup.mint_reference(session, report, "123456")
    assert followup.well_formed(reference)
    assert followup.Verifier(db).verify(reference, "123456") == report_id
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 1


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4"])
def test_a_pin_is_four_to_six_digits(db: Database, pin: str) -> None:
    report_id = a_report(db)
    with db.transaction() as session, pytest.raises(followup.FollowUpError):
        followup.register(session, report_id, followup.new_reference(), pin)


def test_failed_attempts_this_hour_are_in_the_metrics(db: Database) -> None:
    from prometheus_client import generate_latest

    from ivr.ops.metrics import registry_for

    hasher = CountingHasher()
    verifier = followup.Verifier(db, hasher)
    for _ in range(3):
        verifier.verify(followup.new_reference(), PIN)
    text = generate_latest(registry_for(db)).decode()
    assert "ivr_followup_failed_attempts_this_hour 3.0" in text


def test_a_reference_dies_with_its_reports_text_and_when_the_case_is_closed(
    db: Database, tmp_path: Path
) -> None:
    from ivr.outside.storage import LocalStore
    from ivr.reports.retention import purge

    hasher = CountingHasher()
    report_id, reference = given(db, hasher)
    with db.transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        report.last_active_on = date.today() - timedelta(days=400)
    purge(db, LocalStore(tmp_path / "store"), "purge", 30, 365)
    assert followup.Verifier(db, hasher).verify(reference, PIN) is None
    with db.reading() as session:
        assert session.get(FollowUp, report_id) is None
