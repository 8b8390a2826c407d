"""The image stage: where a page shows pictures, and each unique picture once, as PNG or JPEG.

`ImageCollector.collect(source)` traces the page with a small MuPDF device that
only listens to image painting (`fill_image`, `fill_image_mask`), so every
image the page really draws is seen, with its transformation: XObject images,
images inside form XObjects and annotation appearances, and inline images
(`BI ... ID ... EI`, which have no xref). Shadings, which `get_image_info()`
reports as pseudo-images, and images that only build a soft mask are ignored.

Cost control, because most pages of most documents carry no picture:

* `page.get_images()` reads only the resources; when it lists nothing, the
  page's content stream (and its forms, cached per xref) is searched for the
  inline image operator `BI`, and only then is the page interpreted.
* Each unique image is encoded once per document: first by xref (an image
  XObject drawn again is recognised without touching its data), then for
  xref-less images by a digest of their compressed bytes, then by the sha256
  of the encoded output (the same picture embedded under two xrefs).
* A JPEG whose colours a browser shows right (gray or RGB, no mask, no Decode
  inversion, baseline/progressive, small enough) is passed through byte for
  byte; everything else is decoded by MuPDF and encoded once.

Output encoding:

* JPEG sources (DCTDecode) that must be re-encoded (CMYK, masks, too large)
  become JPEG again (quality 90): they are photographs, and PNG would multiply
  their size.
* Everything else (Flate, LZW, RunLength, CCITT fax, JBIG2, JPEG 2000, raw,
  with any Indexed, ICC, Lab, Separation or DeviceN colour space) becomes PNG,
  gray when the source is gray, otherwise RGB.
* Transparency (an SMask, a colour-key /Mask, an alpha channel) is composited
  onto white: that is what the page shows on paper, RGBA PNGs of photographs
  are huge, and thumbnails and vision models drop alpha anyway.
* Stencil masks (/ImageMask, e.g. scanned line art) are painted black on white.
* Pixels are stored as the file stores them: a placement that mirrors or
  rotates the image does not change the stored picture (as `pdfimages`).

Memory: at most one image is decoded at a time (it is handled inside the
device callback and released before the interpretation goes on). The
declared size is checked before decoding: images over `max_pixels` or
`max_side_px` are decoded at reduced resolution by MuPDF (it subsamples while
it decompresses, so a 20000 x 20000 Flate bomb never exists in full), then
scaled to the exact limit. Formats MuPDF cannot subsample while decoding
(Indexed colour, JPEG 2000 still compressed) are refused with a warning when
their declared size is over `max_pixels`.

Robustness: a broken image gives a warning and is skipped, the page goes on.
An ICCBased colour space stream that lacks its required /N (MuPDF refuses the
image then) is repaired in memory from the profile header, once.

Located only (`encode=False`, a task with images off): the page is traced the
same way, so every placement is found, but no image is decoded, encoded or
hashed, and placements carry no sha256.

Domain code: no gRPC here. Placement boxes are in the space of PyMuPDF's text
extraction (`page.get_text()`, `page.get_image_info()`): points, top-left
origin, the page unrotated; the page stage maps them to the displayed page
with the text blocks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import pymupdf
from pymupdf import mupdf

from mivaa_extractor.extraction.structure.image_encoding import (
    DEFAULT_IMAGE_SETTINGS,
    ImageError,
    ImageSettings,
    encode_image,
)
from mivaa_extractor.extraction.structure.model import BBox, ExtractedImage, ImagePlacement
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

__all__ = ["ImageCollector", "ImageError", "ImageSettings", "PageImages", "encode_image"]

# Below this share of the page, an image with fewer pixels than ImageSettings.min_side_px is decorative.
SMALL_ON_PAGE_SHARE = 0.01

# The inline image operator `BI` as a token: followed by whitespace or the
# first key's slash, preceded by whitespace or a delimiter (checked apart: a
# pattern that starts with a literal is searched at memchr speed, one with an
# alternation is tried at every byte, 50x slower). A false hit (the letters
# inside a string) only costs one page interpretation.
_INLINE_IMAGE = re.compile(rb"BI[\s/]")
_TOKEN_END = frozenset(b" \t\r\n\f\x00()<>[]{}/%")
_ICC_REFERENCE = re.compile(r"/ICCBased\s+(\d+)\s+0\s+R")
_ICC_SPACE_COMPONENTS = {b"GRAY": 1, b"RGB ": 3, b"CMYK": 4, b"Lab ": 3}


@dataclass
class PageImages:
    placements: list[ImagePlacement] = field(default_factory=list)  # caption "" (the caller fills captions)
    new_images: list[ExtractedImage] = field(default_factory=list)  # not emitted before by this collector
    skipped: int = 0  # decorative (or off-page) placements dropped
    warnings: list[str] = field(default_factory=list)  # images that could not be decoded; the page still succeeds


@dataclass(frozen=True, slots=True)
class _Failed:
    message: str


class ImageCollector:
    """One per document per worker process; remembers what it already emitted.

    Not thread-safe (neither is a PyMuPDF document). The document may be
    repaired in memory (see the module docstring); nothing is written back.
    """

    def __init__(
        self, doc: pymupdf.Document, settings: ImageSettings = DEFAULT_IMAGE_SETTINGS, *, encode: bool = True
    ) -> None:
        self._doc = doc
        self.settings = settings
        self._encode = encode
        self._pdf: mupdf.PdfDocument | None = None
        if doc.is_pdf:
            pdf = mupdf.pdf_document_from_fz_document(doc.this)
            self._pdf = pdf if pdf.m_internal else None
        # Dedupe key ("xref", n) / ("raw", digest) -> sha256 of the stored bytes, or why it failed.
        self._outcomes: dict[Hashable, str | _Failed] = {}
        self._emitted: set[str] = set()
        self._unloadable: dict[int, str] = {}  # image xref -> why MuPDF cannot load it
        self._form_has_inline: dict[int, bool] = {}
        self._repaired_icc: set[int] = set()
        self._held: list[mupdf.FzImage] = []  # the listed images of the page being traced

    # -- the page -----------------------------------------------------------------

    def collect(self, source: PageSource) -> PageImages:
        result = PageImages()
        page = source.page
        try:
            listed = self._listed_image_xrefs(source)
            if not listed and not self._may_draw_unlisted_images(page):
                return result  # the common case: nothing to interpret
            held = self._load_listed_images(listed, result)
            self._trace(page, held, result)
        except Exception as exc:  # noqa: BLE001 - never fail the page for its pictures
            result.warnings.append(f"images could not be read: {_describe(exc)}")
        return result

    def _listed_image_xrefs(self, source: PageSource) -> list[int]:
        if self._pdf is None:
            return []
        # Reads only the resources (recursively through forms): cheap.
        return list(dict.fromkeys(item[0] for item in source.images if item[0] > 0))

    def _may_draw_unlisted_images(self, page: pymupdf.Page) -> bool:
        """Inline images and annotation appearances are not in page.get_images()."""
        if self._pdf is None:
            return True  # not a PDF: no cheap test, interpret
        if _has_inline_image(page.read_contents()):
            return True
        for xref, *_ in page.get_xobjects():
            has_inline = self._form_has_inline.get(xref)
            if has_inline is None:
                try:
                    has_inline = _has_inline_image(self._doc.xref_stream(xref) or b"")
                except Exception:  # noqa: BLE001 - MuPDF raises plain exceptions for broken images
                    has_inline = True  # unreadable form: let the interpreter decide
                self._form_has_inline[xref] = has_inline
            if has_inline:
                return True
        # Stamps and widgets may show images in their appearance streams; links never do.
        return any(entry[1] != mupdf.PDF_ANNOT_LINK for entry in page.annot_xrefs())

    def _load_listed_images(self, xrefs: list[int], result: PageImages) -> dict[int, int]:
        """Address of each listed image's fz_image -> its xref.

        MuPDF keeps loaded images in its resource store, and the interpreter
        looks images up there by object: the fz_image the device is handed is
        the one loaded here, so its address tells its xref. The references are
        held (in `self._held`) until the page is traced, so no address is reused.
        """
        assert self._pdf is not None
        by_address: dict[int, int] = {}
        self._held = []
        for xref in xrefs:
            if xref in self._unloadable:
                result.warnings.append(self._unloadable[xref])
                continue
            if self._jpx_too_large(xref):
                continue  # JPEG 2000 decodes whole on load: do not add a second copy; handled unmapped
            try:
                image = self._load_image(xref)
            except Exception as exc:  # noqa: BLE001 - MuPDF raises plain exceptions for broken images
                message = f"image xref {xref} could not be loaded: {_describe(exc)}"
                self._unloadable[xref] = message
                result.warnings.append(message)
                continue
            by_address[image.m_internal_value()] = xref
            self._held.append(image)
        return by_address

    def _load_image(self, xref: int) -> mupdf.FzImage:
        assert self._pdf is not None
        obj = mupdf.pdf_new_indirect(self._pdf, xref, 0)
        try:
            return mupdf.pdf_load_image(self._pdf, obj)
        except Exception:
            if not self._repair_icc(xref):
                raise
            return mupdf.pdf_load_image(self._pdf, obj)

    def _repair_icc(self, xref: int) -> bool:
        """Give ICCBased streams without /N (MuPDF rejects them) the N their profile header states."""
        kind, value = self._doc.xref_get_key(xref, "ColorSpace")
        text = value
        if kind == "xref":
            text = self._doc.xref_object(int(value.split()[0]), compressed=True)
        repaired = False
        for match in _ICC_REFERENCE.finditer(text or ""):
            icc = int(match.group(1))
            if icc in self._repaired_icc or self._doc.xref_get_key(icc, "N")[0] != "null":
                continue
            profile = self._doc.xref_stream(icc) or b""
            components = _ICC_SPACE_COMPONENTS.get(profile[16:20])
            if components is None:
                continue
            self._doc.xref_set_key(icc, "N", str(components))
            self._repaired_icc.add(icc)
            repaired = True
        return repaired

    def _jpx_too_large(self, xref: int) -> bool:
        width = _int_key(self._doc, xref, "Width")
        height = _int_key(self._doc, xref, "Height")
        if width * height <= self.settings.max_pixels:
            return False
        return "JPXDecode" in self._doc.xref_get_key(xref, "Filter")[1]

    def _trace(self, page: pymupdf.Page, by_address: dict[int, int], result: PageImages) -> None:
        # The unrotated page space of PyMuPDF's text extraction (get_text, get_image_info): the
        # interpreter's own coordinates have the /Rotate applied, the derotation matrix undoes it.
        derotation = page.derotation_matrix if page.rotation else pymupdf.Identity
        page_rect = pymupdf.Rect(page.rect) * derotation
        page_rect.normalize()
        tracer = _PageTracer(
            page_number=page.number + 1,
            page_rect=(page_rect.x0, page_rect.y0, page_rect.x1, page_rect.y1),
            by_address=by_address,
            collector=self,
            result=result,
        )
        device = _ImageDevice(tracer.on_image)
        try:
            ctm = mupdf.FzMatrix(derotation.a, derotation.b, derotation.c, derotation.d, derotation.e, derotation.f)
            mupdf.fz_run_page(page.this, device, ctm, mupdf.FzCookie())
            mupdf.fz_close_device(device)
        except Exception as exc:  # noqa: BLE001 - MuPDF raises plain exceptions for broken images
            # MuPDF stops at a hard content stream error; what was seen so far stands.
            result.warnings.append(f"page content could not be fully interpreted: {_describe(exc)}")
        finally:
            self._held = []
        if tracer.device_errors:
            result.warnings.extend(tracer.device_errors)

    # -- one image ------------------------------------------------------------------

    def outcome(self, image: mupdf.FzImage, xref: int, stencil: bool, result: PageImages) -> str | _Failed:
        """The sha256 of the image's stored bytes, encoding it on first sight ("" when only located)."""
        if not self._encode:
            return ""
        key: Hashable | None = ("xref", xref) if xref else _content_key(image, stencil)
        if key is not None and key in self._outcomes:
            return self._outcomes[key]
        try:
            mime, width, height, data = encode_image(
                image, self.settings, stencil=stencil, color_transform=self._color_transform(xref)
            )
        except Exception as exc:  # noqa: BLE001 - MuPDF raises plain exceptions for broken images
            what = f"image xref {xref}" if xref else "inline image"
            outcome: str | _Failed = _Failed(f"{what} could not be decoded: {_describe(exc)}")
        else:
            sha = hashlib.sha256(data).hexdigest()
            if sha not in self._emitted:
                self._emitted.add(sha)
                result.new_images.append(ExtractedImage(sha, mime, width, height, data))
            outcome = sha
        if key is not None:
            self._outcomes[key] = outcome
        return outcome

    def _color_transform(self, xref: int) -> int | None:
        """The DecodeParms /ColorTransform of a JPEG XObject, when it states one."""
        if not xref:
            return None
        kind, value = self._doc.xref_get_key(xref, "DecodeParms/ColorTransform")
        return int(value) if kind == "int" else None


