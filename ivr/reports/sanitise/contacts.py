"""Phone numbers and email addresses, written or spoken ("jo dot bloggs at example dot com")."""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from ivr.reports.sanitise.spoken import normalise

Span = tuple[int, int]
SPOKEN_GAP = re.compile(r"[\s,-]*")  # "oh seven seven double oh, nine hundred, ..."


def phones(text: str) -> Iterator[Span]:
    """Find UK phone numbers in any format, digits or words, through ``phonenumbers``."""
    normal = normalise(text, SPOKEN_GAP)
    leniency = phonenumbers.Leniency.POSSIBLE  # Ofcom's drama range is possible, not valid
    for match in phonenumbers.PhoneNumberMatcher(normal.text, "GB", leniency=leniency):
        figures = re.sub(r"\D", "", match.raw_string)
        # A sum of money or a year is too short; a crime number is written with slashes.
        if len(figures) >= 9 and "/" not in match.raw_string:
            yield normal.original(match.start, match.end)


TLD = r"(?:com|org|net|uk|io|me|info|biz|eu|ie|gov|edu|co|scot|wales|cymru|london)"
PROVIDERS = r"(?:gmail|googlemail|hotmail|outlook|yahoo|icloud|btinternet|aol|protonmail|live)"
DOT, JOIN = r"(?:\s+dot\s+|\.)", r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])"
WRITTEN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The words said before "at" that are not the address: "my email is jo bloggs at ...".
NOT_LOCAL = (
    "is|my|me|email|e-mail|e-bost|address|it's|its|to|at|on|send|write|yw|ydy|ar|at|i|fi|"
    "that's|thats|was|please|or|and|the|it|cyfeiriad|nghyfeiriad|fy|contact|reach|mail|message|"
    "anfonwch|e-bostiwch|him|her|them|us"
)
LOCAL_WORD = rf"(?<!['\u2019])(?!(?:{NOT_LOCAL})\b)[a-z0-9]+"
SPOKEN_EMAIL = re.compile(
    # Up to three words spoken as one ("nathan sixty five", "jo bloggs"), joined or not.
    rf"\b{LOCAL_WORD}(?:(?:{JOIN}|\s+){LOCAL_WORD}){{0,3}}\s+(?:at|at sign|at symbol)\s+"
    rf"(?:[a-z0-9-]+(?:{DOT}[a-z0-9-]+)*{DOT}{TLD}|{PROVIDERS})\b",
    re.IGNORECASE,
)


def emails(text: str) -> Iterator[Span]:
    """Find email addresses, written or spoken, with spoken numbers in them ("sixty five")."""
    yield from (m.span() for m in WRITTEN_EMAIL.finditer(text))
    for match in SPOKEN_EMAIL.finditer(text):
        yield match.span()
