"""The caller naming themselves, in English or Welsh, and not a place, a rank or an officer.

A name is looked for beside what people say when they give one: after "my name is",
"the name's", "fy enw i yw", "call me", "I'm", "this is"; before "here", "speaking",
"calling", "ydw i", "sy 'ma", "sy'n siarad". The surer the words, the less the name
itself must look like one: after "my name is" anything goes, after "this is" only a
capitalised full name or a known first name ("this is Leeds Bridewell" is a place).
An officer the caller describes ("it's Reece Moss, a PCSO in Leeds") is not the caller;
an officer who calls and gives their rank and name ("this is Sergeant Tom Baker
calling") is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from ivr.reports.sanitise.words import NATIONS, RANKS, STREET_TYPES, TITLES, alternation

Span = tuple[int, int]
APOSTROPHE = "['\u2019]"
UPPER = "A-ZÀ-ÖØ-ÞŴŶ"
NAME_LETTERS = r"[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are not a person's name, even capitalised after "this is" or "I'm".
NOT_NAMES = _words(
    "i a an the my your his her their our this that it its me him them us not just only really "
    "very so about from with in on at to for of and but or because who what which here there "
    "going trying afraid sorry scared worried calling phoning ringing speaking "
    "reporting nervous anonymous withheld irrelevant unimportant important private "
    "confidential secret being been still also now today tonight tomorrow back again please "
    "no yes ok okay well sure happy glad told called known one someone somebody nobody "
    "gay disabled retired pregnant monday tuesday wednesday thursday friday saturday sunday "
    "january february march april june july august september october november december "
    "christmas easter police if when after before later anytime whenever as than then is was "
    "has had will would can could should might must do does did have get got by hi hello "
    "hiya morning evening afternoon yeah right oh helo bore da noswaith prynhawn shwmae dw dwi "
    "fi ni yn ac ond mae roedd ydw sy yma ma heddlu ofnus byw yr y o ar nhw fe hi fo e hefyd "
    "nawr diolch plis wedi eisiau isio gweithio gyda gan am mewn nid ddim dim i'm im "
    "it's we're he's she's they're i've i'd i'll"
)
# After "I'm" or "this is", "British" is not a name; after "call me", "Christian" may be.
NOT_NAMES_UNLESS_SURE = NATIONS
INSTITUTIONS = _words(
    "bridewell station police constabulary council court crown magistrates prison hospital "
    "standards unit team office headquarters hq road street avenue university college school "
    "centre center city "
    "county borough united royal service services department ipcc iopc crimestoppers bank ltd "
    "limited group yorkshire operation heddlu cyngor ysgol ysbyty gorsaf heol ffordd stryd"
)
FIRST_NAMES = _words(
    "jo joe sam alex chris jamie jordan charlie danny dan dave david john james mike michael "
    "paul peter steve steven stephen tom tony andy andrew ben rob robert richard rich matt "
    "mark gary kevin lee darren wayne craig jason simon ian neil carl sean adam liam ryan "
    "kate katie sarah sara emma amy laura lisa claire rachel helen julie karen tracy nicola "
    "michelle jenny jen jess jessica becky rebecca hannah lucy sophie chloe gemma leanne kelly "
    "donna debbie sue susan linda mary anne ann jane louise zoe nadia priya aisha fatima "
    "mohammed muhammad ahmed ali omar hassan raj sunil amir yusuf "
    # Welsh first names, so that "it's Siân" is read as a name.
    "siân sian rhys dafydd dai gwen llinos iolo cerys aled gethin eleri owain ffion rhodri nia "
    "bethan huw catrin gareth elin tomos angharad emyr heledd ioan lowri meirion nerys "
    "gruffudd steffan alaw dylan branwen cai delyth geraint manon osian tegan"
)
MARKERS = _words("here speaking calling ringing phoning")

SURE_CUE = re.compile(
    rf"\b(?:(?:my|me|the) (?:full |real )?name(?: is|{APOSTROPHE}s| was)|i am called"
    rf"|i{APOSTROPHE}m called|im called|(?:what{APOSTROPHE}s|what is) (?:your|the) "
    rf"(?:full |first |last )?name[^?.]{{0,30}}\?(?:\s*\w+:)?"
    rf"|fy enw(?: llawn)?(?: i)? (?:yw|ydy|ydi)|enw fi (?:yw|ydy))\s+",
    re.IGNORECASE,
)
CALL_ME = re.compile(
    rf"\b(?i:call me|calls me|know me as|knows me as|galwch fi{APOSTROPHE}n|galwch fi yn)\s+"
    rf"(?=[{UPPER}])"
)
I_AM = re.compile(rf"\b(?:i am|i{APOSTROPHE}m)\s+", re.IGNORECASE)
THIS_IS = re.compile(rf"\b(?:this is|it{APOSTROPHE}s|it is)\s+", re.IGNORECASE)
# "My name appears wrongly ... correct it to Mr Matthew Berry": a titled name.
MY_NAME_TITLED = re.compile(
    rf"\bmy name\b[^.?!]*?\b(?=(?i:{alternation(TITLES)})\.?\s+[{UPPER}])", re.IGNORECASE
)
I_COMMA = re.compile(r"\bI,\s+(?=[^,]{2,40},)")  # "I, Mark James, want to..."

# How sure a cue is that a name follows: "my name is", "I'm", or "this is" (often a place).
Cue = Literal["sure", "me", "maybe"]
CUES: tuple[tuple[re.Pattern[str], Cue], ...] = (
    (SURE_CUE, "sure"),
    (CALL_ME, "sure"),
    (I_COMMA, "sure"),
    (MY_NAME_TITLED, "sure"),
    (I_AM, "me"),
    (THIS_IS, "maybe"),
)
# Said after a name: "Kyle Smart-Burns here", "Siân Morgan ydw i", "Aled sy'n siarad".
AFTER_CUE = re.compile(
    rf"(?:,\s*)?\s(?:here|speaking|calling|ringing|phoning|ydw i|ydw i{APOSTROPHE}n|dw i"
    rf"|ydy fy enw|ydi fy enw|yw fy enw|sy{APOSTROPHE}n siarad|sy {APOSTROPHE}ma|sy yma|yma)\b",
    re.IGNORECASE,
)
CAPITALISED = rf"(?-i:[{UPPER}])(?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*"
OPENING = (
    r"hi|hello|hiya|morning|good morning|evening|good evening|afternoon|yeah|yes|right|ok|"
    r"okay|oh|well|so|helo|bore da|noswaith dda|prynhawn da|shwmae|s'mae|ie|iawn"
)
# A name just before an after-cue, at the start of what is said or after a greeting.
NAME_BEFORE = re.compile(
    rf"(?:^|[.!?,;:\"]\s*|(?i:\b(?:{OPENING}))[,!]?\s+)"
    rf"(?P<name>(?:(?i:{alternation(RANKS | TITLES)})\.?\s+){{0,2}}"
    rf"{CAPITALISED}(?:\s+{CAPITALISED}){{0,2}})$"
)
WORD = re.compile(rf"\s*({NAME_LETTERS})")
DESCRIBED = re.compile(r"\s*(?:,\s*(?:a|an|the|who|one of)\b|\s+who\b|\s+from the\b)", re.I)


def self_names(text: str) -> Iterator[Span]:
    """Find the caller naming themselves, and not a place, a rank, a role or someone else."""
    for cue, how in CUES:
        for match in cue.finditer(text):
            span = _name_after(text, match.end(), how)
            if span:
                yield span
    for match in AFTER_CUE.finditer(text):
        span = _name_before(text, match.start())
        if span:
            yield span


def _name_before(text: str, at: int) -> Span | None:
    """Find the caller's name just before "here", "speaking" or "ydw i"."""
    found = NAME_BEFORE.search(text[:at].rstrip(", "))
    if not found:
        return None
    words = list(WORD.finditer(text, found.start("name"), found.end("name")))
    while words and (words[0].group(1).lower() in RANKS | TITLES):
        words.pop(0)  # an officer may give a rank, then a name
    not_names = NOT_NAMES | NOT_NAMES_UNLESS_SURE
    name = [
        w
        for w in words
        if w.group(1).lower().replace("\u2019", "'") not in not_names and len(w.group(1)) > 1
    ]
    if not name or len(name) != len(words) or _institution(name):
        return None
    return name[0].start(1), name[-1].end(1)


