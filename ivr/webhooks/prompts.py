"""Recorded prompt audio from ``call_flows/``, fetched by Twilio for ``<Play>``.

Served under ``/twilio/`` because the public load balancer forwards nothing else to the
edge. Twilio fetches these with a plain GET, so they are outside the webhook blueprint's
signature check: they are the flow's public prompts, never anything a caller said.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory
from flask.typing import ResponseReturnValue

from ivr.models.flows import PromptAudio
from ivr.services import services

bp = Blueprint("prompts", __name__)

AUDIO_SUFFIXES = (".wav", ".mp3")


@bp.get("/twilio/prompts/uploaded/<prompt_id>")
def uploaded_prompt(prompt_id: str) -> ResponseReturnValue:
    """Serve a prompt the ops team uploaded (kept in the database, so any server has it)."""
    with services().db.reading() as session:
        found = session.get(PromptAudio, prompt_id)
        if found is None:
            abort(404)
        return Response(
            found.data, mimetype=found.mimetype, headers={"Cache-Control": "max-age=300"}
        )


@bp.get("/twilio/prompts/<path:audio>")
def prompt_audio(audio: str) -> ResponseReturnValue:
    """Serve a prompt file; only audio, only from the flow's folder (no path escapes)."""
    if not audio.lower().endswith(AUDIO_SUFFIXES):
        abort(404)
    return send_from_directory(services().flows.path.parent, audio, max_age=300)
