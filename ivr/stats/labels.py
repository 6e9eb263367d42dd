"""What a counter's facts are called on the page and in the CSV."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.models.stats import UNKNOWN, Channel

_CHANNELS = {
    Channel.PHONE.value: "Phone",
    Channel.ONLINE.value: "Online form",
    Channel.FALLBACK.value: "Fallback page (service unavailable)",
}
_ANONYMITY = {"anonymous": "Anonymous", "contact": "Left contact details"}


class Labels:
    """Names for the groups of each breakdown: the flow's categories, the languages."""

    def __init__(self, categories: Mapping[str, str], languages: Mapping[str, str]) -> None:
        self._by = {
            "channel": _CHANNELS,
            "anonymity": _ANONYMITY,
            "category": dict(categories),
            "language": dict(languages),
        }

    def __call__(self, dimension: str, group: str) -> str:
        if group == UNKNOWN:
            # A force before a handler chose one; a report found at Twilio, which made
            # no choice; a category the caller skipped.
            return "Not recorded"
        return self._by.get(dimension, {}).get(group, group)
