"""A PDF redrawn as pictures of its pages and bound anew, as Dangerzone does.

Stripping a PDF's fields leaves what they do not name: the photo inside it keeps its GPS
position and camera, a note keeps its author's name and date, a font its maker's name, a
form its fields, a script its code. So nothing is copied. Each page is drawn to pixels
(PDFium, built without JavaScript) and the pixels alone are bound into a new PDF: what
a handler sees is what a reader of the original saw, and nothing else comes along. The
text can no longer be selected; that is the price Dangerzone pays too.

Before a page is drawn, pikepdf checks the file's bounds (pages, objects) and lists the
kinds of detail it carries, so the handler is told what was left behind.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any

from ivr.outside.metadata.outcome import CannotClean, Cleaned, add

# A statement or a scanned bundle has tens of pages and a handful of objects a page; these
# bounds are far above that and far below what would exhaust the sandbox's memory.
MAX_PAGES = 500
MAX_OBJECTS = 100_000
# Dangerzone's resolution: print-sharp for text (a 10-point letter is 21 pixels high),
# and an A4 page is 1240 x 1754 pixels, 6.5 MB while drawn, a few hundred KB once encoded.
DPI = 150
# A page larger than A2 is drawn at a lower resolution, so one drawn page never needs
# more than about 100 MB of the sandbox's memory.
MAX_PAGE_PIXELS = 25_000_000
# The new PDF's pages are JPEG: a scan stays a tenth the size it would be lossless.
QUALITY = 85
# Under the sandbox's limit on what comes back, with room for the PDF's own structure.
MAX_REBUILT = 48 * 1024 * 1024

INFO_NAMES = {
    "/Author": "author",
    "/Creator": "creating program",
    "/Producer": "producing program",
    "/CreationDate": "creation date",
    "/ModDate": "modification date",
    "/Title": "title",
    "/Subject": "subject",
    "/Keywords": "keywords",
}


def clean_pdf(data: bytes) -> Cleaned:
    """Draw each page and bind the drawings into a new PDF; say what was left behind."""
    removed = inventory(data)
    return Cleaned(_bind(_drawn_pages(data)), removed, "application/pdf")


def inventory(data: bytes) -> list[str]:
    """Check a PDF's bounds and name the kinds of detail it carries, never their values."""
    import pikepdf

    # Pushing inherited attributes down walks every page at opening, before any bound is
    # checked: a page tree naming one page two million times took gigabytes there.
    with pikepdf.open(io.BytesIO(data), inherit_page_attributes=False) as pdf:
        _within_bounds(pdf)
        removed: list[str] = []
        for key in pdf.docinfo.keys():  # noqa: SIM118 (a pikepdf Dictionary, not a dict)
            add(removed, INFO_NAMES.get(str(key), "other document information"))
        for name in ("/AcroForm", "/OpenAction", "/AA"):
            if name in pdf.Root:
                add(removed, "form fields" if name == "/AcroForm" else "actions")
        for held in pdf.objects:
            for found in _dictionaries_in(held):
                for kind in _kinds_of(found):
                    add(removed, kind)
    return removed


def _dictionaries_in(held: Any) -> Iterator[Any]:
    """An indirect object's dictionaries, its own and those written inside it.

    A font or a note may be written in place, inside a page's dictionary, rather than
    as an object of its own; what is indirect is visited on its own, so no loop is run.
    """
    import pikepdf

    waiting = [held]
    while waiting:
        found = waiting.pop()
        if isinstance(found, pikepdf.Stream):
            found = found.stream_dict
        if isinstance(found, pikepdf.Dictionary):
            yield found
            children: Any = found.values()
        elif isinstance(found, pikepdf.Array):
            children = found
        else:
            continue
        waiting.extend(
            child
            for child in children
            if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect
        )


