"""The follow-up step kinds: collect digits, say a reference, register, verify, question."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.diagram import to_dot
from ivr.flows.engine import AskDigits, CallState, Engine, Spoken, Turn
from ivr.flows.followup_steps import PRACTICE, PracticeDesk, reference_words
from ivr.flows.loader import load_flow_file
from tests.flows.test_validation import HOTLINE, line_of, problems_of


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_flow_file(HOTLINE).flow)


def heard(turn: Turn) -> str:
    return " ".join(u.text for u in turn.said if isinstance(u, Spoken))


class Desk(PracticeDesk):
    """Remembers what it was given; knows one reference, PIN and question."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, str]] = []

    def mint(self) -> str:
        return "123456789012"

    def register(self, reference: str, pin: str) -> bool:
        self.registered.append((reference, pin))
        return True

    def verify(self, reference: str, pin: str) -> str | None:
        return "report-1" if (reference, pin) == ("123456789012", "4826") else None

    def question(self, followup: str) -> tuple[str, str] | None:
        return ("Which station was it?", "en-GB") if followup == "report-1" else None


def at(step: str) -> CallState:
    return CallState(step=step, language="en-GB")


def test_a_reference_is_read_in_groups_the_same_on_every_repeat(engine: Engine) -> None:
    desk = Desk()
    state = at("offer_reference")
    first = engine.press(state, "1", desk)
    assert "1, 2, 3, 4. 5, 6, 7, 8. 9, 0, 1, 2." in heard(first) and first.fresh
    again = engine.press(state, "1", PRACTICE)  # a repeat never mints a new one
    assert "1, 2, 3, 4. 5, 6, 7, 8. 9, 0, 1, 2." in heard(again)
    engine.press(state, "2", desk)
    assert isinstance(engine.press(state, "4826#", desk).action, AskDigits)
    kept = engine.press(state, "4826", desk)
    assert desk.registered == [("123456789012", "4826")]
    assert "Your follow-up reference is ready" in heard(kept)
    assert "pin" not in state.vars and "pin_again" not in state.vars


def test_pins_that_differ_are_asked_for_again(engine: Engine) -> None:
    desk = Desk()
    state = at("choose_pin")
    state.vars["reference"] = "123456789012"
    engine.press(state, "4826", desk)
    turn = engine.press(state, "4827", desk)
    assert "The two PINs were not the same" in heard(turn)
    assert state.step == "choose_pin" and desk.registered == []


def test_a_pin_of_the_wrong_length_is_asked_for_again(engine: Engine) -> None:
    state = at("choose_pin")
    turn = engine.press(state, "12", Desk())
    assert state.step == "choose_pin" and "four to six digits" in heard(turn)


def test_the_right_details_lead_to_the_question_and_a_recording(engine: Engine) -> None:
    desk = Desk()
    state = at("follow_up")
    engine.press(state, "123456789012#", desk)
    turn = engine.press(state, "4826#", desk)
    assert "Our team has a question for you. Which station was it?" in heard(turn)
    assert state.step == "record_answer" and state.vars == {"followup": "report-1"}


def test_wrong_details_leave_nothing_keyed_behind(engine: Engine) -> None:
    turns = []
    for reference, pin in (("999999999999", "4826"), ("123456789012", "0000")):
        state = at("follow_up")
        engine.press(state, reference, Desk())
        turns.append((engine.press(state, pin, Desk()), state))
    (wrong_reference, first), (wrong_pin, second) = turns
    assert heard(wrong_reference) == heard(wrong_pin)
    assert "those details do not match" in heard(wrong_pin)
    assert first.vars == second.vars == {}


def test_without_a_question_the_caller_hears_a_neutral_message(engine: Engine) -> None:
    state = at("follow_up")
    engine.press(state, "123456789012", PRACTICE)
    turn = engine.press(state, "1234", PRACTICE)
    assert "There is no question for you at the moment" in heard(turn)


def test_reference_words_group_digits_by_four() -> None:
    assert reference_words("123456789012") == "1, 2, 3, 4. 5, 6, 7, 8. 9, 0, 1, 2."


def test_the_diagram_draws_every_follow_up_step() -> None:
    dot = to_dot(load_flow_file(HOTLINE).flow)
    assert '"check_details" [shape=hexagon' in dot
    assert '"check_details" -> "details_wrong" [style=dashed, label="wrong"]' in dot
    assert '"give_reference" [shape=note' in dot
    assert "4-6 digits into pin" in dot


COLLECT_FLOW = """\
name: small
default_language: en-GB
start: pin
languages:
  en-GB: {voice: Polly.Amy}
steps:
  pin:
    type: collect
    into: pin
    min_digits: 6
    max_digits: 4
    prompt: {en-GB: Key a PIN.}
    retries: 0
    next: ask
    otherwise: bye
  ask:
    type: question
    prompt: {en-GB: A question.}
    next: bye
  bye:
    type: hangup
"""


def test_follow_up_steps_are_validated_with_their_lines(tmp_path: Path) -> None:
    found = problems_of(COLLECT_FLOW, tmp_path)
    assert f"flow.yaml:{line_of(COLLECT_FLOW, '  ask:')}: ask.none: is required" in "\n".join(
        found
    ) or any("none" in problem for problem in found)
    fixed = COLLECT_FLOW.replace(
        "    prompt: {en-GB: A question.}\n",
        "    prompt: {en-GB: A question.}\n    none: {en-GB: None yet.}\n",
    )
    found = problems_of(fixed, tmp_path)
    assert found == [
        f"{tmp_path / 'flow.yaml'}:{line_of(fixed, 'min_digits')}: "
        "step 'pin': min_digits is more than max_digits"
    ]
