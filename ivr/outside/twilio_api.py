"""Twilio's REST and media side, behind one small interface.

The real implementation speaks Twilio's documented HTTP API at ``IVR_TWILIO_API_URL``
(api.twilio.com in production, the loopback emulator in development and tests). HTTP and
network failures become the domain errors below, so callers never import requests.

It also knows how the hotline's phone number must be set up at Twilio
(``hotline_settings``), so that ``ivr twilio provision`` only parses, calls and prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from ivr.platform.hosts import is_loopback
from ivr.platform.outages import Service, ServiceDown

MEDIA_CHUNK = 256 * 1024


class TwilioUnavailable(Exception):
    """Twilio did not do what was asked: try again later."""


class TwilioDown(TwilioUnavailable, ServiceDown):
    """Twilio could not be reached, timed out, or answered 5xx or 429: wait for it."""

    service = Service.TWILIO


class MediaNotReady(TwilioUnavailable):
    """404 on a recording's media: Twilio may still be finishing the file.

    Not an outage: it is this recording's own state, so it counts towards parking the job.
    """


class TwilioAuthFailed(TwilioDown):
    """Twilio refused the account SID and auth token (HTTP 401).

    Every job needs the same credentials, so none is at fault: they all wait, without
    spending attempts, until the token is fixed (``/metrics`` shows Twilio as down).
    """


class PhoneNumberNotFound(LookupError):
    """The account holds no such phone number."""


class InvalidPhoneNumber(ValueError):
    """Not a phone number in international (E.164) form."""


class UnusablePublicUrl(ValueError):
    """IVR_PUBLIC_URL cannot be given to Twilio: plain http for real Twilio, or a query."""


@dataclass(frozen=True)
class RecordingListing:
    sid: str
    call_sid: str
    status: str
    created: datetime | None
    # How Twilio made it (``RecordVerb`` for every recording the edge asks for) and in how
    # many channels: the static fallback's say so its language.
    source: str = ""
    channels: int = 1


@dataclass(frozen=True)
class NumberSettings:
    """Where Twilio sends a number's calls: the settings ``ivr twilio provision`` manages.

    Field names are Twilio's JSON names; ``form()`` gives Twilio's form names (VoiceUrl...).
    A voice application SID, when set, makes Twilio ignore every URL here, so it is
    managed too (and kept empty). Caller-name lookup (``voice_caller_id_lookup``, a CNAM
    query) would have Twilio look up who is calling and keep the name in its call log: it
    is kept off. Twilio's JSON gives it as a boolean; here it is the form's "true"/"false".
    """

    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    voice_fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    voice_application_sid: str = ""
    voice_caller_id_lookup: str = "false"
    # A text to the hotline's number is answered with how to report, then erased.
    sms_url: str = ""
    sms_method: str = "POST"

    @classmethod
    def from_twilio(cls, resource: dict[str, Any]) -> NumberSettings:
        """Read the settings from Twilio's JSON (which gives null for an unset URL)."""
        return cls(**{f.name: _form_value(resource.get(f.name)) for f in fields(cls)})

    def form(self) -> dict[str, str]:
        """Return the settings as Twilio's update form fields, e.g. ``VoiceUrl``."""
        return {_form_name(f.name): getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class IncomingNumber:
    """One of the account's phone numbers, as Twilio holds it."""

    sid: str
    phone_number: str
    settings: NumberSettings
    # A number on a SIP trunk: Twilio ignores every voice URL and sends calls to the trunk.
    trunk_sid: str = ""


@dataclass(frozen=True)
class SettingDifference:
    """One setting of a number: what Twilio holds, and what the hotline needs."""

    name: str  # Twilio's form name, e.g. VoiceUrl
    current: str
    wanted: str

    @property
    def changed(self) -> bool:
        return self.current != self.wanted


# Twilio's connection overrides, sent as a URL fragment that Twilio reads and never sends
# on (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides). Twilio's
# defaults are one retry, on connect failures only, within 15 s. rc: retries; rp: what is
# retried (ct connect failure, rt read timeout, 5xx answer); ct, rt, tt: the connect and
# read timeouts and the budget for all attempts, in milliseconds.
#
# A call comes in: the caller hears only ringing or silence until we answer. Our own errors
# already answer 200 with the bilingual fallback TwiML, so a 5xx or a refused connection
# is the proxy or a restarting process: a blip worth two quick retries. A read timeout is
# not retried: a server that is slow now is slow on the retry too, and the fallback URL,
# which needs no database, is the better bet. 5 s at most before Twilio moves on.
VOICE_OVERRIDES = "rc=2&rp=ct,5xx&ct=1000&rt=3000&tt=5000"
# The fallback is the caller's last chance before Twilio's "application error" and a
# dropped call. It answers from the request alone in milliseconds, so anything (a read
# timeout too) is retried, within 5 s: worst case 10 s of ringing in all, about three
# rings, well before a caller gives up.
FALLBACK_OVERRIDES = "rc=2&rp=ct,rt,5xx&ct=1000&rt=2000&tt=5000"
# The call has ended and no one is waiting: retry longer (Twilio's 15 s maximum). The
# handler is idempotent, and a lost callback leaves the call's state until it expires.
STATUS_OVERRIDES = "rc=3&rp=ct,rt,5xx&ct=2000&rt=5000&tt=15000"
# The edge's paths that Twilio is given with a fragment, and the fragment, so that a
# signature made over the URL with it is accepted too (ivr.webhooks.signatures).
SIGNED_FRAGMENTS = {
    "/twilio/voice": VOICE_OVERRIDES,
    "/twilio/fallback": FALLBACK_OVERRIDES,
    "/twilio/status": STATUS_OVERRIDES,
}


def hotline_settings(public_url: str, api_url: str, fallback_entry: str = "") -> NumberSettings:
    """Return how the hotline's number must be set up, given the service's public URL.

    Refuse an http public URL unless Twilio is the loopback emulator: real Twilio needs
    https to reach a production service, and callers' words must not cross in clear.
    ``fallback_entry``, when given, is the static fallback's first document, served
    outside the edge's failure domain (and fetched with GET); otherwise the edge's own
    fallback is used, which fails with the edge.
    """
    base = _usable("IVR_PUBLIC_URL", public_url, api_url).rstrip("/")
    fallback = (f"{base}/twilio/fallback", "POST")
    if fallback_entry:
        # A bucket answers GET only.
        fallback = (_usable("IVR_FALLBACK_URL", fallback_entry, api_url), "GET")
    return NumberSettings(
        voice_url=f"{base}/twilio/voice#{VOICE_OVERRIDES}",
        voice_fallback_url=f"{fallback[0]}#{FALLBACK_OVERRIDES}",
        voice_fallback_method=fallback[1],
        status_callback=f"{base}/twilio/status#{STATUS_OVERRIDES}",
        sms_url=f"{base}/twilio/sms",
    )


def _usable(setting: str, url: str, api_url: str) -> str:
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise UnusablePublicUrl(f"{setting} must not carry a query or a fragment")
    if parts.scheme != "https" and not _loopback(api_url):
        raise UnusablePublicUrl(
            f"{setting} is {url}, but Twilio ({api_url}) must call the hotline "
            f"over https: set {setting} to an https address"
        )
    return url


def compare(current: NumberSettings, wanted: NumberSettings) -> list[SettingDifference]:
    """Pair each setting Twilio holds with the one the hotline needs, in Twilio's order."""
    now, then = current.form(), wanted.form()
    return [SettingDifference(name, now[name], then[name]) for name in then]


def e164(text: str) -> str:
    """Return ``text`` as an E.164 number: ``+44 800 011 2233`` -> ``+448000112233``."""
    # "+44 (0)800...": the (0) is dialled only from inside the country.
    compact = re.sub(r"[\s().-]", "", text.replace("(0)", ""))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+[1-9]\d{6,14}", compact):
        raise InvalidPhoneNumber(
            f"{text!r} is not a phone number in international form, e.g. +44 800 011 2233"
        )
    return compact


class TwilioApi(Protocol):
    def media(self, recording_sid: str) -> Iterator[bytes]:
        """Stream the recording's WAV audio."""

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete the recording; False if it was already gone."""

    def delete_call(self, call_sid: str) -> bool:
        """Delete the call's log; False if it was already gone."""

    def delete_message(self, message_sid: str) -> bool:
        """Delete a text message's log (the sender's number with it); False if already gone."""

    def recordings(self, call_sid: str | None = None) -> Iterator[RecordingListing]:
        """List every recording the account holds (or only those of one call)."""

    def account_status(self) -> str:
        """Return the account's status: "active", "suspended" or "closed"."""

    def incoming_number(self, phone_number: str) -> IncomingNumber:
        """Find the account's number (E.164); PhoneNumberNotFound if it holds none."""

    def configure_number(self, sid: str, settings: NumberSettings) -> IncomingNumber:
        """Set where Twilio sends the number's calls; return the number as Twilio holds it."""


class TwilioRest:
    """Twilio's REST API over HTTPS with Basic auth (account SID, auth token)."""

    def __init__(
        self,
        api_url: str,
        account_sid: str,
        auth_token: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}"
        self._root = api_url.rstrip("/")
        self._session = requests.Session()
        self._session.auth = (account_sid, auth_token)
        self._timeout = (connect_timeout, read_timeout)

    def media_url(self, recording_sid: str) -> str:
        # Built from the SID, never taken from a callback: the worker only fetches from Twilio.
        return f"{self._base}/Recordings/{_sid(recording_sid, 'RE')}.wav"

    def media(self, recording_sid: str) -> Iterator[bytes]:
        response = self._request("GET", self.media_url(recording_sid), stream=True)
        with response:
            if response.status_code == 404:
                raise MediaNotReady("recording media not found (yet)")
            _raise_for(response, "fetching the recording")
            try:
                yield from response.iter_content(MEDIA_CHUNK)
            except requests.RequestException as error:
                raise TwilioDown(
                    f"the recording download broke off: {type(error).__name__}"
                ) from None

    def delete_recording(self, recording_sid: str) -> bool:
        return self._delete(
            f"{self._base}/Recordings/{_sid(recording_sid, 'RE')}.json", "the recording"
        )

    def delete_call(self, call_sid: str) -> bool:
        return self._delete(f"{self._base}/Calls/{_sid(call_sid, 'CA')}.json", "the call log")

    def delete_message(self, message_sid: str) -> bool:
        if not is_message_sid(message_sid):
            raise ValueError("not a Twilio message SID")
        return self._delete(f"{self._base}/Messages/{message_sid}.json", "the message log")

    def recordings(self, call_sid: str | None = None) -> Iterator[RecordingListing]:
        url: str | None = f"{self._base}/Recordings.json"
        params: dict[str, str] | None = {"PageSize": "100"}
        if call_sid is not None:
            params = {"PageSize": "100", "CallSid": _sid(call_sid, "CA")}
        while url:
            response = self._request("GET", url, params=params)
            _raise_for(response, "listing recordings")
            page = response.json()
            for item in page.get("recordings", []):
                yield RecordingListing(
                    sid=item["sid"],
                    call_sid=item.get("call_sid") or "",
                    status=item.get("status", ""),
                    created=_date(item.get("date_created")),
                    source=item.get("source") or "",
                    channels=int(item.get("channels") or 1),
                )
            # Twilio's next page URI carries the filter and the page size on.
            url, params = self._next_page(page), None

    def account_status(self) -> str:
        response = self._request("GET", f"{self._base}.json")
        _raise_for(response, "reading the account")
        return str(response.json().get("status", ""))

    def incoming_number(self, phone_number: str) -> IncomingNumber:
        wanted = e164(phone_number)
        url: str | None = f"{self._base}/IncomingPhoneNumbers.json"
        params: dict[str, str] | None = {"PhoneNumber": wanted, "PageSize": "50"}
        while url:
            response = self._request("GET", url, params=params)
            _raise_for(response, "looking up the phone number", detail=True)
            page = response.json()
            # The filter matches patterns and parts of numbers: keep only this one.
            for item in page.get("incoming_phone_numbers", []):
                if item.get("phone_number") == wanted:
                    return _incoming_number(item)
            url, params = self._next_page(page), None
        raise PhoneNumberNotFound(f"the Twilio account holds no number {wanted}")

    def configure_number(self, sid: str, settings: NumberSettings) -> IncomingNumber:
        response = self._request(
            "POST",
            f"{self._base}/IncomingPhoneNumbers/{_sid(sid, 'PN')}.json",
            data=settings.form(),
        )
        if response.status_code == 404:
            raise PhoneNumberNotFound(f"the Twilio account holds no number {sid}")
        _raise_for(response, "updating the phone number", detail=True)
        return _incoming_number(response.json())

    def _next_page(self, page: dict[str, Any]) -> str | None:
        """Return the URL of the next page, refusing any that would leave Twilio's API.

        The next page is named by the answer, and it is fetched with our credentials: a
        value such as ``@evil.example/...`` or ``//evil.example`` appended to the base
        would send them elsewhere. Only an absolute path under this account is followed.
        """
        next_uri = page.get("next_page_uri")
        if not next_uri:
            return None
        path = urlsplit(str(next_uri))
        account_path = urlsplit(self._base).path + "/"
        if (
            path.scheme
            or path.netloc
            or not path.path.startswith(account_path)
            or ".." in path.path.split("/")
        ):
            raise TwilioUnavailable("Twilio named a next page outside the account: not followed")
        return f"{self._root}{next_uri}"

    def _delete(self, url: str, what: str) -> bool:
        response = self._request("DELETE", url)
        if response.status_code == 404:
            return False
        _raise_for(response, f"deleting {what}")
        return True

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.RequestException as error:
            raise TwilioDown(f"Twilio could not be reached: {type(error).__name__}") from None


def _raise_for(response: requests.Response, doing: str, detail: bool = False) -> None:
    """Raise the domain error for a failed answer.

    ``detail`` adds Twilio's error code and message. Only number settings ask for it:
    Twilio's messages about recordings name the recording, which must not reach a log.
    """
    if response.status_code < 400:
        return
    said = _twilio_error(response) if detail else ""
    if response.status_code == 401:
        raise TwilioAuthFailed(
            f"Twilio refused the account SID and auth token while {doing}{said}: "
            "check IVR_TWILIO_ACCOUNT_SID and IVR_TWILIO_AUTH_TOKEN"
        )
    if response.status_code >= 500 or response.status_code == 429:
        raise TwilioDown(f"Twilio answered HTTP {response.status_code} {doing}{said}")
    raise TwilioUnavailable(f"Twilio answered HTTP {response.status_code} {doing}{said}")


def _twilio_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict) or "code" not in body:
        return ""
    return f" (Twilio error {body['code']}: {body.get('message', '')})"


def _incoming_number(item: dict[str, Any]) -> IncomingNumber:
    return IncomingNumber(
        sid=item["sid"],
        phone_number=item.get("phone_number", ""),
        settings=NumberSettings.from_twilio(item),
        trunk_sid=item.get("trunk_sid") or "",
    )


# twilio-oai, api_v2010 Message: "^(SM|MM)[0-9a-fA-F]{32}$" (an SMS, or an MMS).
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")


def is_message_sid(sid: str) -> bool:
    return MESSAGE_SID.fullmatch(sid) is not None


def _form_value(value: Any) -> str:
    """A setting from Twilio's JSON as its form writes it: null as "", booleans in words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value else ""


def _form_name(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_"))


def _loopback(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


def _sid(value: str, prefix: str) -> str:
    if not (value.startswith(prefix) and value[2:].isalnum()):
        raise ValueError(f"not a Twilio {prefix} SID")
    return value


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
