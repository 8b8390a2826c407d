"""A small, dependency-free guess of a text's language (BCP 47 primary tag).

Non-Latin scripts decide by script; Latin-script text by counting frequent
function words of the languages our users upload most. "" when unsure: a
wrong guess is worse than none (it would mislead an OCR language choice).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_STOPWORDS = {
    "en": "the of and to in is that for it with as was on are be by this which or from at an not have",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei",
    "fr": "le la les de des et en un une du est que qui dans pour pas sur au par ce il sont avec plus se ne",
    "es": "el la de que y en los del se las por un para con no una su al es lo como más pero sus le ya o",
    "it": "il di che e la per un in non sono una del da le si della dei con al gli anche nel come questo",
    "nl": "de het een van en in is dat op te zijn voor met die niet aan er ook als bij door maar om",
    "pt": "o a de que e do da em um para com não uma os no se na por mais as dos como mas ao ele das",
}
_WORDS = {language: frozenset(words.split()) for language, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")

_SCRIPTS = (
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("HANGUL", "ko"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("GREEK", "el"),
    ("THAI", "th"),
    ("DEVANAGARI", "hi"),
)


def guess_language(text: str, sample_chars: int = 20_000) -> str:
    text = text[:sample_chars]
    scripts: Counter[str] = Counter()
    latin = 0
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN"):
            latin += 1
            continue
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                scripts[language] += 1
                break
    if scripts:
        language, count = scripts.most_common(1)[0]
        # Japanese text mixes kanji (CJK) with kana: any kana means Japanese.
        if language == "zh" and scripts.get("ja"):
            language = "ja"
        if count > latin:
            return language
    words = [word.casefold() for word in _WORD.findall(text)]
    if len(words) < 20:
        return ""
    hits = Counter(
        {language: sum(1 for word in words if word in vocabulary) for language, vocabulary in _WORDS.items()}
    )
    (best, best_hits), (_, second_hits) = hits.most_common(2)
    if best_hits >= 0.08 * len(words) and best_hits >= 1.5 * max(second_hits, 1):
        return best
    return ""
