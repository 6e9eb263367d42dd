"""The shape of a call-flow file, as the operations team writes it.

A flow is a set of named steps. Each prompt is given per language: as text to be
spoken, as an audio file, or as a list of pieces (a piece may be spoken in another
declared language, for a bilingual welcome).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, assert_never, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

# What a menu option can remember about the call, and the values each may take.
CHOICES: dict[str, tuple[str, ...] | None] = {
    "language": None,  # any declared language
    "category": None,  # any declared category
    "anonymity": ("anonymous", "contact"),
    "take": ("replace", "append"),  # how the next recording treats the previous one
}

Key = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]
StepName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")]
ChoiceName = Literal["language", "category", "anonymity", "take"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Audio(StrictModel):
    """A recorded prompt under ``call_flows/``; ``text`` is spoken if it cannot be played."""

    audio: str
    text: str | None = None


class Speech(StrictModel):
    """A piece spoken in another language than the caller's, e.g. the Welsh offer."""

    say: str
    language: str


def _one_piece(value: Any) -> Any:
    if isinstance(value, str | Audio | Speech):
        return value
    if isinstance(value, dict) and "audio" in value:
        return Audio.model_validate(value)
    if isinstance(value, dict) and "say" in value:
        return Speech.model_validate(value)
    raise ValueError("a prompt piece is text, {audio: FILE}, or {say: TEXT, language: TAG}")


def _pieces(value: Any) -> Any:
    """Normalise a prompt in one language to a list of pieces."""
    if value is None or value == "":
        raise ValueError("the prompt is empty")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("the prompt is empty")
    return tuple(_one_piece(item) for item in items)


Piece = str | Audio | Speech
Pieces = Annotated[tuple[Piece, ...], BeforeValidator(_pieces)]
# Language tag -> what to say in that language.
Prompt = dict[str, Pieces]


def prompt_text(pieces: Pieces, audio: str = "(audio)") -> str:
    """Return what ``pieces`` say as one line; a recording without its text reads as ``audio``."""
    words: list[str] = []
    for piece in pieces:
        match piece:
            case str():
                words.append(piece)
            case Speech():
                words.append(piece.say)
            case Audio():
                words.append(piece.text or audio)
            case _:
                assert_never(piece)
    return " ".join(" ".join(words).split())


def _option(value: Any) -> Any:
    return {"next": value} if isinstance(value, str) else value


class Option(StrictModel):
    """Where a key leads, and what choosing it records about the call."""

    next: StepName
    set: dict[ChoiceName, str] = Field(default_factory=dict)


OptionField = Annotated[Option, BeforeValidator(_option)]


class Asking(StrictModel):
    """Shared by the steps that wait for a key press."""

    prompt: Prompt
    timeout: int = Field(6, ge=1, le=30, description="seconds to wait for a key")
    retries: int = Field(2, ge=0, le=5, description="reprompts before 'otherwise'")
    reprompts: list[Prompt] = Field(default_factory=list)


class SayStep(StrictModel):
    type: Literal["say"]
    prompt: Prompt
    next: StepName


class MenuStep(Asking):
    type: Literal["menu"]
    options: dict[Key, OptionField] = Field(min_length=1)
    repeat_key: Key | None = "*"
    otherwise: StepName

    @property
    def fallback(self) -> str:
        return self.otherwise


class ConfirmStep(Asking):
    type: Literal["confirm"]
    yes: OptionField
    no: OptionField
    yes_key: Key = "1"
    no_key: Key = "2"
    otherwise: StepName | None = None  # defaults to where "yes" leads

    @property
    def options(self) -> dict[str, Option]:
        return {self.yes_key: self.yes, self.no_key: self.no}

    @property
    def repeat_key(self) -> str | None:
        return "*" if "*" not in (self.yes_key, self.no_key) else None

    @property
    def fallback(self) -> str:
        return self.otherwise or self.yes.next


