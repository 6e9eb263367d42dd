"""Spot what could identify the caller in a report's text, before it leaves the charity.

Transcripts hold what people say, not what they type: "oh seven seven double oh, nine
hundred...", "jo dot bloggs at example dot com", "L S one four A B", in English or in
Welsh. Each check finds spans of the text: ``contacts`` (phone numbers through
``phonenumbers``, email addresses), ``places`` (postcodes, street addresses), ``names``
(the caller naming themselves). Each finding quotes the text exactly, so that the console
can highlight it. No finding crosses a line break: a report's fields are checked one by
one, and a line is where one field, or one thing said, ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ivr.reports.sanitise.contacts import emails, phones
from ivr.reports.sanitise.names import self_names
from ivr.reports.sanitise.places import addresses, postcodes

CHECKLIST = (
    "The report contains no name, number, address or email of the caller.",
    "Nothing is left that only the caller, or very few people, could know about themselves.",
    "Contact details the caller chose to leave are only in the separate contact field.",
)

PHONE, EMAIL, ADDRESS, POSTCODE, NAME = (
    "phone number",
    "email address",
    "address",
    "postcode",
    "the caller's name",
)
CHECKS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    (EMAIL, emails),
    (PHONE, phones),
    (POSTCODE, postcodes),
    (ADDRESS, addresses),
    (NAME, self_names),
)


@dataclass(frozen=True)
class CallerDetail:
    """A finding: its kind, the words as written, and where they are (``text[start:end]``)."""

    kind: str
    text: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


def caller_details_in(text: str) -> list[CallerDetail]:
    """Return what looks like the caller's own details in ``text``, in reading order."""
    found: list[CallerDetail] = []
    for line in re.finditer(r"[^\r\n]+", text):
        found += [
            CallerDetail(d.kind, d.text, d.start + line.start(), d.end + line.start())
            for d in _details_in_line(line.group())
        ]
    return found


def _details_in_line(text: str) -> list[CallerDetail]:
    found: set[tuple[int, int, str]] = set()
    for kind, check in CHECKS:
        for start, end in check(text):
            found.add((start, end, kind))
    emails_found = [(s, e) for s, e, k in found if k == EMAIL]
    return [
        CallerDetail(kind, text[start:end], start, end)
        for start, end, kind in sorted(found)
        if not any(  # the same finding inside a longer one
            k == kind and (s, e) != (start, end) and s <= start and end <= e for s, e, k in found
        )
        and not (kind == PHONE and any(s < end and start < e for s, e in emails_found))
    ]
