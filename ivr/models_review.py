"""Supervisors' review thread on a report (issue 12).

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.tables``.
"""

from __future__ import annotations
