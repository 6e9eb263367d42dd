"""A text-mode phone that calls the service exactly as Twilio would.

It sends the same parameters Twilio sends (caller number and location included, so the
anonymity boundary is exercised for real), signs every request, follows the TwiML it
gets back, prints what the caller would hear, and presses keys from a script or the
keyboard. Recordings are "made" by uploading a WAV file to wherever Twilio's media
lives in this setup (the emulator), then reporting it with the same callbacks.
"""

from __future__ import annotations

import io
import secrets
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from twilio.request_validator import RequestValidator

# Ofcom's drama range: a planted number that is never a real person's.
DEFAULT_CALLER = "+447700900123"
HOTLINE_NUMBER = "+448000000000"
HANGUP = "hangup"


class Transport(Protocol):
    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        """POST ``params`` to ``url`` with Twilio's signature header; return the body."""


@dataclass(frozen=True)
class RecordingKind:
    """How Twilio made a recording: its resource's ``source`` and ``channels`` fields."""

    source: str = "RecordVerb"  # the <Record> verb
    channels: int = 1


class MediaHost(Protocol):
    def store(
        self, call_sid: str, audio: bytes, kind: RecordingKind = RecordingKind()
    ) -> tuple[str, str]:
        """Keep ``audio`` as Twilio would; return (RecordingSid, RecordingUrl)."""


class HttpTransport:
    """Talk to a running server over HTTP."""

    def __init__(self, timeout: float = 15.0) -> None:
        self._session = requests.Session()
        self._timeout = timeout

    def post(self, url: str, params: Mapping[str, str], signature: str) -> str:
        response = self._session.post(
            url,
            data=dict(params),
            headers={"X-Twilio-Signature": signature},
            timeout=self._timeout,
        )
        if response.status_code >= 400:
            raise PhoneError(f"{urlsplit(url).path} answered HTTP {response.status_code}")
        return response.text


class PhoneError(Exception):
    """The service answered something Twilio would not accept."""


