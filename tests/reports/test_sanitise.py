"""Catch what a caller says that could identify them, and not what they say about others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.reports.sanitise import CallerDetail, caller_details_in

CORPUS = Path(__file__).with_name("sanitise_corpus.yaml")


def found(text: str) -> list[tuple[str, str]]:
    return [(d.kind, d.text) for d in caller_details_in(text)]


def kinds(text: str) -> set[str]:
    return {d.kind for d in caller_details_in(text)}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ring me on 07700 900123", "07700 900123"),
        ("it's +44 7700 900123", "+44 7700 900123"),
        ("the office is (0113) 496 0000", "(0113) 496 0000"),
        ("the helpline 0808 157 0192", "0808 157 0192"),
        ("seven seven double oh nine hundred one two three", None),
        ("oh seven seven double oh, nine hundred, one two three", None),
        ("oh seven seven oh oh nine oh oh treble one", None),
        ("zero seven seven zero zero nine zero zero four five six", None),
        ("07700 nine hundred three two one", None),
        ("plus four four seven seven double oh nine hundred one one two", None),
    ],
)
def test_a_phone_number_is_found_written_or_spoken(text: str, number: str | None) -> None:
    [(kind, quoted)] = found(f"You can {text}, after six.")
    assert kind == "phone number"
    assert quoted == (number or text)  # quoted as said, so the console can highlight it


@pytest.mark.parametrize(
    "text",
    [
        "He took five thousand pounds in twenty nineteen.",
        "His collar number is 4521.",
        "I paid two hundred and fifty pounds.",
        "Oh, and there were three of them.",
        "The crime number was 13/123456/21.",
    ],
)
def test_money_years_and_collar_numbers_are_not_phone_numbers(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("email jo.bloggs@example.com today", "jo.bloggs@example.com"),
        ("it's jo dot bloggs at gmail dot com ok", "jo dot bloggs at gmail dot com"),
        (
            "it's jo underscore bloggs at hotmail dot co dot uk ok",
            "jo underscore bloggs at hotmail dot co dot uk",
        ),
        ("email me at sam dash jones at example dot org", "sam dash jones at example dot org"),
        ("it's jbloggs at gmail", "jbloggs at gmail"),
    ],
)
def test_an_email_address_is_found_written_or_spoken(text: str, email: str) -> None:
    assert found(text) == [("email address", email)]


def test_an_address_and_its_postcode_are_found() -> None:
    assert found("I live at 14 Acacia Avenue, LS1 4AB.") == [
        ("address", "14 Acacia Avenue"),
        ("postcode", "LS1 4AB"),
    ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I'm in flat 3, 22 Station Road now", "flat 3, 22 Station Road"),
        ("it's flat three, twenty two Station Road", "flat three, twenty two Station Road"),
        ("we're at 7 kirkgate close", "7 kirkgate close"),
        ("I live on Acacia Avenue near him", "Acacia Avenue"),
        ("my address is Rose Cottage, Little Snoring. He knows it", "Rose Cottage, Little Snoring"),
    ],
)
def test_street_addresses_are_found(text: str, address: str) -> None:
    assert found(text) == [("address", address)]


@pytest.mark.parametrize(
    ("text", "postcode"),
    [
        ("it's LS1 4AB", "LS1 4AB"),
        ("it's ls14ab", "ls14ab"),
        ("it's L S one four A B", "L S one four A B"),
        ("it's B S one, four D J", "B S one, four D J"),
    ],
)
def test_postcodes_are_found_written_or_spelled(text: str, postcode: str) -> None:
    assert found(text) == [("postcode", postcode)]


@pytest.mark.parametrize(
    "text",
    [
        "It was a two hour drive down the road.",
        "There are 3 police cars on Park Lane.",
        "He parks on Station Road most nights.",
        "He was on the A1 at 2 am.",
        "My address is on file, you have it.",
    ],
)
def test_distances_counts_and_a_bare_street_are_not_addresses(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My name is Sam Jones, ring me", "Sam Jones"),
        ("my name is jo bloggs and I work nights", "jo bloggs"),
        ("Hello, it's Jo Bloggs here.", "Jo Bloggs"),
        ("this is Jo Bloggs speaking", "Jo Bloggs"),
        ("I'm called Jo.", "Jo"),
        ("Just call me Jo.", "Jo"),
        ("Hi, I'm Dave, I work in custody.", "Dave"),
        ("My name is DC Jo Bloggs.", "Jo Bloggs"),
        ("this is Sergeant Tom Baker calling", "Tom Baker"),
    ],
)
def test_the_caller_naming_themselves_is_found(text: str, name: str) -> None:
    assert found(text) == [("the caller's name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "This is Leeds Bridewell.",
        "I am Inspector Morse's driver.",
        "this is about PC Smith",
        "it's the custody sergeant",
        "I'm a police officer",
        "It's Detective Sergeant Blake who leaks it.",
        "My name is not important.",
        "Call me back tomorrow.",
        "His name is PC Smith.",
        "I'm British.",
    ],
)
def test_places_ranks_roles_and_other_people_are_not_the_caller(text: str) -> None:
    assert found(text) == []


def test_each_detail_is_quoted_exactly_as_in_the_text_and_in_reading_order() -> None:
    text = "Call me Sam, I'm on oh seven seven double oh nine hundred one two three."
    details = caller_details_in(text)
    assert [d.kind for d in details] == ["the caller's name", "phone number"]
    assert all(isinstance(d, CallerDetail) and d.text in text for d in details)


def test_the_corpus_meets_the_precision_and_recall_goal() -> None:
    cases: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text())
    expected = {(i, kind) for i, case in enumerate(cases) for kind in case["kinds"]}
    detected = {(i, kind) for i, case in enumerate(cases) for kind in kinds(case["text"])}
    hits = expected & detected
    precision = len(hits) / len(detected)
    recall = len(hits) / len(expected)
    missed = sorted(f"{cases[i]['text']!r}: {kind}" for i, kind in expected - detected)
    wrong = sorted(f"{cases[i]['text']!r}: {kind}" for i, kind in detected - expected)
    summary = (
        f"{len(cases)} sentences ({sum(not c['kinds'] for c in cases)} with nothing to flag), "
        f"{len(expected)} expected details: precision {precision:.1%}, recall {recall:.1%}"
        + "".join(f"\n  missed {m}" for m in missed)
        + "".join(f"\n  wrongly flagged {w}" for w in wrong)
    )
    print(summary)
    assert len(cases) >= 100, summary
    assert recall >= 0.95 and precision >= 0.90, summary


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kyle Smart-Burns here, calling from Gateshead.", "Kyle Smart-Burns"),
        ("Yeah, the name's Mark James, I've rung before.", "Mark James"),
        ("My full name is Mark James, but keep it out.", "Mark James"),
        ("I, Mark James, want to tell you what happened.", "Mark James"),
        ("Me name's Gareth and I've had enough.", "Gareth"),
        ("Hi, I'm Gareth, I work in the control room.", "Gareth"),
        ("Bot: What's the name on the account? User: Alice Mills", "Alice Mills"),
    ],
)
def test_the_other_ways_callers_give_their_name_are_found(text: str, name: str) -> None:
    assert found(text) == [("the caller's name", name)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Fy enw i yw Siân Morgan.", "Siân Morgan"),
        ("Helo, fy enw i ydy Aled Rees.", "Aled Rees"),
        ("Catrin Evans ydw i, dw i'n byw yn Wrecsam.", "Catrin Evans"),
        ("Bore da, Rhodri Price sy'n siarad.", "Rhodri Price"),
        ("Iolo sy 'ma, dw i wedi ffonio o'r blaen.", "Iolo"),
        ("Galwch fi'n Bethan.", "Bethan"),
    ],
)
def test_a_welsh_caller_naming_themselves_is_found(text: str, name: str) -> None:
    assert found(text) == [("the caller's name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "PC Reece Moss took the money.",
        "It's Reece Moss, a PCSO in Leeds, who tips them off.",
        "Sergeant Smith told me to keep quiet.",
        "Cwnstabl Jones gymerodd yr arian.",
        "Swyddog ydw i.",
        "I'm ringing about Inspector Carole Taylor.",
    ],
)
def test_officers_the_caller_names_are_not_the_caller(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("We live on Church Lea, off the main road.", ("address", "Church Lea")),
        ("I'm at 13 O'Neill Green.", ("address", "13 O'Neill Green")),
        ("Dw i'n byw yn 7 Heol y Bont, Bangor.", ("address", "7 Heol y Bont")),
        ("Dw i'n byw ar Gilgant y Bont.", ("address", "Gilgant y Bont")),
        ("The postcode is Y O eight eight, nine A Y.", ("postcode", "Y O eight eight, nine A Y")),
        (
            "It's nathan sixty five at yahoo dot com.",
            ("email address", "nathan sixty five at yahoo dot com"),
        ),
    ],
)
def test_streets_of_any_type_welsh_addresses_and_broken_spellings_are_found(
    text: str, detail: tuple[str, str]
) -> None:
    assert found(text) == [detail]


def test_no_finding_runs_over_a_line_break() -> None:
    text = "It happened in January 2026\nRose Street, by the shop"
    assert all("\n" not in d.text for d in caller_details_in(text))
