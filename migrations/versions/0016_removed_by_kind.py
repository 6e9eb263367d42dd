"""What cleaning removed is stored by kind only: old rows that quote tag values are rewritten.

The first cleaner of sound files recorded an OGG file's tags whole ("artist: Jane ...",
a place, a date) in ``online_objects.removed``, shown on the report page. Every line is
kept only if it is a kind that cleaner could name from a fixed list; a PDF's "document
author" becomes "author"; any other line becomes "tags" (sound) or "other details". The
values are not kept anywhere, so going down leaves the kinds as they are.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every kind the earlier cleaners named from a fixed list (pictures, PDF, WAV).
KINDS = {
    "GPS position", "camera make", "camera model", "camera serial number",
    "lens serial number", "software", "artist", "copyright", "date and time",
    "date and time taken", "image description", "unique image id", "title", "author",
    "user comment", "maker notes", "other camera data", "XMP metadata", "colour profile",
    "comment", "Photoshop data", "text notes", "page metadata",
}  # fmt: skip
DOCUMENT = {
    "author": "author",
    "creator": "creating program",
    "producer": "producing program",
    "creationdate": "creation date",
    "moddate": "modification date",
    "title": "title",
    "subject": "subject",
    "keywords": "keywords",
}
# A refusal's reason holds sizes and library names, never anything read from the file.
NOT_CLEANED = "could not be cleaned"


def kinds_only(removed: str) -> str:
    """The lines of a ``removed`` value, each a kind from a fixed list or made one."""
    if removed.startswith(NOT_CLEANED):
        return removed
    kinds: list[str] = []
    for line in filter(None, removed.split("\n")):
        if line in KINDS:
            kind = line
        elif line.startswith("document "):
            kind = DOCUMENT.get(line.removeprefix("document "), "other document information")
        elif line.startswith("tag ") or line.endswith(" information"):
            kind = "tags"
        else:
            kind = "other details"
        if kind not in kinds:
            kinds.append(kind)
    return "\n".join(kinds)


def upgrade() -> None:
    connection = op.get_bind()
    table = sa.table("online_objects", sa.column("id", sa.String), sa.column("removed", sa.Text))
    rows = connection.execute(sa.select(table.c.id, table.c.removed).where(table.c.removed != ""))
    for item_id, removed in rows.all():
        rewritten = kinds_only(removed)
        if rewritten != removed:
            connection.execute(
                table.update().where(table.c.id == item_id).values(removed=rewritten)
            )


def downgrade() -> None:
    pass  # the values are gone, as they should be; the kinds suit the older code too