@dataclass
class CallLog:
    """What happened on one call, for printing and for tests."""

    heard: list[tuple[str, str]] = field(default_factory=list)  # (language, text)
    recordings: list[str] = field(default_factory=list)  # RecordingSids made
    call_sid: str = ""
    ended: bool = False
    fallback: bool = False  # the Voice URL failed, and the Voice Fallback URL took the call
    hung_up: bool = False  # the caller hung up at a prompt

    def text(self) -> str:
        return "\n".join(text for _, text in self.heard)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class Phone:
    """Place one call against the service at ``public_base``."""

    def __init__(
        self,
        transport: Transport,
        media: MediaHost,
        *,
        public_base: str,
        account_sid: str,
        auth_token: str,
        keys: Callable[[tuple[str, ...]], str | None],
        audio: bytes | None,
        caller: str = DEFAULT_CALLER,
        show: Callable[[str], None] = lambda line: None,
        fallback_url: str = "",
        fallback_method: str = "POST",
    ) -> None:
        self._transport = transport
        self._media = media
        self._base = public_base.rstrip("/")
        self._account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._keys = keys
        self._audio = audio
        self._caller = caller
        self._show = show
        # The number's Voice Fallback URL, which Twilio asks when the Voice URL fails.
        self._fallback_url = fallback_url.split("#", 1)[0]  # Twilio keeps the overrides
        self._fallback_method = fallback_method
        # While on the fallback: the document being followed (relative links resolve
        # against it), and the recording <Start><Recording> began, if any.
        self._document = ""
        self._started: RecordingKind | None = None

    def call(self) -> CallLog:
        """Ring the Voice URL, follow the call to its end, then send the status callback."""
        log = CallLog(call_sid=new_sid("CA"))
        self._show(f"Calling {self._base}/twilio/voice")
        body: str | None
        try:
            body = self._post(f"{self._base}/twilio/voice", log, CallStatus="ringing")
        except (PhoneError, requests.RequestException) as error:
            if not self._fallback_url:
                raise
            # As Twilio does: the Voice URL failed, so the fallback URL is asked instead.
            self._show(f"  The Voice URL failed ({type(error).__name__}): trying the fallback.")
            log.fallback = True
            self._document = self._fallback_url
            body = self._fetch(self._fallback_url, self._fallback_method, log, CallStatus="ringing")
        while body is not None:
            body = self._follow(body, log)
        self._end_started_recording(log)
        try:
            self._post(
                f"{self._base}/twilio/status", log, CallStatus="completed", CallDuration="97"
            )
        except (PhoneError, requests.RequestException):
            if not log.fallback:
                raise
            # The edge is down: Twilio's status callback fails, and Twilio moves on.
        log.ended = True
        self._show("Call ended.")
        return log

    def _fetch(self, url: str, method: str, log: CallLog, **extra: str) -> str:
        """Ask a document of the fallback as Twilio does (GET: its parameters in the query)."""
        params = {**self._caller_fields(log), "CallStatus": "in-progress", **extra}
        if method.upper() == "GET":
            full = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
            signature = self._validator.compute_signature(full, {})
            response = requests.get(full, headers={"X-Twilio-Signature": signature}, timeout=15)
        else:
            signature = self._validator.compute_signature(url, params)
            response = requests.post(
                url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
            )
        if response.status_code >= 400:
            raise PhoneError(f"{urlsplit(url).path} answered HTTP {response.status_code}")
        self._document = url
        return response.text

    def _next(self, verb: ET.Element, log: CallLog, **extra: str) -> str:
        """Ask for the document a verb's action names, as the verb's method says."""
        if not log.fallback:
            return self._post(_absolute(self._base, verb.get("action", "")), log, **extra)
        url = urljoin(self._document, verb.get("action", "") or self._document)
        return self._fetch(url, verb.get("method", "POST"), log, **extra)

    def _redirect(self, verb: ET.Element, log: CallLog) -> str:
        if log.fallback:
            url = urljoin(self._document, verb.text or "")
            return self._fetch(url, verb.get("method", "POST"), log)
        return self._post(_absolute(self._base, verb.text or ""), log)

    def _start(self, verb: ET.Element) -> None:
        for child in verb:
            if child.tag == "Recording":
                channels = 2 if child.get("channels") == "dual" else 1
                # Twilio's RecordingSource for <Start><Recording> (not the <Record> verb's).
                self._started = RecordingKind("StartCallRecordingTwiML", channels)
                self._show(f"  (the call is being recorded, {channels} channel(s))")

    def _end_started_recording(self, log: CallLog) -> None:
        """The call's recording ends with the key that ends the report, or the call."""
        kind, self._started = self._started, None
        if kind is None or self._audio is None:
            return
        audio = _in_channels(self._audio, kind.channels)
        sid, _ = self._media.store(log.call_sid, audio, kind)
        log.recordings.append(sid)
        self._show(f"  You spoke for {wav_seconds(audio)} s.")

    def _caller_fields(self, log: CallLog) -> dict[str, str]:
        # Everything Twilio tells a webhook about an inbound call, caller fields included.
        return {
            "AccountSid": self._account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": log.call_sid,
            "Direction": "inbound",
            "From": self._caller,
            "Caller": self._caller,
            "CallerName": "JANE CALLER",
            "FromCity": "LEEDS",
            "FromState": "",
            "FromZip": "LS1",
            "FromCountry": "GB",
            "CallerCity": "LEEDS",
            "CallerState": "",
            "CallerZip": "LS1",
            "CallerCountry": "GB",
            "ForwardedFrom": self._caller,
            "StirVerstat": "TN-Validation-Passed-A",
            "CallToken": "%7B%22parentCallInfoToken%22%3A%22" + self._caller,
            "To": HOTLINE_NUMBER,
            "Called": HOTLINE_NUMBER,
            "ToCountry": "GB",
        }

    def _post(self, url: str, log: CallLog, **extra: str) -> str:
        params = {**self._caller_fields(log), "CallStatus": "in-progress", **extra}
        return self._transport.post(url, params, self._validator.compute_signature(url, params))

    def _follow(self, body: str, log: CallLog) -> str | None:
        """Carry out one TwiML document; return the next document, or None at the end."""
        try:
            root = ET.fromstring(body)  # noqa: S314 - TwiML from our own service under test
        except ET.ParseError as error:
            raise PhoneError(f"the service answered something that is not TwiML: {error}") from None
        for verb in root:
            if verb.tag in {"Say", "Play"}:
                self._hear(verb, log)
            elif verb.tag == "Gather":
                for child in verb:
                    self._hear(child, log)
                next_body = self._gather(verb, log)
                if next_body is not None or log.hung_up:
                    return next_body
                # No key and no action asked for: Twilio goes on with the next verb.
            elif verb.tag == "Record":
                next_body = self._record(verb, log)
                if next_body is not None or log.ended:
                    return next_body
            elif verb.tag == "Start":
                self._start(verb)
            elif verb.tag == "Redirect":
                return self._redirect(verb, log)
            elif verb.tag == "Hangup":
                self._show("The line goes quiet: the service hung up.")
                return None
        return None

    def _hear(self, verb: ET.Element, log: CallLog) -> None:
        if verb.tag == "Say":
            language = verb.get("language", "")
            text = (verb.text or "").strip()
            log.heard.append((language, text))
            self._show(f"  [{language}] {text}")
        elif verb.tag == "Play":
            log.heard.append(("audio", verb.text or ""))
            self._show(f"  [plays {verb.text}]")

    def _gather(self, verb: ET.Element, log: CallLog) -> str | None:
        key = self._keys(("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"))
        if key is None or key == HANGUP:
            self._show("  You hang up.")
            log.hung_up = True
            return None
        if self._started is not None and key:
            self._end_started_recording(log)  # the key that ends the report
        self._show(f"  You press {key}" if key else "  You press nothing.")
        if key or verb.get("actionOnEmptyResult") == "true":
            return self._next(verb, log, Digits=key)
        return None  # fall through to the next verb (the Redirect)

    def _record(self, verb: ET.Element, log: CallLog) -> str | None:
        self._show("  (beep)")
        key = self._keys(("#", HANGUP, ""))
        if key == "" or self._audio is None:
            self._show("  You say nothing.")
            return None  # Twilio falls through to the next verb when nothing was recorded
        sid, url = self._media.store(log.call_sid, self._audio)
        log.recordings.append(sid)
        seconds = str(wav_seconds(self._audio))
        hung_up = key is None or key == HANGUP
        self._show(f"  You speak for {seconds} s, then " + ("hang up." if hung_up else "press #."))
        recording = {"RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": seconds}
        body: str | None = self._next(verb, log, Digits=HANGUP if hung_up else "#", **recording)
        status_url = verb.get("recordingStatusCallback")
        if status_url:
            # Twilio's recording status callback carries no caller fields.
            status = {
                "AccountSid": self._account_sid,
                "CallSid": log.call_sid,
                **recording,
                "RecordingStatus": "completed",
                "RecordingSource": "RecordVerb",
            }
            signature = self._validator.compute_signature(status_url, status)
            self._transport.post(status_url, status, signature)
        if hung_up:
            log.ended = True
            return None
        return body


