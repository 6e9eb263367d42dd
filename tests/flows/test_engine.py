"""The engine leads a caller through the national flow, whatever they press."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.engine import (
    AskKeys,
    CallState,
    EndCall,
    Engine,
    EngineError,
    RecordAudio,
    Spoken,
    Turn,
)
from ivr.flows.loader import load_flow_file
from ivr.flows.schema import STEP_TYPES, Audio, Speech, prompt_text

HOTLINE = Path(__file__).resolve().parents[2] / "call_flows" / "hotline.yaml"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow_file(HOTLINE).flow)


def heard(turn: Turn) -> str:
    return " ".join(getattr(u, "text", "") for u in turn.said)


def walk(engine: Engine, keys: list[str]) -> tuple[CallState, Turn]:
    state, turn = engine.begin()
    for key in keys:
        turn = engine.press(state, key)
    return state, turn


def test_the_welcome_offers_welsh_in_welsh(engine: Engine) -> None:
    _, turn = engine.begin()
    assert [(u.language, u.voice) for u in turn.said][1] == ("cy-GB", "Polly.Gwyneth")  # type: ignore[union-attr]
    assert "pwyswch 9" in heard(turn)
    assert turn.action == AskKeys("welcome", 4, ("1", "9", "*"))


def test_pressing_9_continues_the_whole_call_in_welsh(engine: Engine) -> None:
    state, turn = walk(engine, ["9"])
    assert state.language == "cy-GB"
    assert "ffoniwch 999" in heard(turn)
    assert {u.voice for u in turn.said} == {"Polly.Gwyneth"}  # type: ignore[union-attr]


def test_a_silent_caller_is_still_led_to_leave_a_report(engine: Engine) -> None:
    # No key at all, at every menu: welcome, main menu (x3), category (x2), anonymity (x2).
    state, turn = walk(engine, [""] * 8)
    assert isinstance(turn.action, RecordAudio)
    assert state.step == "record_report"
    assert "You will stay completely anonymous" in heard(turn)


def test_reprompts_escalate_before_the_safe_destination(engine: Engine) -> None:
    state, _ = walk(engine, ["1"])
    first = engine.press(state, "7")
    second = engine.press(state, "")
    assert heard(first).startswith("Sorry, I didn't get that.")
    assert "stay on the line" in heard(second)
    assert state.step == "main_menu"
    third = engine.press(state, "")
    assert state.step == "report_about"
    assert "What is your report about?" in heard(third)


def test_the_repeat_key_repeats_without_using_a_retry(engine: Engine) -> None:
    state, _ = walk(engine, ["1"])
    engine.press(state, "7")  # one wrong key uses one retry
    again = engine.press(state, "*")
    assert heard(again).startswith("To report corruption or abuse by a police officer")
    assert (state.step, state.retries) == ("main_menu", 1)


def test_menu_choices_are_remembered_for_the_report(engine: Engine) -> None:
    state, _ = walk(engine, ["1", "1", "4", "2"])
    assert state.choices == {
        "language": "en-GB",
        "category": "relationship_abuse",
        "anonymity": "contact",
    }


def test_contact_details_are_asked_for_only_when_chosen(engine: Engine) -> None:
    # An anonymous caller is offered a follow-up reference instead.
    for anonymity_key, next_step in (("1", "offer_reference"), ("2", "record_contact")):
        state, _ = walk(engine, ["1", "1", "1", anonymity_key])
        engine.recorded(state, got_audio=True)
        turn = engine.press(state, "1")  # send
        assert state.step == next_step
        assert isinstance(turn.action, AskKeys if next_step == "offer_reference" else RecordAudio)


def test_nothing_recorded_twice_ends_politely(engine: Engine) -> None:
    state, _ = walk(engine, ["1", "1", "1", "1"])
    retry = engine.recorded(state, got_audio=False)
    assert "We didn't hear anything" in heard(retry)
    end = engine.recorded(state, got_audio=False)
    assert isinstance(end.action, EndCall)
    assert "You can call this number again" in heard(end)


ANNOUNCEMENT = {
    "en-GB": "During our national appeal,   lines are busy.",
    "cy-GB": "Yn ystod ein hapêl, mae'r llinellau'n brysur.",
}


@pytest.mark.parametrize(
    ("key", "language", "voice"),
    [("1", "en-GB", "Polly.Amy"), ("9", "cy-GB", "Polly.Gwyneth"), ("", "en-GB", "Polly.Amy")],
    ids=["english", "welsh", "stays-on-the-line"],
)
def test_the_announcement_follows_the_welcome_in_the_callers_language(
    key: str, language: str, voice: str
) -> None:
    engine = Engine(load_flow_file(HOTLINE).flow, announcement=ANNOUNCEMENT.get)
    state, welcome = engine.begin()
    assert "national appeal" not in heard(welcome)
    assert "national appeal" not in heard(engine.press(state, "*"))  # still at the welcome
    after = engine.press(state, key)
    assert state.step == "main_menu"
    assert after.said[0] == Spoken(" ".join(ANNOUNCEMENT[language].split()), language, voice)
    assert "999" in heard(after)  # then the flow goes on as before
    assert "national appeal" not in heard(engine.press(state, "1"))  # only once


def test_no_announcement_is_heard_when_none_is_on() -> None:
    engine = Engine(load_flow_file(HOTLINE).flow, announcement=lambda _language: None)
    state, _ = engine.begin()
    assert heard(engine.press(state, "1")).startswith("If you, or anyone else")


def test_keys_or_audio_where_the_call_does_not_wait_for_them_are_refused(
    engine: Engine,
) -> None:
    at_recording, _ = walk(engine, ["1", "1", "1", "1"])
    with pytest.raises(EngineError):
        engine.press(at_recording, "1")
    at_menu, _ = walk(engine, ["1"])
    with pytest.raises(EngineError):
        engine.recorded(at_menu, got_audio=True)
    with pytest.raises(EngineError):  # a call never waits at a say step
        engine.replay(CallState(step="safety", language="en-GB"))


def test_step_types_are_the_kinds_of_step() -> None:
    assert STEP_TYPES == (
        "say",
        "menu",
        "confirm",
        "record",
        "hangup",
        "goto",
        "collect",
        "reference",
        "register",
        "verify",
        "question",
    )


def test_prompt_text_reads_every_piece_as_words() -> None:
    pieces = ("Press 1.\n  Or", Speech(say="pwyswch 9.", language="cy-GB"), Audio(audio="a.wav"))
    assert prompt_text(pieces) == "Press 1. Or pwyswch 9. (audio)"
    assert prompt_text((Audio(audio="a.wav", text="Hello."), Audio(audio="b.wav")), audio="") == (
        "Hello."
    )


def test_replay_changes_nothing(engine: Engine) -> None:
    state, turn = walk(engine, ["1", "1"])
    before = (state.step, state.turn, dict(state.choices))
    assert engine.replay(state).action == turn.action
    assert (state.step, state.turn, state.choices) == before


CONFIRM_FLOW = """\
name: confirm
default_language: en-GB
start: check
languages:
  en-GB: {voice: Polly.Amy}
