"""Encoding one MuPDF image as a viewable JPEG or PNG, within the size limits (see images.py for the rules).

JPEG sources that must be re-encoded stay JPEG (quality 90); everything else
becomes gray or RGB PNG; transparency is composited onto white, stencil masks
are painted black on white; images over the limits are decoded subsampled
where MuPDF can (streamed formats) and refused where it cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pymupdf
from pymupdf import mupdf

JPEG_QUALITY = 90

_INFINITE_IRECT = mupdf.FzIrect(
    pymupdf.FZ_MIN_INF_RECT, pymupdf.FZ_MIN_INF_RECT, pymupdf.FZ_MAX_INF_RECT, pymupdf.FZ_MAX_INF_RECT
)

# Compression types MuPDF decodes as a stream it can subsample row by row
# (fz_decomp_image_from_stream with an l2factor): a huge declared size costs
# time but never memory. JPEG 2000 is decoded whole by OpenJPEG.
_STREAMED_TYPES = frozenset(
    {
        mupdf.FZ_IMAGE_RAW,
        mupdf.FZ_IMAGE_FLATE,
        mupdf.FZ_IMAGE_LZW,
        mupdf.FZ_IMAGE_RLD,
        mupdf.FZ_IMAGE_BROTLI,
        mupdf.FZ_IMAGE_FAX,
        mupdf.FZ_IMAGE_JPEG,
        mupdf.FZ_IMAGE_JBIG2,
    }
)
# JPEG start-of-frame markers browsers decode: baseline, extended, progressive
# (Huffman). Lossless and arithmetic-coded JPEGs are re-encoded.
_VIEWABLE_SOF = frozenset({0xC0, 0xC1, 0xC2})
_ALL_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


@dataclass(frozen=True)
class ImageSettings:
    min_side_px: int = 32  # images smaller than this on either side are decorative when also shown small
    min_area_ratio: float = 0.002  # placements covering less than this share of the page area are decorative
    # Larger images are downscaled before encoding; also the decompression-bomb
    # guard: the declared size is checked before anything is decoded.
    max_pixels: int = 40_000_000
    max_side_px: int = 4096  # stored images are downscaled to at most this side


DEFAULT_IMAGE_SETTINGS = ImageSettings()


class ImageError(Exception):
    """An image that cannot be turned into a viewable PNG/JPEG; the message is safe to show."""


def encode_image(
    image: mupdf.FzImage,
    settings: ImageSettings = ImageSettings(),
    *,
    stencil: bool = False,
    color_transform: int | None = None,
) -> tuple[str, int, int, bytes]:
    """(mime type, width, height, bytes) of one MuPDF image as a viewable JPEG or PNG.

    `stencil`: the image is an /ImageMask (painted black on white). `color_transform`:
    the JPEG's DecodeParms /ColorTransform when the PDF states one.
    """
    width, height = image.w(), image.h()
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width} x {height})")
    scale = min(
        1.0,
        settings.max_side_px / max(width, height),
        math.sqrt(settings.max_pixels / (width * height)),
    )
    target_w = max(1, min(width, math.floor(width * scale)))
    target_h = max(1, min(height, math.floor(height * scale)))
    downscale = (target_w, target_h) != (width, height)

    compressed = mupdf.fz_compressed_image_buffer(image)
    ctype = compressed.m_internal.params.type if compressed.m_internal else None
    if ctype == mupdf.FZ_IMAGE_JPEG and not downscale and not stencil:
        data = mupdf.fz_buffer_extract_copy(mupdf.FzBuffer(mupdf.ll_fz_keep_buffer(compressed.m_internal.buffer)))
        if _jpeg_passes_through(image, data, color_transform):
            return "image/jpeg", width, height, data

    # Bomb guard, before decoding: only streamed formats may be over max_pixels
    # (MuPDF subsamples them while decompressing). Indexed images are expanded
    # at full size first. An image without a compressed buffer is already
    # decoded (JPEG 2000, pixmaps): its memory is spent, scaling it costs little.
    streamed = ctype in _STREAMED_TYPES and not _is_indexed(image.colorspace())
    if compressed.m_internal and not streamed and width * height > settings.max_pixels:
        raise ImageError(
            f"declared size {width} x {height} x {image.n()} is over the limit of"
            f" {settings.max_pixels} pixels for this format"
        )

    pixmap = _decode(image, target_w, target_h)
    pixmap = _to_viewable_colours(pixmap, stencil)
    mask = image.mask()
    if mask.m_internal and not stencil:
        pixmap = _apply_soft_mask(pixmap, _decode(mask, pixmap.w(), pixmap.h()))
    if ctype == mupdf.FZ_IMAGE_JPEG:
        buffer = mupdf.fz_new_buffer_from_pixmap_as_jpeg(pixmap, mupdf.FzColorParams(), JPEG_QUALITY, 0)
        mime = "image/jpeg"
    else:
        buffer = mupdf.fz_new_buffer_from_pixmap_as_png(pixmap, mupdf.FzColorParams())
        mime = "image/png"
    return mime, pixmap.w(), pixmap.h(), mupdf.fz_buffer_extract_copy(buffer)


def _jpeg_passes_through(image: mupdf.FzImage, data: bytes, color_transform: int | None) -> bool:
    """Whether the embedded JPEG, as is, shows in a browser as it does on the page."""
    colorspace = image.colorspace()
    if not colorspace.m_internal or image.use_colorkey() or image.use_decode():
        return False
    if _is_indexed(colorspace) or not (
        mupdf.fz_colorspace_is_gray(colorspace) or mupdf.fz_colorspace_is_rgb(colorspace)
    ):
        return False  # CMYK (browsers get it wrong), Lab, Separation...
    info = _jpeg_header(data)
    if info is None:
        return False
    sof, width, height, components, adobe_transform = info
    if sof not in _VIEWABLE_SOF or (width, height) != (image.w(), image.h()) or components != image.n():
        return False
    if components == 3 and color_transform == 0 and adobe_transform is None:
        return False  # the PDF says "no YCbCr transform"; a browser would apply one
    # Last, as it decodes: an SMask that is opaque everywhere changes nothing (common in
    # exported photos); the mask is one gray byte per pixel, the photo is not decoded.
    mask = image.mask()
    return not mask.m_internal or _is_opaque(mask, image.w(), image.h())


def _is_opaque(mask: mupdf.FzImage, width: int, height: int) -> bool:
    alpha = _samples(_decode(mask, width, height))
    return bool(alpha.size) and int(alpha.min()) == 255


def _jpeg_header(data: bytes) -> tuple[int, int, int, int, int | None] | None:
    """(SOF marker, width, height, components, Adobe APP14 transform or None), read from the markers."""
    if data[:2] != b"\xff\xd8":
        return None
    position, adobe = 2, None
    size = len(data)
    while position + 4 <= size:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7):
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xEE and segment[:5] == b"Adobe" and len(segment) >= 12:
            adobe = segment[11]
        elif marker in _ALL_SOF:
            if len(segment) < 6:
                return None
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            return marker, width, height, segment[5], adobe
        elif marker == 0xDA:  # start of scan before any frame header
            return None
        position += 2 + length
    return None


def _decode(image: mupdf.FzImage, width: int, height: int) -> mupdf.FzPixmap:
    """Decode at (at least) width x height, MuPDF subsampling by powers of two; then scale exactly."""
    pixmap, _, _ = mupdf.fz_get_pixmap_from_image(image, _INFINITE_IRECT, mupdf.FzMatrix(width, 0, 0, height, 0, 0))
    if (pixmap.w(), pixmap.h()) != (width, height):
        scaled = mupdf.fz_scale_pixmap(pixmap, 0, 0, width, height, _INFINITE_IRECT)
        if not scaled.m_internal:
            raise ImageError("could not scale the image")
        pixmap = scaled
    return pixmap


def _to_viewable_colours(pixmap: mupdf.FzPixmap, stencil: bool) -> mupdf.FzPixmap:
    """Device gray or device RGB, without alpha (composited onto white)."""
    colorspace = mupdf.fz_pixmap_colorspace(pixmap)
    if stencil or not colorspace.m_internal:
        # A stencil mask decodes to coverage only: painted where coverage is high. Black on white.
        coverage = _samples(pixmap)[:, :, -1]
        return _new_pixmap(mupdf.fz_device_gray(), 255 - coverage)
    if mupdf.fz_colorspace_is_device_gray(colorspace) or (
        mupdf.fz_colorspace_is_gray(colorspace) and not _is_indexed(colorspace)
    ):
        target = mupdf.fz_device_gray()
    else:
        target = mupdf.fz_device_rgb()  # RGB, CMYK, Lab, ICC, Separation, DeviceN
    if colorspace.m_internal_value() != target.m_internal_value():
        pixmap = mupdf.fz_convert_pixmap(
            pixmap, target, mupdf.FzColorspace(), mupdf.FzDefaultColorspaces(None), mupdf.FzColorParams(), 1
        )
    if pixmap.alpha():
        # MuPDF pixmaps are premultiplied: over white, colour + (255 - alpha).
        samples = _samples(pixmap).astype(np.uint16)
        colour, alpha = samples[:, :, :-1], samples[:, :, -1:]
        composed = np.minimum(colour + (255 - alpha), 255).astype(np.uint8)
        return _new_pixmap(target, composed)
    return pixmap


def _apply_soft_mask(pixmap: mupdf.FzPixmap, mask: mupdf.FzPixmap) -> mupdf.FzPixmap:
    """Composite a colour pixmap (gray or RGB, no alpha) through its SMask onto white."""
    mask_colorspace = mupdf.fz_pixmap_colorspace(mask)
    if mask_colorspace.m_internal and not mupdf.fz_colorspace_is_gray(mask_colorspace):
        # An SMask must be gray; a broken file's colour mask counts by its luminance.
        mask = mupdf.fz_convert_pixmap(
            mask,
            mupdf.fz_device_gray(),
            mupdf.FzColorspace(),
            mupdf.FzDefaultColorspaces(None),
            mupdf.FzColorParams(),
            0,
        )
    # Gray samples, or the coverage of an alpha-only pixmap (a stencil used as /Mask).
    alpha = _samples(mask)[:, :, :1].astype(np.uint16)
    if int(alpha.min()) == 255:
        return pixmap  # fully opaque mask: nothing to do
    colour = _samples(pixmap).astype(np.uint16)
    composed = (colour * alpha + 255 * (255 - alpha) + 127) // 255
    return _new_pixmap(mupdf.fz_pixmap_colorspace(pixmap), composed.astype(np.uint8))


def _samples(pixmap: mupdf.FzPixmap) -> np.ndarray:
    """A (height, width, n) view of a pixmap's samples (no copy)."""
    width, height, n, stride = pixmap.w(), pixmap.h(), pixmap.n(), pixmap.stride()
    flat = np.frombuffer(mupdf.fz_pixmap_samples_memoryview(pixmap), dtype=np.uint8)
    return flat[: stride * height].reshape(height, stride)[:, : width * n].reshape(height, width, n)


def _new_pixmap(colorspace: mupdf.FzColorspace, samples: np.ndarray) -> mupdf.FzPixmap:
    if samples.ndim == 2:
        samples = samples[:, :, None]
    height, width, n = samples.shape
    pixmap = mupdf.fz_new_pixmap(colorspace, width, height, mupdf.FzSeparations(), 0)
    _samples(pixmap)[:, :, :] = samples[:, :, :n]
    return pixmap


def _is_indexed(colorspace: mupdf.FzColorspace) -> bool:
    return bool(colorspace.m_internal) and bool(mupdf.fz_colorspace_is_indexed(colorspace))
