"""Telling an outside service's outage from a job's own failure.

A job that cannot reach the object store, the key service or Twilio has not failed: the
service has. Such errors are :class:`ServiceDown`, named by the service they belong to,
so the worker neither spends the job's attempts on them nor backs off for longer than
the outage lasts. It puts the job aside as *waiting* for that service, asks the service
every few seconds with a cheap call, and the moment it answers, every job waiting on it
is due at once (see ``ivr.telephony.jobs`` and ``ivr.worker.probes``).

Only what belongs to the job itself counts towards parking it: Twilio's 404 for a
recording long after it should exist, audio that cannot be decoded, a key that opens
another object.
"""

from __future__ import annotations

import enum


class Service(enum.StrEnum):
    """The outside services a job can wait for (the value is kept on the job's row)."""

    STORE = "store"
    KEYS = "keys"
    TWILIO = "twilio"

    @property
    def described(self) -> str:
        return _DESCRIBED[self]


_DESCRIBED = {
    Service.STORE: "the object store",
    Service.KEYS: "the key service",
    Service.TWILIO: "Twilio's REST API",
}


class ServiceDown(Exception):
    """An outside service did not answer, or answered "not now": wait for it, then retry.

    Refused or reset connections, timeouts, 5xx answers, throttling and refused
    credentials are all the service's state, not the job's: every job needing it fails
    alike until it is back (or until an operator fixes its settings).
    """

    service: Service
