"""What each person may do to a report, asked of the workflow in one place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr.models.reports import Report, ReportStatus
from ivr.models.staff import Role, User
from ivr.platform.db import utcnow
from ivr.reports.workflow import ReportAction, allowed

HANDLER = User(id=1, name="hana", role=Role.HANDLER)
OTHER_HANDLER = User(id=2, name="hugo", role=Role.HANDLER)
SUPERVISOR = User(id=3, name="sam", role=Role.SUPERVISOR)
OPS = User(id=4, name="olu", role=Role.OPS)


def report(
    status: ReportStatus, held_by: User | None = None, written_by: User | None = None
) -> Report:
    return Report(
        status=status,
        claimed_by=held_by.id if held_by else None,
        claimed_through=utcnow().date() if held_by else None,
        submitted_by=written_by.id if written_by else None,
    )


@pytest.mark.parametrize(
    ("case", "user", "expected"),
    [
        (report(ReportStatus.QUEUED, HANDLER), HANDLER, {"edit", "release"}),
        (report(ReportStatus.QUEUED, HANDLER), OTHER_HANDLER, set()),
        (report(ReportStatus.QUEUED, HANDLER), SUPERVISOR, {"release", "reassign"}),
        (report(ReportStatus.QUEUED), HANDLER, set()),
        (report(ReportStatus.SUBMITTED, written_by=HANDLER), SUPERVISOR, {"review"}),
        (report(ReportStatus.SUBMITTED, written_by=SUPERVISOR), SUPERVISOR, set()),
        (report(ReportStatus.SUBMITTED, written_by=HANDLER), HANDLER, set()),
        (report(ReportStatus.APPROVED), SUPERVISOR, {"disseminate"}),
        (report(ReportStatus.APPROVED), HANDLER, set()),
        (report(ReportStatus.DISSEMINATED), OPS, set()),
    ],
)
def test_each_person_may_do_exactly_what_the_rules_allow(
    case: Report, user: User, expected: set[str]
) -> None:
    assert {action.value for action in allowed(case, user)} == expected


def test_a_lapsed_claim_allows_no_editing() -> None:
    lapsed = report(ReportStatus.QUEUED, HANDLER)
    lapsed.claimed_through = utcnow().date() - timedelta(days=1)
    assert ReportAction.EDIT not in allowed(lapsed, HANDLER)
