"""The one reader of pictures: how the extractor recognises, checks and decodes PNG, JPEG, TIFF, GIF and BMP.

Every way a picture comes in goes through here, each with its own purpose and error domain:

- picture documents (extraction.pictures): PNG, JPEG and TIFF uploads, every frame decoded
  before anything is stored;
- image analysis (images.pictures): GIF and BMP too, the first frame as pixels;
- thumbnails of stored images (extraction.rendering): PNG and JPEG, decoded at a reduced scale.

So a picture is told by its signature (never by its name or declared type) the same way
everywhere, its size is checked from its header before a pixel is decoded (a decompression bomb,
a tiny file declaring 60000 x 60000, never exists in memory), and a damaged picture gets the same
reason everywhere. Pillow decodes. MuPDF meets a picture only where a PDF page is made of it
(extraction.pictures.picture_as_pdf_document), after it passed here.

Reasons (InvalidArgument, in the caller's domain):

- IMAGE_FORMAT_UNSUPPORTED: a compression Pillow cannot decode (an unknown TIFF compression).
- IMAGE_TOO_LARGE: a frame over max_pixels or max_side_px (metadata: max_pixels, max_side_px,
  and the frame's width and height; past twice Pillow's own bomb limit Pillow refuses the header,
  and the size is not named).
- IMAGE_TOO_MANY_PAGES: more than max_frames frames (metadata: max_pages). Frames are counted by
  seeking to at most max_frames + 1, never by walking a crafted IFD chain to its end.
- IMAGE_INVALID: a header that does not match the data (truncated or corrupt pixel data, a PNG
  chunk whose checksum is wrong), no pixels, or not a picture of the format its signature says.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from mivaa_platform.errors import InvalidArgument

log = logging.getLogger("mivaa.extractor.picture_reader")


@dataclass(frozen=True)
class PictureFormat:
    # Pillow's name for the format, and the name image analysis reports.
    name: str
    media_type: str
    # The file type MuPDF opens it as.
    mupdf_filetype: str


PNG = PictureFormat("PNG", "image/png", "png")
JPEG = PictureFormat("JPEG", "image/jpeg", "jpeg")
TIFF = PictureFormat("TIFF", "image/tiff", "tiff")
GIF = PictureFormat("GIF", "image/gif", "gif")
BMP = PictureFormat("BMP", "image/bmp", "bmp")
FORMATS = (PNG, JPEG, TIFF, GIF, BMP)
BY_MEDIA_TYPE = {picture_format.media_type: picture_format for picture_format in FORMATS}

# Enough leading bytes to tell every format here and the other pictures below.
SNIFF_BYTES = 16
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"BM", BMP),
)
# Pictures in formats read nowhere here (BigTIFF, JPEG 2000; AVIF below), told apart from "not a picture".
_OTHER_PICTURE_SIGNATURES = (b"II+\x00", b"MM\x00+", b"\x00\x00\x00\x0cjP  ")


@dataclass(frozen=True)
class PictureLimits:
    # Pixels in one frame (the decoded size, whatever the file's size).
    max_pixels: int = 50_000_000
    # The longest side of one frame.
    max_side_px: int = 30_000
    # Frames (pages) in one TIFF.
    max_frames: int = 200


@dataclass(frozen=True)
class DecodedPicture:
    format: PictureFormat
    # The first frame, decoded (reduced when asked: see decode_first_frame).
    image: Image.Image
    # The first frame's size as its header states it.
    width: int
    height: int


def sniff(first_bytes: bytes) -> PictureFormat | None:
    """The picture format the signature says, or None (pass SNIFF_BYTES bytes or more)."""
    for signature, picture_format in _SIGNATURES:
        if first_bytes.startswith(signature):
            return picture_format
    return None


def other_picture(first_bytes: bytes) -> bool:
    """Whether the bytes start like a picture in a format no caller reads (BigTIFF, JPEG 2000, AVIF)."""
    return first_bytes.startswith(_OTHER_PICTURE_SIGNATURES) or first_bytes[4:12] == b"ftypavif"


def count_frames(data: bytes, picture_format: PictureFormat, limits: PictureLimits, *, domain: str) -> int:
    """The number of frames, each decoded in full after its header passed the size limits."""
    with _decoding(data, picture_format, limits, domain) as image:
        frames = 0
        while True:
            frames += 1
            if frames > limits.max_frames:
                raise InvalidArgument(
                    "IMAGE_TOO_MANY_PAGES",
                    f"The picture has more than {limits.max_frames} pages (frames), the limit.",
                    domain=domain,
                    metadata={"max_pages": str(limits.max_frames)},
                )
            _check_size(image.size, limits, domain)
            image.load()
            try:
                image.seek(frames)
            except EOFError:
                return frames


def decode_first_frame(
    data: bytes, picture_format: PictureFormat, limits: PictureLimits, *, domain: str, reduce_to: int = 0
) -> DecodedPicture:
    """The first frame decoded within the limits. With reduce_to, a JPEG decodes at the smallest
    scale whose sides still reach reduce_to (Pillow's draft mode; other formats decode in full)."""
    with _decoding(data, picture_format, limits, domain) as image:
        width, height = image.size
        if reduce_to:
            image.draft("RGB", (reduce_to, reduce_to))
        image.load()
        return DecodedPicture(picture_format, image, width, height)


def invalid(
    domain: str, message: str = "The picture is damaged: its data does not match its header."
) -> InvalidArgument:
    return InvalidArgument("IMAGE_INVALID", message, domain=domain)


@contextlib.contextmanager
def _decoding(data: bytes, picture_format: PictureFormat, limits: PictureLimits, domain: str) -> Iterator[Image.Image]:
    """The picture opened as its signature's format (header read, first frame's size checked); whatever
    fails while it is decoded in the block becomes a reason. A PNG's chunk checksums are verified first."""
    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, refuses) on big images; the limits here decide.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            if picture_format is PNG:
                with Image.open(io.BytesIO(data), formats=[PNG.name]) as checked:
                    _check_size(checked.size, limits, domain)
                    checked.verify()  # every chunk's checksum, before the pixels are decoded
            # Not closed on the way out: the caller keeps the decoded image (its source is in memory).
            image = Image.open(io.BytesIO(data), formats=[picture_format.name])
            _check_size(image.size, limits, domain)
            yield image
        except InvalidArgument:
            raise
        except Image.DecompressionBombError:  # past twice Pillow's own limit: refused before our check
            raise _too_large(0, 0, limits, domain) from None
        except UnidentifiedImageError:
            raise invalid(domain, "The file starts like a picture but is not one that can be read.") from None
        except OSError as error:
            if "decoder" in str(error) and "not available" in str(error):
                raise InvalidArgument(
                    "IMAGE_FORMAT_UNSUPPORTED", "The picture uses a compression that cannot be read.", domain=domain
                ) from None
            raise invalid(domain) from None
        except Exception:
            log.debug("Pillow refused a picture", exc_info=True)
            raise invalid(domain) from None


def _check_size(size: tuple[int, int], limits: PictureLimits, domain: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise invalid(domain, "The picture has no pixels.")
    if width * height > limits.max_pixels or max(width, height) > limits.max_side_px:
        raise _too_large(width, height, limits, domain)


def _too_large(width: int, height: int, limits: PictureLimits, domain: str) -> InvalidArgument:
    size = f" is {width} x {height} pixels," if width else " is"
    sides = f" or {limits.max_side_px} pixels a side" if limits.max_side_px < limits.max_pixels else ""
    metadata = {"max_pixels": str(limits.max_pixels), "max_side_px": str(limits.max_side_px)}
    if width:
        metadata |= {"width": str(width), "height": str(height)}
    return InvalidArgument(
        "IMAGE_TOO_LARGE",
        f"The picture{size} more than the limit of {limits.max_pixels} pixels{sides}.",
        domain=domain,
        metadata=metadata,
    )