categories: {}
steps:
  check:
    type: confirm
    prompt: {en-GB: "Did you want to leave contact details? Press 1 for yes, 2 for no."}
    yes: {next: contact, set: {anonymity: contact}}
    no: {next: anonymous, set: {anonymity: anonymous}}
    retries: 1
    reprompts:
      - {en-GB: "Please press 1 for yes or 2 for no."}
  contact:
    type: hangup
    prompt: {en-GB: "Contact it is."}
  anonymous:
    type: hangup
    prompt: {en-GB: "Anonymous it is."}
"""


@pytest.mark.parametrize(
    ("keys", "ending", "choices"),
    [
        (["1"], "Contact it is.", {"anonymity": "contact"}),
        (["2"], "Anonymous it is.", {"anonymity": "anonymous"}),
        # No answer leads where "yes" does, but is not taken as a "yes": nothing is recorded.
        (["", ""], "Contact it is.", {}),
    ],
)
def test_a_confirmation_takes_yes_no_or_its_default(
    tmp_path: Path, keys: list[str], ending: str, choices: dict[str, str]
) -> None:
    from ivr.flows.loader import load_flow_text

    engine = Engine(load_flow_text(CONFIRM_FLOW, "confirm.yaml", tmp_path).flow)
    state, turn = engine.begin()
    assert turn.action == AskKeys("check", 6, ("1", "2", "*"))
    for key in keys:
        turn = engine.press(state, key)
    assert heard(turn) == ending and state.choices == choices
