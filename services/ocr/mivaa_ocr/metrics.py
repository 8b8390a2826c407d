"""The OCR service's own metrics (the RPC ones come from mivaa_platform.telemetry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from mivaa_ocr.pool import PageResult

PAGES = Counter("mivaa_ocr_pages_total", "Pages recognized, by engine.", ["engine"])
PAGE_SECONDS = Histogram(
    "mivaa_ocr_page_seconds",
    "Time one page took in its engine.",
    ["engine"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


def page_recognized(result: PageResult) -> None:
    PAGES.labels(result.engine).inc()
    PAGE_SECONDS.labels(result.engine).observe(result.seconds)
