"""A call's state, carried in the callback URLs that Twilio signs and sends back.

Every ``action`` URL we give Twilio holds where the call is: the flow version it is
pinned to, the step, the language, the retries so far, and the choices made in the
menus. Twilio signs the full URL, query included, with our auth token, and the boundary
checks that signature before anything reads it, so the state cannot be forged or
altered on the way. A menu step is then a pure function of this state and the keys
pressed: no database, and a repeated callback gets the same answer by construction.

Only menu choices travel here in clear: never a SID, a number, or anything else about
who called. The digits a follow-up caller keys (a reference, a PIN) and the follow-up
they unlock travel too, between one step and the next, but sealed (AES-GCM under a key
derived from the edge's secret): Twilio keeps the URLs it calls, and must not be able
to read them there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ivr.flows.engine import CallState

# The choices a flow may set (see ChoiceName in ivr/flows/schema.py).
CHOICES = ("language", "category", "anonymity", "take")
_HASH = re.compile(r"[0-9a-f]{64}")
_STEP = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")  # as StepName in ivr/flows/schema.py
_VALUE = re.compile(r"[\w.-]{1,50}")
MAX_RETRIES = 99


_VARIABLES = frozenset({"reference", "pin", "pin_again", "followup"})


class BadCallState(ValueError):
    """A callback URL without a well-formed call state: answer with the fallback."""


class StateSealer:
    """Seal and open the call's variables (digits keyed, a follow-up) for its URLs.

    Keys form a ring: the first seals, every one opens. A sealed token names its key by
    an id (a digest of the key, never the key), so after a rotation a call that began
    under the old key opens its state with it and goes on under the new one, which seals
    from its next step. A token from before ids were carried is tried against each key.
    """

    def __init__(self, secret: bytes, *previous: bytes) -> None:
        self._ring = [_UrlKey(key) for key in (secret, *previous) if key]
        if not self._ring:
            raise ValueError("a sealer needs a key")
        self._by_id = {key.id: key for key in self._ring}

    def seal(self, flow: str, variables: Mapping[str, str]) -> str:
        key = self._ring[0]
        nonce = os.urandom(12)
        body = json.dumps(dict(variables), separators=(",", ":"), sort_keys=True).encode()
        sealed = nonce + key.aead.encrypt(nonce, body, flow.encode())
        return f"{key.id}.{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"

    def open(self, flow: str, token: str) -> dict[str, str]:
        key_id, dot, text = token.rpartition(".")
        if dot:
            named = self._by_id.get(key_id)
            candidates = [named] if named is not None else []
        else:
            candidates = self._ring
        found = None
        for key in candidates:
            try:
                found = key.open(flow, text)
                break
            except BadCallState:
                continue
        if found is None:
            raise BadCallState("sealed variables do not open")
        if not isinstance(found, dict) or not all(
            name in _VARIABLES and isinstance(value, str) and len(value) <= 64
            for name, value in found.items()
        ):
            raise BadCallState("malformed variables")
        return found


class _UrlKey:
    def __init__(self, secret: bytes) -> None:
        key = hmac.new(secret, b"ivr-url-state-v1", hashlib.sha256).digest()
        self.aead = AESGCM(key)
        # 8 hex digits of a digest of the derived key: names it, reveals nothing of it.
        self.id = hashlib.sha256(b"ivr-url-state-key-id" + key).hexdigest()[:8]

    def open(self, flow: str, text: str) -> object:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = self.aead.decrypt(raw[:12], raw[12:], flow.encode())
            return json.loads(body)
        except (binascii.Error, ValueError, InvalidTag) as error:
            raise BadCallState("sealed variables do not open") from error


@dataclass(frozen=True)
class CallPoint:
    """Where one call is: its pinned flow version and its state in that flow."""

    flow: str  # the version's content hash
    step: str
    language: str
    retries: int = 0
    choices: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, flow: str, state: CallState) -> CallPoint:
        return cls(
            flow, state.step, state.language, state.retries, dict(state.choices), dict(state.vars)
        )

    def state(self) -> CallState:
        """A fresh, mutable engine state (the engine moves it in place)."""
        return CallState(
            step=self.step,
            language=self.language,
            retries=self.retries,
            choices=dict(self.choices),
            vars=dict(self.variables),
        )

    def query(self, sealer: StateSealer | None = None) -> dict[str, str]:
        """The URL query parameters that carry this point."""
        query = {"v": self.flow, "step": self.step, "lang": self.language}
        if self.retries:
            query["retries"] = str(self.retries)
        query.update((name, self.choices[name]) for name in CHOICES if name in self.choices)
        if self.variables:
            if sealer is None:
                raise BadCallState("variables cannot travel without a sealer")
            query["s"] = sealer.seal(self.flow, self.variables)
        return query


def parse(args: Mapping[str, str], sealer: StateSealer | None = None) -> CallPoint:
    """Read a call point back from a (signature-checked) callback's query."""
    flow, step, language = args.get("v", ""), args.get("step", ""), args.get("lang", "")
    if not _HASH.fullmatch(flow) or not _STEP.fullmatch(step) or not _VALUE.fullmatch(language):
        raise BadCallState("callback URL without a call state")
    retries = args.get("retries", "0")
    if not (retries.isascii() and retries.isdigit()) or int(retries) > MAX_RETRIES:
        raise BadCallState("malformed retries")
    choices = {name: args[name] for name in CHOICES if name in args}
    if not all(_VALUE.fullmatch(value) for value in choices.values()):
        raise BadCallState("malformed choice")
    variables: dict[str, str] = {}
    if "s" in args:
        if sealer is None:
            raise BadCallState("sealed variables, and no key to open them")
        variables = sealer.open(flow, args["s"])
    return CallPoint(flow, step, language, int(retries), choices, variables)
