"""Recognition in supervised worker processes, each holding its engines, with bounded work in flight.

The workers (``processes`` of them, "spawn" context so they are safe beside
threads, the event loop and torch) run in a
mivaa_pool.SupervisedPool; each loads the engines to preload once, in its
initializer, and warms them on a tiny image (recognition.py); other engines
load in a worker when a page first asks for them. By default ("auto") only the
default engine is preloaded: Tesseract without a GPU, where EasyOCR's torch
models would hold about 560 MB per worker for requests that rarely come. What
an engine offers (languages, device) is learnt at start from a short-lived
probe process that loads every engine once and exits. By default there is
one worker per core, fewer where the memory available would not hold that
many workers at the size they reach with every offered engine loaded (any
worker may load any of them on a page's request): see worker_bytes. `recognize`
admits at most ``processes * 2`` pages at a time: callers beyond that wait,
which is how a fast stream is slowed rather than buffered.

Each page is isolated: a page that runs past ``page_timeout`` seconds is
killed with its worker (OCR_PAGE_TIMEOUT) and one that crashes its worker is
OCR_WORKER_CRASHED; either way only that page fails, the pages in flight on
the other workers go on, and the lost worker is started again at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from mivaa_ocr.engines.base_engine import EngineInfo
from mivaa_ocr.engines.factory import ENGINES, installed_engines
from mivaa_ocr.errors import (
    engine_not_available,
    engines_loading,
    language_not_available,
    ocr_failed,
    page_timeout,
    shutting_down,
    worker_crashed,
)
from mivaa_ocr.imaging import DEFAULT_MAX_PIXELS
from mivaa_ocr.recognition import (
    DEFAULT_MIN_CONFIDENCE,
    PageResult,
    PageTask,
    WorkerConfig,
    describe,
    init_worker,
    recognize_page,
)
from mivaa_platform.errors import MivaaError
from mivaa_pool import (
    ItemTimeout,
    MemoryLimitExceeded,
    PoolClosed,
    SupervisedPool,
    WorkerCount,
    WorkerCrashed,
    WorkerStartFailed,
    count_workers,
)

log = logging.getLogger("mivaa.ocr.pool")

__all__ = ["OcrPool", "PageResult", "RecognizeOptions", "resolve_engine_names"]

# A page (orientation correction included) that takes longer is killed with its worker.
DEFAULT_PAGE_TIMEOUT = 120.0
# Starting a worker loads and warms every engine (EasyOCR and torch take a while on a small host).
WORKER_START_TIMEOUT = 600.0
# Resident memory of a worker (Python, PIL, numpy, the service's modules) and what each engine
# adds once it has read a page, rounded up from the service's workers measured on CPU: 82 MiB
# idle with Tesseract, 106 MiB after a page; 555 MiB idle with EasyOCR too, 650 after its pages.
WORKER_BASE_BYTES = 60 << 20
ENGINE_BYTES = {"tesseract": 50 << 20, "easyocr": 550 << 20}


def worker_bytes(engines: Sequence[str]) -> int:
    """The resident size a worker is expected to reach with `engines` loaded."""
    return WORKER_BASE_BYTES + sum(ENGINE_BYTES.get(name, 0) for name in engines)


@dataclass(frozen=True)
class RecognizeOptions:
    engine: str = ""  # empty: the pool's default
    languages: tuple[str, ...] = ()  # empty: the engine's default
    correct_orientation: bool = False


def resolve_engine_names(requested: Sequence[str]) -> tuple[str, ...]:
    """ "auto" (or nothing) means every installed engine; unknown or uninstalled names are errors."""
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


def _gpu_visible() -> bool:
    """Whether an NVIDIA device is visible, told without importing torch."""
    return os.path.exists("/dev/nvidiactl") and os.environ.get("CUDA_VISIBLE_DEVICES", "0") not in ("", "-1")


def resolve_preload(requested: Sequence[str], engines: tuple[str, ...], default_engine: str) -> tuple[str, ...]:
    """The engines every worker loads at start. "auto": the engine that will be the default (Tesseract
    without a GPU; with one, every engine, since EasyOCR on CUDA becomes the default); "all": every one."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in requested if name.strip())) or ("auto",)
    if names == ("all",):
        return engines
    if names == ("auto",):
        if default_engine != "auto":
            return (default_engine,)
        if _gpu_visible() or "tesseract" not in engines:
            return engines
        return ("tesseract",)
    for name in names:
        if name not in engines:
            raise engine_not_available(name, list(engines))
    return names


