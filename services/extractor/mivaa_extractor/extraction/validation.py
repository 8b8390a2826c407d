"""Upload validation: is this a PDF (or a PNG, JPEG or TIFF picture) we can read, within the limits?

`validate_upload` is the one entry point for every way bytes arrive (an upload, a retry, a URL):
it tells a picture from a PDF by the signature and checks each by its own rules (pictures:
extraction.pictures, whose reasons start with IMAGE_).

Every rejection is a domain error (domain "extractor.mivaa") with a stable
reason, a message written for the uploader and small string metadata; raw
library text never reaches a message. MuPDF's own diagnostics are kept off
stderr but stay retrievable (`PdfInfo.warnings`, `mupdf_warnings()`).

Reasons raised by `validate_pdf` (InvalidArgument unless noted):

- EMPTY_FILE: zero bytes.
- FILE_TOO_LARGE: more than `max_bytes` (metadata: max_bytes, size_bytes).
- NOT_A_PDF: no ``%PDF-`` signature in the first 1024 bytes and no picture signature at the start.
- PDF_ENCRYPTED (FailedPrecondition): needs a password and none, or a wrong
  one, was given (metadata: password_supplied "true"/"false").
- PDF_UNREADABLE: MuPDF cannot open it, it has no page, or reading its page
  count or metadata fails.
- TOO_MANY_PAGES: more than `max_pages` (metadata: max_pages, page_count).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pymupdf

from mivaa_extractor.extraction import pictures
from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_platform.errors import FailedPrecondition, InvalidArgument

DOMAIN = "extractor.mivaa"

PDF_SIGNATURE = b"%PDF-"
# The signature may be preceded by junk (some producers prepend bytes); readers
# such as Acrobat accept it within the first KiB, and so do we.
SIGNATURE_WINDOW = 1024

log = logging.getLogger("mivaa.extractor.validation")


def quiet_mupdf() -> None:
    """Keeps MuPDF's errors and warnings off stderr (they stay in its warning store).

    Called on import, so every process that imports this module (including the
    extraction worker processes) is quiet.
    """
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)


quiet_mupdf()


def mupdf_warnings(reset: bool = True) -> tuple[str, ...]:
    """The MuPDF diagnostics gathered in this process since the last reset.

    The store is per process (not per thread or document), so the lines can
    mix when several documents are opened concurrently in one process.
    """
    text = pymupdf.TOOLS.mupdf_warnings(reset=reset)
    return tuple(line for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class PdfInfo:
    page_count: int
    title: str
    encrypted: bool
    producer: str
    # Whether MuPDF had to repair the file to open it, and what it said meanwhile.
    repaired: bool = False
    warnings: tuple[str, ...] = ()
    # What the bytes are (by their signature): application/pdf, image/png, image/jpeg or image/tiff.
    media_type: str = pictures.PDF


def media_type_of(first_bytes: bytes) -> str:
    """The media type the signature says, or NOT_A_PDF / IMAGE_FORMAT_UNSUPPORTED for anything else."""
    picture = pictures.picture_type(first_bytes)
    if picture is not None:
        return picture
    if pictures.unsupported_picture(first_bytes):
        raise InvalidArgument(
            "IMAGE_FORMAT_UNSUPPORTED",
            "Pictures are taken as PNG, JPEG or TIFF; this one is in another format.",
            domain=DOMAIN,
        )
    check_signature(first_bytes)
    return pictures.PDF


def validate_upload(
    data: bytes, *, password: str | None, max_bytes: int, max_pages: int, picture_limits: PictureLimits
) -> PdfInfo:
    """Checks uploaded bytes, a PDF or a picture, and returns what the pipeline needs to know."""
    kind = media_type_of(data[:SIGNATURE_WINDOW]) if data else pictures.PDF
    if kind == pictures.PDF:
        return validate_pdf(data, password=password, max_bytes=max_bytes, max_pages=max_pages)
    if len(data) > max_bytes:
        raise over_limit(
            "FILE_TOO_LARGE",
            f"The file is {len(data)} bytes, more than the limit of {max_bytes} bytes.",
            max_bytes=max_bytes,
            size_bytes=len(data),
        )
    limits = PictureLimits(
        max_pixels=picture_limits.max_pixels,
        max_side_px=picture_limits.max_side_px,
        max_frames=min(picture_limits.max_frames, max_pages),
    )
    info = pictures.validate_picture(data, kind, limits)
    return PdfInfo(page_count=info.page_count, title="", encrypted=False, producer="", media_type=kind)


def check_signature(first_bytes: bytes) -> None:
    """Raises NOT_A_PDF unless ``%PDF-`` occurs within the first 1024 bytes.

    Pass the first SIGNATURE_WINDOW bytes of the upload (or the whole file if
    it is shorter): with a shorter prefix a signature that sits later in the
    window cannot be seen, and the upload would be rejected wrongly.
    """
    if PDF_SIGNATURE not in bytes(first_bytes[:SIGNATURE_WINDOW]):
        raise InvalidArgument(
            "NOT_A_PDF",
            "The file is not a PDF (no %PDF- header) nor a PNG, JPEG or TIFF picture.",
            domain=DOMAIN,
        )


def validate_pdf(data: bytes, *, password: str | None, max_bytes: int, max_pages: int) -> PdfInfo:
    """Checks an uploaded file and returns what the rest of the pipeline needs to know.

    A password given for a file that needs none is ignored. An empty password
    counts as no password.
    """
    size = len(data)
    if size == 0:
        raise InvalidArgument("EMPTY_FILE", "The file is empty.", domain=DOMAIN)
    if size > max_bytes:
        raise over_limit(
            "FILE_TOO_LARGE",
            f"The file is {size} bytes, more than the limit of {max_bytes} bytes.",
            max_bytes=max_bytes,
            size_bytes=size,
        )
    check_signature(data[:SIGNATURE_WINDOW])

    mupdf_warnings(reset=True)
    try:
        doc = open_pdf(data, password)
        try:
            try:
                page_count = doc.page_count
                repaired = bool(doc.is_repaired)
                metadata = doc.metadata or {}
                encrypted = bool(doc.is_encrypted or doc.needs_pass or metadata.get("encryption"))
                title = _clean(metadata.get("title"))
                producer = _clean(metadata.get("producer"))
            except Exception:
                log.debug("reading page count or metadata failed", exc_info=True)
                raise _unreadable() from None
        finally:
            doc.close()
        if page_count <= 0:
            raise _unreadable("The PDF has no readable page.")
    except InvalidArgument as error:
        # What MuPDF said stays in the server's log, never in the caller's message.
        log.info("PDF rejected as %s; MuPDF said: %s", error.reason, " | ".join(mupdf_warnings(reset=True)))
        raise
    warnings = mupdf_warnings(reset=True)
    if page_count > max_pages:
        raise over_limit(
            "TOO_MANY_PAGES",
            f"The PDF has {page_count} pages, more than the limit of {max_pages}.",
            max_pages=max_pages,
            page_count=page_count,
        )
    return PdfInfo(
        page_count=page_count,
        title=title,
        encrypted=encrypted,
        producer=producer,
        repaired=repaired,
        warnings=warnings,
    )


def open_pdf(source: bytes | str, password: str | None) -> pymupdf.Document:
    """Opens a PDF from bytes or a path and unlocks it; raises PDF_UNREADABLE or PDF_ENCRYPTED.

    A picture (a PNG, JPEG or TIFF original, told by its signature) opens as its image-only PDF
    (pictures.picture_as_pdf_document), so every reader sees the same pages. The caller owns (and
    must close) the returned document.
    """
    picture = _picture_type_of(source)
    if picture is not None:
        try:
            source_bytes = source if isinstance(source, bytes) else _read(source)
            return pictures.picture_as_pdf_document(bytes(source_bytes), picture)
        except Exception:
            log.debug("MuPDF could not open the picture", exc_info=True)
            raise _unreadable() from None
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            doc = pymupdf.open(stream=bytes(source), filetype="pdf")
        else:
            try:
                doc = pymupdf.open(source, filetype="pdf")
            except Exception:  # noqa: BLE001
                # MuPDF repairs some files from memory that it cannot from a file
                # (a seek past the end fails on a file, not in memory). Upload
                # validation reads from memory: read what it accepted the same way.
                with open(source, "rb") as handle:
                    doc = pymupdf.open(stream=handle.read(), filetype="pdf")
    except Exception:
        log.debug("MuPDF could not open the file", exc_info=True)
        raise _unreadable() from None
    try:
        needs_pass = bool(doc.needs_pass)
    except Exception:  # noqa: BLE001
        doc.close()
        raise _unreadable() from None
    if needs_pass:
        if not password:
            doc.close()
            raise _encrypted("The PDF is encrypted: supply its password to process it.", supplied=False)
        try:
            unlocked = doc.authenticate(password)
        except Exception:  # noqa: BLE001
            unlocked = 0
        if not unlocked:
            doc.close()
            raise _encrypted("The PDF is encrypted and the password supplied is wrong.", supplied=True)
    return doc


def _picture_type_of(source: bytes | str) -> str | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return pictures.picture_type(bytes(source[:16]))
    try:
        with open(source, "rb") as handle:
            return pictures.picture_type(handle.read(16))
    except OSError:
        return None  # the PDF path below reports it


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def over_limit(reason: str, message: str, **figures: int) -> InvalidArgument:
    """An upload over one of its limits; `figures` (the limit, the upload's own) go to the error's metadata."""
    return InvalidArgument(
        reason, message, domain=DOMAIN, metadata={name: str(value) for name, value in figures.items()}
    )


def _encrypted(message: str, *, supplied: bool) -> FailedPrecondition:
    return FailedPrecondition(
        "PDF_ENCRYPTED", message, domain=DOMAIN, metadata={"password_supplied": "true" if supplied else "false"}
    )


def _unreadable(message: str = "The file is damaged or not a PDF that can be read.") -> InvalidArgument:
    return InvalidArgument("PDF_UNREADABLE", message, domain=DOMAIN)


def _clean(value: object) -> str:
    """Metadata strings without NULs (some producers pad with them) or surrounding blanks."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("\x00", " ").split())
