"""Spot what could identify the caller in a report's text, before it leaves the charity."""

from __future__ import annotations

import re
from dataclasses import dataclass

PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s().-]{0,2}\d){8,}(?![\w])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A caller naming themselves: "my name is Sam Jones", "I'm called Sam", "this is Sam Jones".
SELF_NAMED = re.compile(
    r"\b(?i:my name is|my name's|i am called|i'm called|this is|i am|i'm)\s+([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)"
)
NOT_NAMES = {
    "I",
    "The",
    "A",
    "An",
    "Police",
    "Constable",
    "Sergeant",
    "Officer",
    "Not",
    "Calling",
    "Phoning",
    "Worried",
    "Scared",
}

CHECKLIST = (
    "The report contains no name, number, address or email of the caller.",
    "Nothing is left that only the caller, or very few people, could know about themselves.",
    "Contact details the caller chose to leave are only in the separate contact field.",
)


@dataclass(frozen=True)
class CallerDetail:
    kind: str
    text: str


def caller_details_in(text: str) -> list[CallerDetail]:
    """Return what looks like the caller's own details in ``text``."""
    found = [CallerDetail("phone number", m.group(0)) for m in PHONE.finditer(text)]
    found += [CallerDetail("email address", m.group(0)) for m in EMAIL.finditer(text)]
    for match in SELF_NAMED.finditer(text):
        name = match.group(1)
        if name.split()[0] not in NOT_NAMES:
            found.append(CallerDetail("the caller's name", name))
    return found
