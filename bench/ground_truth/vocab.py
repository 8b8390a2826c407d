"""Word lists for the office and HTML families: run-in heading terms, text-only table cells, RTL sentences."""

from __future__ import annotations

import random

# Terms of a maintenance handbook, printed as run-in bold headings ("Castellated Nut. The castellated ...").
RUN_IN_TERMS = (
    "Boots Self-Locking Nut",
    "Castellated Nut",
    "Safety Wire",
    "Cotter Pin",
    "Lock Washer",
    "Clevis Bolt",
    "Turnbuckle Assembly",
    "Anchor Nut",
    "Shear Nut",
    "Blind Rivet",
    "Hose Clamp",
    "Quick Release Pin",
    "Spring Tab",
    "Torque Seal",
    "Grommet Strip",
    "Bonding Jumper",
)

SECTION_TITLES = (
    "Scope and Purpose",
    "Fastener Inspection",
    "Hardware Identification",
    "Installation Practice",
    "Removal and Replacement",
    "Corrosion Control",
    "Records and Sign-off",
    "Tooling Requirements",
)

# Text-only tables: no numeric column (the kind the structure heuristics miss).
TABLE_HEADERS = ("Component", "Material", "Finish", "Inspection", "Remarks")
TABLE_WORDS = {
    "Component": ("wing spar fitting", "aileron hinge", "flap track", "rudder pedal", "fuel cap", "cowl latch"),
    "Material": ("stainless steel", "aluminium alloy", "titanium", "cadmium plated steel", "bronze", "nylon"),
    "Finish": ("anodised", "primed and painted", "passivated", "bare", "chromate coated", "polished"),
    "Inspection": ("visual", "dye penetrant", "eddy current", "torque check", "tap test", "borescope"),
    "Remarks": ("replace when worn", "lubricate lightly", "check safety wire", "keep dry", "no reuse", "log it"),
}


def text_table(rng: random.Random, rows: int, columns: int) -> list[list[str]]:
    """A header row and `rows` body rows of words only, each body row unique."""
    headers = list(TABLE_HEADERS[:columns])
    body: list[list[str]] = []
    while len(body) < rows:
        row = [rng.choice(TABLE_WORDS[h]) for h in headers]
        if row not in body:
            body.append(row)
    return [headers, *body]


_HEBREW = (
    ("צוות התחנה", "החזאי הראשי", "שומר המגדלור", "המתנדבים בשטח", "קברניט המעבורת", "חוקרי האקלים"),
    ("מדד", "תיעד", "בדק", "השווה", "סיכם", "צילם"),
    ("את הלחץ האטמוספרי", "את גובה הגלים", "את כמות המשקעים", "את טמפרטורת המים", "את כיוון הרוח", "את הראות"),
    ("לפני הזריחה", "במהלך החורף", "בכל בוקר שקט", "לאורך החוף הצפוני", "בעזרת מכשירים חדשים", "לפי היומן הישן"),
)
_ARABIC = (
    ("فريق المحطة", "خبير الأرصاد", "حارس المنارة", "المتطوعون الميدانيون", "قبطان العبارة", "باحثو المناخ"),
    ("قاس", "سجل", "راقب", "قارن", "لخص", "صور"),
    ("الضغط الجوي", "ارتفاع الأمواج", "كمية الأمطار", "حرارة المياه", "اتجاه الرياح", "الرؤية في الميناء"),
    ("قبل شروق الشمس", "خلال فصل الشتاء", "في كل صباح هادئ", "على طول الساحل الشمالي", "بأجهزة جديدة", "حسب السجل"),
)
# Right-to-left tables: a team, what it measured and a reading (a numeric column), headers first.
RTL_TABLE_HEADERS = {"he": ("צוות", "מדידה", "ערך"), "ar": ("الفريق", "القياس", "القيمة")}
RTL_TITLES = {
    "he": ("דוח התחנה", "תצפיות הבוקר", "סיכום העונה", "הערות הצוות"),
    "ar": ("تقرير المحطة", "ملاحظات الصباح", "ملخص الموسم", "ملاحظات الفريق"),
}


def rtl_sentence(rng: random.Random, language: str) -> str:
    parts = _HEBREW if language == "he" else _ARABIC
    return " ".join(rng.choice(words) for words in parts) + "."


def rtl_paragraph(rng: random.Random, language: str, sentences: int) -> str:
    return " ".join(rtl_sentence(rng, language) for _ in range(sentences))


def rtl_phrase(rng: random.Random, language: str) -> str:
    """A short right-to-left phrase to embed in a left-to-right sentence."""
    parts = _HEBREW if language == "he" else _ARABIC
    return rng.choice(parts[2])


def rtl_table(rng: random.Random, language: str, rows: int) -> list[list[str]]:
    """A right-to-left table in logical order: its header row, then `rows` unique rows (team, measure, reading)."""
    parts = _HEBREW if language == "he" else _ARABIC
    body: list[list[str]] = []
    while len(body) < rows:
        row = [rng.choice(parts[0]), rng.choice(parts[2]), f"{rng.randint(1, 40)}.{rng.randint(0, 9)}"]
        if row[:2] not in [other[:2] for other in body]:
            body.append(row)
    return [list(RTL_TABLE_HEADERS[language]), *body]
