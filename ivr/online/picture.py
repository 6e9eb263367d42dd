"""Draw the characters of the form's human check as a PNG: tilted, spaced and crossed out.

The picture is drawn afresh (with new jitter) each time it is asked for, in memory. It is
no strong puzzle, which is why the picture has a small share of reports a minute: it only
lets a person without JavaScript send a report without it becoming the easy way round.
"""

from __future__ import annotations

import io
import secrets

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 260, 90
INK = (20, 20, 20)


def draw(text: str) -> bytes:
    """Return a PNG of ``text`` that a person reads easily and a script less so."""
    rng = secrets.SystemRandom()
    image = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 245))
    font = ImageFont.load_default(size=48)
    step = (WIDTH - 30) // max(len(text), 1)
    for index, char in enumerate(text):
        glyph = Image.new("L", (70, 80), 0)
        ImageDraw.Draw(glyph).text((12, 6), char, font=font, fill=255)
        glyph = glyph.rotate(rng.uniform(-28, 28), resample=Image.Resampling.BICUBIC)
        x = 12 + index * step + rng.randint(-4, 4)
        y = rng.randint(0, HEIGHT - 80)
        image.paste(Image.new("RGB", glyph.size, INK), (x, y), glyph)
    pen = ImageDraw.Draw(image)
    for _ in range(5):
        points = [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)) for _ in range(3)]
        pen.line(points, fill=INK, width=2)
    for _ in range(250):
        spot = (rng.randint(0, WIDTH - 1), rng.randint(0, HEIGHT - 1))
        pen.point(spot, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
