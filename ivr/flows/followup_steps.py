"""The follow-up steps of a flow: collect digits, say a reference, register, verify, question.

Collect steps wait like menus (in the engine); the others pass through, and reach the
world outside the flow (new references, the database, the caller's question) only through
a :class:`FollowUpDesk`. The default desk practises: it keeps nothing and accepts any
reference and PIN, so the ops console's test phone can walk a follow-up without touching
a caller's data.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol, TypeVar, assert_never

from ivr.flows.schema import Prompt, QuestionStep, ReferenceStep, RegisterStep, VerifyStep

U = TypeVar("U")


class FollowUpDesk(Protocol):
    """What the follow-up steps need from outside the flow."""

    def mint(self) -> str:
        """Return a new reference (not kept until registered)."""

    def register(self, reference: str, pin: str) -> bool:
        """Keep ``reference`` with ``pin`` for the call's report; False if it cannot."""

    def verify(self, reference: str, pin: str) -> str | None:
        """Return an opaque follow-up token if both are right, else None."""

    def question(self, followup: str) -> tuple[str, str] | None:
        """Return (text, language) of the question awaiting the caller, if any."""


class PracticeDesk:
    """Keeps nothing and reads nothing: any reference and PIN pass, no question waits."""

    def mint(self) -> str:
        return "".join(str(secrets.randbelow(10)) for _ in range(12))

    def register(self, reference: str, pin: str) -> bool:
        return True

    def verify(self, reference: str, pin: str) -> str | None:
        return "practice"

    def question(self, followup: str) -> tuple[str, str] | None:
        return None


PRACTICE = PracticeDesk()


def reference_words(reference: str) -> str:
    """Write ``reference`` to be read slowly: digit by digit, in groups of four."""
    groups = [reference[index : index + 4] for index in range(0, len(reference), 4)]
    return " ".join(", ".join(group) + "." for group in groups)


def follow_up(
    variables: dict[str, str],
    step: ReferenceStep | RegisterStep | VerifyStep | QuestionStep,
    said: list[U],
    desk: FollowUpDesk,
    utter: Callable[[Prompt], list[U]],
    spoken: Callable[[str, str | None], U],
) -> str:
    """Carry out ``step`` on the call's ``variables``; return the name of the step after it."""
    match step:
        case ReferenceStep():
            # The same reference on every repeat: it travels (sealed) in the call's URLs.
            reference = variables.setdefault("reference", desk.mint())
            said += utter(step.prompt)
            said.append(spoken(reference_words(reference), None))
            return step.next
        case RegisterStep():
            pin, again = variables.pop("pin", ""), variables.pop("pin_again", "")
            if not pin or pin != again:
                return step.mismatch
            if desk.register(variables.get("reference", ""), pin):
                return step.next
            return step.otherwise
        case VerifyStep():
            found = desk.verify(variables.get("reference", ""), variables.get("pin", ""))
            # Nothing keyed outlives the check: a wrong reference and a wrong PIN leave
            # the same state, so the caller hears exactly the same thing.
            variables.clear()
            if found is None:
                return step.otherwise
            variables["followup"] = found
            return step.next
        case QuestionStep():
            followup = variables.get("followup")
            question = desk.question(followup) if followup else None
            if question is None:
                said += utter(step.none)
            else:
                said += utter(step.prompt)
                text, language = question
                said.append(spoken(text, language))
            return step.next
        case _:
            assert_never(step)
