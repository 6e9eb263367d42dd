"""Each role can do exactly what its work needs: every role against every guarded route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ivr.console import signed_in
from ivr.models.reports import AudioObject, RecordingPart, Report
from ivr.models.staff import Role, User
from ivr.platform.db import Database
from ivr.staff.permissions import PERMISSIONS, Action, can
from tests.console.conftest import AsRole, Staff, csrf_token

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
        Action.MANAGE_FORCES,
        Action.VIEW_STATISTICS,
    },
    Role.OPS: {Action.MANAGE_FLOWS},
    Role.ADMIN: {Action.VIEW_AUDIT, Action.MANAGE_USERS, Action.PURGE},
    # The service's managers read its figures and nothing else: no report, no name.
    Role.MANAGER: {Action.VIEW_STATISTICS},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_the_permission_table_is_the_policy(role: Role, action: Action) -> None:
    assert can(role, action) == (action in EXPECTED[role])


def test_every_action_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(Action)


@dataclass(frozen=True)
class Route:
    """One guarded route, and what it answers each role."""

    method: str
    rule: str  # as the app's url_map spells it
    action: Action | None  # what @signed_in asks for; None: any signed-in user
    allowed: int | dict[Role, int]  # the status a permitted role gets (every other: 403)
    url: str = ""  # the URL requested, if not the rule: {ref}, {audio}, {user} filled in
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None

    def path(self, **ids: object) -> str:
        default = self.rule.replace("<reference>", "{ref}").replace("<audio_id>", "{audio}")
        return (self.url or default).format(**ids)

    def expected(self, role: Role) -> int:
        if self.action is not None and not can(role, self.action):
            return 403
        return self.allowed if isinstance(self.allowed, int) else self.allowed[role]


REPORT = "/console/reports/<reference>"
FLOWS = "/console/flows"

# Every guarded route, in the order one signed-in user meets them: a permitted handler
# takes the report first (they open only what they hold), and signing out comes last.
# Each request is well formed; where the answer is a refusal the comment says so.
ROUTES = [
    Route(
        "GET",
        "/console/",
        None,
        # admins, ops and managers have no queue: they are sent to their own pages
        {
            Role.HANDLER: 200,
            Role.SUPERVISOR: 200,
            Role.ADMIN: 302,
            Role.OPS: 302,
            Role.MANAGER: 302,
        },
    ),
    Route("POST", "/console/take-next", Action.CLAIM, 303),
    # the report the user holds already: taking it again keeps it
    Route("POST", f"{REPORT}/take", Action.CLAIM, 303),
    Route("GET", "/console/queue/live", Action.VIEW_QUEUE, 200),
    Route("GET", "/console/find", Action.VIEW_QUEUE, 303, url="/console/find?reference={ref}"),
    Route("GET", REPORT, Action.VIEW_REPORT, 200),
    Route("GET", f"{REPORT}/audio/<audio_id>", Action.PLAY_AUDIO, 200),
    Route("POST", f"{REPORT}/save", Action.EDIT_REPORT, 303, form={"people": "A constable"}),
    # the report is not written yet: refused by the workflow, and sent back to the report
    Route("POST", f"{REPORT}/submit", Action.EDIT_REPORT, 303),
    # not submitted yet: refused by the workflow, and sent back to the report
    Route("POST", f"{REPORT}/review", Action.REVIEW, 303, form={"decision": "approve"}),
    # not approved yet: refused by the workflow, and sent back to the report
    Route("POST", f"{REPORT}/disseminate", Action.DISSEMINATE, 303, form={"method": "text"}),
    Route("POST", f"{REPORT}/comment", Action.VIEW_REPORT, 303, form={"text": "Looks fine"}),
    # asked while the user holds it (the supervisor asks of any report); then ended
    Route(
        "POST",
        f"{REPORT}/followup/question",
        Action.EDIT_REPORT,
        303,
        form={"question": "Which station was it?"},
    ),
    Route("POST", f"{REPORT}/followup/end", Action.REVIEW, 303),
    # no such attachment (a call has none): 404 once the guard has let the user through
    Route(
        "GET",
        f"{REPORT}/attachments/<item_id>",
        Action.PLAY_AUDIO,
        404,
        url=REPORT.replace("<reference>", "{ref}") + "/attachments/no-such-item",
    ),
    Route("POST", f"{REPORT}/release", Action.CLAIM, 303),
    Route("GET", "/console/forces", Action.MANAGE_FORCES, 200),
    Route(
        "POST",
        "/console/forces",
        Action.MANAGE_FORCES,
        303,
        form={"force": "West Yorkshire Police", "address": "ccu@wyp.police.example"},
    ),
    Route("GET", "/console/audit", Action.VIEW_AUDIT, 200),
    Route("GET", "/console/statistics", Action.VIEW_STATISTICS, 200),
    Route("GET", "/console/statistics.csv", Action.VIEW_STATISTICS, 200),
    Route("GET", "/console/users", Action.MANAGE_USERS, 200),
    Route("POST", "/console/users", Action.MANAGE_USERS, 303, form={"name": "x", "role": "ops"}),
    Route(
        "POST",
        "/console/users/<int:user_id>/<change>",
        Action.MANAGE_USERS,
        303,
        url="/console/users/{user}/sign-out",
    ),
    Route(
        "POST",
        "/console/users/<int:user_id>/languages",
        Action.MANAGE_USERS,
        303,
        url="/console/users/{user}/languages",
        form={"language": "en-GB"},
    ),
    Route("GET", f"{FLOWS}/", Action.MANAGE_FLOWS, 200),
    Route("GET", f"{FLOWS}/edit", Action.MANAGE_FLOWS, 200),
    # a deliberately empty flow: not a flow, so the editor shows the problems
    Route("POST", f"{FLOWS}/edit", Action.MANAGE_FLOWS, 400, form={"content": ""}),
    Route("GET", f"{FLOWS}/v/<int:number>", Action.MANAGE_FLOWS, 200, url=f"{FLOWS}/v/1"),
    Route(
        "GET",
        f"{FLOWS}/v/<int:number>/diagram.svg",
        Action.MANAGE_FLOWS,
        200,
        url=f"{FLOWS}/v/1/diagram.svg",
    ),
    Route(
        "POST",
        f"{FLOWS}/v/<int:number>/publish",
        Action.MANAGE_FLOWS,
        303,
        url=f"{FLOWS}/v/1/publish",
        form={"message": "publish again"},
    ),
    Route("GET", f"{FLOWS}/diff", Action.MANAGE_FLOWS, 200, url=f"{FLOWS}/diff?from=1&to=1"),
    Route(
        "POST",
        f"{FLOWS}/v/<int:number>/phone",
        Action.MANAGE_FLOWS,
        200,
        url=f"{FLOWS}/v/1/phone",
        json={},
    ),
    # no file chosen: refused, and sent back to the overview
    Route("POST", f"{FLOWS}/prompts", Action.MANAGE_FLOWS, 303),
    Route("POST", f"{FLOWS}/announcement", Action.MANAGE_FLOWS, 303, form={"active": "off"}),
    # no such recording: 404 once the guard has let the user through
    Route(
        "GET",
        f"{FLOWS}/prompts/<prompt_id>/audio",
        Action.MANAGE_FLOWS,
        404,
        url=f"{FLOWS}/prompts/no-such-prompt/audio",
    ),
    # nothing chosen to remove: refused, back to the overview; nothing drafted to publish: 400
    Route("POST", f"{FLOWS}/prompts/remove", Action.MANAGE_FLOWS, 303),
    Route("POST", f"{FLOWS}/prompts/publish", Action.MANAGE_FLOWS, 400, form={"message": "x"}),
    Route("POST", "/console/keep-alive", None, 200),  # "Stay signed in" on the report page
    Route("POST", "/console/sign-out", None, 302),
]

# The wrapper @signed_in puts round a view shares this code: how a guarded view is known.
GUARD = signed_in()(lambda: None).__code__


def guards(view: Callable[..., Any]) -> tuple[Action | None, ...]:
    """What each @signed_in round ``view`` asks for (None: any signed-in user)."""
    found: list[Action | None] = []
    layer: Any = view
    while layer is not None:
        if getattr(layer, "__code__", None) is GUARD:
            cells = zip(layer.__code__.co_freevars, layer.__closure__, strict=True)
            found.append({name: cell.cell_contents for name, cell in cells}["action"])
        layer = getattr(layer, "__wrapped__", None)
    return tuple(found)


def guarded_routes(app: Flask) -> dict[tuple[str, str], tuple[Action | None, ...]]:
    """(method, rule) -> its guards, for every route of the app behind @signed_in."""
    found = {}
    for rule in app.url_map.iter_rules():
        if asked := guards(app.view_functions[rule.endpoint]):
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                found[method, rule.rule] = asked
    return found


def test_every_guarded_route_has_a_row_with_its_action(app: Flask) -> None:
    guarded = guarded_routes(app)
    assert len(guarded) >= 20  # the enumeration found the console (and not nothing)
    rows = {(route.method, route.rule): (route.action,) for route in ROUTES}
    assert len(rows) == len(ROUTES), "a route has two rows"
    assert rows == guarded
    for route in ROUTES:
        if isinstance(route.allowed, dict):
            permitted = {r for r in Role if route.action is None or can(r, route.action)}
            assert set(route.allowed) == permitted, route


def request(client: FlaskClient, route: Route, url: str, token: str) -> TestResponse:
    if route.method == "GET":
        return client.get(url)
    if route.json is not None:
        return client.post(url, json=route.json, headers={"X-CSRFToken": token})
    return client.post(url, data={"csrf_token": token, **route.form})


@pytest.fixture
def ids(db: Database, staff: dict[Role, Staff], queued_report: str) -> dict[str, object]:
    """What the routes' URLs are filled in with: the queued report, its audio, a user."""
    with db.transaction() as session:
        audio = session.scalars(
            select(AudioObject.id)
            .join(Report, AudioObject.report_id == Report.id)
            .where(Report.reference == queued_report, AudioObject.part == RecordingPart.REPORT)
        ).one()
        user = session.scalars(select(User.id).where(User.name == staff[Role.HANDLER].name)).one()
    return {"ref": queued_report, "audio": audio, "user": user}


