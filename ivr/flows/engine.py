"""Walk a caller through a flow: pure logic, no HTTP and no database.

The engine moves a :class:`CallState` from step to step and returns a :class:`Turn`:
what the caller hears next and what the call waits for. Say and goto steps are passed
through at once, so a turn always ends at a step that waits (a menu, a confirmation, a
recording) or at the end of the call.

The follow-up steps (collect, reference, register, verify, question) reach the outside
world only through a :class:`FollowUpDesk`; the default practises (it keeps nothing and
accepts anything), for the ops console's test phone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import assert_never

from ivr.flows.followup_steps import PRACTICE, FollowUpDesk, follow_up
from ivr.flows.schema import (
    Audio,
    CollectStep,
    ConfirmStep,
    Flow,
    GotoStep,
    HangupStep,
    MenuStep,
    Prompt,
    QuestionStep,
    RecordStep,
    ReferenceStep,
    RegisterStep,
    SayStep,
    Speech,
    Step,
    VerifyStep,
    prompt_of,
    prompt_text,
)

DIGIT_KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "#")


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
    # Digits collected (reference, PIN) and the verified follow-up: sealed in the URL.
    vars: dict[str, str] = field(default_factory=dict)


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
class AskDigits(AskKeys):
    """Several digits, ended by '#' or by reaching ``max_digits`` (a kind of key asking)."""

    max_digits: int = 1


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
    action: AskKeys | AskDigits | RecordAudio | EndCall
    turn: int
    # It depends on this call alone (digits keyed, a reference, a question): never reuse it.
    fresh: bool = False


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

    def begin(self, desk: FollowUpDesk = PRACTICE) -> tuple[CallState, Turn]:
        """Start a call at the flow's first step."""
        state = CallState(step=self.flow.start, language=self.flow.default_language)
        return state, self._enter(state, self.flow.start, [], desk)

    def replay(self, state: CallState) -> Turn:
        """Say the current step again without changing anything (a repeated callback)."""
        step = self._step(state)
        prompt = prompt_of(step)
        said = self._utter(prompt, state.language, state.step) if prompt else []
        return Turn(tuple(said), self._action(state.step, step), state.turn)

    def press(self, state: CallState, digits: str, desk: FollowUpDesk = PRACTICE) -> Turn:
        """Handle the keys pressed at a menu, confirmation or collection ('' when none were).

        A caller leaving the first step (the welcome) hears the service announcement,
        if one is on, before anything else.
        """
        step = self._step(state)
        match step:
            case MenuStep() | ConfirmStep():
                at_start = state.step == self.flow.start
                turn = self._keys(state, step, digits[:1], desk)
                if at_start and state.step != self.flow.start:
                    return self._announced(state.language, turn)
                return turn
            case CollectStep():
                return replace(self._collect(state, step, digits, desk), fresh=True)
            case (
                SayStep()
                | RecordStep()
                | HangupStep()
                | GotoStep()
                | ReferenceStep()
                | RegisterStep()
                | VerifyStep()
                | QuestionStep()
            ):
                raise EngineError(f"the call is not waiting for a key at {state.step!r}")
            case _:
                assert_never(step)

    def recorded(self, state: CallState, got_audio: bool, desk: FollowUpDesk = PRACTICE) -> Turn:
        """Move on after a recording step; without audio, reprompt or take 'otherwise'."""
        step = self._step(state)
        match step:
            case RecordStep():
                if got_audio:
                    state.retries = 0
                    return self._enter(state, step.next, [], desk)
                return self._retry(
                    state, step.retries, step.reprompts, step.prompt, step.otherwise, desk
                )
            case (
                SayStep()
                | MenuStep()
                | ConfirmStep()
                | HangupStep()
                | GotoStep()
                | CollectStep()
                | ReferenceStep()
                | RegisterStep()
                | VerifyStep()
                | QuestionStep()
            ):
                raise EngineError(f"the call is not waiting for a recording at {state.step!r}")
            case _:
                assert_never(step)

    def _collect(
        self, state: CallState, step: CollectStep, digits: str, desk: FollowUpDesk
    ) -> Turn:
        keyed = digits.rstrip("#")
        if keyed.isdigit() and step.min_digits <= len(keyed) <= step.max_digits:
            state.vars[step.into] = keyed
            state.retries = 0
            return self._enter(state, step.next, [], desk)
        return self._retry(state, step.retries, step.reprompts, step.prompt, step.otherwise, desk)

    def _keys(
        self, state: CallState, step: MenuStep | ConfirmStep, key: str, desk: FollowUpDesk
    ) -> Turn:
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
            return self._enter(state, option.next, [], desk)
        return self._retry(state, step.retries, step.reprompts, step.prompt, step.fallback, desk)

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
        desk: FollowUpDesk,
    ) -> Turn:
        state.retries += 1
        if state.retries > allowed:
            state.retries = 0
            return self._enter(state, fallback, [], desk)
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

    def _enter(
        self, state: CallState, name: str, said: list[Utterance], desk: FollowUpDesk
    ) -> Turn:
        # Validation rules out loops of say/goto steps; the bound is a second guard.
        fresh = False
        for _ in range(len(self.flow.steps) + 1):
            step = self.flow.steps[name]
            if isinstance(step, ReferenceStep | RegisterStep | VerifyStep | QuestionStep):
                fresh = True
                name = self._follow_up(state, name, step, said, desk)
                continue
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
                case MenuStep() | ConfirmStep() | RecordStep() | HangupStep() | CollectStep():
                    if step.prompt:
                        said += self._utter(step.prompt, state.language, name)
                    state.step = name
                    state.retries = 0
                    state.turn += 1
                    fresh = fresh or isinstance(step, CollectStep)
                    return Turn(tuple(said), self._action(name, step), state.turn, fresh)
                case ReferenceStep() | RegisterStep() | VerifyStep() | QuestionStep():
                    raise AssertionError("handled above")
                case _:
                    assert_never(step)
        raise EngineError(f"steps loop without waiting, from {name!r}")

    def _follow_up(
        self,
        state: CallState,
        name: str,
        step: ReferenceStep | RegisterStep | VerifyStep | QuestionStep,
        said: list[Utterance],
        desk: FollowUpDesk,
    ) -> str:
        """Carry out a follow-up step that passes through; return the step that follows."""

        def utter(prompt: Prompt) -> list[Utterance]:
            return self._utter(prompt, state.language, name)

        def spoken(text: str, language: str | None = None) -> Spoken:
            known = language if language in self.flow.languages else state.language
            return self._spoken(text, known)

        return follow_up(state.vars, step, said, desk, utter, spoken)

    def _action(self, name: str, step: Step) -> AskKeys | AskDigits | RecordAudio | EndCall:
        """What the call waits for at ``step`` (named ``name``)."""
        match step:
            case MenuStep() | ConfirmStep():
                keys = tuple(step.options) + ((step.repeat_key,) if step.repeat_key else ())
                return AskKeys(name, step.timeout, keys)
            case CollectStep():
                return AskDigits(name, step.timeout, DIGIT_KEYS, step.max_digits)
            case RecordStep():
                return RecordAudio(name, step.part, step.max_length, step.silence)
            case HangupStep():
                return EndCall(name)
            case (
                SayStep()
                | GotoStep()
                | ReferenceStep()
                | RegisterStep()
                | VerifyStep()
                | QuestionStep()
            ):
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
