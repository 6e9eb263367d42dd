"""Files made here to carry what a sender's software would put in them, planted by name.

Each plants values (a name, an address, a date) that must not survive cleaning. Sound is
made from a WAV of a tone, encoded with PyAV into each kind the form takes; a PDF is built
with pikepdf around a GPS-tagged photo and a note signed by its author.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from fractions import Fraction

import av
import pikepdf
from PIL import Image

from tests.online.helpers import photo_with_gps

PLANTED = {
    "artist": "Jane Whistleblower",
    "comment": "recorded at 14 Acacia Avenue BH1 1AA",
    "date": "2024-05-01",
    "creation_time": "2024-05-01T10:11:12Z",
    "location": "+50.7192-001.8808/",
}


def tone_wav(seconds: float = 2.0, rate: int = 22_050) -> bytes:
    """A plain WAV of a 440 Hz tone: samples and nothing else."""
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(
            b"".join(
                struct.pack("<h", int(9000 * math.sin(i * 2 * math.pi * 440 / rate)))
                for i in range(int(rate * seconds))
            )
        )
    return out.getvalue()


def wav_with_info() -> bytes:
    """A WAV with a LIST/INFO chunk naming its artist, date and a comment."""
    plain = tone_wav()
    fields = b"".join(
        key + struct.pack("<I", len(value)) + value + b"\x00" * (len(value) & 1)
        for key, value in (
            (b"IART", b"Jane Whistleblower"),
            (b"ICRD", b"2024-05-01"),
            (b"ICMT", b"recorded at 14 Acacia Avenue BH1 1AA"),
        )
    )
    info = b"INFO" + fields
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    return plain[:4] + struct.pack("<I", len(plain) - 8 + len(chunk)) + plain[8:] + chunk


def tagged_sound(container: str, codec: str) -> bytes:
    """The tone encoded by ``codec`` into ``container``, with every planted tag."""
    out = io.BytesIO()
    with av.open(io.BytesIO(tone_wav())) as source, av.open(out, "w", format=container) as target:
        target.metadata.update(PLANTED)
        heard = source.streams.audio[0]
        rate = 48_000 if codec == "libopus" else heard.rate
        layout = "stereo" if codec == "vorbis" else "mono"  # FFmpeg's Vorbis: stereo only
        encoder = target.add_stream(codec, rate=rate, layout=layout)
        encoder.metadata.update(PLANTED)  # an OGG keeps its tags on the stream
        encoder.time_base = Fraction(1, rate)
        if codec == "vorbis":
            encoder.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(format=encoder.format.name, layout=layout, rate=rate)
        for frame in source.decode(heard):
            frame.pts = None
            for piece in resampler.resample(frame):
                target.mux(encoder.encode(piece))
        for piece in resampler.resample(None):
            target.mux(encoder.encode(piece))
        target.mux(encoder.encode(None))
    return out.getvalue()


def heic_with_gps() -> bytes:
    """A HEIC photo whose EXIF holds a GPS position, a camera and its serial number."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(photo_with_gps())) as photo:
        exif = photo.getexif()
        out = io.BytesIO()
        photo.save(out, format="HEIF", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def tiff_with_artist() -> bytes:
    """A TIFF whose tags name an artist, a date and a camera (Pillow writes no GPS here)."""
    image = Image.new("RGB", (64, 48), (30, 30, 200))
    exif = image.getexif()
    exif[0x013B] = "Jane Whistleblower"
    exif[0x0132] = "2024:05:01 10:11:12"
    exif[0x010F] = "PlantedCameraMake"
    out = io.BytesIO()
    image.save(out, format="TIFF", exif=exif)
    return out.getvalue()


def pdf_with_photo_and_note() -> bytes:
    """A one-page PDF: some text, a GPS-tagged photo, a signed and dated note, an author."""
    pdf = pikepdf.new()
    photo = pikepdf.Stream(pdf, photo_with_gps())  # the JPEG as it is, EXIF and all
    photo.Type, photo.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    photo.Width, photo.Height, photo.BitsPerComponent = 64, 48, 8
    photo.ColorSpace, photo.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[400, 700, 420, 720],
        Contents=pikepdf.String("Meet at 14 Acacia Avenue"),
        T=pikepdf.String("Jane Whistleblower"),
        M=pikepdf.String("D:20240501101112Z"),
        CreationDate=pikepdf.String("D:20240501101112Z"),
    )
    drawing = b"BT /F1 24 Tf 72 720 Td (Statement) Tj ET q 192 0 0 144 72 500 cm /Photo Do Q"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(
            Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Photo=photo)
        ),
        Contents=pikepdf.Stream(pdf, drawing),
        Annots=pikepdf.Array([pdf.make_indirect(note)]),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.docinfo["/Author"] = "Jane Whistleblower"
    pdf.docinfo["/CreationDate"] = "D:20240501101112Z"
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = ["Jane Whistleblower"]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


# Every kind of file the form takes, as a sender's software would make it.
MADE = {
    "pdf-photo-note": (pdf_with_photo_and_note, "application/pdf"),
    "heic-gps": (heic_with_gps, "image/heic"),
    "tiff-artist": (tiff_with_artist, "image/tiff"),
    "jpeg-gps": (photo_with_gps, "image/jpeg"),
    "ogg-opus": (lambda: tagged_sound("ogg", "libopus"), "audio/ogg"),
    "ogg-vorbis": (lambda: tagged_sound("ogg", "vorbis"), "audio/ogg"),
    "mp3-id3": (lambda: tagged_sound("mp3", "libmp3lame"), "audio/mpeg"),
    "m4a-dates": (lambda: tagged_sound("ipod", "aac"), "audio/mp4"),
    "wav-info": (wav_with_info, "audio/wav"),
}