@pytest.mark.parametrize("role", list(Role))
def test_each_route_answers_each_role_exactly(
    role: Role, as_role: AsRole, ingest_app: Flask, ids: dict[str, object]
) -> None:
    client = as_role(role)
    token = csrf_token(client, "/console/sign-in")  # one per session, good for every form
    urls = ingest_app.url_map.bind("localhost")
    answers = {}
    for route in ROUTES:
        url = route.path(**ids)
        matched, _ = urls.match(url.split("?")[0], method=route.method, return_rule=True)
        assert matched.rule == route.rule, url  # the row requests its own route
        response = request(client, route, url, token)
        if response.status_code in (302, 303) and route.rule != "/console/sign-out":
            # a refused form (CSRF) or a lost session lands on sign-in: not an answer
            assert "/console/sign-in" not in response.headers["Location"], url
        answers[route.method, route.rule] = response.status_code
    assert answers == {(r.method, r.rule): r.expected(role) for r in ROUTES}


def test_nobody_signed_out_reaches_a_page(ingest_app: Flask, queued_report: str) -> None:
    client = ingest_app.test_client()
    for path in (
        "/console/",
        f"/console/reports/{queued_report}",
        "/console/audit",
        "/console/users",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]


def test_every_guarded_route_sends_the_signed_out_to_sign_in(
    ingest_app: Flask, ids: dict[str, object]
) -> None:
    client = ingest_app.test_client()
    token = csrf_token(client, "/console/sign-in")
    for route in ROUTES:
        response = request(client, route, route.path(**ids), token)
        assert response.status_code == 302, route
        assert "/console/sign-in" in response.headers["Location"], route
