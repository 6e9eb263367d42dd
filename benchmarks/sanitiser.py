"""Recall and precision of the sanitiser on the generated corpus, per language and kind.

The corpus (``benchmarks/sanitiser_corpus.py`` made it; both halves are committed) labels
what identifies the caller. Scoring rule: a labelled span is found if a finding of the
same kind overlaps it by at least one character; a finding is right if it overlaps a
labelled span of its kind, and a false alarm otherwise (an officer's or a third party's
name flagged as the caller's is one). Recall is found / labelled, precision is right /
findings, each per language and kind, for the development half (tuned against) and the
held-out half (scored only at the end). Goal: 95% for both, for every kind.

    .venv/bin/python -m benchmarks.sanitiser [--misses]   # --misses: the development half's
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from ivr.reports import sanitise

HERE = Path(__file__).parent
HALVES = {"development": HERE / "sanitiser_corpus_dev.json"}
HALVES["held-out"] = HERE / "sanitiser_corpus_heldout.json"
KINDS = {
    sanitise.PHONE: "phone",
    sanitise.EMAIL: "email",
    sanitise.ADDRESS: "address",
    sanitise.POSTCODE: "postcode",
    sanitise.NAME: "name",
}
GOAL = 0.95


def load(half: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(HALVES[half].read_text(encoding="utf-8"))
    return cases


def score(cases: list[dict[str, Any]]) -> tuple[Counter[tuple[str, str, str]], list[str]]:
    """Count labelled, found, findings and right per (language, kind, what); list the misses."""
    counts: Counter[tuple[str, str, str]] = Counter()
    misses: list[str] = []
    for case in cases:
        language = case["language"]
        findings = [
            (KINDS[d.kind], d.start, d.end) for d in sanitise.caller_details_in(case["text"])
        ]
        for span in case["spans"]:
            hit = any(
                k == span["kind"] and s < span["end"] and span["start"] < e for k, s, e in findings
            )
            counts[language, span["kind"], "labelled"] += 1
            counts[language, span["kind"], "found"] += hit
            if not hit:
                misses.append(f"missed {span['kind']} {span['text']!r} in {case['text']!r}")
        for kind, start, end in findings:
            right = any(
                kind == span["kind"] and start < span["end"] and span["start"] < end
                for span in case["spans"]
            )
            counts[language, kind, "findings"] += 1
            counts[language, kind, "right"] += right
            if not right:
                quoted = case["text"][start:end]
                misses.append(f"false alarm {kind} {quoted!r} in {case['text']!r}")
    return counts, misses


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:6.1%} ({part}/{whole})" if whole else "     - (0/0)"


def table(half: str, counts: Counter[tuple[str, str, str]]) -> list[str]:
    rows = [f"{half:<12} {'lang':<5} {'kind':<9} {'recall':<20} {'precision':<20} goal"]
    for language in sorted({key[0] for key in counts}):
        for kind in KINDS.values():
            labelled, found = counts[language, kind, "labelled"], counts[language, kind, "found"]
            findings, right = counts[language, kind, "findings"], counts[language, kind, "right"]
            met = (not labelled or found / labelled >= GOAL) and (
                not findings or right / findings >= GOAL
            )
            rows.append(
                f"{'':<12} {language:<5} {kind:<9} {ratio(found, labelled):<20} "
                f"{ratio(right, findings):<20} {'met' if met else 'BELOW'}"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the development misses")
    args = parser.parse_args()
    for half in HALVES:
        counts, misses = score(load(half))
        print("\n".join(table(half, counts)))
        if args.misses and half == "development":
            print("\n".join(f"  {m}" for m in misses))


if __name__ == "__main__":
    main()