def _institution(name: list[re.Match[str]]) -> bool:
    return any(w.group(1).lower() in INSTITUTIONS for w in name)


def _name_after(text: str, at: int, how: Cue) -> Span | None:
    """Find the caller's name just after a cue, skipping a rank or title they give with it."""
    words: list[re.Match[str]] = []
    while len(words) < 6 and (word := WORD.match(text, words[-1].end() if words else at)):
        words.append(word)
    ranked = bool(words) and words[0].group(1).lower() in RANKS
    while words and words[0].group(1).lower().rstrip(".") in RANKS | TITLES:
        words.pop(0)
    name = _leading_name(words, NOT_NAMES if how == "sure" else NOT_NAMES | NOT_NAMES_UNLESS_SURE)
    if name is None or not name or _institution(name):
        return None
    rest = words[len(name) :]
    marked = bool(rest) and rest[0].group(1).lower() in MARKERS
    if rest and rest[0].group(1).lower() in STREET_TYPES:
        return None  # "this is Temple Newsam way": a place
    span = name[0].start(1), name[-1].end(1)
    capitalised = all(w.group(1)[0].isupper() for w in name)
    known = name[0].group(1).lower() in FIRST_NAMES and capitalised
    if how == "sure" or marked:
        return span
    if DESCRIBED.match(text, span[1]):
        return None  # "it's Reece Moss, a PCSO in Leeds": someone the caller describes
    if how == "me" and capitalised:
        return span  # "I'm Gareth", "I'm PC Jo Bloggs": the caller
    if not ranked and (known or (capitalised and len(name) >= 2)):
        return span
    return None


def _leading_name(
    words: list[re.Match[str]], not_names: frozenset[str]
) -> list[re.Match[str]] | None:
    """The first words that read as a name; None if they are someone else's ("Morse's")."""
    name: list[re.Match[str]] = []
    for word in words[:3]:
        value = word.group(1)
        lower = value.lower().replace("\u2019", "'")  # I\u2019m as I'm
        same_case = not name or value[0].isupper() == name[0].group(1)[0].isupper()
        if len(value) < 2 or lower in not_names or lower in MARKERS or not same_case:
            break  # an initial, a common word, or not written like the name so far
        if re.search(rf"{APOSTROPHE}s?$", value):
            return None  # "Inspector Morse's driver": someone else's
        name.append(word)
        if _comma_after(word):
            break
    return name


def _comma_after(word: re.Match[str]) -> bool:
    """Whether a comma follows the word: a name ends there ("I, Mark James, want")."""
    return word.string[word.end(1) : word.end(1) + 1] == ","
