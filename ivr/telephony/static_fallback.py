"""The static fallback: TwiML documents that take a report with no server of ours behind them.

Twilio asks the number's Voice Fallback URL when the Voice URL fails: a bad deploy, the
load balancer, the whole region. ``ivr twilio fallback publish`` writes this set to a
place that does not share the edge's fate (a small public bucket in another region, see
``infra/fallback.yaml``), and ``ivr twilio provision`` points the fallback URL at it.

Static means every document is fixed text: no secret, nothing about the caller, and every
link relative, so the set works wherever it is served. Twilio fetches each with GET (a
bucket answers nothing else), which puts Twilio's parameters, the caller's number among
them, in the query string: the bucket must keep no access log (the stack says so).

The caller hears the 999 notice and records after it, in English, or in Welsh after
pressing a key at the bilingual greeting. The recording stays at Twilio until the edge
is back, when reconciliation finds it (``ivr.worker.reconcile``). Nothing a static
document does can be read back from Twilio's API within seconds except the recording
itself, so the recording carries the language: both languages record with
``<Start><Recording>`` (Twilio's ``source`` is then not ``RecordVerb``, which every
recording the edge asks for is), English in one channel and Welsh in two (Twilio's
published ``channels`` field).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, Start, VoiceResponse

ENTRY = "voice.xml"  # the document the Voice Fallback URL names
WELSH = "cy.xml"
FINISHED = {"en": "finished-en.xml", "cy": "finished-cy.xml"}
# A recording's channels tell its language (see the module's docstring), by the call
# flow's language tags, which reports keep.
CHANNELS = {"en": "mono", "cy": "dual"}
LANGUAGE_BY_CHANNELS = {1: "en-GB", 2: "cy-GB"}
# The longest report the fallback takes: then the call thanks the caller and ends.
MAX_SECONDS = 600
# Twilio names a recording the edge asked for with <Record> so; the fallback's are not.
EDGE_RECORDING_SOURCE = "RecordVerb"


@dataclass(frozen=True)
class Words:
    greeting: str
    notice: str  # the 999 notice, then how to leave a report
    speak_now: str
    thanks: str
    time_up: str
    language: str  # Twilio's <Say> language
    voice: str


ENGLISH = Words(
    greeting="Anti-Corruption and Abuse Reporting Service.",
    notice=(
        "If you or someone else is in danger right now, hang up and call 999. "
        "We are sorry, our phone menu is not available at the moment, but you can still "
        "leave your report. We do not see or keep your number. Tell us what happened, "
        "after the word now. When you have finished, press hash, or hang up."
    ),
    speak_now="Please speak now.",
    thanks="Thank you. Your report has been received. Goodbye.",
    time_up="Thank you, that is as long as a report can be. It has been received. Goodbye.",
    language="en-GB",
    voice="Polly.Amy",
)
WELSH_WORDS = Words(
    greeting=("Gwasanaeth Adrodd am Lygredd a Chamdriniaeth. I barhau yn Gymraeg, pwyswch 2."),
    notice=(
        "Os ydych chi neu rywun arall mewn perygl nawr, rhowch y ffôn i lawr a ffoniwch "
        "999. Mae'n ddrwg gennym, nid yw ein bwydlen ffôn ar gael ar hyn o bryd, ond "
        "gallwch adael eich adroddiad o hyd. Nid ydym yn gweld nac yn cadw eich rhif. "
        "Dywedwch wrthym beth ddigwyddodd ar ôl y gair nawr. Pan fyddwch wedi gorffen, "
        "pwyswch hash, neu rhowch y ffôn i lawr."
    ),
    speak_now="Siaradwch nawr.",
    thanks="Diolch. Rydym wedi derbyn eich adroddiad. Hwyl fawr.",
    time_up=("Diolch, dyna hyd hiraf adroddiad. Rydym wedi ei dderbyn. Hwyl fawr."),
    language="cy-GB",
    voice="Polly.Gwyneth",
)
WORDS = {"en": ENGLISH, "cy": WELSH_WORDS}


def _say(parent: VoiceResponse | Gather, text: str, words: Words) -> None:
    parent.say(text, voice=words.voice, language=words.language)


def _entry() -> str:
    """The bilingual greeting: any key leads to Welsh, silence to English."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=4, action=WELSH, method="GET")
    _say(gather, ENGLISH.greeting, ENGLISH)
    _say(gather, WELSH_WORDS.greeting, WELSH_WORDS)
    response.append(gather)
    _report(response, "en")
    return str(response)


def _report(response: VoiceResponse, language: str) -> None:
    """The 999 notice, then a recording until the caller presses a key or hangs up."""
    words = WORDS[language]
    _say(response, words.notice, words)
    start = Start()
    start.recording(channels=CHANNELS[language], trim="trim-silence")
    response.append(start)
    # The caller speaks while this waits for the key that ends the report.
    waiting = Gather(num_digits=1, timeout=MAX_SECONDS, action=FINISHED[language], method="GET")
    _say(waiting, words.speak_now, words)
    response.append(waiting)
    _say(response, words.time_up, words)
    response.hangup()


def _welsh() -> str:
    response = VoiceResponse()
    _report(response, "cy")
    return str(response)


def _finished(language: str) -> str:
    response = VoiceResponse()
    words = WORDS[language]
    _say(response, words.thanks, words)
    response.hangup()
    return str(response)


def documents() -> Mapping[str, bytes]:
    """The whole set, by file name, as it is published."""
    return {
        ENTRY: _entry().encode(),
        WELSH: _welsh().encode(),
        **{name: _finished(language).encode() for language, name in FINISHED.items()},
    }


def version(docs: Mapping[str, bytes] | None = None) -> str:
    """A short digest of the set: what ``ivr doctor`` compares with what is served."""
    digest = hashlib.sha256()
    for name, body in sorted((docs or documents()).items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()[:12]


def entry_url(base: str) -> str:
    """The Voice Fallback URL for a set published under ``base``."""
    return f"{base.rstrip('/')}/{ENTRY}"


def language_of(source: str, channels: int) -> str | None:
    """The language of a recording the static fallback made; None if the edge made it."""
    if source in {EDGE_RECORDING_SOURCE, ""}:  # "": not said, so not known to be ours
        return None
    return LANGUAGE_BY_CHANNELS.get(channels)
