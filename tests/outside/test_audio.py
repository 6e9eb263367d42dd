"""Recordings are checked and cleaned so a handler can hear every caller."""

from __future__ import annotations

import io
import wave

import pytest
from pydub import AudioSegment

from ivr.outside.audio import AudioRejected, clean
from tests.conftest import SAMPLES

SPEECH = (SAMPLES / "report-en.wav").read_bytes()


def wav(segment: AudioSegment) -> bytes:
    out = io.BytesIO()
    segment.export(out, format="wav")
    return out.getvalue()


def speech() -> AudioSegment:
    return AudioSegment.from_wav(io.BytesIO(SPEECH))


def test_a_spoken_report_is_measured_and_kept_playable() -> None:
    cleaned = clean(SPEECH)
    assert cleaned.duration_seconds == pytest.approx(18.69, abs=0.01)
    assert not cleaned.silent
    with wave.open(io.BytesIO(cleaned.wav)) as reader:  # plain PCM WAV: every browser plays it
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 8000)


def test_silence_at_both_ends_is_trimmed() -> None:
    padded = (
        AudioSegment.silent(4000, frame_rate=8000)
        + speech()
        + AudioSegment.silent(6000, frame_rate=8000)
    )
    cleaned = clean(wav(padded))
    assert cleaned.duration_seconds == pytest.approx(28.69, abs=0.01)
    kept = AudioSegment.from_wav(io.BytesIO(cleaned.wav))
    assert len(kept) / 1000 < 19.5  # ten seconds of silence gone, the words kept


def test_a_whispering_caller_is_brought_up_to_a_hearable_level() -> None:
    whisper = speech().apply_gain(-28)
    cleaned = clean(wav(whisper))
    louder = AudioSegment.from_wav(io.BytesIO(cleaned.wav))
    assert cleaned.gain_db > 20
    assert louder.dBFS > whisper.dBFS + 20
    assert louder.max_dBFS <= -0.9  # and never clipped


def test_a_silent_recording_is_flagged() -> None:
    hiss = AudioSegment.silent(8000, frame_rate=8000).overlay(speech()[:8000].apply_gain(-45))
    assert clean(wav(hiss)).silent
    assert clean(wav(AudioSegment.silent(5000, frame_rate=8000))).silent


def test_stereo_is_mixed_down_to_one_track() -> None:
    stereo = AudioSegment.from_mono_audiosegments(speech(), speech())
    with wave.open(io.BytesIO(clean(wav(stereo)).wav)) as reader:
        assert reader.getnchannels() == 1


@pytest.mark.parametrize(
    "data",
    [b"", b"not audio" * 100, SPEECH[:30], b"ID3\x03" + b"\0" * 500],
    ids=["empty", "text", "cut-header", "mp3-tag"],
)
def test_what_is_not_decodable_audio_is_refused_clearly(data: bytes) -> None:
    with pytest.raises(AudioRejected, match=r"not decodable WAV audio|no usable audio"):
        clean(data)
