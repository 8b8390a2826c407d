"""Pictures as documents: PNG, JPEG and TIFF uploads, checked with Pillow and read as image-only PDFs.

A picture is recognised by its first bytes, never by its name or declared type. `validate_picture`
decodes every frame with Pillow inside the validation worker process before anything is stored, so a
file that lies about itself is refused with a reason:

- IMAGE_FORMAT_UNSUPPORTED: a picture format other than PNG, JPEG or TIFF (GIF, BMP, WebP, ...), or
  a PNG/JPEG/TIFF that Pillow cannot decode (an unknown TIFF compression).
- IMAGE_TOO_LARGE: a frame over `max_pixels` or `max_side_px` (metadata: width, height, max_pixels,
  max_side_px). Checked from the header before a pixel is decoded, so a decompression bomb (a tiny
  file declaring 60000 x 60000) never exists in memory.
- IMAGE_TOO_MANY_PAGES: a TIFF with more than `max_frames` frames (metadata: max_pages). Frames are
  counted by seeking to at most max_frames + 1, never by walking a crafted IFD chain to its end.
- IMAGE_INVALID: a header that does not match the data (truncated or corrupt pixel data, a PNG chunk
  whose checksum is wrong, zero size), or a picture MuPDF reads differently from Pillow.

After validation the stored original stays the picture's own bytes. `picture_as_pdf` makes the PDF
that every reader (`validation.open_pdf`) sees: one page per frame, the picture filling the page, no
text layer, so the existing pipeline OCRs it, extracts the picture as the page's image, chunks,
renders and indexes it like any scanned PDF. The conversion is deterministic (the same bytes give
the same PDF), so pages and images found at upload, in the worker and in RenderPage agree.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass

import pymupdf
from PIL import Image, UnidentifiedImageError

from mivaa_platform.errors import InvalidArgument

DOMAIN = "extractor.mivaa"

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

# Media types read as pictures, with the MuPDF file type that opens them and Pillow's format name.
PICTURE_TYPES = {PNG: ("png", "PNG"), JPEG: ("jpeg", "JPEG"), TIFF: ("tiff", "TIFF")}

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)
# Pictures we recognise so the uploader hears "unsupported picture" rather than "not a PDF".
_UNSUPPORTED_SIGNATURES = (b"GIF87a", b"GIF89a", b"BM", b"II+\x00", b"MM\x00+", b"\x00\x00\x00\x0cjP  ")

log = logging.getLogger("mivaa.extractor.pictures")

# (sha256 of a picture, its image-only PDF): the last conversion in this process.
_last_conversion: tuple[bytes, bytes] | None = None
# A larger conversion is not kept (a process's memory is worth more than converting again).
_MAX_KEPT_CONVERSION_BYTES = 64 << 20


@dataclass(frozen=True)
class PictureLimits:
    # Pixels in one frame (the decoded size, whatever the file's size).
    max_pixels: int = 50_000_000
    # The longest side of one frame.
    max_side_px: int = 30_000
    # Frames (pages) in one TIFF.
    max_frames: int = 200


@dataclass(frozen=True)
class PictureInfo:
    media_type: str
    page_count: int


def picture_type(first_bytes: bytes) -> str | None:
    """The picture media type its signature says (PNG, JPEG, TIFF), or None."""
    for signature, media_type in _SIGNATURES:
        if first_bytes.startswith(signature):
            return media_type
    return None


def unsupported_picture(first_bytes: bytes) -> bool:
    """Whether the bytes start like a picture format we do not take (GIF, BMP, BigTIFF, JPEG 2000)."""
    return first_bytes.startswith(_UNSUPPORTED_SIGNATURES) or first_bytes[4:12] == b"ftypavif"


def validate_picture(data: bytes, media_type: str, limits: PictureLimits) -> PictureInfo:
    """Decodes every frame within the limits and checks MuPDF reads the same pages; see the module docstring."""
    pillow_format = PICTURE_TYPES[media_type][1]
    frames = _check_with_pillow(data, pillow_format, limits)
    try:
        with picture_as_pdf_document(data, media_type) as doc:
            page_count = doc.page_count
    except InvalidArgument:
        raise
    except Exception:
        log.debug("MuPDF could not read a picture Pillow accepted", exc_info=True)
        raise _invalid("The picture could not be read.") from None
    if page_count != frames:
        raise _invalid(f"The picture has {frames} frames but only {page_count} could be read.")
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
        filetype = PICTURE_TYPES[media_type][0]
        picture = pymupdf.open(stream=data, filetype=filetype)
        try:
            pdf_bytes = picture.convert_to_pdf()
        finally:
            picture.close()
        _last_conversion = (digest, pdf_bytes) if len(pdf_bytes) <= _MAX_KEPT_CONVERSION_BYTES else None
    return pymupdf.open(stream=pdf_bytes, filetype="pdf")


def _check_with_pillow(data: bytes, pillow_format: str, limits: PictureLimits) -> int:
    """The number of frames, each decoded in full after its header passed the size limits."""
    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, refuses) on big images; the limits here decide.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            if pillow_format == "PNG":
                with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                    _check_size(image.size, limits)
                    image.verify()  # every chunk's checksum, before the pixels are decoded
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                frames = 0
                while True:
                    frames += 1
                    if frames > limits.max_frames:
                        raise _too_many_frames(limits.max_frames)
                    _check_size(image.size, limits)
                    image.load()
                    try:
                        image.seek(frames)
                    except EOFError:
                        return frames
        except InvalidArgument:
            raise
        except Image.DecompressionBombError:  # past twice Pillow's own limit: refused before our check
            raise _too_large(0, 0, limits) from None
        except UnidentifiedImageError:
            raise _invalid("The file starts like a picture but is not one that can be read.") from None
        except OSError as error:
            if "decoder" in str(error) and "not available" in str(error):
                raise InvalidArgument(
                    "IMAGE_FORMAT_UNSUPPORTED",
                    "The picture uses a compression that cannot be read.",
                    domain=DOMAIN,
                ) from None
            raise _invalid() from None
        except Exception:
            log.debug("Pillow refused a picture", exc_info=True)
            raise _invalid() from None


def _check_size(size: tuple[int, int], limits: PictureLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise _invalid("The picture has no pixels.")
    if width * height > limits.max_pixels or max(width, height) > limits.max_side_px:
        raise _too_large(width, height, limits)


def _too_large(width: int, height: int, limits: PictureLimits) -> InvalidArgument:
    size = f" is {width} x {height} pixels," if width else " is"
    metadata = {"max_pixels": str(limits.max_pixels), "max_side_px": str(limits.max_side_px)}
    if width:
        metadata |= {"width": str(width), "height": str(height)}
    return InvalidArgument(
        "IMAGE_TOO_LARGE",
        f"The picture{size} more than the limit of {limits.max_pixels} pixels or {limits.max_side_px} pixels a side.",
        domain=DOMAIN,
        metadata=metadata,
    )


def _too_many_frames(max_frames: int) -> InvalidArgument:
    return InvalidArgument(
        "IMAGE_TOO_MANY_PAGES",
        f"The picture has more than {max_frames} pages (frames), the limit.",
        domain=DOMAIN,
        metadata={"max_pages": str(max_frames)},
    )


def _invalid(message: str = "The picture is damaged: its data does not match its header.") -> InvalidArgument:
    return InvalidArgument("IMAGE_INVALID", message, domain=DOMAIN)
