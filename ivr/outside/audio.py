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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydub import AudioSegment
from pydub.utils import db_to_float

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
    header: bytes  # a WAV header for ``pcm``
    pcm: bytes
    duration_seconds: float  # of the original recording
    silent: bool
    gain_db: float

    @property
    def wav(self) -> bytes:
        return self.header + self.pcm

    def wav_chunks(self, size: int) -> Iterator[bytes]:
        """Yield the WAV file in pieces, without building it whole in memory."""
        yield self.header
        view = memoryview(self.pcm)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])


def clean(media: bytes | Iterable[bytes]) -> CleanAudio:
    """Return the recording trimmed and normalised, as WAV.

    Memory matters for hour-long recordings: the media is joined once, decoded, and
    trimmed and amplified in a single pass, so at most two copies exist at a time.
    """
    data = media if isinstance(media, bytes) else b"".join(media)
    segment = decode_wav(data)
    del data, media
    duration = len(segment) / 1000
    levels = _window_levels(segment)
    floor = _dbfs_to_rms(SILENCE_DBFS, segment.sample_width)
    voiced = [level > floor for level in levels]
    if sum(voiced) * WINDOW_MS < MIN_SPEECH_MS:
        return CleanAudio(
            _wav_header(segment, len(segment.raw_data)),
            segment.raw_data,
            duration,
            silent=True,
            gain_db=0.0,
        )

    first = voiced.index(True)
    last = len(voiced) - 1 - voiced[::-1].index(True)
    bytes_per_ms = segment.frame_rate * segment.frame_width / 1000
    start = (
        int(max(0, first * WINDOW_MS - PAD_MS) * bytes_per_ms)
        // segment.frame_width
        * segment.frame_width
    )
    end = (
        int(min(len(segment), (last + 1) * WINDOW_MS + PAD_MS) * bytes_per_ms)
        // segment.frame_width
        * segment.frame_width
    )
    speech = memoryview(segment.raw_data)[start:end]
    gain = _gain_for(
        [level for level in levels[first : last + 1] if level > floor], speech, segment
    )
    # Trim and amplify in one pass (audioop reads the slice in place).
    pcm = audioop.mul(speech, segment.sample_width, db_to_float(gain)) if gain else bytes(speech)
    speech.release()
    return CleanAudio(
        _wav_header(segment, len(pcm)), pcm, duration, silent=False, gain_db=round(gain, 1)
    )


def decode_wav(data: bytes) -> AudioSegment:
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


def _window_levels(segment: AudioSegment) -> list[int]:
    """Return the RMS level of each 50 ms window: one pass serves trimming and gain."""
    raw = segment.raw_data
    width = segment.sample_width
    step = int(segment.frame_rate * WINDOW_MS / 1000) * segment.frame_width
    return [audioop.rms(raw[i : i + step], width) for i in range(0, len(raw), step)]


def _gain_for(speech_levels: list[int], speech: memoryview, segment: AudioSegment) -> float:
    width = segment.sample_width
    # The level of the speech itself, not of the pauses between words.
    mean_square = sum(level * level for level in speech_levels) / len(speech_levels)
    speech_dbfs = 20 * math.log10(math.sqrt(mean_square) / _full_scale(width))
    peak_dbfs = 20 * math.log10(max(1, audioop.max(speech, width)) / _full_scale(width))
    gain = min(TARGET_SPEECH_DBFS - speech_dbfs, PEAK_CEILING_DBFS - peak_dbfs, MAX_GAIN_DB)
    return gain if abs(gain) >= 0.5 else 0.0


def _full_scale(width: int) -> float:
    return float(1 << (8 * width - 1))


def _dbfs_to_rms(dbfs: float, width: int) -> float:
    return _full_scale(width) * 10 ** (dbfs / 20)


def _wav_header(segment: AudioSegment, pcm_size: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(segment.sample_width)
        writer.setframerate(segment.frame_rate)
        writer.setnframes(pcm_size // segment.sample_width)
    # wave writes a header for zero frames when closed empty; patch in the real sizes.
    header = bytearray(out.getvalue())
    header[4:8] = (36 + pcm_size).to_bytes(4, "little")
    header[40:44] = pcm_size.to_bytes(4, "little")
    return bytes(header)
