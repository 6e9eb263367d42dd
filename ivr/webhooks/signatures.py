"""Which secrets may have signed a webhook, and the check itself, as Twilio's library does it.

The check is the ``twilio`` package's own ``RequestValidator``: the URL with and without
its default port, the algorithm named by ``X-Twilio-Webhooks-Signature-Settings`` (a
webhook rule can make Twilio sign with HMAC-SHA256 and a shared key instead of the auth
token). Around it, three things Twilio leaves to us:

- **Rotating the auth token.** From the moment a secondary token is promoted, Twilio signs
  with the new one, but a call already under way, or a callback being retried, may still
  carry the old signature. The previous token is accepted until a time the operator
  bounds (at most ``ivr.config.MAX_PREVIOUS_TOKEN_WINDOW``); after it, only the current one.
- **Shared keys** named by the settings header: a key we do not hold is refused.
- **The connection-override fragment** (``#rc=…``) that ``ivr twilio provision`` appends
  to the number's Voice URL and status callback. Twilio never sends a fragment, and its
  documentation does not say whether the signed URL includes it, so both are accepted: a
  wrong guess must not refuse every call.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from ivr.config import Config
from ivr.outside.twilio_api import SIGNED_FRAGMENTS
from ivr.platform.db import utcnow

__all__ = ["SIGNATURE_SETTINGS_HEADER", "WebhookSecrets"]


def _key_named(settings: str) -> str:
    """The shared key the settings header names (``key=…``), or "" for the auth token."""
    for part in settings.split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "key":
            return value.strip()
    return ""


@dataclass(frozen=True)
class WebhookSecrets:
    """Everything that may sign a webhook to this edge."""

    auth_token: str
    previous_auth_token: str = ""
    previous_until: datetime | None = None
    shared_keys: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def of(cls, config: Config) -> WebhookSecrets:
        return cls(
            config.twilio_auth_token,
            config.twilio_previous_auth_token,
            config.twilio_previous_token_until,
            config.twilio_webhook_keys,
        )

    def previous_accepted(self) -> bool:
        """True while the previous token's window is open."""
        return bool(
            self.previous_auth_token
            and self.previous_until is not None
            and self.clock() < self.previous_until
        )

    def _secrets_for(self, settings: str) -> list[str]:
        key = _key_named(settings)
        if key:
            return [self.shared_keys[key]] if key in self.shared_keys else []
        tokens = [self.auth_token]
        if self.previous_accepted():
            tokens.append(self.previous_auth_token)
        return tokens

    def signed(
        self, url: str, path: str, form: Mapping[str, str], signature: str, settings: str
    ) -> bool:
        """True if Twilio signed ``url`` and ``form`` with a secret we accept."""
        algorithm = get_signature_algorithm(settings)
        validators = [RequestValidator(secret) for secret in self._secrets_for(settings)]
        # Every menu step: one signature over the exact URL with the first secret matches.
        try:
            exact = [v.compute_signature(url, form, algorithm) for v in validators[:1]]
        except ValueError:  # an algorithm the library does not know: never Twilio's
            return False
        if any(hmac.compare_digest(found, signature) for found in exact):
            return True
        urls = [url]
        if path in SIGNED_FRAGMENTS:
            urls.append(f"{url}#{SIGNED_FRAGMENTS[path]}")
        # Then as the library checks (with and without the default port), for each secret.
        return any(
            validator.validate(candidate, form, signature, algorithm)
            for validator in validators
            for candidate in urls
        )
