"""Anonymous follow-up: references, PIN hashes, questions and answers (issue 13).

Kept apart from ``ivr.models`` (which is at its size limit); registered on
``Base.metadata`` through ``ivr.tables``.
"""

from __future__ import annotations