class _ImageDevice(mupdf.FzDevice2):
    """A MuPDF device that reports painted images and ignores everything else (text, paths, shadings)."""

    def __init__(self, on_image: Callable[[object, object, bool], None]) -> None:
        super().__init__()
        self._on_image = on_image
        self._mask_depth = 0
        self.use_virtual_fill_image()
        self.use_virtual_fill_image_mask()
        self.use_virtual_begin_mask()
        self.use_virtual_end_mask()

    # The signatures are those of MuPDF's fz_device callbacks (SWIG director), low-level arguments.
    def fill_image(self, ctx: object, image: object, ctm: object, alpha: float, color_params: object) -> None:
        if self._mask_depth == 0 and alpha > 0:
            self._on_image(image, ctm, False)

    def fill_image_mask(
        self, ctx: object, image: object, ctm: object, colorspace: object, color: object, alpha: float, params: object
    ) -> None:
        if self._mask_depth == 0 and alpha > 0:
            self._on_image(image, ctm, True)

    # Images drawn between begin_mask and end_mask build a soft mask: not visible themselves.
    def begin_mask(
        self, ctx: object, area: object, luminosity: int, colorspace: object, backdrop: object, params: object
    ) -> None:
        self._mask_depth += 1

    def end_mask(self, ctx: object, transfer: object) -> None:
        self._mask_depth = max(0, self._mask_depth - 1)


