"""Each kind of call action becomes its own TwiML, with the call's state in every callback."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from ivr.flows.engine import AskDigits, AskKeys, EndCall, Played, RecordAudio, Spoken, Turn
from ivr.webhooks.twiml import RECORDING_EVENTS, CallbackUrls, render_turn

URLS = CallbackUrls("https://ivr.example")
STATE = {"s": "sealed-state"}
SAID = (Spoken("Hello", "en-GB", "Polly.Amy"), Played("menu.mp3", None))


def rendered(action: AskKeys | AskDigits | RecordAudio | EndCall) -> ET.Element:
    twiml = render_turn(Turn(SAID, action, 1), STATE, URLS)
    return ET.fromstring(twiml)  # noqa: S314 - TwiML from the code under test


def query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlsplit(url).query)


def said(parent: ET.Element) -> list[tuple[str, str | None]]:
    return [(child.tag, child.text) for child in parent if child.tag in ("Say", "Play")]


EXPECTED_SAID = [("Say", "Hello"), ("Play", "https://ivr.example/twilio/prompts/menu.mp3")]


def test_asking_for_digits_gathers_them_up_to_hash() -> None:
    twiml = rendered(AskDigits("reference", timeout=7, keys=(), max_digits=9))
    gather, redirect = list(twiml)
    assert (gather.tag, redirect.tag) == ("Gather", "Redirect")
    assert gather.attrib["numDigits"] == "9"
    assert gather.attrib["finishOnKey"] == "#"
    assert gather.attrib["timeout"] == "7"
    assert said(gather) == EXPECTED_SAID  # inside the Gather: callers may key ahead
    assert gather.attrib["action"] == redirect.text
    assert query(redirect.text) == {"s": ["sealed-state"]}


def test_asking_for_a_key_gathers_one_and_hash_is_a_key() -> None:
    twiml = rendered(AskKeys("menu", timeout=5, keys=("1", "#")))
    gather, redirect = list(twiml)
    assert (gather.tag, redirect.tag) == ("Gather", "Redirect")
    assert (gather.attrib["numDigits"], gather.attrib["finishOnKey"]) == ("1", "")
    assert said(gather) == EXPECTED_SAID
    assert urlsplit(redirect.text).path == "/twilio/gather"


def test_recording_carries_its_part_and_falls_through_as_nothing_recorded() -> None:
    twiml = rendered(RecordAudio("report", part="report", max_length=300, silence=10))
    assert said(twiml) == EXPECTED_SAID
    record = twiml.find("Record")
    redirect = twiml.find("Redirect")
    assert record is not None and redirect is not None
    assert record.attrib["maxLength"] == "300"
    assert record.attrib["recordingStatusCallbackEvent"] == RECORDING_EVENTS
    assert query(record.attrib["action"]) == {"s": ["sealed-state"], "part": ["report"]}
    assert query(record.attrib["recordingStatusCallback"])["part"] == ["report"]
    assert query(redirect.text)["nothing"] == ["1"]


def test_ending_the_call_says_goodbye_and_hangs_up() -> None:
    twiml = rendered(EndCall("goodbye"))
    assert [child.tag for child in twiml] == ["Say", "Play", "Hangup"]


def test_an_action_outside_the_closed_set_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        render_turn(Turn(SAID, object(), 1), STATE, URLS)  # type: ignore[arg-type]