class RecordStep(StrictModel):
    type: Literal["record"]
    prompt: Prompt
    # "answer": a follow-up caller's answer, joining the report their reference names.
    part: Literal["report", "contact", "answer"] = "report"
    max_length: int = Field(600, ge=10, le=3600, description="seconds")
    silence: int = Field(8, ge=2, le=60, description="seconds of silence that end it")
    next: StepName
    retries: int = Field(1, ge=0, le=3)
    reprompts: list[Prompt] = Field(default_factory=list)
    otherwise: StepName


class HangupStep(StrictModel):
    type: Literal["hangup"]
    prompt: Prompt | None = None


class Case(StrictModel):
    when: dict[ChoiceName, str] = Field(min_length=1)
    next: StepName


class GotoStep(StrictModel):
    type: Literal["goto"]
    next: StepName
    cases: list[Case] = Field(default_factory=list)


# What a collect step may remember: travels sealed in the callback URL, never stored.
VariableName = Literal["reference", "pin", "pin_again"]


class CollectStep(Asking):
    """Collect several digits (ended by '#') into a variable, e.g. a reference or a PIN."""

    type: Literal["collect"]
    into: VariableName
    min_digits: int = Field(4, ge=1, le=20)
    max_digits: int = Field(12, ge=1, le=20)
    next: StepName
    otherwise: StepName


class ReferenceStep(StrictModel):
    """Say the call's follow-up reference slowly, in groups (a new one on first arrival)."""

    type: Literal["reference"]
    prompt: Prompt  # said before the digits
    next: StepName


class RegisterStep(StrictModel):
    """Keep the reference with the PIN keyed twice, for the call's report."""

    type: Literal["register"]
    next: StepName
    mismatch: StepName  # the two PINs differ
    otherwise: StepName  # it could not be kept (the report is not in the database yet)


class VerifyStep(StrictModel):
    """Check the reference and PIN keyed; a wrong one of either goes to ``otherwise``."""

    type: Literal["verify"]
    next: StepName
    otherwise: StepName


class QuestionStep(StrictModel):
    """Say the holder's question (in its own language), or ``none`` when there is none."""

    type: Literal["question"]
    prompt: Prompt  # said before the question
    none: Prompt
    next: StepName


# Every kind of step. Add a new kind here: STEP_TYPES follows from it, and mypy names
# each ``match`` that must handle it (the engine, the checks, the diagram).
AnyStep = (
    SayStep
    | MenuStep
    | ConfirmStep
    | RecordStep
    | HangupStep
    | GotoStep
    | CollectStep
    | ReferenceStep
    | RegisterStep
    | VerifyStep
    | QuestionStep
)
Step = Annotated[AnyStep, Field(discriminator="type")]
# The ``type`` each kind is written with in a flow file: "say", "menu", ...
STEP_TYPES: tuple[str, ...] = tuple(
    tag for kind in get_args(AnyStep) for tag in get_args(kind.model_fields["type"].annotation)
)


def prompt_of(step: Step) -> Prompt | None:
    """Return what ``step`` says on arrival (a goto step says nothing, a hangup may not)."""
    match step:
        case (
            SayStep()
            | MenuStep()
            | ConfirmStep()
            | RecordStep()
            | HangupStep()
            | CollectStep()
            | ReferenceStep()
            | QuestionStep()
        ):
            return step.prompt
        case GotoStep() | RegisterStep() | VerifyStep():
            return None
        case _:
            assert_never(step)


class Language(StrictModel):
    voice: str = Field(description="text-to-speech voice, e.g. Polly.Amy")
    name: str = ""


class Flow(StrictModel):
    name: str
    description: str = ""
    languages: dict[str, Language] = Field(min_length=1)
    default_language: str
    start: StepName
    categories: dict[str, str] = Field(default_factory=dict)
    steps: dict[StepName, Step] = Field(min_length=1)
