"""Spot what could identify the caller in a report's text, before it leaves the charity.

Transcripts hold what people say, not what they type: "oh seven seven double oh, nine
hundred...", "jo dot bloggs at example dot com", "L S one four A B". Spoken numbers are
turned into digits first (keeping a map back to the original text, so each finding quotes
the transcript exactly and can be highlighted in it); ``phonenumbers`` then finds UK
numbers in any format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers

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


@dataclass(frozen=True)
class CallerDetail:
    """A finding: its kind, the words as written, and where they are (``text[start:end]``)."""

    kind: str
    text: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


def caller_details_in(text: str) -> list[CallerDetail]:
    """Return what looks like the caller's own details in ``text``, in reading order."""
    found: dict[tuple[int, int, str], None] = {}
    emails = list(_emails(text))
    for start, end in emails:
        found[start, end, EMAIL] = None
    for start, end in _phones(text):
        if not any(s < end and start < e for s, e in emails):  # digits inside an email
            found[start, end, PHONE] = None
    for start, end in _postcodes(text):
        found[start, end, POSTCODE] = None
    for start, end in _addresses(text):
        found[start, end, ADDRESS] = None
    for start, end in _self_names(text):
        found[start, end, NAME] = None
    return [
        CallerDetail(kind, text[start:end], start, end)
        for start, end, kind in sorted(found)
        if not any(
            k == kind and (s, e) != (start, end) and s <= start and end <= e for s, e, k in found
        )
    ]


# --- Spoken numbers -----------------------------------------------------------------------

UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4}
UNITS |= {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
TEENS += ["eighteen", "nineteen"]
TENS = {"twenty": 2, "thirty": 3, "forty": 4, "fifty": 5, "sixty": 6, "seventy": 7}
TENS |= {"eighty": 8, "ninety": 9}
REPEATS = {"double": 2, "treble": 3, "triple": 3}
POWERS = {"hundred": "00", "thousand": "000"}
TOKEN = re.compile(r"\+?\d+|[A-Za-z]+")


def _is_number_word(word: str) -> bool:
    return word in UNITS or word in TEENS or word in TENS or word in POWERS or word == "plus"


@dataclass(frozen=True)
class _Normalised:
    """Text with spoken numbers as digits, and where each character came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _number_runs(text: str, gap: re.Pattern[str]) -> Iterator[list[re.Match[str]]]:
    """Yield runs of adjacent number tokens, digits or words, with only ``gap`` between."""
    tokens = list(TOKEN.finditer(text))
    run: list[re.Match[str]] = []
    for i, token in enumerate(tokens):
        word = token.group().lower()
        after = tokens[i + 1].group().lower() if i + 1 < len(tokens) else ""
        numeric = (
            word[-1].isdigit()
            or _is_number_word(word)
            or (word in REPEATS and (after in UNITS or after.isdigit()))
            or (word == "and" and bool(run) and run[-1].group().lower() in POWERS)
        )
        if run and not (numeric and gap.fullmatch(text[run[-1].end() : token.start()])):
            yield run
            run = []
        if numeric:
            run.append(token)
    if run:
        yield run


def _digits(words: list[str]) -> str:
    """Spell ``words`` ("oh", "seven", "double", "oh", "nine", "hundred") as digits."""
    out, i = "", 0
    while i < len(words):
        word, after = words[i], words[i + 1] if i + 1 < len(words) else ""
        if word in REPEATS and after:
            out += (str(UNITS[after]) if after in UNITS else after) * REPEATS[word]
            i += 1
        elif word in POWERS:
            out += POWERS[word]
            if after == "and" and i + 2 < len(words):  # "nine hundred and twelve"
                pair = words[i + 2] in TENS and words[i + 3 : i + 4] != [] and words[i + 3] in UNITS
                tail = _digits(words[i + 2 : i + 4 if pair else i + 3])
                out = out[: max(0, len(out) - len(tail))] + tail
                i += 3 if pair else 2
        elif word in TENS:
            if UNITS.get(after):
                out += f"{TENS[word]}{UNITS[after]}"
                i += 1
            else:
                out += f"{TENS[word]}0"
        elif word in TEENS:
            out += str(10 + TEENS.index(word))
        elif word in UNITS:
            out += str(UNITS[word])
        elif word == "plus":
            out += "+"
        elif word != "and":
            out += word
        i += 1
    return out


def _normalise(text: str, gap: re.Pattern[str]) -> _Normalised:
    """Turn each run of spoken number words into digits; leave written digits as they are."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for run in _number_runs(text, gap):
        words = [t.group().lower() for t in run]
        if all(w[-1].isdigit() for w in words) or words in (["oh"], ["o"], ["plus"]):
            continue
        begin, end = run[0].start(), run[-1].end()
        pieces += [text[done:begin], _digits(words)]
        starts += [*range(done, begin), *[begin] * len(pieces[-1])]
        ends += [*range(done + 1, begin + 1), *[end] * len(pieces[-1])]
        done = end
    pieces.append(text[done:])
    starts += range(done, len(text))
    ends += range(done + 1, len(text) + 1)
    return _Normalised("".join(pieces), tuple(starts), tuple(ends))


# --- Phone numbers and email addresses ------------------------------------------------------

SPOKEN_GAP = re.compile(r"[\s,-]*")  # "oh seven seven double oh, nine hundred, ..."


def _phones(text: str) -> Iterator[tuple[int, int]]:
    normal = _normalise(text, SPOKEN_GAP)
    leniency = phonenumbers.Leniency.POSSIBLE  # Ofcom's drama range is possible, not valid
    for match in phonenumbers.PhoneNumberMatcher(normal.text, "GB", leniency=leniency):
        digits = re.sub(r"\D", "", match.raw_string)
        # A sum of money or a year is too short; a crime number is written with slashes.
        if len(digits) >= 9 and "/" not in match.raw_string:
            yield normal.original(match.start, match.end)


TLD = r"(?:com|org|net|uk|io|me|info|biz|eu|ie|gov|edu|co|scot|wales|london)"
PROVIDERS = r"(?:gmail|googlemail|hotmail|outlook|yahoo|icloud|btinternet|aol|protonmail|live)"
DOT, JOIN = r"(?:\s+dot\s+|\.)", r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])"
WRITTEN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SPOKEN_EMAIL = re.compile(
    rf"\b[a-z0-9]+(?:{JOIN}[a-z0-9]+)*\s+(?:at|at sign|at symbol)\s+"
    rf"(?:[a-z0-9-]+(?:{DOT}[a-z0-9-]+)*{DOT}{TLD}|{PROVIDERS})\b",
    re.IGNORECASE,
)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    for pattern in (WRITTEN_EMAIL, SPOKEN_EMAIL):
        for match in pattern.finditer(text):
            yield match.span()


# --- Postcodes and street addresses -----------------------------------------------------------

POSTCODE_SHAPE = r"[A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]?\s?[0-9][ABD-HJLNP-UW-Z]{2}"
WRITTEN_POSTCODE = re.compile(rf"\b{POSTCODE_SHAPE}\b", re.IGNORECASE)
WHOLE_POSTCODE = re.compile(POSTCODE_SHAPE, re.IGNORECASE)


def _postcodes(text: str) -> Iterator[tuple[int, int]]:
    """Find postcodes, written ("LS1 4AB", "ls14ab") or spelled out ("L S one four A B")."""
    yield from (m.span() for m in WRITTEN_POSTCODE.finditer(text))
    tokens: list[tuple[str, int, int]] = []
    for match in re.finditer(r"[A-Za-z0-9]+", text):
        word = match.group()
        spelled = (
            _digits([word.lower()]) if word.lower() in UNITS or word.lower() in TEENS else word
        )
        # A letter, "LS", a digit or two, or a half written as one ("LS1", "4AB").
        fits = len(word) == 1 or word.isupper() or not spelled.isalpha()
        tokens.append((spelled if fits and len(spelled) <= 4 else "", *match.span()))
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, min(i + 7, len(tokens))):
            piece, _, end = tokens[j]
            if not piece or (
                j > i and not SPOKEN_GAP.fullmatch(text[tokens[j - 1][2] : tokens[j][1]])
            ):
                break
            joined += piece
            if j > i and WHOLE_POSTCODE.fullmatch(joined):
                yield tokens[i][1], end


