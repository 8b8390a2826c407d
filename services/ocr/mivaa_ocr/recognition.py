"""The OCR worker process side: engines loaded once per process, one page recognized per call.

A worker loads its `preload` engines when it starts and any other configured engine when a page
first asks for it (EasyOCR and torch cost about 560 MB per worker; most meshes never use them).

Top-level functions and picklable dataclasses, so the pool's spawned workers
import them by name (mivaa_ocr.pool runs them in a mivaa_pool.SupervisedPool).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from mivaa_ocr.engines.base_engine import EngineInfo, Line, OcrEngine, PageOcr
from mivaa_ocr.engines.factory import create_engine
from mivaa_ocr.errors import engine_not_available, ocr_failed
from mivaa_ocr.imaging import DEFAULT_MAX_PIXELS, decode
from mivaa_ocr.orientation import Correction, confidence_score, correct
from mivaa_platform.errors import MivaaError

log = logging.getLogger("mivaa.ocr.recognition")


@dataclass(frozen=True)
class PageResult:
    page_id: str
    text: str
    lines: tuple[Line, ...]
    confidence: float
    rotation_degrees: int
    skew_degrees: float
    engine: str
    seconds: float
    width: int
    height: int


@dataclass(frozen=True)
class WorkerConfig:
    engines: tuple[str, ...]
    engine_options: dict[str, dict] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int = 1  # native threads per worker (torch, OpenMP)
    # Loaded when the worker starts; the other engines on first use. None: every engine.
    preload: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PageTask:
    page_id: str
    data: bytes
    dpi: int
    engine: str
    languages: tuple[str, ...]
    correct_orientation: bool


_engines: dict[str, OcrEngine] = {}
_config: WorkerConfig | None = None
_init_error: BaseException | None = None


def _warm_image():
    from PIL import Image, ImageDraw

    image = Image.new("L", (320, 64), 255)
    ImageDraw.Draw(image).text((10, 20), "Warm up the engine 123", fill=0)
    return image


def _load(name: str, config: WorkerConfig) -> OcrEngine:
    """Creates engine `name` and runs it once, so its first real page pays no warm-up."""
    options = dict(config.engine_options.get(name, {}))
    if name == "easyocr":
        options.setdefault("threads", config.threads)
    engine = create_engine(name, **options)
    engine.recognize(_warm_image())
    _engines[name] = engine
    return engine


def init_worker(config: WorkerConfig) -> None:
    """Loads the engines to preload (every one by default) once per process."""
    global _config, _init_error
    os.environ["OMP_THREAD_LIMIT"] = str(config.threads)
    _config = config
    try:
        for name in config.engines if config.preload is None else config.preload:
            _load(name, config)
    except BaseException as exc:  # noqa: BLE001 - reported by every task instead of breaking the pool
        _init_error = exc


def _check_init() -> None:
    if _init_error is not None:
        if isinstance(_init_error, MivaaError):
            raise _init_error
        raise RuntimeError(f"OCR engine failed to load: {type(_init_error).__name__}: {_init_error}")


def describe() -> tuple[int, list[EngineInfo]]:
    """This worker's pid and loaded engines (or the error that kept them from loading)."""
    _check_init()
    return os.getpid(), [engine.info() for engine in _engines.values()]


def _engine(name: str) -> OcrEngine:
    engine = _engines.get(name)
    if engine is not None:
        return engine
    if _config is None or name not in _config.engines:
        raise engine_not_available(name, list(_engines))
    log.info("loading an OCR engine on first use", extra={"fields": {"engine": name}})
    return _load(name, _config)


def _score_with(engine: OcrEngine, languages: tuple[str, ...]):
    """The orientation fallback's scorer: the fastest loaded engine (Tesseract when present) reads the page."""
    fast = _engines.get("tesseract")
    if fast is not None and fast is not engine:
        engine, languages = fast, fast.default_languages

    def score(image) -> float:
        page = engine.recognize(image, languages)
        return confidence_score(
            [
                (w.text, w.confidence, w.box.x1 - w.box.x0, w.box.y1 - w.box.y0)
                for line in page.lines
                for w in line.words
            ]
        )

    return score


def recognize_page(task: PageTask) -> PageResult:
    started = time.perf_counter()
    _check_init()
    engine = _engine(task.engine)
    languages = engine.check_languages(task.languages)
    decoded = decode(task.data, dpi=task.dpi, max_pixels=_config.max_pixels if _config else DEFAULT_MAX_PIXELS)
    image = decoded.image
    try:
        if task.correct_orientation:
            upright, correction = correct(image, _score_with(engine, languages))
        else:
            upright, correction = image, Correction()
        page: PageOcr = engine.recognize(upright, languages, decoded.dpi)
    except MivaaError:
        raise
    except Exception:
        log.exception("OCR failed", extra={"fields": {"engine": task.engine, "page_id": task.page_id}})
        raise ocr_failed(task.engine) from None
    if not correction.is_identity:
        page = page.mapped(correction.to_original, image.width, image.height)
    return PageResult(
        page_id=task.page_id,
        text=page.text,
        lines=page.lines,
        confidence=page.confidence,
        rotation_degrees=correction.rotation_degrees,
        skew_degrees=correction.skew_degrees,
        engine=engine.name,
        seconds=time.perf_counter() - started,
        width=image.width,
        height=image.height,
    )