class OcrPool:
    def __init__(
        self,
        engines: Sequence[str] = ("auto",),
        *,
        engine_options: dict[str, dict] | None = None,
        default_engine: str = "auto",
        preload: Sequence[str] = ("auto",),
        processes: int = 0,
        worker_memory_bytes: int = 0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        mp_context: str = "spawn",
        page_timeout: float = DEFAULT_PAGE_TIMEOUT,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        script_languages: dict[str, tuple[str, ...]] | None = None,
    ):
        if page_timeout <= 0:
            raise ValueError("page_timeout must be positive")
        self.engine_names = resolve_engine_names(engines)
        # Sized for every offered engine: a worker loads any of them when a page asks for it.
        self.sizing: WorkerCount = count_workers(
            worker_memory_bytes or worker_bytes(self.engine_names), requested=processes
        )
        self.processes = self.sizing.workers
        self.max_in_flight = self.processes * 2
        self.page_timeout = page_timeout
        # The cores the workers were counted from (affinity, container limit), not the host's.
        threads = max(1, self.sizing.cores // self.processes)
        self._requested_default = default_engine.strip().lower() or "auto"
        if self._requested_default != "auto" and self._requested_default not in self.engine_names:
            raise engine_not_available(self._requested_default, list(self.engine_names))
        self.preloaded = resolve_preload(preload, self.engine_names, self._requested_default)
        config = WorkerConfig(
            self.engine_names,
            dict(engine_options or {}),
            max_pixels,
            threads,
            self.preloaded,
            min_confidence=min_confidence,
            script_languages=dict(script_languages or {}),
        )
        self._config = config
        self._mp_context = mp_context
        self._pool = SupervisedPool(
            self.processes,
            item_timeout=page_timeout,
            initializer=functools.partial(init_worker, config),
            mp_context=mp_context,
            start_timeout=WORKER_START_TIMEOUT,
        )
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self._infos: dict[str, EngineInfo] = {}
        self._restarting: asyncio.Task[None] | None = None
        self._restart_wanted = False
        self.default_engine = ""
        # What a worker runs for one page; a top-level function with recognize_page's
        # signature (tests inject faults here).
        self.recognize_function = recognize_page

    @property
    def ready(self) -> bool:
        return bool(self._infos)

    def engines(self) -> list[EngineInfo]:
        return list(self._infos.values())

    async def start(self) -> None:
        """Starts every worker and waits until each has loaded and warmed its preloaded engines."""
        try:
            await self._pool.warm_up()
            # As many calls as workers, at once: each holds a worker, so every worker answers.
            answers = await asyncio.gather(*(self._pool.call(describe) for _ in range(self.processes)))
            infos = answers[0][1]
            if len(infos) < len(self.engine_names):
                infos = await self._probe_engines()
        except MivaaError:
            raise
        except (WorkerCrashed, MemoryLimitExceeded, WorkerStartFailed, ItemTimeout):
            log.exception("OCR workers failed to start")
            raise worker_crashed() from None
        self._infos = {info.name: info for info in infos}
        self.default_engine = self._choose_default()
        log.info(
            "OCR workers ready",
            extra={
                "fields": {
                    "workers": len({pid for pid, _ in answers}),
                    "engines": [f"{i.name}/{i.device}" for i in infos],
                    "preloaded": list(self.preloaded),
                    "default": self.default_engine,
                    **self.sizing.fields(),
                }
            },
        )

    async def _probe_engines(self) -> list[EngineInfo]:
        """Every configured engine described by a process that loads them all once and exits, so a
        broken engine fails the start, not a request hours later, and its memory is given back."""
        probe = SupervisedPool(
            1,
            item_timeout=self.page_timeout,
            initializer=functools.partial(init_worker, dataclasses.replace(self._config, preload=None)),
            mp_context=self._mp_context,
            start_timeout=WORKER_START_TIMEOUT,
        )
        try:
            _, infos = await probe.call(describe)
        finally:
            await probe.aclose()
        return infos

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
        engine, _ = self.check(options)
        # Only the languages asked for: without any, the worker reads the page in its detected script.
        requested = tuple(dict.fromkeys(options.languages))
        task = PageTask(page_id, data, dpi, engine, requested, options.correct_orientation)
        async with self._slots:
            try:
                return await self._pool.call(self.recognize_function, task, timeout=self.page_timeout)
            except MivaaError as error:
                if page_id and "page_id" not in error.metadata:
                    error.metadata["page_id"] = page_id
                raise
            except ItemTimeout:
                log.warning("OCR page timed out; its worker was killed", extra={"fields": {"page_id": page_id}})
                self._restart_workers()
                raise page_timeout(page_id, self.page_timeout) from None
            except (WorkerCrashed, MemoryLimitExceeded, WorkerStartFailed):
                log.warning("an OCR worker process died", extra={"fields": {"page_id": page_id}})
                self._restart_workers()
                raise worker_crashed(page_id) from None
            except PoolClosed:
                raise shutting_down() from None
            except Exception:
                log.exception("OCR failed", extra={"fields": {"engine": engine, "page_id": page_id}})
                raise ocr_failed(engine) from None

    def _restart_workers(self) -> None:
        """Starts and warms the lost worker now rather than on the next page (loading engines is slow)."""
        self._restart_wanted = True  # a worker lost while a restart runs needs one more round
        if self._restarting is None or self._restarting.done():
            self._restarting = asyncio.create_task(self._warm_up_quietly())

    async def _warm_up_quietly(self) -> None:
        while self._restart_wanted:
            self._restart_wanted = False
            try:
                await self._pool.warm_up()
            except Exception as failure:  # noqa: BLE001 - the next page reports it, as its own error
                log.warning("restarting an OCR worker failed: %s", type(failure).__name__)
                return

    def worker_pids(self) -> list[int]:
        return self._pool.worker_pids()

    async def close(self) -> None:
        if self._restarting is not None:
            self._restarting.cancel()
        await self._pool.aclose()
