"""Postcodes and street addresses, in English and Welsh, written or spoken.

A street address is a house number and a street ("14 Acacia Avenue", "7 Heol y Bont"),
or the street the caller says they live on ("we live on Church Lea", "Dw i'n byw ar
Ffordd Newydd"), or whatever follows "my address is". A street on its own is where
something happened, not where the caller lives. After a house number, capitalised words
are taken for a street whatever they end in ("13 O'Neill Green", "9 Jones Light"): a
street-type list is never complete, and a false alarm costs the handler a glance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ivr.reports.sanitise.contacts import SPOKEN_GAP
from ivr.reports.sanitise.spoken import TEENS, UNITS, digits, normalise
from ivr.reports.sanitise.words import (
    NOT_STREET_NAMES,
    RANKS,
    STREET_TYPES,
    WELSH_PARTICLES,
    WELSH_STREET_TYPES,
    alternation,
)

Span = tuple[int, int]

POSTCODE_SHAPE = r"[A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]?\s?[0-9][ABD-HJLNP-UW-Z]{2}"
WRITTEN_POSTCODE = re.compile(rf"\b{POSTCODE_SHAPE}\b", re.IGNORECASE)
WHOLE_POSTCODE = re.compile(POSTCODE_SHAPE, re.IGNORECASE)


def postcodes(text: str) -> Iterator[Span]:
    """Find postcodes, written ("LS1 4AB", "ls14ab") or spelled out ("L S one four A B")."""
    yield from (m.span() for m in WRITTEN_POSTCODE.finditer(text))
    tokens = [(_readings(m.group()), *m.span()) for m in re.finditer(r"[A-Za-z0-9]+", text)]
    for i in range(len(tokens)):
        joined = {""}
        for j in range(i, min(i + 8, len(tokens))):
            readings, _, end = tokens[j]
            if not readings or (
                j > i and not SPOKEN_GAP.fullmatch(text[tokens[j - 1][2] : tokens[j][1]])
            ):
                break
            joined = {done + reading for done in joined for reading in readings}
            if j > i and any(WHOLE_POSTCODE.fullmatch(code) for code in joined):
                yield tokens[i][1], end


def _readings(word: str) -> set[str]:
    """What a word can be in a spelled postcode: a letter, "LS", digits, or a half ("4AB")."""
    lower = word.lower()
    spelled = digits([lower]) if lower in UNITS or lower in TEENS else word
    fits = len(word) == 1 or word.isupper() or not spelled.isalpha()
    readings = {spelled} if fits and len(spelled) <= 4 else set()
    if lower == "o":  # "Y O eight": the letter, or nought
        readings.add("O")
    return readings


UPPER = "A-ZÀ-ÖØ-ÞŴŶ"
LETTERS = r"(?:[^\W\d_]|['\u2019-])*"
# Any case: "7 kirkgate close" as a transcript may write it.
NOT_A_STREET = rf"(?!(?i:{NOT_STREET_NAMES})(?![\w'\u2019-]))"
NAME_WORD = rf"{NOT_A_STREET}[^\W\d_]{LETTERS}"
# Capitalised, case-sensitive inside patterns that ignore case elsewhere.
CAP_WORD = rf"{NOT_A_STREET}(?-i:[{UPPER}])(?:[^\W\d_]|['\u2019](?-i:[{UPPER}])){LETTERS}"
TYPED = rf"(?:(?-i:The)|(?:{NAME_WORD}\s+){{1,3}})\s*(?:{alternation(STREET_TYPES)})\b"
WELSH = (
    rf"(?:{alternation(WELSH_STREET_TYPES)})(?:\s+(?:{WELSH_PARTICLES}))?(?:\s+{CAP_WORD}){{1,2}}"
)
CAPITALISED = rf"{CAP_WORD}(?:\s+{CAP_WORD}){{0,2}}"
FLAT = r"(?:flat|apartment|apt|unit|studio|room|fflat)\s+\d+[a-z]?\s*,?\s*"
NUMBER = r"(?<![\d£$/.:])\b(?!(?:19|20)\d\d\b)\d{1,4}[a-z]?\b,?"  # not a year
HOUSE = rf"(?:{FLAT})?(?:(?:number|no\.?|rhif)\s+)?{NUMBER}"
LIVES = (
    r"\b(?:(?:i|we|they)(?:'re|\u2019re| are| am|'m|\u2019m)?\s+(?:live|living|stay|staying)"
    r"|(?:dw i|dwi|rwy|rydw i|rydyn ni|dyn ni|ry'n ni|wy|ni)['\u2019]n\s+byw)\s+"
)
NOT_SAID = "on|in|not|none|private|secret|confidential|withheld|irrelevant|the same|with|known"
ADDRESS_PATTERNS = (
    re.compile(rf"{HOUSE}\s+(?:{TYPED}|{WELSH}|{CAPITALISED})", re.IGNORECASE),
    # On a street, any street; in a town is not an address, in a typed street is.
    re.compile(
        rf"{LIVES}(?:on|ar)\s+(?P<at>(?:{HOUSE}\s+)?(?:{TYPED}|{WELSH}|{CAPITALISED}))",
        re.IGNORECASE,
    ),
    re.compile(
        rf"{LIVES}(?:in|at|yn|yng|ym)\s+(?P<at>(?:{HOUSE}\s+)?(?:{TYPED}|{WELSH}))", re.IGNORECASE
    ),
    re.compile(
        rf"\b(?:my (?:home |postal )?address is|fy nghyfeiriad(?: i)? (?:yw|ydy))\s+"
        rf"(?P<at>(?!(?:{NOT_SAID})\b)[^.;\n]+)",
        re.IGNORECASE,
    ),
)
ADDRESS_GAP = re.compile(r"[\s-]*")  # a comma parts "flat three, twenty two"
RANK_BEFORE = re.compile(rf"\b(?:{alternation(RANKS)})\s*$", re.IGNORECASE)


def addresses(text: str) -> Iterator[Span]:
    """Find street addresses: a number and a street, or the street the caller lives on."""
    normal = normalise(text, ADDRESS_GAP)
    for pattern in ADDRESS_PATTERNS:
        for match in pattern.finditer(normal.text):
            start, end = match.span("at") if "at" in pattern.groupindex else match.span()
            if RANK_BEFORE.search(normal.text[:start]):
                continue  # "PC 4521 Smith": a collar number and a name
            yield normal.original(start, end)
