"""Which Tesseract language data reads a page in a given script.

Tesseract's OSD (osd.traineddata) names the script of a page ("Latin", "Han", "Hangul", "Korean",
"Japanese", "Cyrillic", "Arabic" ...). A page is then read with the language data of that script
that is installed (tools/install_tessdata.sh installs the major ones), else with Tesseract's script
model of the same name (Debian's tesseract-ocr-script-*: "Hangul.traineddata", "Thai.traineddata"),
else with the engine's default languages. Latin pages use the configured Latin languages (the
engine's default, `eng`, unless OCR_SCRIPT_LANGUAGES says otherwise), so English keeps today's
models and speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# OSD's names for the same script, folded into one (OSD says "Korean" or "Hangul" for Korean
# pages, "Hiragana"/"Katakana"/"Japanese" for Japanese ones).
SCRIPT_ALIASES = {
    "Korean": "Hangul",
    "Hiragana": "Japanese",
    "Katakana": "Japanese",
    "HanS": "Han",
    "HanT": "Han",
    "Han_vert": "Han",
}

# Script -> the languages that read it, in Tesseract's codes; only the installed ones are used.
# Korean alone (not kor+eng): with English beside it Tesseract reads some Hangul words as Latin
# letters (7% CER on the bench's Korean page against 0%). Han: both Chinese models together
# (Tesseract picks per word), measured 0-2% CER on simplified and traditional pages.
DEFAULT_SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Hangul": ("kor",),
    "Han": ("chi_sim", "chi_tra"),
    "Japanese": ("jpn",),
    "Cyrillic": ("rus", "ukr"),
    "Arabic": ("ara",),
    "Hebrew": ("heb",),
    "Devanagari": ("hin",),
    "Greek": ("ell",),
    "Thai": ("tha",),
}

# Script models (Debian tesseract-ocr-script-*) named differently from OSD's script.
SCRIPT_MODELS = {"Han": ("HanS", "HanT")}

LATIN = "Latin"


def canonical_script(name: str) -> str:
    return SCRIPT_ALIASES.get(name, name)


def parse_script_languages(value: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """OCR_SCRIPT_LANGUAGES entries "Script=lang+lang" (e.g. "Latin=eng+fra", "Han=chi_sim")."""
    mapping: dict[str, tuple[str, ...]] = {}
    for entry in value:
        entry = entry.strip()
        if not entry:
            continue
        script, separator, languages = entry.partition("=")
        codes = tuple(code.strip() for code in languages.split("+") if code.strip())
        if not separator or not script.strip() or not codes:
            raise ValueError(f"OCR_SCRIPT_LANGUAGES entry {entry!r} is not Script=lang+lang")
        mapping[canonical_script(script.strip())] = codes
    return mapping


@dataclass(frozen=True)
class ScriptLanguages:
    """Chooses the languages for a detected script among those installed."""

    installed: tuple[str, ...]
    default: tuple[str, ...]  # the engine's default languages: Latin pages and unknown scripts
    overrides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # OCR_SCRIPT_LANGUAGES

    def for_script(self, script: str) -> tuple[str, ...]:
        """The installed languages for `script`; () when none is installed for it."""
        script = canonical_script(script)
        if script in self.overrides:
            wanted = self.overrides[script]
        elif script == LATIN:
            return self.default
        else:
            wanted = DEFAULT_SCRIPT_LANGUAGES.get(script, ())
        found = tuple(code for code in wanted if code in self.installed)
        if found:
            return found
        models = tuple(name for name in SCRIPT_MODELS.get(script, (script,)) if name in self.installed)
        return models

    def candidates(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every script this installation can read, with its languages (Latin first)."""
        scripts = [LATIN, *DEFAULT_SCRIPT_LANGUAGES, *self.overrides]
        seen: set[tuple[str, ...]] = set()
        found: list[tuple[str, tuple[str, ...]]] = []
        for script in dict.fromkeys(scripts):
            languages = self.for_script(script)
            if languages and languages not in seen:
                seen.add(languages)
                found.append((script, languages))
        return found
