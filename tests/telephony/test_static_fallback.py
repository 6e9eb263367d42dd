"""The static fallback: fixed documents that take a report with no server of ours behind them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ivr.telephony import static_fallback
from ivr.telephony.static_fallback import FINISHED, WELSH, documents, language_of

# The attributes of TwiML that name another document (Twilio resolves them relative to
# the document they are in, https://www.twilio.com/docs/voice/twiml#relative-urls).
LINKS = ("action", "recordingStatusCallback", "statusCallback", "url")


def parsed() -> dict[str, ET.Element]:
    return {name: ET.fromstring(body) for name, body in documents().items()}  # noqa: S314


def test_every_link_leads_to_a_document_of_the_set_so_it_works_wherever_it_is_served() -> None:
    links = {
        element.get(attribute)
        for root in parsed().values()
        for element in root.iter()
        for attribute in LINKS
        if element.get(attribute)
    }
    assert links == {WELSH, *FINISHED.values()}
    assert links <= set(documents())


def test_nothing_in_the_set_reaches_a_server_of_ours_or_carries_a_secret() -> None:
    for name, body in documents().items():
        text = body.decode()
        assert "http" not in text, name  # no absolute URL: no host of ours, no token
        assert "recordingStatusCallback" not in text, name  # the edge is down: none to call
        assert "<Redirect" not in text, name


def test_each_language_gives_the_999_notice_before_it_records_in_its_own_channels() -> None:
    for language, document in (("en", static_fallback.ENTRY), ("cy", WELSH)):
        root = parsed()[document]
        said = [element.text or "" for element in root.iter("Say")]
        recording = next(root.iter("Recording"))
        assert any("999" in text for text in said), language
        assert recording.get("channels") == static_fallback.CHANNELS[language]
        # The notice comes before the recording starts, so it is not part of the report.
        verbs = [child.tag for child in root]
        assert verbs.index("Start") > verbs.index("Say")
    welsh_says = {element.get("language") for element in parsed()[WELSH].iter("Say")}
    assert welsh_says == {"cy-GB"}


def test_the_bilingual_greeting_leads_to_welsh_on_a_key_and_to_english_on_silence() -> None:
    entry = parsed()[static_fallback.ENTRY]
    gather = entry[0]
    assert gather.tag == "Gather" and gather.get("action") == WELSH
    assert gather.get("method") == "GET"  # a bucket answers GET only
    assert {say.get("language") for say in gather.iter("Say")} == {"en-GB", "cy-GB"}
    assert [child.tag for child in entry][1:3] == ["Say", "Start"]  # English on silence


def test_a_recordings_source_and_channels_tell_the_fallbacks_language_from_the_edges() -> None:
    # twilio-oai: api.v2010.account.recording's "source" (RecordVerb: the <Record> verb,
    # which the edge uses) and "channels"
    assert language_of("RecordVerb", 1) is None
    assert language_of("RecordVerb", 2) is None
    assert language_of("", 1) is None
    assert language_of("StartCallRecordingTwiML", 1) == "en-GB"
    assert language_of("StartCallRecordingTwiML", 2) == "cy-GB"


def test_the_version_changes_with_any_document() -> None:
    changed = {**documents(), WELSH: documents()[WELSH].replace(b"999", b"112")}
    assert static_fallback.version(changed) != static_fallback.version()
    assert static_fallback.version() == static_fallback.version(documents())