@dataclass
class _PageTracer:
    page_number: int
    page_rect: BBox
    by_address: dict[int, int]
    collector: ImageCollector
    result: PageImages
    device_errors: list[str] = field(default_factory=list)

    def on_image(self, raw_image: object, ctm: object, stencil: bool) -> None:
        # Runs inside MuPDF's interpretation: an escaping exception would abort the page.
        try:
            self._on_image(raw_image, ctm, stencil)
        except Exception as exc:  # noqa: BLE001 - MuPDF raises plain exceptions for broken images
            message = f"image could not be read: {_describe(exc)}"
            if message not in self.device_errors:
                self.device_errors.append(message)

    def _on_image(self, raw_image: object, ctm: object, stencil: bool) -> None:
        settings = self.collector.settings
        image = mupdf.FzImage(mupdf.ll_fz_keep_image(raw_image))
        bbox = _clip(_unit_square_bbox(ctm), self.page_rect)
        page_area = _area(self.page_rect)
        share = _area(bbox) / page_area if bbox is not None and page_area > 0 else 0.0
        # Few pixels shown small is an icon or a bullet; few pixels shown large
        # (a 16x16 image filling its page) is a picture someone meant to show.
        tiny_pixels = image.w() < settings.min_side_px or image.h() < settings.min_side_px
        if bbox is None or share < settings.min_area_ratio or (tiny_pixels and share < SMALL_ON_PAGE_SHARE):
            self.result.skipped += 1
            return
        xref = self.by_address.get(image.m_internal_value(), 0)
        outcome = self.collector.outcome(image, xref, stencil, self.result)
        if isinstance(outcome, _Failed):
            if outcome.message not in self.result.warnings:
                self.result.warnings.append(outcome.message)
            return
        self.result.placements.append(ImagePlacement(outcome, self.page_number, bbox, ""))


