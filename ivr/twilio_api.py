"""Twilio's REST and media side, behind one small interface.

The real implementation speaks Twilio's documented HTTP API at ``IVR_TWILIO_API_URL``
(api.twilio.com in production, the loopback emulator in development and tests). HTTP and
network failures become the domain errors below, so callers never import requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests

MEDIA_CHUNK = 256 * 1024


class TwilioUnavailable(Exception):
    """Twilio failed or timed out: try again later."""


class MediaNotReady(TwilioUnavailable):
    """404 on a recording's media: Twilio may still be finishing the file."""


@dataclass(frozen=True)
class RecordingListing:
    sid: str
    call_sid: str
    status: str
    created: datetime | None


class TwilioApi(Protocol):
    def media(self, recording_sid: str) -> Iterator[bytes]:
        """Stream the recording's WAV audio."""

    def delete_recording(self, recording_sid: str) -> bool:
        """Delete the recording; False if it was already gone."""

    def delete_call(self, call_sid: str) -> bool:
        """Delete the call's log; False if it was already gone."""

    def recordings(self) -> Iterator[RecordingListing]:
        """List every recording the account holds."""


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
                raise TwilioUnavailable(
                    f"the recording download broke off: {type(error).__name__}"
                ) from None

    def delete_recording(self, recording_sid: str) -> bool:
        return self._delete(
            f"{self._base}/Recordings/{_sid(recording_sid, 'RE')}.json", "the recording"
        )

    def delete_call(self, call_sid: str) -> bool:
        return self._delete(f"{self._base}/Calls/{_sid(call_sid, 'CA')}.json", "the call log")

    def recordings(self) -> Iterator[RecordingListing]:
        url: str | None = f"{self._base}/Recordings.json?PageSize=100"
        while url:
            response = self._request("GET", url)
            _raise_for(response, "listing recordings")
            page = response.json()
            for item in page.get("recordings", []):
                yield RecordingListing(
                    sid=item["sid"],
                    call_sid=item.get("call_sid") or "",
                    status=item.get("status", ""),
                    created=_date(item.get("date_created")),
                )
            next_uri = page.get("next_page_uri")
            url = f"{self._root}{next_uri}" if next_uri else None

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
            raise TwilioUnavailable(
                f"Twilio could not be reached: {type(error).__name__}"
            ) from None


def _raise_for(response: requests.Response, doing: str) -> None:
    if response.status_code >= 400:
        raise TwilioUnavailable(f"Twilio answered HTTP {response.status_code} {doing}")


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
