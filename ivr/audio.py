"""Check and clean a caller's recording with pydub before it is encrypted.

Refuse what is not audio; measure it; flag silence; trim silence at both ends; and
bring a whispering caller up to a level a handler can hear, without blowing up line
noise. The result stays WAV (PCM), which every browser plays. Everything happens in
memory: nothing about the recording touches a disk before it is encrypted.
"""

from __future__ import annotations

import audioop
import io
import math
import wave
from dataclasses import dataclass

from pydub import AudioSegment

WINDOW_MS = 50
# Below this a window is silence: phone-line hiss sits around -60 dBFS.
SILENCE_DBFS = -50.0
# Speech shorter than this, in all, counts as a silent recording.
MIN_SPEECH_MS = 300
PAD_MS = 250
TARGET_SPEECH_DBFS = -20.0  # average level of the speech after normalising
PEAK_CEILING_DBFS = -1.0  # never clip
MAX_GAIN_DB = 30.0  # a whisper, not the hiss, is what gets louder


class AudioRejected(ValueError):
    """The recording is not decodable audio; it is kept at Twilio for a person to check."""


@dataclass(frozen=True)
class CleanAudio:
    wav: bytes
    duration_seconds: float  # of the original recording
    silent: bool
    gain_db: float


def clean(data: bytes) -> CleanAudio:
    """Return the recording trimmed, normalised and re-encoded as WAV."""
    segment = _decode(data)
    del data
    duration = len(segment) / 1000
    voiced = _voiced_windows(segment)
    if sum(voiced) * WINDOW_MS < MIN_SPEECH_MS:
        return CleanAudio(_wav(segment), duration, silent=True, gain_db=0.0)

    first = voiced.index(True)
    last = len(voiced) - 1 - voiced[::-1].index(True)
    start = max(0, first * WINDOW_MS - PAD_MS)
    end = min(len(segment), (last + 1) * WINDOW_MS + PAD_MS)
    speech = segment[start:end]
    del segment
    gain = _gain_for(speech)
    if gain:
        speech = speech.apply_gain(gain)
    return CleanAudio(_wav(speech), duration, silent=False, gain_db=round(gain, 1))


def _decode(data: bytes) -> AudioSegment:
    # Not AudioSegment.from_file: on anything its own WAV reader refuses, it hands the
    # bytes to ffmpeg through a temporary file, and audio must not touch a disk.
    try:
        with wave.open(io.BytesIO(data)) as reader:
            frames = reader.readframes(reader.getnframes())
            width, rate, channels = (
                reader.getsampwidth(),
                reader.getframerate(),
                reader.getnchannels(),
            )
    except (wave.Error, EOFError, ValueError) as error:
        raise AudioRejected(f"not decodable WAV audio: {error or 'the file is empty'}") from None
    if not frames or width not in (1, 2, 4) or rate <= 0:
        raise AudioRejected("the recording holds no usable audio frames")
    segment = AudioSegment(data=frames, sample_width=width, frame_rate=rate, channels=channels)
    # Twilio's dual-channel recordings are mixed down: handlers listen to one voice track.
    return segment.set_channels(1) if channels > 1 else segment


def _voiced_windows(segment: AudioSegment) -> list[bool]:
    raw = segment.raw_data
    width = segment.sample_width
    step = int(segment.frame_rate * WINDOW_MS / 1000) * segment.frame_width
    floor = _dbfs_to_rms(SILENCE_DBFS, width)
    return [audioop.rms(raw[i : i + step], width) > floor for i in range(0, len(raw), step)]


def _gain_for(speech: AudioSegment) -> float:
    width = speech.sample_width
    raw = speech.raw_data
    step = int(speech.frame_rate * WINDOW_MS / 1000) * speech.frame_width
    floor = _dbfs_to_rms(SILENCE_DBFS, width)
    # The level of the speech itself, not of the pauses between words.
    levels = [
        rms
        for i in range(0, len(raw), step)
        if (rms := audioop.rms(raw[i : i + step], width)) > floor
    ]
    mean_square = sum(level * level for level in levels) / len(levels)
    speech_dbfs = 20 * math.log10(math.sqrt(mean_square) / _full_scale(width))
    peak_dbfs = speech.max_dBFS
    gain = min(TARGET_SPEECH_DBFS - speech_dbfs, PEAK_CEILING_DBFS - peak_dbfs, MAX_GAIN_DB)
    return gain if abs(gain) >= 0.5 else 0.0


def _full_scale(width: int) -> float:
    return float(1 << (8 * width - 1))


def _dbfs_to_rms(dbfs: float, width: int) -> float:
    return _full_scale(width) * 10 ** (dbfs / 20)


def _wav(segment: AudioSegment) -> bytes:
    out = io.BytesIO()
    segment.export(out, format="wav")
    return out.getvalue()
