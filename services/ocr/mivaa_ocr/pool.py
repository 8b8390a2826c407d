"""Recognition in a pool of worker processes, each holding its engines, with bounded work in flight.

The pool (``processes`` workers, default one per core, "spawn" context so it
is safe beside threads, the event loop and torch) loads every configured
engine once per worker in the initializer and warms it on a tiny image.
`recognize` admits at most ``processes * 2`` pages at a time: callers beyond
that wait, which is how a fast stream is slowed rather than buffered. A worker
that dies fails the pages then in flight with OCR_WORKER_CRASHED and the pool
is replaced, so the next page works again.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from mivaa_ocr.engines.base_engine import EngineInfo, Line, OcrEngine, PageOcr
from mivaa_ocr.engines.factory import ENGINES, create_engine, installed_engines
from mivaa_ocr.errors import engine_not_available, engines_loading, language_not_available, ocr_failed, worker_crashed
from mivaa_ocr.imaging import DEFAULT_MAX_PIXELS, decode
from mivaa_ocr.orientation import Correction, confidence_score, correct
from mivaa_platform.errors import MivaaError

log = logging.getLogger("mivaa.ocr.pool")


@dataclass(frozen=True)
class RecognizeOptions:
    engine: str = ""  # empty: the pool's default
    languages: tuple[str, ...] = ()  # empty: the engine's default
    correct_orientation: bool = False


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


@dataclass(frozen=True)
class _PageTask:
    page_id: str
    data: bytes
    dpi: int
    engine: str
    languages: tuple[str, ...]
    correct_orientation: bool


# ---- worker process side -------------------------------------------------------------

_engines: dict[str, OcrEngine] = {}
_config: WorkerConfig | None = None
_init_error: BaseException | None = None


def _warm_image():
    from PIL import Image, ImageDraw

    image = Image.new("L", (320, 64), 255)
    ImageDraw.Draw(image).text((10, 20), "Warm up the engine 123", fill=0)
    return image


def _init_worker(config: WorkerConfig) -> None:
    """Loads every engine once (per process) and runs it once, so the first real page pays nothing."""
    global _config, _init_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    os.environ["OMP_THREAD_LIMIT"] = str(config.threads)
    _config = config
    try:
        warm = _warm_image()
        for name in config.engines:
            options = dict(config.engine_options.get(name, {}))
            if name == "easyocr":
                options.setdefault("threads", config.threads)
            engine = create_engine(name, **options)
            engine.recognize(warm)
            _engines[name] = engine
    except BaseException as exc:  # noqa: BLE001 - reported by every task instead of breaking the pool
        _init_error = exc


def _check_init() -> None:
    if _init_error is not None:
        if isinstance(_init_error, MivaaError):
            raise _init_error
        raise RuntimeError(f"OCR engine failed to load: {type(_init_error).__name__}: {_init_error}")


def _describe(linger: float) -> tuple[int, list[EngineInfo]]:
    _check_init()
    time.sleep(linger)  # hold this worker so the other warm-up calls land on the others
    return os.getpid(), [engine.info() for engine in _engines.values()]


def _score_with(engine: OcrEngine, languages: tuple[str, ...]):
    """The orientation fallback's scorer: the fastest loaded engine (Tesseract when present) reads the page."""
    fast = _engines.get("tesseract")
    if fast is not None and fast is not engine:
        engine, languages = fast, fast.default_languages

    def score(image) -> float:
        page = engine.recognize(image, languages)
        return confidence_score(
            [(w.text, w.confidence, w.box.x1 - w.box.x0, w.box.y1 - w.box.y0) for line in page.lines for w in line.words]
        )

    return score


def _recognize_page(task: _PageTask) -> PageResult:
    started = time.perf_counter()
    _check_init()
    engine = _engines.get(task.engine)
    if engine is None:
        raise engine_not_available(task.engine, list(_engines))
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


# ---- parent side ----------------------------------------------------------------------


def resolve_engine_names(requested: Sequence[str]) -> tuple[str, ...]:
    """"auto" (or nothing) means every installed engine; unknown or uninstalled names are errors."""
    names = [name.strip().lower() for name in requested if name.strip()]
    if not names or names == ["auto"]:
        found = tuple(installed_engines())
        if not found:
            raise engine_not_available("auto", [])
        return found
    for name in names:
        if name not in ENGINES or name not in installed_engines():
            raise engine_not_available(name, installed_engines())
    return tuple(dict.fromkeys(names))


