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

from mivaa_ocr.engines.base_engine import EngineInfo, Line, OcrEngine
from mivaa_ocr.engines.factory import create_engine
from mivaa_ocr.errors import engine_not_available, ocr_failed
from mivaa_ocr.imaging import DEFAULT_MAX_PIXELS, decode
from mivaa_ocr.reading import read_page
from mivaa_ocr.scripts import ScriptLanguages
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
    # The page's script (OSD's name, "" when not detected), OSD's score for it (0 when readings were
    # compared instead) and how it was found ("osd", "reading" or "").
    detected_script: str = ""
    script_confidence: float = 0.0
    script_method: str = ""
    languages: tuple[str, ...] = ()  # the language data the page was read with
    flag_reason: str = ""  # "" or OCR_LOW_CONFIDENCE


# Mean word confidence under which a page is flagged OCR_LOW_CONFIDENCE (and other scripts are tried).
DEFAULT_MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class WorkerConfig:
    engines: tuple[str, ...]
    engine_options: dict[str, dict] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int = 1  # native threads per worker (torch, OpenMP)
    # Loaded when the worker starts; the other engines on first use. None: every engine.
    preload: tuple[str, ...] | None = None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # OCR_SCRIPT_LANGUAGES: script -> Tesseract languages, over scripts.DEFAULT_SCRIPT_LANGUAGES.
    script_languages: dict[str, tuple[str, ...]] = field(default_factory=dict)


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


def _chooser(engine: OcrEngine) -> ScriptLanguages:
    overrides = _config.script_languages if _config else {}
    return ScriptLanguages(engine.available_languages(), engine.default_languages, overrides)


def recognize_page(task: PageTask) -> PageResult:
    started = time.perf_counter()
    _check_init()
    engine = _engine(task.engine)
    if task.languages:
        engine.check_languages(task.languages)
    decoded = decode(task.data, dpi=task.dpi, max_pixels=_config.max_pixels if _config else DEFAULT_MAX_PIXELS)
    image = decoded.image
    try:
        reading = read_page(
            engine,
            image,
            decoded.dpi,
            requested=task.languages,
            correct_orientation=task.correct_orientation,
            chooser=_chooser(engine),
            min_confidence=_config.min_confidence if _config else DEFAULT_MIN_CONFIDENCE,
        )
    except MivaaError:
        raise
    except Exception:
        log.exception("OCR failed", extra={"fields": {"engine": task.engine, "page_id": task.page_id}})
        raise ocr_failed(task.engine) from None
    page, correction = reading.page, reading.correction
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
        detected_script=reading.choice.script,
        script_confidence=reading.choice.confidence,
        script_method=reading.choice.method,
        languages=reading.choice.languages,
        flag_reason=reading.flag_reason,
    )
