"""Pictures as documents: PNG, JPEG and TIFF uploads, checked by the picture reader and read as image-only PDFs.

A picture is recognised by its first bytes, never by its name or declared type. `validate_picture`
decodes every frame (mivaa_extractor.picture_reader, inside the validation worker process) before
anything is stored, so a file that lies about itself is refused with a reason: the reader's
(IMAGE_TOO_LARGE, IMAGE_TOO_MANY_PAGES, IMAGE_INVALID, IMAGE_FORMAT_UNSUPPORTED for a compression it
cannot decode), IMAGE_FORMAT_UNSUPPORTED for a picture format other than PNG, JPEG or TIFF (GIF, BMP,
BigTIFF, ...: validation.media_type_of), and IMAGE_INVALID for a picture MuPDF reads differently
from Pillow.

After validation the stored original stays the picture's own bytes. `picture_as_pdf` makes the PDF
that every reader (`validation.open_pdf`) sees: one page per frame, the picture filling the page, no
text layer, so the existing pipeline OCRs it, extracts the picture as the page's image, chunks,
renders and indexes it like any scanned PDF. The conversion is deterministic (the same bytes give
the same PDF), so pages and images found at upload, in the worker and in RenderPage agree.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import pymupdf

from mivaa_extractor import picture_reader
from mivaa_extractor.picture_reader import JPEG, PNG, TIFF, PictureLimits

__all__ = [
    "PDF",
    "PictureInfo",
    "PictureLimits",
    "picture_as_pdf_document",
    "picture_type",
    "unsupported_picture",
    "validate_picture",
]

DOMAIN = "extractor.mivaa"

PDF = "application/pdf"
# The picture formats taken as documents.
DOCUMENT_FORMATS = (PNG, JPEG, TIFF)

log = logging.getLogger("mivaa.extractor.pictures")

# (sha256 of a picture, its image-only PDF): the last conversion in this process.
_last_conversion: tuple[bytes, bytes] | None = None
# A larger conversion is not kept (a process's memory is worth more than converting again).
_MAX_KEPT_CONVERSION_BYTES = 64 << 20


@dataclass(frozen=True)
class PictureInfo:
    media_type: str
    page_count: int


def picture_type(first_bytes: bytes) -> str | None:
    """The media type of a picture taken as a document (PNG, JPEG, TIFF) its signature says, or None."""
    picture_format = picture_reader.sniff(first_bytes)
    return picture_format.media_type if picture_format in DOCUMENT_FORMATS else None


def unsupported_picture(first_bytes: bytes) -> bool:
    """Whether the bytes start like a picture format not taken as a document (GIF, BMP, BigTIFF, JPEG 2000, AVIF)."""
    return picture_reader.sniff(first_bytes) not in (None, *DOCUMENT_FORMATS) or picture_reader.other_picture(
        first_bytes
    )


def validate_picture(data: bytes, media_type: str, limits: PictureLimits) -> PictureInfo:
    """Decodes every frame within the limits and checks MuPDF reads the same pages; see the module docstring."""
    frames = picture_reader.count_frames(data, picture_reader.BY_MEDIA_TYPE[media_type], limits, domain=DOMAIN)
    try:
        with picture_as_pdf_document(data, media_type) as doc:
            page_count = doc.page_count
    except Exception:
        log.debug("MuPDF could not read a picture Pillow accepted", exc_info=True)
        raise picture_reader.invalid(DOMAIN, "The picture could not be read.") from None
    if page_count != frames:
        raise picture_reader.invalid(DOMAIN, f"The picture has {frames} frames but only {page_count} could be read.")
    return PictureInfo(media_type=media_type, page_count=page_count)


def picture_as_pdf_document(data: bytes, media_type: str) -> pymupdf.Document:
    """The picture as an image-only PDF, one page per frame (the caller closes it).

    A page process opens the same working copy once per batch of pages: the last conversion is
    kept (one per process, keyed by the picture's sha256), so a 200-frame TIFF is converted once
    per process rather than once per batch (about 0.16 s a frame for an A4 scan at 200 dpi).
    """
    global _last_conversion
    digest = hashlib.sha256(data).digest()
    if _last_conversion is not None and _last_conversion[0] == digest:
        pdf_bytes = _last_conversion[1]
    else:
        picture = pymupdf.open(stream=data, filetype=picture_reader.BY_MEDIA_TYPE[media_type].mupdf_filetype)
        try:
            pdf_bytes = picture.convert_to_pdf()
        finally:
            picture.close()
        _last_conversion = (digest, pdf_bytes) if len(pdf_bytes) <= _MAX_KEPT_CONVERSION_BYTES else None
    return pymupdf.open(stream=pdf_bytes, filetype="pdf")
