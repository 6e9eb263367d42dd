"""The anonymity boundary: authenticate a Twilio request, then forget who called.

This is the only code that sees Twilio's full parameters. It checks the signature
over all of them (as Twilio computed it), keeps an allow-list, and removes the parsed
form from the request, so no later view, log line or error handler can reach a caller
field such as the number, the caller's name or their location. A kept field whose value
is not of its kind (a number out of bounds, keys no keypad has) is dropped here too, so
later code meets it as absent, never as an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from ivr.webhooks.signatures import SIGNATURE_SETTINGS_HEADER, WebhookSecrets

# Everything the service may know about a call. Anything not named here is dropped,
# so a field Twilio adds in future is dropped too.
ALLOWED_FIELDS = frozenset(
    {
        "AccountSid",
        "CallSid",
        "CallStatus",
        "Digits",
        "RecordingSid",
        "RecordingDuration",
        "RecordingStatus",
        "ErrorCode",
        # A text message to the hotline's number (its body, and who sent it, are not kept)
        "MessageSid",
        "MessageStatus",
    }
)


# The numeric fields and the largest value each may take: a day of recording, and
# Twilio's error codes (five digits).
NUMBERS = {"RecordingDuration": 86_400, "ErrorCode": 99_999}
# What a caller can key (digits, * and #), or "hangup" when a recording ended that way.
KEYED = re.compile(r"[0-9*#]{1,64}|hangup")


def bounded_number(text: str, maximum: int) -> int | None:
    """Return ``text`` as a whole number from 0 to ``maximum``; None if it is anything else."""
    # Only ASCII 0-9: str.isdigit() also takes "²", which int() refuses.
    if not 0 < len(text) <= len(str(maximum)) or not all("0" <= c <= "9" for c in text):
        return None
    value = int(text)
    return value if value <= maximum else None


class SignatureRefused(Exception):
    """The request was not signed by Twilio with our auth token."""


@dataclass(frozen=True)
class TwilioParams:
    """The allow-listed parameters of one authenticated Twilio request."""

    fields: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    def number(self, name: str) -> int | None:
        """Return the numeric field ``name``, or None when it is absent."""
        return bounded_number(self.get(name), NUMBERS[name])

    @property
    def call_sid(self) -> str:
        return self.get("CallSid")


def authenticate(request: Request, secrets: WebhookSecrets, public_base: str) -> TwilioParams:
    """Check ``X-Twilio-Signature`` and return only the allow-listed parameters.

    The URL Twilio signed is the public one it called (we may sit behind a proxy that
    terminates TLS), so it is rebuilt from the configured public base, not from the
    request's own host.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_base + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    form = request.form
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER, "")
    if not signature or not secrets.signed(url, request.path, form, signature, settings):
        _forget_form(request)
        raise SignatureRefused()
    params = TwilioParams(
        {
            name: form[name]
            for name in ALLOWED_FIELDS
            if name in form and _well_formed(name, form[name])
        }
    )
    _forget_form(request)
    return params


def _well_formed(name: str, value: str) -> bool:
    if name in NUMBERS:
        return bounded_number(value, NUMBERS[name]) is not None
    if name == "Digits":
        return KEYED.fullmatch(value) is not None
    return True


def _forget_form(request: Request) -> None:
    """Replace the parsed body with nothing, so caller fields cannot leak further in."""
    empty: ImmutableMultiDict[str, str] = ImmutableMultiDict()
    request.form = empty
    request.values = empty  # type: ignore[assignment]
