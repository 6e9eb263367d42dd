"""Spoken numbers as digits: "oh seven seven double oh" is 07700, with a map back to the words.

Each finding must quote the transcript exactly so that the console can highlight it, so
the digits keep, for each character, where in the original text it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4}
UNITS |= {"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
TEENS += ["eighteen", "nineteen"]
TENS = {"twenty": 2, "thirty": 3, "forty": 4, "fifty": 5, "sixty": 6, "seventy": 7}
TENS |= {"eighty": 8, "ninety": 9}
REPEATS = {"double": 2, "treble": 3, "triple": 3}
POWERS = {"hundred": "00", "thousand": "000"}
TOKEN = re.compile(r"\+?\d+|[A-Za-z]+")


def is_number_word(word: str) -> bool:
    return word in UNITS or word in TEENS or word in TENS or word in POWERS or word == "plus"


@dataclass(frozen=True)
class Normalised:
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
            or is_number_word(word)
            or (word in REPEATS and (after in UNITS or after.isdigit()))
            or (word == "and" and bool(run) and run[-1].group().lower() in POWERS)
        ) and not (word == "o" and text[token.end() : token.end() + 1] in "'\u2019")  # O'Neill
        if run and not (numeric and gap.fullmatch(text[run[-1].end() : token.start()])):
            yield run
            run = []
        if numeric:
            run.append(token)
    if run:
        yield run


def digits(words: list[str]) -> str:
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
                tail = digits(words[i + 2 : i + 4 if pair else i + 3])
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


def normalise(text: str, gap: re.Pattern[str]) -> Normalised:
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
        pieces += [text[done:begin], digits(words)]
        starts += [*range(done, begin), *[begin] * len(pieces[-1])]
        ends += [*range(done + 1, begin + 1), *[end] * len(pieces[-1])]
        done = end
    pieces.append(text[done:])
    starts += range(done, len(text))
    ends += range(done + 1, len(text) + 1)
    return Normalised("".join(pieces), tuple(starts), tuple(ends))
