"""Fill in and send the online form as a browser without JavaScript would."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from ivr.online.guard import FormGuard

GPS = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}


def photo_with_gps(make: str = "PlantedCameraMake") -> bytes:
    """A JPEG carrying a GPS position, a camera make and a serial number in its EXIF."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = image.getexif()
    exif[0x010F] = make
    exif[0x0110] = "PlantedModel"
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-PLANTED-0042"
    exif.get_ifd(0x8825).update(GPS)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def form_action(page: str) -> str:
    """The rendered form's action: its path and, in the query, its one-time token."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action and "?token=" in action.group(1), "the form has no token in its action"
    return action.group(1)


def form_fields(page: str) -> dict[str, str]:
    """The proof of work for a rendered form, done as its script would do it."""
    found = re.search(r'data-challenge="([0-9a-f]+)" data-bits="(\d+)"', page)
    assert found, "the form has no challenge"
    return {"work": solve(found.group(1), int(found.group(2)))}


def solve(nonce: str, bits: int) -> str:
    """The first number whose SHA-256 after ``nonce`` starts with ``bits`` zero bits."""
    for number in itertools.count():
        digest = int.from_bytes(hashlib.sha256(f"{nonce}:{number}".encode()).digest())
        if digest >> (256 - bits) == 0:
            return str(number)
    raise AssertionError("unreachable")


def picture_answer(page: str, guard: FormGuard) -> dict[str, str]:
    """What a person reads in the form's picture (the test asks the server's own key)."""
    token = form_action(page).partition("?token=")[2]
    return {"answer": guard.picture_text(guard.read(token))}


def send(
    client: FlaskClient,
    path: str = "/report",
    files: list[tuple[bytes, str]] | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> TestResponse:
    """Load the form, then send it with ``fields`` (and ``files``: bytes, file name)."""
    page = client.get(path, headers=headers).get_data(as_text=True)
    data: dict[str, Any] = {
        **form_fields(page),
        "category": "personal_advantage",
        "anonymity": "anonymous",
        **fields,
    }
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(
        form_action(page), data=data, content_type="multipart/form-data", headers=headers or {}
    )