STREETS = (
    "road|rd|street|st|avenue|ave|av|lane|close|drive|way|crescent|court|gardens|place|terrace|"
    "grove|hill|walk|row|square|mews|rise|view|parade|vale|mount|fold|croft|yard|wharf|green|"
    "bank|park|approach|chase|dale|garth|wynd"
)
# Words that, after a number, say "how many" or "when", not "which street".
NOT_STREET_NAMES = (
    "the|a|an|and|or|of|in|on|at|to|up|down|by|for|from|with|into|onto|near|past|over|this|"
    "that|his|her|their|my|our|your|its|hour|hours|minute|minutes|mile|miles|day|days|week|"
    "weeks|month|months|year|years|times|people|officers|men|women|cars|o|pm|am|quid|pounds"
)
NAME_WORD = rf"(?!(?:{NOT_STREET_NAMES})\b)[A-Za-z][A-Za-z'-]*"
NOT_SAID = "on|in|not|none|private|secret|confidential|withheld|irrelevant|the same|with|known"
HOUSE = r"(?:(?:flat|apartment|apt|unit)\s+\d+[a-z]?\s*,?\s*)?\b\d{1,4}[a-z]?\b,?"
STREET = rf"(?:(?-i:The)|(?:{NAME_WORD}\s+){{1,3}})\s*(?:{STREETS})\b"  # or "3 The Crescent"
ADDRESS_PATTERNS = (
    re.compile(rf"{HOUSE}\s+{STREET}", re.IGNORECASE),
    re.compile(rf"(?<=\bI live )(?:on|in|at)\s+(?:number\s+)?{STREET}", re.IGNORECASE),
    re.compile(rf"(?<=\bmy address is )(?!(?:{NOT_SAID})\b)[^.;\n]+", re.IGNORECASE),
)
ADDRESS_GAP = re.compile(r"[\s-]*")  # a comma parts "flat three, twenty two"


def _addresses(text: str) -> Iterator[tuple[int, int]]:
    normal = _normalise(text, ADDRESS_GAP)
    for pattern in ADDRESS_PATTERNS:
        for match in pattern.finditer(normal.text):
            yield normal.original(*match.span())


# --- The caller naming themselves ---------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


