"""One page read in its own script: OSD, rotation, the script's language data, fallbacks, the flag.

1. Tesseract's OSD reads the page once: its rotation and its script.
2. The languages: those the request named (they always win), else the installed language data of
   the detected script (scripts.py), else the engine's default.
3. Rotation and skew are undone (orientation.py); when OSD is unsure of the rotation, the page is
   read in all four orientations with the languages chosen in 2.
4. The page is read, and ink bands Tesseract's layout lost are read alone (lost_lines.py). When no language was requested and the reading's mean word confidence is under
   the threshold, OSD may have been wrong (it needs enough text, and it confuses some scripts:
   Hebrew came back as "Thai" on the bench): a downscaled copy is read with every other script this
   installation can read, and the page is read again with the best of them when it reads clearly
   better than the first choice.
5. A page whose words are still under the threshold is flagged OCR_LOW_CONFIDENCE: its text is
   returned, and callers decide what to do with it (the extractor does not index it).

EasyOCR pages get OSD's script and rotation too, but keep their requested or default languages
(the mapping is in Tesseract's codes, and the offline EasyOCR weights are English only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from mivaa_ocr.engines.base_engine import OcrEngine, PageOcr
from mivaa_ocr.lost_lines import recover_lost_lines
from mivaa_ocr.orientation import Correction, OsdReading, Scorer, confidence_score, correct, detect_osd
from mivaa_ocr.scripts import ScriptLanguages, canonical_script

LOW_CONFIDENCE = "OCR_LOW_CONFIDENCE"
# Probe readings are made on a copy at most this many pixels on its long side (CJK glyphs stay
# ~15 px high at 200 DPI, enough for Tesseract to tell the scripts apart).
PROBE_MAX_SIDE = 1400
# Other scripts are tried only on a page with at least this many words: on a few specks of noise
# the probes cost seconds (24 s on a heavily blurred and noisy page) and find nothing.
MIN_WORDS_TO_TRY_SCRIPTS = 5
# A probe must beat the first choice's probe by this much mean confidence to replace it.
PROBE_MARGIN = 0.05
# Scripts read without telling Tesseract the page's resolution: with it, its layout analysis split
# the bench's Korean page into columns (68% CER against 0% without).
NO_RESOLUTION_SCRIPTS = frozenset({"Hangul"})


@dataclass(frozen=True)
class ScriptChoice:
    script: str  # "" when not detected
    confidence: float  # OSD's script score; 0 when found by comparing readings
    method: str  # "osd", "reading" (readings compared) or "" (nothing detected)
    languages: tuple[str, ...]


@dataclass(frozen=True)
class PageReading:
    page: PageOcr  # in the upright image's coordinates
    correction: Correction
    choice: ScriptChoice
    flag_reason: str  # "" or OCR_LOW_CONFIDENCE


def _scorer(engine: OcrEngine, languages: tuple[str, ...]) -> Scorer:
    def score(image: Image.Image) -> float:
        page = engine.recognize(image, languages)
        return confidence_score(
            [
                (w.text, w.confidence, w.box.x1 - w.box.x0, w.box.y1 - w.box.y0)
                for line in page.lines
                for w in line.words
            ]
        )

    return score


def _small(image: Image.Image) -> Image.Image:
    if max(image.size) <= PROBE_MAX_SIDE:
        return image
    scale = PROBE_MAX_SIDE / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def _choose(
    engine: OcrEngine, requested: tuple[str, ...], osd: OsdReading | None, chooser: ScriptLanguages | None
) -> ScriptChoice:
    script = canonical_script(osd.script) if osd is not None and osd.script else ""
    score = osd.script_confidence if osd is not None else 0.0
    method = "osd" if script else ""
    if requested:
        return ScriptChoice(script, score, method, requested)
    languages = chooser.for_script(script) if chooser is not None and script else ()
    return ScriptChoice(script, score, method, languages or engine.default_languages)


def _better_script(
    engine: OcrEngine, image: Image.Image, first: ScriptChoice, chooser: ScriptLanguages
) -> ScriptChoice | None:
    """The script whose languages read a downscaled copy clearly better than the first choice's, if any."""
    small = _small(image)
    scores = {first.languages: engine.recognize(small, first.languages).confidence}
    best: tuple[str, tuple[str, ...]] | None = None
    for script, languages in chooser.candidates():
        if languages in scores:
            continue
        scores[languages] = engine.recognize(small, languages).confidence
        if best is None or scores[languages] > scores[best[1]]:
            best = (script, languages)
    if best is None or scores[best[1]] < scores[first.languages] + PROBE_MARGIN:
        return None
    return ScriptChoice(best[0], 0.0, "reading", best[1])


def _read(engine: OcrEngine, image: Image.Image, languages: tuple[str, ...], dpi: int) -> PageOcr:
    """The page, with the lines Tesseract's layout analysis dropped read on their own (lost_lines.py)."""
    page = engine.recognize(image, languages, dpi)
    if engine.name != "tesseract":
        return page
    read_block = getattr(engine, "recognize_block", engine.recognize)
    return recover_lost_lines(image, page, lambda band: read_block(band, languages, dpi))


def read_page(
    engine: OcrEngine,
    image: Image.Image,
    dpi: int,
    *,
    requested: Sequence[str],
    correct_orientation: bool,
    chooser: ScriptLanguages | None,
    min_confidence: float,
) -> PageReading:
    """Reads `image` (as sent) in its own script; see the module's docstring."""
    requested = tuple(dict.fromkeys(requested))
    osd = detect_osd(image)
    choice = _choose(engine, requested, osd, chooser if engine.name == "tesseract" else None)
    if correct_orientation:
        scoring = choice.languages if engine.name == "tesseract" else engine.default_languages
        upright, correction = correct(image, _scorer(engine, scoring), osd=osd)
    else:
        upright, correction = image, Correction()
    page = _read(engine, upright, choice.languages, 0 if choice.script in NO_RESOLUTION_SCRIPTS else dpi)
    if (
        not requested
        and chooser is not None
        and engine.name == "tesseract"
        and page.word_count >= MIN_WORDS_TO_TRY_SCRIPTS
        and page.confidence < min_confidence
    ):
        better = _better_script(engine, upright, choice, chooser)
        if better is not None:
            second = _read(engine, upright, better.languages, 0 if better.script in NO_RESOLUTION_SCRIPTS else dpi)
            if second.confidence > page.confidence:
                page, choice = second, better
    flag = LOW_CONFIDENCE if page.word_count and page.confidence < min_confidence else ""
    return PageReading(page, correction, choice, flag)
