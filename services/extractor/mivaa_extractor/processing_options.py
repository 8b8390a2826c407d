"""Processing options a caller gives with an upload, a batch or a reprocess: checked before anything is stored.

The options travel as the extractor's own message (mivaa.jobs.v1.ProcessingOptions): in the work
item to the worker, and to the catalog, which stores them with the document. Every field's zero
value means the server's default, so a caller that sends nothing gets what it always got.
"""

from __future__ import annotations

import re
from typing import Any

from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.errors import InvalidArgument

ProcessingOptions = options_pb2.ProcessingOptions

OPTION_INVALID = "PROCESSING_OPTION_INVALID"
MIN_CHUNK_TOKENS = 32
# The text model's input (all-MiniLM-L6-v2: 256 tokens); a longer chunk would be cut when embedded.
MAX_CHUNK_TOKENS = 256
MAX_OCR_LANGUAGES = 8
# Tesseract's language data names: a 3-letter ISO 639-2 code, optionally a variant ("chi_sim", "deu_frak").
_LANGUAGE_SHAPE = re.compile(r"[a-z]{3}(?:_[a-z]{3,4})?")
# The language data Tesseract publishes (tessdata): a code outside it can never be installed.
_TESSDATA = """afr amh ara asm aze aze_cyrl bel ben bod bos bre bul cat ceb ces chi_sim chi_sim_vert chi_tra
    chi_tra_vert chr cos cym dan deu deu_frak div dzo ell eng enm epo equ est eus fao fas fil fin fra
    frk frm fry gla gle glg grc guj hat heb hin hrv hun hye iku ind isl ita ita_old jav jpn jpn_vert
    kan kat kat_old kaz khm kir kmr kor kor_vert lao lat lav lit ltz mal mar mkd mlt mon mri msa mya
    nep nld nor oci ori osd pan pol por pus que ron rus san sin slk slv snd spa spa_old sqi srp
    srp_latn sun swa swe syr tam tat tel tgk tha tir ton tur uig ukr urd uzb uzb_cyrl vie yid yor"""
TESSERACT_LANGUAGES = frozenset(_TESSDATA.split())

_OCR_MODES = frozenset(options_pb2.OcrMode.values())
_IMAGE_MODES = frozenset(options_pb2.ImageExtraction.values())
_TABLE_MODES = frozenset(options_pb2.TableExtraction.values())


def check_options(given: ProcessingOptions, *, field: str = "options") -> ProcessingOptions:
    """The caller's options, normalized (languages deduplicated in order), or INVALID_ARGUMENT
    PROCESSING_OPTION_INVALID naming the field: an enum number outside its enum, a chunk size
    outside MIN..MAX_CHUNK_TOKENS, a malformed or unknown language code, too many languages."""
    if given.ocr_mode not in _OCR_MODES:
        raise _invalid(f"{field}.ocr_mode", "must be OCR_MODE_AUTO, OCR_MODE_FORCE or OCR_MODE_OFF")
    if given.images not in _IMAGE_MODES:
        raise _invalid(f"{field}.images", "must be IMAGE_EXTRACTION_ON or IMAGE_EXTRACTION_OFF")
    if given.tables not in _TABLE_MODES:
        raise _invalid(f"{field}.tables", "must be TABLE_EXTRACTION_ON or TABLE_EXTRACTION_OFF")
    if given.chunk_tokens and not MIN_CHUNK_TOKENS <= given.chunk_tokens <= MAX_CHUNK_TOKENS:
        raise _invalid(
            f"{field}.chunk_tokens", f"must be 0 (the default) or between {MIN_CHUNK_TOKENS} and {MAX_CHUNK_TOKENS}"
        )
    languages = list(dict.fromkeys(given.ocr_languages))
    if len(languages) > MAX_OCR_LANGUAGES:
        raise _invalid(f"{field}.ocr_languages", f"must name at most {MAX_OCR_LANGUAGES} languages")
    for language in languages:
        if not _LANGUAGE_SHAPE.fullmatch(language):
            raise _invalid(f"{field}.ocr_languages", "must be Tesseract language codes such as eng, deu or chi_sim")
        if language not in TESSERACT_LANGUAGES:
            raise _invalid(f"{field}.ocr_languages", f"{language} is not a language Tesseract reads")
    if given.ocr_mode == options_pb2.OCR_MODE_OFF and languages:
        raise _invalid(f"{field}.ocr_languages", "must be empty when OCR is off")
    checked = ProcessingOptions()
    checked.CopyFrom(given)
    del checked.ocr_languages[:]
    checked.ocr_languages.extend(languages)
    return checked


def options_or_none(message: Any, field: str = "options") -> ProcessingOptions | None:
    """`message`'s options field, checked, or None when the caller left it unset."""
    if not message.HasField(field):
        return None
    return check_options(getattr(message, field), field=field)


def _invalid(field: str, why: str) -> InvalidArgument:
    return InvalidArgument(OPTION_INVALID, f"{field} {why}.", domain=DOMAIN, metadata={"field": field})
