"""Sound files reduced to their samples, encoded anew in the same kind of file.

Tags name an artist, a place, a device and dates; an MP4 file's boxes keep the moment it
was recorded even with every tag gone. So only the samples are kept: decoded (PyAV, in
memory, never through a file) and encoded afresh into a new file of the same kind, with
no tag and no date: an M4A's boxes must hold a date, and hold zero. WAV's samples are
copied by the ``wave`` module, which writes nothing else.
"""

from __future__ import annotations

import io
import struct
import wave
from fractions import Fraction
from typing import Any

from ivr.outside.metadata.outcome import CannotClean, Cleaned, add

# Each kind of sound file taken, with the container and encoder its fresh copy is made
# with. OGG becomes Opus whatever it held: PyAV's own Vorbis encoder is experimental.
# The muxers' options leave out their own words, otherwise written into every file: the
# FFmpeg version that made it ("bitexact") and, for MP3, an ID3 tag to say so.
BITEXACT = {"fflags": "+bitexact"}
ENCODED = {
    "audio/mpeg": ("mp3", "libmp3lame", {**BITEXACT, "id3v2_version": "0"}),
    "audio/ogg": ("ogg", "libopus", BITEXACT),
    "audio/mp4": ("ipod", "aac", BITEXACT),  # "ipod" is FFmpeg's name for the M4A file
}
AUDIO = {"audio/wav", *ENCODED}
# A recording's quality is kept up to this: more would only grow a spoken recording.
MAX_BIT_RATE = 192_000

TAG_NAMES = {
    "artist": "artist",
    "album_artist": "artist",
    "composer": "artist",
    "performer": "artist",
    "author": "author",
    "title": "title",
    "album": "album",
    "comment": "comment",
    "description": "comment",
    "date": "date",
    "creation_time": "creation date",
    "encoder": "encoding software",
    "encoded_by": "encoding software",
    "location": "GPS position",
    "copyright": "copyright",
}
RIFF_NAMES = {
    b"IART": "artist",
    b"ICRD": "creation date",
    b"ICMT": "comment",
    b"INAM": "title",
    b"ISFT": "encoding software",
    b"IENG": "engineer",
    b"bext": "broadcast details (originator and date)",
    b"iXML": "recorder's notes (iXML)",
    b"id3 ": "ID3 tags",
    b"ID3 ": "ID3 tags",
}


def clean_sound(data: bytes, media_type: str) -> Cleaned:
    """Keep only a sound file's samples, in a fresh file of the same kind."""
    if media_type == "audio/wav":
        return _wav(data)
    import av

    container, codec, options = ENCODED[media_type]
    out = io.BytesIO()
    with av.open(io.BytesIO(data), "r") as source:
        if not source.streams.audio:
            raise CannotClean("the file holds no sound")
        heard = source.streams.audio[0]
        removed = _tags(source, heard)
        with av.open(out, "w", format=container, options=options) as target:
            _transcode(source, heard, target, codec)
    return Cleaned(out.getvalue(), removed, media_type)


def _tags(source: Any, heard: Any) -> list[str]:
    """The kinds of tag a file carries, by name alone, and any picture inside it."""
    removed: list[str] = []
    for stream in (source, *source.streams):
        for key in stream.metadata:
            name = key.lower().split("-")[0]
            if name in ("language", "handler_name", "vendor_id", "major_brand"):
                continue  # how the file is built, not who made it
            if name in ("minor_version", "compatible_brands"):
                continue
            add(removed, TAG_NAMES.get(name, "other tags"))
    if any(stream is not heard for stream in source.streams):
        add(removed, "pictures or other streams")
    return removed


def _transcode(source: Any, heard: Any, target: Any, codec: str) -> None:
    import av

    rate = 48_000 if codec == "libopus" else heard.rate  # Opus runs at 48 kHz
    # By channel count, not the source's layout: an "unspecified" layout is refused.
    layout = "mono" if heard.channels == 1 else "stereo"
    encoder = target.add_stream(codec, rate=rate, layout=layout)
    encoder.time_base = Fraction(1, rate)
    encoder.bit_rate = min(heard.bit_rate or 128_000, MAX_BIT_RATE)
    encoder.codec_context.flags |= av.codec.context.Flags.bitexact
    resampler = av.AudioResampler(format=encoder.format.name, layout=layout, rate=rate)
    for frame in source.decode(heard):
        frame.pts = None  # the fresh file counts its own time
        for piece in resampler.resample(frame):
            target.mux(encoder.encode(piece))
    for piece in resampler.resample(None):
        target.mux(encoder.encode(piece))
    target.mux(encoder.encode(None))


def _wav(data: bytes) -> Cleaned:
    removed: list[str] = []
    for chunk_id, body in _chunks(data, 12, len(data)):
        if chunk_id == b"LIST" and body[:4] == b"INFO":
            for info_id, _ in _chunks(body, 4, len(body)):
                add(removed, RIFF_NAMES.get(info_id, "other information"))
        elif chunk_id not in (b"fmt ", b"data", b"fact"):
            add(removed, RIFF_NAMES.get(chunk_id, "other information"))
    with wave.open(io.BytesIO(data)) as source:
        params = source.getparams()
        frames = source.readframes(params.nframes)
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(frames)
    return Cleaned(out.getvalue(), removed, "audio/wav")


def _chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """The RIFF chunks between ``start`` and ``end``: their ids and bodies."""
    found, position = [], start
    while position + 8 <= end:
        chunk_id, size = struct.unpack("<4sI", data[position : position + 8])
        found.append((chunk_id, data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    return found
