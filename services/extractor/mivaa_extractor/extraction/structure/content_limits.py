"""How much a page will make MuPDF inflate, measured before MuPDF parses the page.

A content stream of a few KB can inflate to gigabytes ([/FlateDecode /FlateDecode]
takes 1 GiB of spaces down to ~3 KB). MuPDF re-inflates and re-lexes a page's
content on every pass over it (font profile, language sample, text, image
trace, OCR render): about 5 s a pass per GiB of spaces, 45 s of repeated
operators, so one such page held a worker for over a minute. Here a page's
content streams (its own and those of the form XObjects it uses) are inflated
with a bound, in Python, counting bytes and keeping none, and its images'
declared decoded size is read from their dictionaries; a page over a limit
becomes a page error without MuPDF ever parsing it, and a document whose
pages together pass the document limit has its remaining pages reported.

Filters: Flate (any number of them, streamed with a bound at every stage),
ASCIIHex and ASCII85 (they only shrink) are decoded here; any other filter
(LZW, RunLength: rare in content streams) is left to MuPDF, whose decoding of
it stays bounded by the page time and memory limits.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pymupdf

from mivaa_extractor.extraction.structure.model import PageError

log = logging.getLogger("mivaa.extractor.content")

_FLATE = {"FlateDecode", "Fl"}
_HEX = {"ASCIIHexDecode", "AHx"}
_A85 = {"ASCII85Decode", "A85"}
_STEP = 1 << 20  # bytes inflated per call, so no stage ever holds more than this
# A page not to analyse: its number and the page error it gets instead.
PageFault = tuple[int, PageError]
_COMPONENTS = {"DeviceGray": 1, "CalGray": 1, "DeviceRGB": 3, "CalRGB": 3, "Lab": 3, "DeviceCMYK": 4}


@dataclass(frozen=True)
class ContentLimits:
    """Bytes a page may inflate (content streams and forms) and decode (images); bytes a document may inflate."""

    page_content_bytes: int = 64 << 20
    page_image_bytes: int = 1 << 30
    document_content_bytes: int = 1 << 30


def check_document(doc: pymupdf.Document, limits: ContentLimits) -> tuple[tuple[PageFault, ...], dict[int, int]]:
    """Pages over a page limit and every page after the document limit was passed; the content bytes of each page measured."""
    faults: list[PageFault] = []
    sizes: dict[int, int] = {}
    spent = 0
    for index in range(doc.page_count):
        number = index + 1
        if spent > limits.document_content_bytes:
            faults.append(
                _fault(
                    number,
                    "DOCUMENT_CONTENT_LIMIT",
                    f"Page {number} was skipped: the pages before it already hold more drawing instructions than "
                    f"the document's limit of {limits.document_content_bytes >> 20} MiB.",
                )
            )
            continue
        content, fault = check_page(doc, number, limits)
        sizes[number] = content
        spent += content
        if fault is not None:
            faults.append(fault)
    return tuple(faults), sizes


def check_page(doc: pymupdf.Document, number: int, limits: ContentLimits) -> tuple[int, PageFault | None]:
    """(content bytes inflated, at most the limit + 1; a fault when the page is over a limit)."""
    try:
        page = doc.load_page(number - 1)
        streams = list(page.get_contents())
        streams += [xref for xref, *_ in page.get_xobjects() if xref > 0]
        images = page.get_images(full=True)
    except Exception:  # noqa: BLE001 - a page MuPDF cannot load fails later, with its own error
        return 0, None
    content = 0
    for xref in dict.fromkeys(streams):
        content += decoded_size(doc, xref, limits.page_content_bytes + 1 - content)
        if content > limits.page_content_bytes:
            return content, _fault(
                number,
                "PAGE_CONTENT_TOO_LARGE",
                f"Page {number} was skipped: its drawing instructions inflate to more than the limit of "
                f"{limits.page_content_bytes >> 20} MiB.",
            )
    image_bytes = sum(
        _image_bytes(doc, xref, width, height, bpc) for xref, _s, width, height, bpc, *_ in dict.fromkeys(images)
    )
    if image_bytes > limits.page_image_bytes:
        return content, _fault(
            number,
            "PAGE_IMAGES_TOO_LARGE",
            f"Page {number} was skipped: its images decode to {image_bytes >> 20} MiB, more than the limit of "
            f"{limits.page_image_bytes >> 20} MiB.",
        )
    return content, None


def _fault(number: int, reason: str, message: str) -> PageFault:
    return number, PageError(reason=reason, message=message)


def decoded_size(doc: pymupdf.Document, xref: int, limit: int) -> int:
    """The decoded length of stream `xref`, counted up to `limit` (the count stops past it)."""
    try:
        filters = _filters(doc, xref)
        if any(name not in _FLATE | _HEX | _A85 for name in filters):
            return len(doc.xref_stream(xref) or b"")  # MuPDF decodes it, under the page limits
        raw = doc.xref_stream_raw(xref) or b""
    except Exception:  # noqa: BLE001 - an unreadable stream inflates to nothing
        return 0
    chunks: Iterator[bytes] = iter((raw,))
    for name in filters:
        chunks = _inflate(chunks) if name in _FLATE else _shrink(chunks, name in _HEX, limit)
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            break
    return total


def _filters(doc: pymupdf.Document, xref: int) -> list[str]:
    kind, value = doc.xref_get_key(xref, "Filter")
    if kind not in ("name", "array"):
        return []
    return re.findall(r"/([^\s/\[\]<>()]+)", value)


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Flate decoding, at most _STEP bytes at a time; a damaged stream ends where it breaks (as in MuPDF)."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            data = chunk
            while data and not inflater.eof:
                out = inflater.decompress(data, _STEP)
                data = inflater.unconsumed_tail
                if out:
                    yield out
            if inflater.eof:
                return
        yield inflater.flush()
    except zlib.error:
        return


def _shrink(chunks: Iterator[bytes], hexadecimal: bool, limit: int) -> Iterator[bytes]:
    """ASCIIHex or ASCII85 decoding of the whole input (at most ~2x `limit` of it; these only shrink)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > 2 * limit + 16:
            break
    data = b"".join(parts)
    try:
        if hexadecimal:
            digits = re.sub(rb"\s", b"", data.split(b">", 1)[0])
            yield binascii.unhexlify(digits + b"0" * (len(digits) % 2))
        else:
            body = data.split(b"~>", 1)[0].removeprefix(b"<~")
            yield base64.a85decode(re.sub(rb"\s", b"", body))
    except ValueError:
        return


def _image_bytes(doc: pymupdf.Document, xref: int, width: int, height: int, bits: int) -> int:
    """Declared decoded size of an image XObject: width x height x components x bits / 8."""
    try:
        kind, space = doc.xref_get_key(xref, "ColorSpace")
    except Exception:  # noqa: BLE001
        kind, space = "null", ""
    components = 1
    if kind == "name":
        components = _COMPONENTS.get(space.lstrip("/"), 1)
    elif kind == "array" or kind == "xref":
        components = 4 if "CMYK" in space else 3 if ("RGB" in space or "ICC" in space or "Lab" in space) else 1
    return max(0, width) * max(0, height) * components * max(1, bits or 8) // 8