def _content_key(image: mupdf.FzImage, stencil: bool) -> Hashable | None:
    """Identity of an xref-less image from its compressed bytes; None when there are none to hash."""
    compressed = mupdf.fz_compressed_image_buffer(image)
    if not compressed.m_internal:
        return None  # decoded already (pixmap image): no cheap identity, rely on the output digest
    data = mupdf.fz_buffer_extract_copy(mupdf.FzBuffer(mupdf.ll_fz_keep_buffer(compressed.m_internal.buffer)))
    digest = hashlib.sha1(data, usedforsecurity=False)
    colorspace = image.colorspace()
    name = mupdf.fz_colorspace_name(colorspace) if colorspace.m_internal else ""
    digest.update(
        f"|{image.w()}x{image.h()}|{image.n()}|{image.bpc()}|{compressed.m_internal.params.type}"
        f"|{name}|{stencil}|{image.use_decode()}|{image.use_colorkey()}".encode()
    )
    mask = image.mask()
    if mask.m_internal:
        mask_key = _content_key(mask, False)
        if mask_key is None:
            return None
        digest.update(repr(mask_key).encode())
    return ("raw", digest.hexdigest())


def _has_inline_image(content: bytes) -> bool:
    for match in _INLINE_IMAGE.finditer(content):
        start = match.start()
        if start == 0 or content[start - 1] in _TOKEN_END:
            return True
    return False


def _int_key(doc: pymupdf.Document, xref: int, key: str) -> int:
    kind, value = doc.xref_get_key(xref, key)
    try:
        return int(value) if kind == "int" else 0
    except ValueError:
        return 0


def _unit_square_bbox(ctm: object) -> BBox:
    """The bounding box of the unit square under the image's transformation matrix."""
    a, b, c, d, e, f = ctm.a, ctm.b, ctm.c, ctm.d, ctm.e, ctm.f  # type: ignore[attr-defined]
    xs = (e, a + e, c + e, a + c + e)
    ys = (f, b + f, d + f, b + d + f)
    return (min(xs), min(ys), max(xs), max(ys))


def _clip(bbox: BBox, page: BBox) -> BBox | None:
    x0, y0 = max(bbox[0], page[0]), max(bbox[1], page[1])
    x1, y1 = min(bbox[2], page[2]), min(bbox[3], page[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1, y1)


def _area(bbox: BBox) -> float:
    return max(0.0, bbox[2] - bbox[0]) * max(0.0, bbox[3] - bbox[1])


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