APOSTROPHE = "['\u2019]"
SURE_CUE = re.compile(
    rf"\b(?:my name is|my name{APOSTROPHE}s|i am called|i{APOSTROPHE}m called|im called)\s+",
    re.IGNORECASE,
)
CALL_ME = re.compile(r"\b(?i:call me|calls me|know me as|knows me as)\s+(?=[A-Z])")
I_AM = re.compile(rf"\b(?:i am|i{APOSTROPHE}m)\s+", re.IGNORECASE)
THIS_IS = re.compile(rf"\b(?:this is|it{APOSTROPHE}s|it is)\s+", re.IGNORECASE)
SPEAKING = re.compile(r"(?:^|(?<=[.,!?]\s))(?=[A-Z]\w+ [A-Z]\w+,? speaking\b)", re.M)
MARKERS = {"here", "speaking", "calling", "ringing", "phoning"}
RANKS = _words(
    "pc dc ds di dci dsi wpc psc pcso sgt insp supt constable sergeant inspector detective chief "
    "superintendent officer commander commissioner custody acting temporary special"
)
# Words that are not a person's name, even capitalised after "this is" or "I'm".
NOT_NAMES = _words(
    "i a an the my your his her their our this that it its me him them us not just only really "
    "very so about from with in on at to for of and but or because who what which here there "
    "going trying afraid sorry scared worried calling phoning ringing speaking "
    "reporting nervous anonymous withheld irrelevant unimportant important private "
    "confidential secret being been still also now today tonight tomorrow back again please "
    "no yes ok okay well sure happy glad told called known one someone somebody nobody "
    "british english scottish welsh irish black white asian muslim christian jewish sikh hindu "
    "gay disabled retired pregnant monday tuesday wednesday thursday friday saturday sunday "
    "january february march april june july august september october november december "
    "christmas easter police if when after before later anytime whenever as than then is was "
    "has had will would can could should might must do does did have get got by"
)
INSTITUTIONS = _words(
    "bridewell station police constabulary council court crown magistrates prison hospital "
    "standards unit team office headquarters hq road street avenue lane university college "
    "school centre center city county borough united royal service services department "
    "ipcc iopc crimestoppers bank ltd limited group yorkshire operation"
)
FIRST_NAMES = _words(
    "jo joe sam alex chris jamie jordan charlie danny dan dave david john james mike michael "
    "paul peter steve steven stephen tom tony andy andrew ben rob robert richard rich matt "
    "mark gary kevin lee darren wayne craig jason simon ian neil carl sean adam liam ryan "
    "kate katie sarah sara emma amy laura lisa claire rachel helen julie karen tracy nicola "
    "michelle jenny jen jess jessica becky rebecca hannah lucy sophie chloe gemma leanne kelly "
    "donna debbie sue susan linda mary anne ann jane louise zoe nadia priya aisha fatima "
    "mohammed muhammad ahmed ali omar hassan raj sunil amir yusuf"
)
WORD = re.compile(r"\s*([A-Za-z][A-Za-z'\u2019-]*)")


# How sure a cue is that a name follows: "my name is", "I'm", or "this is" (often a place).
Cue = Literal["sure", "me", "maybe"]
CUES: tuple[tuple[re.Pattern[str], Cue], ...] = (
    (SURE_CUE, "sure"),
    (CALL_ME, "sure"),
    (I_AM, "me"),
    (THIS_IS, "maybe"),
    (SPEAKING, "maybe"),
)


def _self_names(text: str) -> Iterator[tuple[int, int]]:
    """Find the caller naming themselves, and not a place, a rank, a role or someone else."""
    for cue, how in CUES:
        for match in cue.finditer(text):
            span = _name_after(text, match.end(), how)
            if span:
                yield span


def _name_after(text: str, at: int, how: Cue) -> tuple[int, int] | None:
    """Find the caller's name just after a cue, skipping a rank they give with it."""
    words: list[re.Match[str]] = []
    while len(words) < 6 and (word := WORD.match(text, words[-1].end() if words else at)):
        words.append(word)
    ranked = bool(words) and words[0].group(1).lower() in RANKS
    while words and words[0].group(1).lower() in RANKS:
        words.pop(0)  # an officer may give a rank, then a name
    name: list[re.Match[str]] = []
    for word in words[:3]:
        value = word.group(1)
        lower = value.lower()
        same_case = not name or value[0].isupper() == name[0].group(1)[0].isupper()
        if len(value) < 2 or lower in NOT_NAMES or lower in MARKERS or not same_case:
            break  # an initial, a common word, or not written like the name so far
        if re.search(rf"{APOSTROPHE}s?$", value):
            return None  # "Inspector Morse's driver": someone else's
        name.append(word)
    if not name or any(w.group(1).lower() in INSTITUTIONS for w in name):
        return None
    rest = words[len(name) :]
    marked = bool(rest) and rest[0].group(1).lower() in MARKERS
    if rest and re.fullmatch(STREETS, rest[0].group(1), re.IGNORECASE):
        return None  # "this is Temple Newsam way": a place
    capitalised = all(w.group(1)[0].isupper() for w in name)
    known = name[0].group(1).lower() in FIRST_NAMES and capitalised
    if how == "sure" or marked or (how == "me" and ranked and capitalised):
        return name[0].start(1), name[-1].end(1)  # "I'm PC Jo Bloggs": an officer calling
    if not ranked and (known or (capitalised and len(name) >= 2)):
        return name[0].start(1), name[-1].end(1)
    return None
