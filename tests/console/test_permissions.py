"""Each role can do exactly what its work needs: every role against every action."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ivr.models import Role
from ivr.permissions import PERMISSIONS, Action, can
from tests.console.conftest import post

# What each role may do, written out in full: the policy a reviewer signs off.
EXPECTED = {
    Role.HANDLER: {
        Action.VIEW_QUEUE,
        Action.CLAIM,
        Action.VIEW_REPORT,
        Action.PLAY_AUDIO,
        Action.EDIT_REPORT,
    },
    Role.SUPERVISOR: {
        Action.VIEW_QUEUE,
        Action.CLAIM,
        Action.VIEW_REPORT,
        Action.PLAY_AUDIO,
        Action.EDIT_REPORT,
        Action.RELEASE_CLAIM,
        Action.REVIEW,
        Action.DISSEMINATE,
        Action.VIEW_AUDIT,
        Action.PURGE,
    },
    Role.OPS: {Action.MANAGE_FLOWS},
    Role.ADMIN: {Action.VIEW_AUDIT, Action.MANAGE_USERS, Action.PURGE},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_the_permission_table_is_the_policy(role: Role, action: Action) -> None:
    assert can(role, action) == (action in EXPECTED[role])


def test_every_action_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(Action)


# (method, path, the action it needs); {ref} is a queued report's reference.
ENDPOINTS = [
    ("GET", "/console/reports/{ref}", Action.VIEW_REPORT),
    ("POST", "/console/take-next", Action.CLAIM),
    ("POST", "/console/reports/{ref}/save", Action.EDIT_REPORT),
    ("POST", "/console/reports/{ref}/review", Action.REVIEW),
    ("POST", "/console/reports/{ref}/disseminate", Action.DISSEMINATE),
    ("GET", "/console/audit", Action.VIEW_AUDIT),
    ("GET", "/console/users", Action.MANAGE_USERS),
    ("POST", "/console/users", Action.MANAGE_USERS),
    ("GET", "/console/flows/", Action.MANAGE_FLOWS),
    ("POST", "/console/flows/edit", Action.MANAGE_FLOWS),
]


@pytest.mark.parametrize("role", list(Role))
def test_each_endpoint_refuses_roles_without_its_permission(
    role: Role, as_role: object, queued_report: str
) -> None:
    client: FlaskClient = as_role(role)  # type: ignore[operator]
    if can(role, Action.CLAIM):  # a handler opens only what they hold (need to know)
        post(client, "/console/take-next")
    for method, path, action in ENDPOINTS:
        url = path.format(ref=queued_report)
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = post(
                client,
                url,
                {"name": f"x-{role.value}", "role": "ops", "method": "text"},
                page="/console/sign-in",
            ).status_code  # type: ignore[attr-defined]
        if can(role, action):
            assert status != 403, (role, method, path)
        else:
            assert status == 403, (role, method, path)


def test_nobody_signed_out_reaches_a_page(ingest_app: object, queued_report: str) -> None:
    client = ingest_app.test_client()  # type: ignore[attr-defined]
    for path in (
        "/console/",
        f"/console/reports/{queued_report}",
        "/console/audit",
        "/console/users",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]
