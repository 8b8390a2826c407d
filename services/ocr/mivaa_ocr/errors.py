"""The OCR service's domain errors (mapped to gRPC by the shared interceptor)."""

from __future__ import annotations

from mivaa_platform.errors import FailedPrecondition, Internal, InvalidArgument, ResourceExhausted, Unavailable

DOMAIN = "ocr.mivaa"


def language_not_available(engine: str, missing: list[str], installed: tuple[str, ...]) -> FailedPrecondition:
    return FailedPrecondition(
        "LANGUAGE_NOT_AVAILABLE",
        f"The {engine} engine has no model for language(s) {', '.join(missing)}; "
        f"installed: {', '.join(installed) or 'none'}.",
        domain=DOMAIN,
        metadata={"engine": engine, "languages": ",".join(missing), "installed": ",".join(installed)},
    )


def engine_not_available(requested: str, available: list[str]) -> FailedPrecondition:
    return FailedPrecondition(
        "ENGINE_NOT_AVAILABLE",
        f"This service does not run an OCR engine named {requested!r}; it runs: {', '.join(available)}.",
        domain=DOMAIN,
        metadata={"engine": requested, "available": ",".join(available)},
    )


def engines_loading() -> Unavailable:
    return Unavailable("ENGINES_LOADING", "The OCR service is still loading its engines.", domain=DOMAIN)


def image_unreadable(detail: str) -> InvalidArgument:
    return InvalidArgument("IMAGE_UNREADABLE", f"The image could not be decoded: {detail}.", domain=DOMAIN)


def image_too_large(width: int, height: int, max_pixels: int) -> InvalidArgument:
    return InvalidArgument(
        "IMAGE_TOO_LARGE",
        f"The image is {width}x{height} pixels; at most {max_pixels} pixels are accepted.",
        domain=DOMAIN,
        metadata={"width": str(width), "height": str(height), "max_pixels": str(max_pixels)},
    )


def worker_crashed(page_id: str = "") -> Internal:
    return Internal(
        "OCR_WORKER_CRASHED",
        "An OCR worker process died while recognizing this page; it has been replaced, retry the page.",
        domain=DOMAIN,
        metadata={"page_id": page_id} if page_id else None,
    )


def page_timeout(page_id: str, seconds: float) -> ResourceExhausted:
    metadata = {"timeout_seconds": f"{seconds:g}"}
    if page_id:
        metadata["page_id"] = page_id
    return ResourceExhausted(
        "OCR_PAGE_TIMEOUT",
        f"Recognizing this page took longer than the {seconds:g} s limit; it was stopped.",
        domain=DOMAIN,
        metadata=metadata,
    )


def shutting_down() -> Unavailable:
    return Unavailable("OCR_SHUTTING_DOWN", "The OCR service is shutting down.", domain=DOMAIN)


def ocr_failed(engine: str) -> Internal:
    return Internal(
        "OCR_FAILED", f"The {engine} engine failed on this page.", domain=DOMAIN, metadata={"engine": engine}
    )
