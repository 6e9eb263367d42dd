"""What the ops console's test phone shows of one turn of a call: what was heard, what
the call waits for, and the current step's prompt in every language."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from ivr.flows.engine import AskDigits, AskKeys, EndCall, Played, RecordAudio, Spoken, Turn
from ivr.flows.schema import Flow, prompt_of, prompt_text


def heard(turn: Turn, audio_url: Callable[[str], str]) -> list[dict[str, str]]:
    """What the caller hears; an uploaded recording carries ``audio_url(its id)`` to play."""
    said: list[dict[str, str]] = []
    for utterance in turn.said:
        match utterance:
            case Spoken():
                said.append({"language": utterance.language, "text": utterance.text})
            case Played():
                item = {"language": "audio", "text": f"(recording {utterance.audio})"}
                if utterance.audio.startswith("uploaded/"):
                    item["audio"] = audio_url(utterance.audio.removeprefix("uploaded/"))
                said.append(item)
            case _:
                assert_never(utterance)
    return said


def waiting(turn: Turn) -> str:
    """What the call waits for next."""
    action = turn.action
    match action:
        case AskDigits():
            return f"up to {action.max_digits} digits, then #"
        case AskKeys():
            return "keys: " + " ".join(action.keys)
        case RecordAudio():
            return "a recording"
        case EndCall():
            return "the end of the call"
        case _:
            assert_never(action)


def digits_wanted(turn: Turn) -> int:
    """How many digits the call collects before '#' (1 at a menu, 0 when not asking)."""
    action = turn.action
    if isinstance(action, AskDigits):
        return action.max_digits
    return 1 if isinstance(action, AskKeys) else 0


def prompts(flow: Flow, step: str) -> dict[str, str]:
    """The step's prompt in every language, as text."""
    prompt = prompt_of(flow.steps[step]) if step in flow.steps else None
    return {language: prompt_text(pieces) for language, pieces in (prompt or {}).items()}