def _kinds_of(found: Any) -> Iterator[str]:
    """The kinds of detail one object of a PDF is, by its type and its keys."""
    kind, subtype = str(found.get("/Type", "")), str(found.get("/Subtype", ""))
    if kind == "/Metadata" or "/Metadata" in found:
        yield "XMP metadata"
    if subtype == "/Image":
        yield "embedded images"
    if kind == "/Annot" and subtype not in ("/Link", "/Widget"):
        yield "annotations"
        if "/T" in found:
            yield "annotation authors"
        if "/M" in found or "/CreationDate" in found:
            yield "annotation dates"
    if kind == "/Font" or subtype in ("/Type1", "/TrueType", "/Type0", "/Type3"):
        yield "font names"
    if str(found.get("/S", "")) == "/JavaScript" or "/JS" in found:
        yield "scripts"
    if kind in ("/EmbeddedFile", "/Filespec"):
        yield "attached files"
    if "/PieceInfo" in found:
        yield "editing program data"


def _within_bounds(pdf: Any) -> None:
    """Refuse a PDF with more objects or pages than cleaning allows, before reading them."""
    objects = len(pdf.get_xref_table())
    if objects > MAX_OBJECTS:
        raise CannotClean(
            f"the PDF has {objects:,} objects, more than the {MAX_OBJECTS:,} "
            "that can be cleaned safely"
        )
    pages, seen, waiting = 0, set(), [pdf.Root.Pages]
    while waiting:
        node = waiting.pop()
        if "/Kids" not in node:
            pages += 1
            if pages > MAX_PAGES:
                raise CannotClean(TOO_MANY_PAGES)
            continue
        if node.is_indirect:
            if node.objgen in seen:  # a page tree shares no node: this one loops or repeats
                raise CannotClean("the PDF's list of pages goes round in a circle")
            seen.add(node.objgen)
        if len(node.Kids) > MAX_PAGES:
            raise CannotClean(TOO_MANY_PAGES)
        waiting.extend(node.Kids)


TOO_MANY_PAGES = f"the PDF has more than {MAX_PAGES} pages, the most that can be cleaned safely"


def _drawn_pages(data: bytes) -> Iterator[tuple[bytes, int, int, float]]:
    """Each page drawn and encoded as JPEG: its bytes, pixel size and pixels per point."""
    import pypdfium2  # type: ignore[import-untyped]  # ships no type hints

    document = pypdfium2.PdfDocument(data)
    try:
        # PDFium reads the file on its own; its count is checked too, not only pikepdf's.
        if len(document) > MAX_PAGES:
            raise CannotClean(TOO_MANY_PAGES)
        total = 0
        for index in range(len(document)):
            page = document[index]
            try:
                encoded, width, height, scale = _draw(page)
            finally:
                page.close()
            total += len(encoded)
            if total > MAX_REBUILT:
                raise CannotClean(
                    f"its pages, drawn afresh, come to more than {MAX_REBUILT // 2**20} MB; "
                    "it is kept as sent, and could be sent again in parts"
                )
            yield encoded, width, height, scale
    finally:
        document.close()


def _draw(page: Any) -> tuple[bytes, int, int, float]:
    width, height = page.get_size()  # in points, a 72nd of an inch
    if width <= 0 or height <= 0:
        raise CannotClean("a page of the PDF has no size")
    scale = min(DPI / 72, math.sqrt(MAX_PAGE_PIXELS / (width * height)))
    # Drawn as a reader shows it: with its annotations' and form fields' appearances.
    bitmap = page.render(scale=scale, draw_annots=True, may_draw_forms=True)
    try:
        image = bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=QUALITY)
    return out.getvalue(), image.width, image.height, scale


def _bind(pages: Iterator[tuple[bytes, int, int, float]]) -> bytes:
    """A new PDF of one picture a page, and no document information, outline or font."""
    import pikepdf

    pdf = pikepdf.new()
    for encoded, width, height, scale in pages:
        picture = pikepdf.Stream(pdf, encoded)
        picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        picture.Width, picture.Height, picture.BitsPerComponent = width, height, 8
        picture.ColorSpace, picture.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
        points = (width / scale, height / scale)
        drawing = f"q {points[0]:.3f} 0 0 {points[1]:.3f} 0 0 cm /Page Do Q".encode()
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, round(points[0], 3), round(points[1], 3)],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Page=picture)),
            Contents=pikepdf.Stream(pdf, drawing),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()