class OcrPool:
    def __init__(
        self,
        engines: Sequence[str] = ("auto",),
        *,
        engine_options: dict[str, dict] | None = None,
        default_engine: str = "auto",
        processes: int = 0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        mp_context: str = "spawn",
    ):
        self.engine_names = resolve_engine_names(engines)
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)
        self.max_in_flight = self.processes * 2
        threads = max(1, (os.cpu_count() or 1) // self.processes)
        self._config = WorkerConfig(self.engine_names, dict(engine_options or {}), max_pixels, threads)
        self._requested_default = default_engine.strip().lower() or "auto"
        if self._requested_default != "auto" and self._requested_default not in self.engine_names:
            raise engine_not_available(self._requested_default, list(self.engine_names))
        self._mp_context = multiprocessing.get_context(mp_context)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self._infos: dict[str, EngineInfo] = {}
        self.default_engine = ""

    @property
    def ready(self) -> bool:
        return bool(self._infos)

    def engines(self) -> list[EngineInfo]:
        return list(self._infos.values())

    async def start(self) -> None:
        """Starts every worker and waits until each has loaded and warmed its engines."""
        pool = await asyncio.to_thread(self._get_pool)
        loop = asyncio.get_running_loop()
        try:
            answers = await asyncio.gather(
                *(loop.run_in_executor(pool, _describe, 0.2) for _ in range(self.processes))
            )
        except BrokenProcessPool:
            self._discard_pool(pool, replace=False)
            raise worker_crashed() from None
        infos = answers[0][1]
        self._infos = {info.name: info for info in infos}
        self.default_engine = self._choose_default()
        log.info(
            "OCR workers ready",
            extra={
                "fields": {
                    "workers": len({pid for pid, _ in answers}),
                    "engines": [f"{i.name}/{i.device}" for i in infos],
                    "default": self.default_engine,
                }
            },
        )

    def _choose_default(self) -> str:
        if self._requested_default != "auto":
            return self._requested_default
        easy = self._infos.get("easyocr")
        if easy is not None and easy.device == "cuda":
            return "easyocr"
        if "tesseract" in self._infos:
            return "tesseract"
        return next(iter(self._infos))

    def check(self, options: RecognizeOptions) -> tuple[str, tuple[str, ...]]:
        """The engine and languages a request will use, or the domain error it will get (no worker needed)."""
        if not self.ready:
            raise engines_loading()
        name = (options.engine or self.default_engine).strip().lower()
        info = self._infos.get(name)
        if info is None:
            raise engine_not_available(name, list(self._infos))
        languages = tuple(dict.fromkeys(options.languages)) or info.default_languages
        missing = [language for language in languages if language not in info.languages]
        if missing:
            raise language_not_available(name, missing, info.languages)
        return name, languages

    async def recognize(self, page_id: str, data: bytes, dpi: int, options: RecognizeOptions) -> PageResult:
        engine, languages = self.check(options)
        task = _PageTask(page_id, data, dpi, engine, languages, options.correct_orientation)
        async with self._slots:
            pool = await asyncio.to_thread(self._get_pool)
            try:
                future = pool.submit(_recognize_page, task)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._discard_pool(pool)
                raise worker_crashed() from None
            except MivaaError as error:
                if page_id and "page_id" not in error.metadata:
                    error.metadata["page_id"] = page_id
                raise

    def worker_pids(self) -> list[int]:
        pool = self._pool
        return list(pool._processes) if pool is not None and pool._processes else []  # noqa: SLF001

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=self._mp_context,
                    initializer=_init_worker,
                    initargs=(self._config,),
                )
            return self._pool

    def _discard_pool(self, pool: ProcessPoolExecutor, replace: bool = True) -> None:
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
        log.warning("an OCR worker process died; the pool is being replaced")
        pool.shutdown(wait=False, cancel_futures=True)
        if not replace:
            return
        # Start and warm the replacement now rather than on the next page.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        replacement = self._get_pool()
        for _ in range(self.processes):
            loop.run_in_executor(replacement, _describe, 0.0).add_done_callback(lambda f: f.cancelled() or f.exception())

    async def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
