"""Walk a caller through a flow: pure logic, no HTTP and no database.

The engine moves a :class:`CallState` from step to step and returns a :class:`Turn`:
what the caller hears next and what the call waits for. Say and goto steps are passed
through at once, so a turn always ends at a step that waits (a menu, a confirmation, a
recording) or at the end of the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import assert_never

from ivr.flows.schema import (
    Audio,
    ConfirmStep,
    Flow,
    GotoStep,
    HangupStep,
    MenuStep,
    Prompt,
    RecordStep,
    SayStep,
    Speech,
    Step,
    prompt_of,
    prompt_text,
)


class EngineError(Exception):
    """The call state does not fit the flow (a bug or a stale state): use the fallback."""


@dataclass
class CallState:
    """Where one call is. ``turn`` counts the turns, so stale callbacks can be recognised."""

    step: str
    language: str
    retries: int = 0
    turn: int = 0
    choices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Spoken:
    text: str
    language: str
    voice: str


@dataclass(frozen=True)
class Played:
    audio: str  # path under the flow's folder
    fallback: Spoken | None


Utterance = Spoken | Played


@dataclass(frozen=True)
class AskKeys:
    step: str
    timeout: int
    # '#' may be a menu option, in which case it must not end the input.
    keys: tuple[str, ...]


@dataclass(frozen=True)
class RecordAudio:
    step: str
    part: str
    max_length: int
    silence: int


@dataclass(frozen=True)
class EndCall:
    step: str


@dataclass(frozen=True)
class Turn:
    """What the caller hears, then what the call waits for, at turn number ``turn``."""

    said: tuple[Utterance, ...]
    action: AskKeys | RecordAudio | EndCall
    turn: int


# (step, language) -> the id of an uploaded recording to play instead of the text.
RecordedPrompts = Callable[[str, str], str | None]
# language -> the service announcement's text, while one is switched on.
Announcements = Callable[[str], str | None]


def no_recorded_prompts(_step: str, _language: str) -> str | None:
    return None


def no_announcement(_language: str) -> str | None:
    return None


class Engine:
    """Move calls through one flow."""

    def __init__(
        self,
        flow: Flow,
        recorded: RecordedPrompts = no_recorded_prompts,
        announcement: Announcements = no_announcement,
    ) -> None:
        self.flow = flow
        self._recorded = recorded
        self._announcement = announcement

    def begin(self) -> tuple[CallState, Turn]:
        """Start a call at the flow's first step."""
        state = CallState(step=self.flow.start, language=self.flow.default_language)
        return state, self._enter(state, self.flow.start, [])

    def replay(self, state: CallState) -> Turn:
        """Say the current step again without changing anything (a repeated callback)."""
        step = self._step(state)
        prompt = prompt_of(step)
        said = self._utter(prompt, state.language, state.step) if prompt else []
        return Turn(tuple(said), self._action(state.step, step), state.turn)

    def press(self, state: CallState, digits: str) -> Turn:
        """Handle the keys pressed at a menu or confirmation ('' when none were).

        A caller leaving the first step (the welcome) hears the service announcement,
        if one is on, before anything else.
        """
        step = self._step(state)
        match step:
            case MenuStep() | ConfirmStep():
                at_start = state.step == self.flow.start
                turn = self._keys(state, step, digits[:1])
                if at_start and state.step != self.flow.start:
                    return self._announced(state.language, turn)
                return turn
            case SayStep() | RecordStep() | HangupStep() | GotoStep():
                raise EngineError(f"the call is not waiting for a key at {state.step!r}")
            case _:
                assert_never(step)

    def recorded(self, state: CallState, got_audio: bool) -> Turn:
        """Move on after a recording step; without audio, reprompt or take 'otherwise'."""
        step = self._step(state)
        match step:
            case RecordStep():
                if got_audio:
                    state.retries = 0
                    return self._enter(state, step.next, [])
                return self._retry(state, step.retries, step.reprompts, step.prompt, step.otherwise)
            case SayStep() | MenuStep() | ConfirmStep() | HangupStep() | GotoStep():
                raise EngineError(f"the call is not waiting for a recording at {state.step!r}")
            case _:
                assert_never(step)

    def _keys(self, state: CallState, step: MenuStep | ConfirmStep, key: str) -> Turn:
        if key and key == step.repeat_key:
            state.turn += 1
            return Turn(
                tuple(self._utter(step.prompt, state.language, state.step)),
                self._action(state.step, step),
                state.turn,
            )
        option = step.options.get(key) if key else None
        if option is not None:
            for choice, value in option.set.items():
                state.choices[choice] = value
                if choice == "language":
                    state.language = value
            state.retries = 0
            return self._enter(state, option.next, [])
        return self._retry(state, step.retries, step.reprompts, step.prompt, step.fallback)

    def _announced(self, language: str, turn: Turn) -> Turn:
        """Put the service announcement (if one is on) before what ``turn`` says."""
        text = self._announcement(language)
        if not text:
            return turn
        return replace(turn, said=(self._spoken(text, language), *turn.said))

    def _retry(
        self,
        state: CallState,
        allowed: int,
        reprompts: list[Prompt],
        prompt: Prompt,
        fallback: str,
    ) -> Turn:
        state.retries += 1
        if state.retries > allowed:
            state.retries = 0
            return self._enter(state, fallback, [])
        # Reprompts escalate: the n-th retry hears the n-th reprompt (the last one repeats).
        reprompt = reprompts[min(state.retries, len(reprompts)) - 1] if reprompts else prompt
        state.turn += 1
        return Turn(
            tuple(self._utter(reprompt, state.language)),
            self._action(state.step, self.flow.steps[state.step]),
            state.turn,
        )

    def _step(self, state: CallState) -> Step:
        step = self.flow.steps.get(state.step)
        if step is None:
            raise EngineError(f"no step {state.step!r} in this flow version")
        return step

    def _enter(self, state: CallState, name: str, said: list[Utterance]) -> Turn:
        # Validation rules out loops of say/goto steps; the bound is a second guard.
        for _ in range(len(self.flow.steps) + 1):
            step = self.flow.steps[name]
            match step:
                case SayStep():
                    said += self._utter(step.prompt, state.language, name)
                    name = step.next
                case GotoStep():
                    name = next(
                        (
                            case.next
                            for case in step.cases
                            if all(state.choices.get(k) == v for k, v in case.when.items())
                        ),
                        step.next,
                    )
                case MenuStep() | ConfirmStep() | RecordStep() | HangupStep():
                    if step.prompt:
                        said += self._utter(step.prompt, state.language, name)
                    state.step = name
                    state.retries = 0
                    state.turn += 1
                    return Turn(tuple(said), self._action(name, step), state.turn)
                case _:
                    assert_never(step)
        raise EngineError(f"steps loop without waiting, from {name!r}")

    def _action(self, name: str, step: Step) -> AskKeys | RecordAudio | EndCall:
        """What the call waits for at ``step`` (named ``name``)."""
        match step:
            case MenuStep() | ConfirmStep():
                keys = tuple(step.options) + ((step.repeat_key,) if step.repeat_key else ())
                return AskKeys(name, step.timeout, keys)
            case RecordStep():
                return RecordAudio(name, step.part, step.max_length, step.silence)
            case HangupStep():
                return EndCall(name)
            case SayStep() | GotoStep():
                raise EngineError(f"a call never waits at {name!r}: it passes through")
            case _:
                assert_never(step)

    def _utter(self, prompt: Prompt, language: str, step: str | None = None) -> list[Utterance]:
        pieces = prompt.get(language) or prompt[self.flow.default_language]
        uploaded = self._recorded(step, language) if step else None
        if uploaded:
            # A recorded prompt replaces the text; the text stays as what it says.
            text = prompt_text(pieces, audio="")
            return [Played(f"uploaded/{uploaded}", self._spoken(text, language) if text else None)]
        said: list[Utterance] = []
        for piece in pieces:
            match piece:
                case str():
                    said.append(self._spoken(piece, language))
                case Speech():
                    said.append(self._spoken(piece.say, piece.language))
                case Audio():
                    fallback = self._spoken(piece.text, language) if piece.text else None
                    said.append(Played(piece.audio, fallback))
                case _:
                    assert_never(piece)
        return said

    def _spoken(self, text: str, language: str) -> Spoken:
        return Spoken(" ".join(text.split()), language, self.flow.languages[language].voice)