def _absolute(base: str, url: str) -> str:
    return url if url.startswith(("http://", "https://")) else base + url


def _in_channels(audio: bytes, channels: int) -> bytes:
    """The caller's mono WAV as a recording of ``channels`` channels (each the same)."""
    if channels == 1:
        return audio
    with wave.open(io.BytesIO(audio)) as reader:
        width, rate = reader.getsampwidth(), reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    samples = [frames[i : i + width] for i in range(0, len(frames), width)]
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(b"".join(sample * channels for sample in samples))
    return out.getvalue()


def wav_seconds(audio: bytes) -> int:
    """Return the length of a WAV recording in whole seconds (at least 1)."""
    with wave.open(io.BytesIO(audio)) as reader:
        return max(1, round(int(reader.getnframes()) / int(reader.getframerate())))


def scripted_keys(script: str) -> Callable[[tuple[str, ...]], str | None]:
    """Press keys from ``1,1,,2,#`` (an empty entry waits without pressing; ends by hanging up)."""
    presses: Iterator[str] = (
        iter(part.strip() for part in script.split(",")) if script else iter(())
    )

    def next_key(_allowed: tuple[str, ...]) -> str | None:
        return next(presses, None)

    return next_key


def keyboard_keys(read: Callable[[str], str]) -> Callable[[tuple[str, ...]], str | None]:
    """Ask the person at the keyboard for each key press."""

    def next_key(allowed: tuple[str, ...]) -> str | None:
        while True:
            answer = read("  key (0-9 * #, Enter for nothing, h to hang up)> ").strip()
            if answer in {"h", HANGUP}:
                return HANGUP
            # Several digits at once: a reference or a PIN, keyed with its '#'.
            if answer == "" or all(key in allowed for key in answer):
                return answer

    return next_key


class EmulatorMedia:
    """Upload the caller's audio to the Twilio emulator, which then serves it as Twilio does."""

    def __init__(self, api_url: str, timeout: float = 15.0) -> None:
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout

    def store(
        self, call_sid: str, audio: bytes, kind: RecordingKind = RecordingKind()
    ) -> tuple[str, str]:
        response = requests.post(
            f"{self._api_url}/_emulator/recordings",
            params={"call_sid": call_sid, "source": kind.source, "channels": str(kind.channels)},
            data=audio,
            timeout=self._timeout,
        )
        if response.status_code != 201:
            raise PhoneError(
                f"could not hand the recording to the Twilio emulator at {self._api_url} "
                f"(HTTP {response.status_code}); is IVR_TWILIO_API_URL the emulator?"
            )
        found = response.json()
        return str(found["sid"]), str(found["url"])


class HeldMedia:
    """Keep recordings in memory, for offline simulation."""

    def __init__(self, account_sid: str) -> None:
        self._account_sid = account_sid
        self.recordings: dict[str, bytes] = {}

    def store(
        self, call_sid: str, audio: bytes, kind: RecordingKind = RecordingKind()
    ) -> tuple[str, str]:
        sid = new_sid("RE")
        self.recordings[sid] = audio
        return (
            sid,
            f"https://api.twilio.com/2010-04-01/Accounts/{self._account_sid}/Recordings/{sid}",
        )
