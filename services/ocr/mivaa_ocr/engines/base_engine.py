"""The engine interface and the domain results every engine returns.

An engine recognizes one upright image; orientation correction, decoding and
coordinate mapping happen around it (orientation.py, pool.py). Engines live in
worker processes, so results are plain picklable dataclasses.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from mivaa_ocr.errors import language_not_available


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def mapped(self, to_original: Callable[[float, float], tuple[float, float]]) -> Box:
        """The axis-aligned box around this box's corners after mapping each point."""
        corners = [
            to_original(x, y)
            for x, y in ((self.x0, self.y0), (self.x1, self.y0), (self.x0, self.y1), (self.x1, self.y1))
        ]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return Box(min(xs), min(ys), max(xs), max(ys))

    def clipped(self, width: int, height: int) -> Box:
        return Box(
            min(max(self.x0, 0.0), width),
            min(max(self.y0, 0.0), height),
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
        )

    @staticmethod
    def around(boxes: Sequence[Box]) -> Box:
        return Box(
            min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)
        )


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    confidence: float  # 0..1


@dataclass(frozen=True)
class Line:
    text: str
    box: Box
    confidence: float  # 0..1
    words: tuple[Word, ...]
    block: int  # lines of one block (paragraph) share this number; reading order


@dataclass(frozen=True)
class PageOcr:
    """What an engine recognized on one image, in that image's pixel coordinates."""

    lines: tuple[Line, ...]
    width: int
    height: int

    @property
    def text(self) -> str:
        """Lines joined with newlines, blocks with blank lines."""
        parts: list[str] = []
        previous_block = None
        for line in self.lines:
            if previous_block is not None:
                parts.append("\n\n" if line.block != previous_block else "\n")
            parts.append(line.text)
            previous_block = line.block
        return "".join(parts)

    @property
    def confidence(self) -> float:
        """Mean word confidence, 0..1 (0 when nothing was found)."""
        words = [word.confidence for line in self.lines for word in line.words]
        return float(sum(words) / len(words)) if words else 0.0

    @property
    def word_count(self) -> int:
        return sum(len(line.words) for line in self.lines)

    def mapped(self, to_original: Callable[[float, float], tuple[float, float]], width: int, height: int) -> PageOcr:
        """This result with every box mapped into another image's coordinates (and clipped to it)."""

        def move(box: Box) -> Box:
            return box.mapped(to_original).clipped(width, height)

        return PageOcr(
            lines=tuple(
                Line(
                    text=line.text,
                    box=move(line.box),
                    confidence=line.confidence,
                    words=tuple(Word(w.text, move(w.box), w.confidence) for w in line.words),
                    block=line.block,
                )
                for line in self.lines
            ),
            width=width,
            height=height,
        )


@dataclass(frozen=True)
class EngineInfo:
    name: str
    languages: tuple[str, ...]  # installed, in the engine's own naming
    default_languages: tuple[str, ...]
    device: str  # "cpu" or "cuda"


@dataclass
class EngineOptions:
    """Options every engine accepts; engines ignore what does not apply to them."""

    languages: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


class OcrEngine(abc.ABC):
    """One OCR engine in one process. Not thread-safe: a worker process owns one of each."""

    name: str = ""
    device: str = "cpu"
    default_languages: tuple[str, ...] = ()

    @abc.abstractmethod
    def available_languages(self) -> tuple[str, ...]:
        """Languages whose models are installed, in the engine's naming."""

    @abc.abstractmethod
    def _recognize(self, image: Image.Image, languages: tuple[str, ...], dpi: int) -> PageOcr:
        """Recognizes an RGB or L image with languages already checked."""

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, self.available_languages(), self.default_languages, self.device)

    def check_languages(self, languages: Sequence[str]) -> tuple[str, ...]:
        """The languages to use (the default when none are given); LANGUAGE_NOT_AVAILABLE when one is missing."""
        chosen = tuple(dict.fromkeys(languages)) or self.default_languages
        installed = self.available_languages()
        missing = [language for language in chosen if language not in installed]
        if missing:
            raise language_not_available(self.name, missing, installed)
        return chosen

    def recognize(self, image: Image.Image | np.ndarray, languages: Sequence[str] = (), dpi: int = 0) -> PageOcr:
        chosen = self.check_languages(languages)
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        return self._recognize(image, chosen, dpi)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Frees native resources."""
