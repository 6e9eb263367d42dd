"""What the ops team changes without a new flow version: recorded prompts, announcements."""

from __future__ import annotations

import io
import shutil
from datetime import datetime

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.flows.schema import Flow, prompt_of
from ivr.models.flows import Announcement, PromptAudio
from ivr.outside.audio import AudioRejected, decode_wav
from ivr.staff import audit

MAX_PROMPT_SECONDS = 120
QUIETEST_DBFS = -40.0  # quieter than this and callers strain to hear it
MIMETYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}


class PromptRefused(ValueError):
    """The upload cannot be played to callers; the message says why."""


def check_prompt(filename: str, data: bytes) -> tuple[str, float]:
    """Return (mimetype, seconds) for a playable prompt, or say what is wrong with it."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in MIMETYPES:
        raise PromptRefused("upload a .wav or .mp3 file")
    try:
        if suffix == ".wav":
            segment = decode_wav(data)
        elif shutil.which("ffmpeg") is None:
            raise PromptRefused(
                "this server cannot read MP3 (ffmpeg is not installed): upload a WAV file"
            )
        else:  # prompts are not callers' audio: pydub may use ffmpeg and its temporary files
            segment = AudioSegment.from_file(io.BytesIO(data), format="mp3")
    except (AudioRejected, CouldntDecodeError, IndexError, OSError) as error:
        raise PromptRefused(f"the file is not playable audio ({error})") from None
    seconds = len(segment) / 1000
    if seconds > MAX_PROMPT_SECONDS:
        raise PromptRefused(
            f"the recording lasts {seconds:.0f} s; keep prompts under {MAX_PROMPT_SECONDS} s"
        )
    if segment.dBFS < QUIETEST_DBFS:
        raise PromptRefused(
            f"the recording is too quiet ({segment.dBFS:.0f} dBFS); record it louder"
        )
    return MIMETYPES[suffix], seconds


def save_prompt(
    session: Session, flow: Flow, step: str, language: str, filename: str, data: bytes, author: str
) -> PromptAudio:
    if step not in flow.steps or prompt_of(flow.steps[step]) is None:
        raise PromptRefused(f"{step!r} is not a step with a prompt in {flow.name}")
    if language not in flow.languages:
        raise PromptRefused(f"{language!r} is not one of the flow's languages")
    mimetype, seconds = check_prompt(filename, data)
    found = session.scalars(
        select(PromptAudio).where(
            PromptAudio.flow == flow.name,
            PromptAudio.step == step,
            PromptAudio.language == language,
        )
    ).first()
    if found is None:
        found = PromptAudio(flow=flow.name, step=step, language=language)
        session.add(found)
    found.filename, found.mimetype, found.data = filename, mimetype, data
    found.seconds, found.uploaded_by = seconds, author
    audit.record(session, author, "prompt_upload", detail=f"{step} {language}")
    return found


def set_announcement(
    session: Session,
    flow: Flow,
    texts: dict[str, str],
    active: bool,
    ends_at: datetime | None,
    author: str,
) -> Announcement:
    texts = {language: " ".join(text.split()) for language, text in texts.items() if text.strip()}
    if active and set(texts) != set(flow.languages):
        missing = ", ".join(sorted(set(flow.languages) - set(texts)))
        raise PromptRefused(
            f"give the announcement in every language before switching it on (missing: {missing})"
        )
    notice = session.get(Announcement, flow.name)
    if notice is None:
        notice = Announcement(flow=flow.name)
        session.add(notice)
    notice.texts, notice.active, notice.ends_at, notice.changed_by = texts, active, ends_at, author
    audit.record(session, author, "announcement", detail="on" if active else "off")
    return notice
