"""Tesseract through tesserocr: one PyTessBaseAPI per language set, owned by one worker process.

The tesserocr wheel bundles its own libtesseract; the language models
(*.traineddata) come from the system (Debian: tesseract-ocr-eng, -deu, -osd)
and are found via OCR_TESSDATA_DIR / TESSDATA_PREFIX or the usual folders.
"""

from __future__ import annotations

import glob
import os
import pathlib
import re
import unicodedata
from typing import Any

from PIL import Image

from mivaa_ocr.engines.base_engine import Box, Line, OcrEngine, PageOcr, Word
from mivaa_ocr.errors import DOMAIN
from mivaa_platform.errors import FailedPrecondition

NOT_LANGUAGES = {"osd", "equ"}
_CANDIDATES = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)


# The folder this process's Tesseract engine loaded (OcrSettings.tessdata_dir, passed in), so
# orientation detection in the same worker reads the same languages.
_loaded_tessdata: pathlib.Path | None = None


def find_tessdata(explicit: str | None = None) -> pathlib.Path | None:
    """The folder holding *.traineddata: explicit, then the engine's, then Tesseract's own
    $TESSDATA_PREFIX, then the usual places."""
    candidates: list[str] = []
    for value in (explicit, _loaded_tessdata and str(_loaded_tessdata), os.environ.get("TESSDATA_PREFIX")):
        if value:
            candidates += [value, os.path.join(value, "tessdata")]
    for pattern in _CANDIDATES:
        candidates += sorted(glob.glob(pattern), reverse=True)
    for candidate in candidates:
        path = pathlib.Path(candidate)
        if path.is_dir() and any(path.glob("*.traineddata")):
            return path
    return None


def installed_languages(tessdata: pathlib.Path | None) -> tuple[str, ...]:
    if tessdata is None:
        return ()
    return tuple(sorted(p.stem for p in tessdata.glob("*.traineddata") if p.stem not in NOT_LANGUAGES))


_RTL = frozenset({"R", "AL"})
# Digits and Latin letters, with the separators inside numbers ("3.5", "1,000", "12:30").
_LTR_RUN = re.compile(r"[0-9A-Za-z]+(?:[.,:][0-9A-Za-z]+)*")


def _is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL for ch in text)


def logical_word(text: str) -> str:
    """A word as Tesseract's word iterator gives it, in logical order. For right-to-left words
    (Hebrew, Arabic) the iterator returns the characters in visual order (left to right on the page),
    while the page text (GetUTF8Text) is logical: the word is reversed, then any run of
    left-to-right characters in it (a number, Latin letters) is put back the right way round."""
    if not _is_rtl(text):
        return text
    return _LTR_RUN.sub(lambda run: run.group(0)[::-1], text[::-1])


class TesseractEngine(OcrEngine):
    name = "tesseract"
    device = "cpu"

    def __init__(self, languages: tuple[str, ...] = ("eng",), tessdata_dir: str | None = None, max_apis: int = 8):
        import tesserocr  # deferred: only worker processes load the native library

        self._tesserocr = tesserocr
        self.tessdata = find_tessdata(tessdata_dir)
        global _loaded_tessdata
        _loaded_tessdata = self.tessdata
        if self.tessdata is None:
            raise FailedPrecondition(
                "TESSDATA_NOT_FOUND",
                "No Tesseract language data found; install tesseract-ocr-eng or set OCR_TESSDATA_DIR.",
                domain=DOMAIN,
            )
        self._languages = installed_languages(self.tessdata)
        self.default_languages = tuple(languages) or ("eng",)
        self.check_languages(self.default_languages)
        self._apis: dict[str, Any] = {}  # tesserocr.PyTessBaseAPI: tesserocr ships no types
        self._max_apis = max_apis
        self._api(self.default_languages)  # load the default models now, not on the first page

    def available_languages(self) -> tuple[str, ...]:
        return self._languages

    def _api(self, languages: tuple[str, ...]):
        key = "+".join(languages)
        api = self._apis.get(key)
        if api is None:
            if len(self._apis) >= self._max_apis:  # drop the oldest non-default language set
                oldest = next(k for k in self._apis if k != "+".join(self.default_languages))
                self._apis.pop(oldest).End()
            api = self._tesserocr.PyTessBaseAPI(
                path=str(self.tessdata) + os.sep, lang=key, psm=self._tesserocr.PSM.AUTO
            )
            self._apis[key] = api
        return api

    def recognize_block(self, image: Image.Image, languages: tuple[str, ...], dpi: int = 0) -> PageOcr:
        """A piece of a page (a band of lines cut from it) read as one block, without the page layout
        analysis that can find nothing on a strip that narrow."""
        chosen = self.check_languages(languages)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        return self._recognize(image, chosen, dpi, single_block=True)

    def _recognize(
        self, image: Image.Image, languages: tuple[str, ...], dpi: int, *, single_block: bool = False
    ) -> PageOcr:
        tesserocr = self._tesserocr
        levels = tesserocr.RIL
        api = self._api(languages)
        api.SetPageSegMode(tesserocr.PSM.SINGLE_BLOCK if single_block else tesserocr.PSM.AUTO)
        api.SetImage(image)
        if dpi > 0:
            api.SetSourceResolution(int(dpi))
        api.Recognize()
        lines: list[Line] = []
        words: list[Word] = []
        line_box: Box | None = None
        block = -1
        iterator = api.GetIterator()

        # Whether a space precedes each word: Tesseract's CJK "words" are single characters with none.
        spaced: list[bool] = []

        def finish_line() -> None:
            if words:
                lines.append(
                    Line(
                        text="".join(
                            (" " if space and i else "") + w.text
                            for i, (w, space) in enumerate(zip(words, spaced, strict=True))
                        ),
                        box=line_box or Box.around([w.box for w in words]),
                        confidence=sum(w.confidence for w in words) / len(words),
                        words=tuple(words),
                        block=block,
                    )
                )
            words.clear()
            spaced.clear()

        if iterator is not None and not iterator.Empty(levels.WORD):
            while True:
                if iterator.IsAtBeginningOf(levels.TEXTLINE):
                    finish_line()
                    if iterator.IsAtBeginningOf(levels.PARA) or iterator.IsAtBeginningOf(levels.BLOCK) or block < 0:
                        block += 1
                    bounds = iterator.BoundingBox(levels.TEXTLINE)
                    line_box = Box(*map(float, bounds)) if bounds else None
                text = logical_word((iterator.GetUTF8Text(levels.WORD) or "").strip())
                bounds = iterator.BoundingBox(levels.WORD)
                if text and bounds:
                    confidence = max(0.0, min(1.0, iterator.Confidence(levels.WORD) / 100.0))
                    words.append(Word(text, Box(*map(float, bounds)), confidence))
                    # Tesseract's blanks are in visual order: a right-to-left word always gets its space.
                    rtl = _is_rtl(text) or bool(words[:-1] and _is_rtl(words[-2].text))
                    spaced.append(rtl or iterator.BlanksBeforeWord() > 0)
                if not iterator.Next(levels.WORD):
                    break
        finish_line()
        api.Clear()
        return PageOcr(lines=tuple(lines), width=image.width, height=image.height)

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()
