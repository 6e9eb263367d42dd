"""Render engine turns as TwiML, only through twilio's ``VoiceResponse``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never
from urllib.parse import quote, urlencode

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.flows.engine import (
    AskDigits,
    AskKeys,
    EndCall,
    Played,
    RecordAudio,
    Spoken,
    Turn,
    Utterance,
)

# Recording status events that feed the fetch job.
RECORDING_EVENTS = "completed absent"


class CallbackUrls:
    """Absolute callback URLs under the public base Twilio calls us at."""

    def __init__(self, public_base: str) -> None:
        self.base = public_base

    def url(self, path: str, **query: str | int) -> str:
        return f"{self.base}/twilio/{path}" + (f"?{urlencode(query)}" if query else "")

    def prompt(self, audio: str) -> str:
        return f"{self.base}/twilio/prompts/{quote(audio)}"


def render_turn(turn: Turn, state: Mapping[str, str], urls: CallbackUrls) -> str:
    """Return the TwiML for one turn of a call whose state (after the turn) is ``state``.

    The state goes into every callback URL, so the next step needs nothing stored.
    """
    response = VoiceResponse()
    action = turn.action
    # Over the closed set of call actions: a new kind makes mypy name this place.
    match action:
        case AskDigits():  # before AskKeys, which it extends
            target = urls.url("gather", **state)
            # A reference or PIN: the caller keys its digits and then '#'.
            gather = response.gather(
                action=target,
                method="POST",
                input="dtmf",
                num_digits=action.max_digits,
                timeout=action.timeout,
                finish_on_key="#",
                action_on_empty_result=True,
            )
            for utterance in turn.said:
                _utter(gather, utterance, urls)
            response.redirect(target, method="POST")
        case AskKeys():
            target = urls.url("gather", **state)
            # Prompts go inside <Gather> so callers who know the menu can key ahead.
            gather = response.gather(
                action=target,
                method="POST",
                input="dtmf",
                num_digits=1,
                timeout=action.timeout,
                finish_on_key="",
                action_on_empty_result=True,
            )
            for utterance in turn.said:
                _utter(gather, utterance, urls)
            # If Twilio ever falls through the Gather, treat it as "no key pressed".
            response.redirect(target, method="POST")
        case RecordAudio():
            for utterance in turn.said:
                _utter(response, utterance, urls)
            response.record(
                action=urls.url("recorded", **state, part=action.part),
                method="POST",
                max_length=action.max_length,
                timeout=action.silence,
                finish_on_key="#",
                play_beep=True,
                trim="trim-silence",
                # The status callback may come first: it carries the choices the report needs.
                recording_status_callback=urls.url("recording-status", **state, part=action.part),
                recording_status_callback_method="POST",
                recording_status_callback_event=RECORDING_EVENTS,
            )
            # Twilio skips the action and falls through here when nothing was recorded.
            response.redirect(
                urls.url("recorded", **state, part=action.part, nothing=1),
                method="POST",
            )
        case EndCall():
            for utterance in turn.said:
                _utter(response, utterance, urls)
            response.hangup()
        case _:
            assert_never(action)
    return str(response)


def _utter(parent: VoiceResponse | Gather, utterance: Utterance, urls: CallbackUrls) -> None:
    match utterance:
        case Spoken():
            parent.say(utterance.text, voice=utterance.voice, language=utterance.language)
        case Played():
            parent.play(urls.prompt(utterance.audio))
        case _:
            assert_never(utterance)


# The fallback must work when nothing else does: no database, no flow file.
FALLBACK_PROMPTS = (
    Spoken(
        "Welcome to the Anti-Corruption and Abuse Reporting Service. We are sorry, our "
        "phone menu is not available right now, but you can still leave your report. Your "
        "number is not seen or kept. Please speak after the tone, and press hash when you "
        "have finished.",
        "en-GB",
        "Polly.Amy",
    ),
    Spoken(
        "Croeso i'r Gwasanaeth Adrodd am Lygredd a Chamdriniaeth. Mae'n ddrwg gennym, nid yw "
        "ein bwydlen ffôn ar gael ar hyn o bryd, ond gallwch adael eich adroddiad o hyd. Nid "
        "ydym yn gweld nac yn cadw eich rhif. Siaradwch ar ôl y tôn, a phwyswch hash pan "
        "fyddwch wedi gorffen.",
        "cy-GB",
        "Polly.Gwyneth",
    ),
)
FALLBACK_THANKS = (
    Spoken("Thank you. Your report has been received. Goodbye.", "en-GB", "Polly.Amy"),
    Spoken("Diolch. Rydym wedi derbyn eich adroddiad. Hwyl fawr.", "cy-GB", "Polly.Gwyneth"),
)
FALLBACK_MAX_LENGTH = 600


def render_fallback(urls: CallbackUrls) -> str:
    """TwiML that lets a caller leave a report with nothing but Twilio behind it."""
    response = VoiceResponse()
    for utterance in FALLBACK_PROMPTS:
        _utter(response, utterance, urls)
    response.record(
        action=urls.url("fallback-recorded"),
        method="POST",
        max_length=FALLBACK_MAX_LENGTH,
        timeout=10,
        finish_on_key="#",
        play_beep=True,
        trim="trim-silence",
        recording_status_callback=urls.url("recording-status", part="report", source="fallback"),
        recording_status_callback_method="POST",
        recording_status_callback_event=RECORDING_EVENTS,
    )
    for utterance in FALLBACK_THANKS:
        _utter(response, utterance, urls)
    response.hangup()
    return str(response)


def render_goodbye(urls: CallbackUrls) -> str:
    response = VoiceResponse()
    for utterance in FALLBACK_THANKS:
        _utter(response, utterance, urls)
    response.hangup()
    return str(response)


# The answer to a text sent to the hotline's number: we take reports by phone and online
# only (a text stays in the carrier's logs, and ours would keep the sender's number).
TEXT_ANSWER = (
    "This number takes calls, not texts: your message has not been read and is being "
    "deleted. To report corruption or abuse by anyone in policing, call this number free, "
    "or report online at {online}. You can stay anonymous. In an emergency call 999. / "
    "Mae'r rhif hwn yn derbyn galwadau, nid negeseuon testun. I roi gwybod, ffoniwch y rhif "
    "hwn am ddim neu ewch i {online_cy}. Mewn argyfwng ffoniwch 999."
)


def render_text_answer(urls: CallbackUrls) -> str:
    """Answer a text with how to report; Twilio tells ``sms-status`` when the answer settles,
    with its SID, so that its log (the sender's number in it) is erased too."""
    response = MessagingResponse()
    response.message(
        TEXT_ANSWER.format(online=f"{urls.base}/report", online_cy=f"{urls.base}/report/cy"),
        action=urls.url("sms-status"),
        method="POST",
    )
    return str(response)
