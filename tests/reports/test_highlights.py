"""Each finding of the sanitisation checks is placed in the field it was found in."""

from __future__ import annotations

from ivr.models.reports import Report
from ivr.reports.highlights import highlights, paragraphs
from ivr.reports.sanitise import caller_details_in
from ivr.reports.workflow import caller_details


def report(**fields: str) -> Report:
    blank = {"transcript": "", "people": "", "what": "", "when_text": "", "where_text": ""}
    return Report(**{**blank, **fields})


def test_each_finding_is_placed_in_its_field_exactly() -> None:
    found = report(
        transcript="He said to ring 07700 900123.\nMy name is Sam Jones",
        people="A sergeant",
        where_text="14 Acacia Avenue, LS1 4AB",
    )
    placed = highlights(found)
    assert {(h.field, h.text) for h in placed} == {
        ("transcript", "07700 900123"),
        ("transcript", "Sam Jones"),
        ("where_text", "14 Acacia Avenue"),
        ("where_text", "LS1 4AB"),
    }
    for h in placed:
        assert getattr(found, h.field)[h.start : h.end] == h.text


def test_a_finding_knows_where_it_is_in_the_text() -> None:
    text = "call me on oh seven seven double oh nine hundred one two three"
    (detail,) = caller_details_in(text)
    assert text[detail.start : detail.end] == detail.text == text[11:]


def test_the_readable_transcript_keeps_paragraphs_and_marks() -> None:
    found = report(transcript="First.\r\n\r\nMy name is Sam Jones.\nThen more.")
    spans = [h for h in highlights(found) if h.field == "transcript"]
    shown = paragraphs(found.transcript, spans)
    assert [[text for text, _ in p] for p in shown] == [
        ["First."],
        ["My name is ", "Sam Jones", ".\nThen more."],
    ]
    assert shown[1][1][1] is not None and shown[1][1][1].kind == "the caller's name"
    assert shown[1][0][1] is None


def test_no_finding_joins_the_end_of_one_field_to_the_next() -> None:
    # Given a report whose When ends in a year and whose Where starts with a street
    found = report(when_text="Last January 2026", where_text="Rose Street, by the shop")
    # When its findings are placed, then none of them is an address made of the two
    placed = highlights(found)
    assert not any(h.kind == "address" for h in placed)
    for h in placed:
        assert getattr(found, h.field)[h.start : h.end] == h.text
    # And the warnings given when the handler submits say the same
    assert not any(detail.kind == "address" for detail in caller_details(found))
