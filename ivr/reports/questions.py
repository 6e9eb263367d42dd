"""The online form's questions, each declared once: the form, casework and the console read them.

A question is what a sender answers besides the category, their contact details, files
and a PIN. Its ``name`` is the form field, the key in the report's sealed text part and
the key the console reads back; its words are the form's (English and Welsh) and the
handler's; ``report_field`` names the report column the answer starts, when a handler
takes the report (``ivr.reports.online.fill_from_answers``). To add a question, add it
to ``QUESTIONS`` (and, if it feeds a new report field, that column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# The form's words in each of its languages: "en" and "cy".
Words = dict[str, str]


class Kind(StrEnum):
    TEXT = "text"  # a box for the sender's own words
    CHOICE = "choice"  # one of a few fixed answers, as radio buttons
    FORCE = "force"  # one of the forces in the database, or "not sure"


@dataclass(frozen=True)
class Choice:
    """One answer to a choice question, as the sender and the handler read it."""

    value: str
    label: Words
    handler: str


@dataclass(frozen=True)
class Question:
    name: str
    kind: Kind
    label: Words  # the form's label (a text box or the force) or legend (radio buttons)
    handler: str  # the console's label
    hint: Words = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()  # a choice's answers; the force's "not sure"
    required: Words = field(default_factory=dict)  # the error when not answered; {} if optional
    rows: int = 2  # a text box's height
    not_given: str = "not given"  # what the console says when there is no answer
    report_field: str | None = None  # the report column the answer starts, if any

    def shown(self, answer: str) -> str:
        """Return ``answer`` as the handler reads it."""
        if self.kind is Kind.CHOICE:
            return next((c.handler for c in self.choices if c.value == answer), self.not_given)
        return answer or self.not_given


NOT_SURE = Choice("not_sure", {"en": "I am not sure", "cy": "Dydw i ddim yn siŵr"}, "not sure")

# In the order the form asks them, and the handler reads them.
QUESTIONS: tuple[Question, ...] = (
    Question(
        "force",
        Kind.FORCE,
        label={
            "en": "Which police force do they work for?",
            "cy": "I ba heddlu maen nhw'n gweithio?",
        },
        handler="Force",
        # The first option, before the forces: sent as "", the handlers' "Unknown".
        choices=(Choice("", {"en": "I am not sure", "cy": "Dydw i ddim yn siŵr"}, "not sure"),),
        not_given="not sure",
    ),
    Question(
        "what",
        Kind.TEXT,
        label={"en": "What happened?", "cy": "Beth ddigwyddodd?"},
        handler="What happened",
        hint={
            "en": "Say what they did, in your own words. For example: an officer took money to drop a case.",
            "cy": "Dywedwch beth wnaethon nhw, yn eich geiriau eich hun. Er enghraifft: cymerodd swyddog arian i ollwng achos.",
        },
        required={"en": "Tell us what happened", "cy": "Dywedwch wrthym beth ddigwyddodd"},
        rows=6,
        not_given="",
        report_field="transcript",
    ),
    Question(
        "who",
        Kind.TEXT,
        label={"en": "Who was involved?", "cy": "Pwy oedd yn gysylltiedig?"},
        handler="Who",
        hint={
            "en": "Names, job titles, collar numbers or what they look like. For example: PC Smith, about 40, works at the town centre station.",
            "cy": "Enwau, swyddi, rhifau coler neu sut maen nhw'n edrych. Er enghraifft: PC Smith, tua 40 oed, yn gweithio yng ngorsaf canol y dref.",
        },
        rows=3,
        report_field="people",
    ),
    Question(
        "when",
        Kind.TEXT,
        label={"en": "When did it happen?", "cy": "Pryd ddigwyddodd e?"},
        handler="When",
        hint={
            "en": "A date, a time of day, or how long ago. For example: last Friday night, or every week since March.",
            "cy": "Dyddiad, amser o'r dydd, neu faint yn ôl. Er enghraifft: nos Wener diwethaf, neu bob wythnos ers mis Mawrth.",
        },
        report_field="when_text",
    ),
    Question(
        "where",
        Kind.TEXT,
        label={"en": "Where did it happen?", "cy": "Ble ddigwyddodd e?"},
        handler="Where",
        hint={
            "en": "A place, a street, a station or a website. For example: the car park behind the High Street.",
            "cy": "Lle, stryd, gorsaf neu wefan. Er enghraifft: y maes parcio y tu ôl i'r Stryd Fawr.",
        },
        report_field="where_text",
    ),
    Question(
        "duty",
        Kind.CHOICE,
        label={
            "en": "Were they at work when it happened?",
            "cy": "Oedden nhw yn y gwaith pan ddigwyddodd e?",
        },
        handler="On or off duty",
        choices=(
            Choice(
                "on", {"en": "On duty (at work)", "cy": "Ar ddyletswydd (yn y gwaith)"}, "on duty"
            ),
            Choice(
                "off",
                {"en": "Off duty (not at work)", "cy": "Oddi ar ddyletswydd (ddim yn y gwaith)"},
                "off duty",
            ),
            NOT_SURE,
        ),
    ),
    Question(
        "setting",
        Kind.CHOICE,
        label={
            "en": "Did it happen in person or online?",
            "cy": "Ddigwyddodd e wyneb yn wyneb neu ar-lein?",
        },
        handler="In person or online",
        choices=(
            Choice("in_person", {"en": "In person", "cy": "Wyneb yn wyneb"}, "in person"),
            Choice(
                "online",
                {
                    "en": "Online, by phone or by message",
                    "cy": "Ar-lein, dros y ffôn neu mewn neges",
                },
                "online",
            ),
            Choice("both", {"en": "Both", "cy": "Y ddau"}, "both"),
            NOT_SURE,
        ),
    ),
)

NAMES: tuple[str, ...] = tuple(q.name for q in QUESTIONS)
BY_NAME: dict[str, Question] = {q.name: q for q in QUESTIONS}
