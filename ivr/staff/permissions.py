"""Who may do what in the console: one table, checked in one place."""

from __future__ import annotations

import enum

from ivr.models.staff import Role


class Action(enum.StrEnum):
    VIEW_QUEUE = "view_queue"
    CLAIM = "claim"
    VIEW_REPORT = "view_report"
    PLAY_AUDIO = "play_audio"
    EDIT_REPORT = "edit_report"
    RELEASE_CLAIM = "release_claim"  # release or reassign someone else's claim
    REVIEW = "review"
    DISSEMINATE = "disseminate"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    PURGE = "purge"
    MANAGE_FLOWS = "manage_flows"  # edit, try, publish and roll back call flows
    MANAGE_FORCES = "manage_forces"  # the forces' Counter Corruption Unit addresses
    VIEW_STATISTICS = "view_statistics"  # the service's figures, and their publication


HANDLERS = {Role.HANDLER, Role.SUPERVISOR}
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_QUEUE: frozenset(HANDLERS),
    Action.CLAIM: frozenset(HANDLERS),
    Action.VIEW_REPORT: frozenset(HANDLERS),
    Action.PLAY_AUDIO: frozenset(HANDLERS),
    Action.EDIT_REPORT: frozenset(HANDLERS),
    Action.RELEASE_CLAIM: frozenset({Role.SUPERVISOR}),
    Action.REVIEW: frozenset({Role.SUPERVISOR}),
    Action.DISSEMINATE: frozenset({Role.SUPERVISOR}),
    Action.VIEW_AUDIT: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.PURGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.MANAGE_FLOWS: frozenset({Role.OPS}),
    # Supervisors disseminate, so they keep the addresses reports are sent to.
    Action.MANAGE_FORCES: frozenset({Role.SUPERVISOR}),
    # Figures only: a manager reads no report, and the figures name none.
    Action.VIEW_STATISTICS: frozenset({Role.SUPERVISOR, Role.MANAGER}),
}


def can(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]
