"""PDF mutation fuzzing: seeds, mutations, and a harness that checks the extractor's contract.

Shared by tests/extractor/test_fuzz.py (a few dozen hypothesis-driven cases)
and bench/fuzz_extract.py (thousands of random cases). Nothing here imports
hypothesis: the test builds its strategies from `MUTATION_KINDS` and the
`Mutation` / `Case` dataclasses; the bench draws the same cases from a
`random.Random` (`random_case`).

Seeds
-----
`generated_seeds()`: small PDFs made here with PyMuPDF: text, an image, a
table drawn with rules, an outline, links, all of them together (saved plain,
compressed with object and xref streams, encrypted, and with an incremental
update so there are two xref sections). `corpus_seeds(dir)`: a handful of
small corpus files (< 300 KB), with the passwords the corpus READMEs give.

Mutations
---------
A `Mutation` is a kind plus three raw integers (a, b, c) that `apply_mutation`
resolves against the bytes it gets (offsets modulo the length, choices modulo
the number of candidates, ...), so any integers make a valid mutation and the
result is a pure function of (bytes, mutation, donors). Kinds:

- flip: 1..8 random bit flips anywhere; flip_near_token: the same within a few
  bytes of a structural keyword (obj, stream, xref, /Length, ...);
- truncate: cut at an offset (half the time within the last 2 KiB);
- delete / duplicate: remove a byte range, or insert a copy of one elsewhere;
- splice: the head of this file followed by the tail of another seed;
- startxref: the number after the last ``startxref`` replaced (interesting
  value or off by a little);
- xref_entry: an entry of a classic xref table (offset, generation or n/f
  type) or a number in an xref stream's dictionary (/W, /Index, /Size, /Prev);
- number: a number token in the object syntax (outside stream data) replaced;
- stream_number: a number inside a stream's decoded data (content streams,
  object streams' offset tables, xref stream rows; Flate streams are inflated,
  mutated and deflated again, padded to keep offsets when the result is shorter);
- zero_length: one (or every) ``/Length`` set to 0;
- keyword: a structural keyword (endobj, endstream, trailer, /Root, /Kids,
  /Count, R, ...) deleted, blanked or misspelled;
- nest: deeply nested ``[``, ``<<`` or ``(`` inserted at a token.

Harness
-------
`ServiceHarness` drives the extractor service's own code with an upload:
`UploadValidator.validate` (the Ingestor's entry: `validate_pdf` in a
supervised worker process with a time limit), then the service's
`PageExtractor.iter_pages` over all pages, and classifies the outcome against
the contract: every input is either rejected with a MivaaError whose reason is
UPPER_SNAKE_CASE, or extracted into pages 1..N in order, each with no error or
an error whose reason is one of `PAGE_ERROR_REASONS`. Anything else (another
exception, a hang past the limits, wrong page numbers, an unknown reason) is a
violation. Outcomes the service survives but that point at a weakness (the
validator process crashed or timed out, which the service maps to
PDF_UNREADABLE; extraction failing with EXTRACTION_FAILED, which the extractor
itself calls a bug) are "notable".

Must be used from one event loop (the PageExtractor's pool belongs to the loop
it is first used on): create, use and close the harness inside that loop.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import os
import pathlib
import random
import re
import tempfile
import time
import traceback
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import pymupdf

# ---- contract ------------------------------------------------------------------------

PAGE_ERROR_REASONS = frozenset(
    {"PAGE_EXTRACTION_FAILED", "PAGE_TIMEOUT", "PAGE_MEMORY_LIMIT", "PAGE_WORKER_CRASHED", "DOCUMENT_TIME_LIMIT"}
)
REASON_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")

# The service's defaults (mivaa_extractor.main.ExtractorSettings).
SERVICE_MAX_BYTES = 200 * 1024 * 1024
SERVICE_MAX_PAGES = 10_000


def is_reason(value: object) -> bool:
    return isinstance(value, str) and bool(REASON_PATTERN.match(value))


# ---- seeds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes = field(repr=False)
    password: str | None = None
    # Whether its unmutated form has a text layer (its body text must not be empty).
    has_text: bool = True

    def __repr__(self) -> str:  # hypothesis prints seeds in falsifying examples: no bytes
        return f"Seed({self.name!r})"


SEED_PASSWORD = "fuzz-pw"
KNOWN_GOOD_PHRASE = "The known good document says hello"

CORPUS_PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword", "password.pdf": "password"}
# Small corpus files with varied producers and features; the first of them that exist are used.
PREFERRED_CORPUS_SEEDS = (
    "minimal-document.pdf",
    "libre-office-link.pdf",
    "pdflatex-outline.pdf",
    "inline-image.pdf",
    "imagemagick-CCITTFaxDecode.pdf",
    "habibi.pdf",
    "annotated_pdf.pdf",
    "libreoffice-writer-password.pdf",
    "unstructured/rotated-page-90.pdf",
    "unstructured/korean-text-with-tables.pdf",
)
CORPUS_SEED_MAX_BYTES = 300_000
# Corpus files without a text layer (scans, bare images): their body text is empty, by design.
CORPUS_WITHOUT_TEXT = frozenset(
    {
        "cmyk-image.pdf",
        "grayscale-image.pdf",
        "imagemagick-ASCII85Decode.pdf",
        "imagemagick-CCITTFaxDecode.pdf",
        "imagemagick-images.pdf",
        "imagemagick-lzw.pdf",
        "unstructured/loremipsum-flat.pdf",
        "unstructured/single_table.pdf",
        "unstructured/table-multi-row-column-cells.pdf",
    }
)


def _png(width: int = 64, height: int = 48) -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    pixmap.set_rect(pixmap.irect, (200, 40, 40))
    pixmap.set_rect(pymupdf.IRect(width // 2, 0, width, height), (40, 60, 200))
    return pixmap.tobytes("png")


def _add_text_page(doc: pymupdf.Document, title: str, body: str) -> pymupdf.Page:
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 80), title, fontsize=18, fontname="hebo")
    page.insert_textbox(pymupdf.Rect(72, 100, 523, 300), body, fontsize=10, fontname="helv")
    return page


def _add_image(page: pymupdf.Page) -> None:
    page.insert_image(pymupdf.Rect(72, 320, 312, 500), stream=_png(160, 120))
    page.insert_text((72, 520), "Figure 1: A red and blue square", fontsize=9, fontname="helv")


def _add_table(page: pymupdf.Page, top: float = 560) -> None:
    rows = [["Station", "Range", "Height"], ["North", "42", "71"], ["South", "19", "22"], ["West", "7", "3"]]
    left, width, height = 72.0, 120.0, 20.0
    for r in range(len(rows) + 1):
        page.draw_line((left, top + r * height), (left + width * 3, top + r * height), width=0.8)
    for c in range(4):
        page.draw_line((left + c * width, top), (left + c * width, top + len(rows) * height), width=0.8)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            page.insert_text((left + c * width + 4, top + r * height + 14), text, fontsize=9, fontname="helv")


def _add_links(doc: pymupdf.Document) -> None:
    page = doc[0]  # a Page object made before later new_page() calls may be detached: load it again
    page.insert_text((72, 720), "Visit https://example.org/fuzz for more.", fontsize=10, fontname="helv")
    page.insert_link(
        {"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(100, 708, 260, 724), "uri": "https://example.org/fuzz"}
    )
    if doc.page_count > 1:
        page.insert_text((72, 745), "See the last page.", fontsize=10, fontname="helv")
        page.insert_link(
            {"kind": pymupdf.LINK_GOTO, "from": pymupdf.Rect(72, 733, 200, 749), "page": doc.page_count - 1}
        )


BODY = (
    "This generated document exists to be broken on purpose. Each sentence carries ordinary words "
    "so that text extraction has something to find: rivers, lanterns, copper kettles and harbours."
)


def _document(kind: str) -> pymupdf.Document:
    doc = pymupdf.open()
    doc.set_metadata({"title": f"Fuzz seed {kind}", "author": "mivaa tests"})
    if kind == "text":
        _add_text_page(doc, "Plain text", BODY)
        _add_text_page(doc, "Second page", BODY[::-1])
    elif kind == "image":
        _add_image(_add_text_page(doc, "An image", BODY))
    elif kind == "table":
        _add_table(_add_text_page(doc, "A table", BODY), top=320)
    elif kind == "outline":
        for number in range(1, 4):
            _add_text_page(doc, f"Chapter {number}", BODY)
        doc.set_toc([[1, "Chapter 1", 1], [2, "Section 1.1", 1], [1, "Chapter 2", 2], [1, "Chapter 3", 3]])
    elif kind == "link":
        _add_text_page(doc, "Links", BODY)
        _add_text_page(doc, "Target", BODY)
        _add_links(doc)
    elif kind == "all":
        first = _add_text_page(doc, "Everything", BODY)
        _add_image(first)
        _add_table(first)
        _add_text_page(doc, "Second", BODY)
        _add_text_page(doc, "Third", BODY)
        _add_links(doc)
        doc.set_toc([[1, "Everything", 1], [1, "Second", 2], [2, "Third", 3]])
    else:
        raise ValueError(kind)
    return doc


def generated_seeds() -> list[Seed]:
    """Small PDFs made with PyMuPDF, in several serialisations (see the module docstring)."""
    seeds = []
    for kind in ("text", "image", "table", "outline", "link"):
        doc = _document(kind)
        seeds.append(Seed(f"gen-{kind}", doc.tobytes()))
        doc.close()
    doc = _document("all")
    seeds.append(Seed("gen-all-plain", doc.tobytes(garbage=1, deflate=False)))
    seeds.append(Seed("gen-all-objstm", doc.tobytes(garbage=3, deflate=True, use_objstms=1)))
    seeds.append(
        Seed(
            "gen-all-encrypted",
            doc.tobytes(
                encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=SEED_PASSWORD, owner_pw=SEED_PASSWORD + "-owner"
            ),
            password=SEED_PASSWORD,
        )
    )
    doc.close()
    seeds.append(Seed("gen-incremental", _incremental_update()))
    return seeds


def _incremental_update() -> bytes:
    """A document saved, then changed and saved incrementally: two xref sections linked by /Prev."""
    with tempfile.TemporaryDirectory(prefix="mivaa-fuzz-seed-") as folder:
        path = os.path.join(folder, "incremental.pdf")
        doc = _document("text")
        doc.save(path)
        doc.close()
        doc = pymupdf.open(path)
        _add_table(doc[0], top=400)
        doc.set_metadata({"title": "Fuzz seed incremental, updated"})
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
        doc.close()
        return pathlib.Path(path).read_bytes()


def corpus_seeds(corpus_dir: pathlib.Path | None, limit: int = 8, max_bytes: int = CORPUS_SEED_MAX_BYTES) -> list[Seed]:
    """Up to `limit` small corpus files (PREFERRED_CORPUS_SEEDS first); [] without a corpus."""
    if corpus_dir is None or not pathlib.Path(corpus_dir).is_dir():
        return []
    corpus_dir = pathlib.Path(corpus_dir)
    candidates = [corpus_dir / name for name in PREFERRED_CORPUS_SEEDS]
    candidates += sorted(corpus_dir.rglob("*.pdf"), key=lambda p: (p.stat().st_size, str(p)))
    seeds: list[Seed] = []
    seen: set[pathlib.Path] = set()
    for path in candidates:
        if len(seeds) >= limit:
            break
        if path in seen or not path.is_file() or path.stat().st_size >= max_bytes:
            continue
        seen.add(path)
        relative = path.relative_to(corpus_dir).as_posix()
        seeds.append(
            Seed(
                "corpus:" + relative,
                path.read_bytes(),
                password=CORPUS_PASSWORDS.get(path.name),
                has_text=relative not in CORPUS_WITHOUT_TEXT,
            )
        )
    return seeds


def known_good_pdf() -> bytes:
    """Two pages of plain text: what a healthy extractor must always extract."""
    doc = pymupdf.open()
    for number in (1, 2):
        page = doc.new_page()
        page.insert_text((72, 120), f"{KNOWN_GOOD_PHRASE} from page {number}.", fontsize=11)
    data = doc.tobytes()
    doc.close()
    return data


# ---- mutations -----------------------------------------------------------------------

MAX_RAW = 2**32 - 1

INTERESTING_NUMBERS = (
    b"0",
    b"-1",
    b"1",
    b"2",
    b"7",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"2147483647",
    b"2147483648",
    b"-2147483649",
    b"4294967295",
    b"4294967296",
    b"9223372036854775807",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"1e308",
    b"3.4e38",
    b"-0.0",
    b"0.000001",
    b"-99999",
    b".",
    b"-",
    b"1.2.3",
    b"+",
)

STRUCTURAL_TOKENS = re.compile(
    rb"\bobj\b|\bendobj\b|\bstream\b|\bendstream\b|\bxref\b|\btrailer\b|\bstartxref\b|%%EOF|"
    rb"/Length\b|/Type\b|/Root\b|/Pages\b|/Kids\b|/Count\b|/Parent\b|/Contents\b|/Resources\b|"
    rb"/Font\b|/XObject\b|/Filter\b|/Size\b|/Prev\b|/W\b|/Index\b|/First\b|/N\b|/Outlines\b|/Annots\b|<<|>>"
)
KEYWORDS = re.compile(
    rb"\bendobj\b|\bendstream\b|\bstream\b|\btrailer\b|\bxref\b|/Root\b|/Pages\b|/Kids\b|/Count\b|"
    rb"/Parent\b|/Contents\b|/MediaBox\b|/Type\b|/Page\b|/Font\b|/Length\b|/Filter\b| R\b|\bobj\b"
)
NUMBER = re.compile(rb"(?<![A-Za-z0-9_.#/\\+-])[-+]?(?:\d+\.?\d*|\.\d+)(?![A-Za-z0-9_.])")
STARTXREF = re.compile(rb"startxref\s*([-+]?\d*)")
XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
XREF_STREAM_DICT = re.compile(rb"/Type\s*/XRef\b")
LENGTH = re.compile(rb"/Length\s+(\d+(?:\s+\d+\s+R)?)")
STREAM_START = re.compile(rb"stream(?:\r\n|\n|\r)")
NESTING = (b"[", b"<<", b"(", b"[<<", b"<<[")


def _mutation_kinds() -> tuple[str, ...]:
    return tuple(sorted(_MUTATORS))


@dataclass(frozen=True)
class Mutation:
    kind: str
    a: int = 0
    b: int = 0
    c: int = 0

    def describe(self) -> dict:
        return {"kind": self.kind, "a": self.a, "b": self.b, "c": self.c}


@dataclass(frozen=True)
class Case:
    seed: Seed
    mutations: tuple[Mutation, ...]

    def build(self, donors: Sequence[Seed]) -> bytes:
        return apply_all(self.seed.data, self.mutations, [d.data for d in donors])

    @property
    def password(self) -> str | None:
        return self.seed.password

    def describe(self) -> dict:
        return {
            "seed": self.seed.name,
            "password": self.seed.password,
            "mutations": [m.describe() for m in self.mutations],
        }


def apply_all(data: bytes, mutations: Sequence[Mutation], donors: Sequence[bytes] = ()) -> bytes:
    for mutation in mutations:
        data = apply_mutation(data, mutation, donors)
    return data


def apply_mutation(data: bytes, mutation: Mutation, donors: Sequence[bytes] = ()) -> bytes:
    """The mutated bytes (possibly unchanged when the mutation finds nothing to act on)."""
    if not data:
        return data
    return _MUTATORS[mutation.kind](bytes(data), mutation.a, mutation.b, mutation.c, donors)


def random_mutation(rng: random.Random) -> Mutation:
    return Mutation(
        rng.choice(MUTATION_KINDS), rng.randint(0, MAX_RAW), rng.randint(0, MAX_RAW), rng.randint(0, MAX_RAW)
    )


def random_case(rng: random.Random, seeds: Sequence[Seed], max_mutations: int = 3) -> Case:
    seed = rng.choice(seeds)
    count = rng.randint(1, max(1, max_mutations)) if rng.random() < 0.4 else 1
    return Case(seed, tuple(random_mutation(rng) for _ in range(count)))


def _interesting_number(a: int, original: bytes = b"") -> bytes:
    if a % 3 == 0 and original:
        try:
            value = int(float(original))
        except ValueError:
            value = 0
        return str(value + (a // 3) % 65 - 32).encode()
    return INTERESTING_NUMBERS[(a // 3) % len(INTERESTING_NUMBERS)]


def _stream_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(dict_start, data_start, data_end) of each stream, found leniently."""
    spans = []
    for match in STREAM_START.finditer(data):
        start = match.start()
        if start >= 3 and data[start - 3 : start] == b"end":
            continue
        before = data[max(0, start - 4096) : start].rstrip()
        if not before.endswith(b">>"):
            continue
        obj = data.rfind(b"obj", max(0, start - 4096), start)
        dict_start = obj + 3 if obj >= 0 else max(0, start - 4096)
        data_start = match.end()
        end = data.find(b"endstream", data_start)
        if end < 0:
            end = len(data)
        spans.append((dict_start, data_start, end))
    return spans


def _outside(spans: list[tuple[int, int, int]], position: int) -> bool:
    starts = [s[1] for s in spans]
    index = bisect.bisect_right(starts, position) - 1
    return index < 0 or position >= spans[index][2]


def _flip(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    out = bytearray(data)
    rng = random.Random((a << 64) ^ (b << 32) ^ c)
    for _ in range(1 + c % 8):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def _flip_near_token(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    tokens = [m.start() for m in STRUCTURAL_TOKENS.finditer(data)]
    if not tokens:
        return _flip(data, a, b, c, donors)
    out = bytearray(data)
    rng = random.Random((a << 64) ^ (b << 32) ^ c)
    for _ in range(1 + c % 4):
        position = min(len(out) - 1, max(0, tokens[rng.randrange(len(tokens))] + rng.randint(-8, 16)))
        if rng.random() < 0.5:
            out[position] ^= 1 << rng.randrange(8)
        else:
            out[position] = rng.choice(b"\x00\xff()<>[]/%\\ \n0123456789-.R")
    return bytes(out)


def _truncate(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    if c & 1:
        return data[: len(data) - 1 - a % min(len(data), 2048)]
    return data[: a % len(data)]


def _range(data: bytes, a: int, b: int, c: int) -> tuple[int, int]:
    start = a % len(data)
    limit = (16, 256, 4096, len(data))[c % 4]
    return start, min(len(data), start + 1 + b % limit)


def _delete(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    start, end = _range(data, a, b, c)
    return data[:start] + data[end:]


def _duplicate(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    start, end = _range(data, a, b, c)
    chunk = data[start:end]
    at = end if (c >> 2) & 1 else (c >> 3) % (len(data) + 1)
    return data[:at] + chunk + data[at:]


def _splice(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    if not donors:
        return _duplicate(data, a, b, c, donors)
    donor = donors[c % len(donors)]
    if not donor:
        return data
    return data[: a % (len(data) + 1)] + donor[b % len(donor) :]


def _startxref(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    matches = list(STARTXREF.finditer(data))
    if not matches:
        return data
    match = matches[-1] if c & 1 or len(matches) == 1 else matches[c % len(matches)]
    number = _interesting_number(a, match.group(1))
    return data[: match.start(1)] + number + data[match.end(1) :]


def _xref_entry(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    entries = list(XREF_ENTRY.finditer(data))
    if entries:
        entry = entries[a % len(entries)]
        part = 1 + c % 3
        if part == 1:
            try:
                value = int(entry.group(1)) + (b % 41) - 20 if b & 1 else int(_interesting_number(b).lstrip(b"-+") or 0)
            except ValueError:
                value = 0
            replacement = str(max(0, value) % 10**10).zfill(10).encode()
        elif part == 2:
            replacement = str(b % 100000).zfill(5).encode()
        else:
            replacement = b"nfx "[b % 4 : b % 4 + 1]
        return data[: entry.start(part)] + replacement + data[entry.end(part) :]
    match = XREF_STREAM_DICT.search(data)
    if match is None:
        return _startxref(data, a, b, c, donors)
    # A number in the xref stream's dictionary: /W, /Index, /Size, /Prev, /Length.
    start = data.rfind(b"<<", 0, match.start())
    end = data.find(b"stream", match.end())
    numbers = list(NUMBER.finditer(data, max(0, start), end if end > 0 else len(data)))
    if not numbers:
        return data
    number = numbers[b % len(numbers)]
    return data[: number.start()] + _interesting_number(a, number.group()) + data[number.end() :]


def _number(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    spans = _stream_spans(data)
    numbers = [m for m in NUMBER.finditer(data) if _outside(spans, m.start())]
    if not numbers:
        return data
    out = data
    rng = random.Random((b << 32) ^ c)
    for i in range(1 + c % 3):
        match = numbers[rng.randrange(len(numbers))]
        out = (
            out[: match.start()]
            + _interesting_number(rng.randrange(MAX_RAW) if i else a, match.group())
            + out[match.end() :]
        )
        # Only numbers before this one keep their offsets: edit from the back.
        numbers = [m for m in numbers if m.end() <= match.start()]
        if not numbers:
            break
    return out


def _decode(raw: bytes, flate: bool) -> bytes | None:
    if not flate:
        return raw
    try:
        return zlib.decompressobj().decompress(raw, 8 << 20)
    except zlib.error:
        return None


def _stream_number(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    spans = _stream_spans(data)
    if not spans:
        return _number(data, a, b, c, donors)
    dict_start, data_start, data_end = spans[a % len(spans)]
    dictionary = data[dict_start:data_start]
    raw = data[data_start:data_end]
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith((b"\n", b"\r")):
        raw = raw[:-1]
    filters = re.findall(rb"/(\w+Decode)\b", dictionary)
    flate = filters == [b"FlateDecode"]
    if filters and not flate:
        return _flip(data, a, b, c, donors)  # DCT, CCITT, chains...: a plain flip inside the stream
    decoded = _decode(raw, flate)
    if decoded is None:
        return data
    numbers = list(NUMBER.finditer(decoded))
    if numbers:
        rng = random.Random((b << 32) ^ c)
        for _ in range(1 + c % 4):
            match = numbers[rng.randrange(len(numbers))]
            decoded = (
                decoded[: match.start()]
                + _interesting_number(rng.randrange(MAX_RAW), match.group())
                + decoded[match.end() :]
            )
            numbers = [m for m in numbers if m.end() <= match.start()]
            if not numbers:
                break
    elif decoded:
        mutable = bytearray(decoded)  # binary rows (xref streams, images): flip a few bytes
        rng = random.Random((b << 32) ^ c)
        for _ in range(1 + c % 4):
            mutable[rng.randrange(len(mutable))] ^= 0xFF if rng.random() < 0.3 else 1 << rng.randrange(8)
        decoded = bytes(mutable)
    encoded = zlib.compress(decoded, 9) if flate else decoded
    if len(encoded) <= len(raw):
        # Same length as before, so no object moves and the xref stays right.
        new_raw = encoded + b"\n" * (len(raw) - len(encoded))
        return data[:data_start] + new_raw + data[data_start + len(raw) :]
    length = LENGTH.search(dictionary)
    new_dictionary = dictionary
    if length is not None and b"R" not in length.group(1):
        new_dictionary = dictionary[: length.start(1)] + str(len(encoded)).encode() + dictionary[length.end(1) :]
    return data[:dict_start] + new_dictionary + encoded + data[data_start + len(raw) :]


def _zero_length(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    matches = list(LENGTH.finditer(data))
    if not matches:
        return data
    chosen = matches if c % 4 == 0 else [matches[a % len(matches)]]
    for match in reversed(chosen):
        data = data[: match.start(1)] + b"0" + data[match.end(1) :]
    return data


def _keyword(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    matches = list(KEYWORDS.finditer(data))
    if not matches:
        return data
    match = matches[a % len(matches)]
    token = match.group()
    how = c % 4
    if how == 0:
        replacement = b""
    elif how == 1:
        replacement = b" " * len(token)
    elif how == 2:
        replacement = token.swapcase()
    else:
        replacement = token[:-1] + b"x"
    return data[: match.start()] + replacement + data[match.end() :]


def _nest(data: bytes, a: int, b: int, c: int, donors) -> bytes:
    tokens = [m.start() for m in STRUCTURAL_TOKENS.finditer(data)]
    at = tokens[a % len(tokens)] if tokens else a % len(data)
    opener = NESTING[c % len(NESTING)]
    depth = (64, 1000, 10_000, 100_000)[(c >> 3) % 4]
    return data[:at] + opener * depth + data[at:]


_MUTATORS = {
    "flip": _flip,
    "flip_near_token": _flip_near_token,
    "truncate": _truncate,
    "delete": _delete,
    "duplicate": _duplicate,
    "splice": _splice,
    "startxref": _startxref,
    "xref_entry": _xref_entry,
    "number": _number,
    "stream_number": _stream_number,
    "zero_length": _zero_length,
    "keyword": _keyword,
    "nest": _nest,
}
MUTATION_KINDS = _mutation_kinds()


# ---- harness -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one input did. `violation` is None when the contract held."""

    status: str  # "extracted" or "rejected"
    reason: str = ""  # the MivaaError reason when rejected
    stage: str = ""  # "validation" or "extraction" when rejected
    page_count: int = 0
    page_errors: dict[str, int] = field(default_factory=dict)
    text_chars: int = 0
    seconds: float = 0.0
    violation: str | None = None  # what broke the contract
    notable: str | None = None  # kept the contract, but worth a look
    detail: str = ""  # a traceback or description for violations and notables


def _validation_outcome(failure: BaseException) -> tuple:
    """What a rejection by the service's UploadValidator was, told apart by its cause."""
    from mivaa_platform.errors import MivaaError
    from mivaa_pool import ItemTimeout, MemoryLimitExceeded, WorkerCrashed, WorkerError

    cause = failure.__cause__
    if isinstance(cause, ItemTimeout):
        return ("timeout",)
    if isinstance(cause, WorkerCrashed | MemoryLimitExceeded):
        return ("crashed",)
    if isinstance(failure, MivaaError) and cause is not None and not isinstance(cause, MivaaError):
        # validate_pdf raised something it should have turned into a domain error itself.
        name = cause.type_name if isinstance(cause, WorkerError) else type(cause).__name__
        return ("raised", name, str(cause), "".join(traceback.format_exception(cause)))
    if isinstance(failure, MivaaError):
        return ("rejected", failure.reason, type(failure).__name__, failure.message)
    return ("raised", type(failure).__name__, str(failure), "".join(traceback.format_exception(failure)))


class ServiceHarness:
    """validate_pdf (in a spawned process, like the service) then PageExtractor.iter_pages; see the module docstring."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        workers: int = 2,
        page_time_limit: float = 3.0,
        document_time_limit: float = 15.0,
        validate_timeout: float = 15.0,
        validators: int = 1,
        max_bytes: int = SERVICE_MAX_BYTES,
        max_pages: int = SERVICE_MAX_PAGES,
    ):
        from mivaa_extractor.api.upload_validation import UploadValidator
        from mivaa_extractor.extraction.text_extraction import PageExtractor

        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.page_time_limit = page_time_limit
        self.document_time_limit = document_time_limit
        self.validate_timeout = validate_timeout
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        # Beyond this, iter_pages ignored its own limits: a hang.
        self.hang_limit = document_time_limit + 4 * page_time_limit + 30.0
        self.extractor = PageExtractor(workers=workers, page_time_limit=page_time_limit)
        # The service's own validation entry (what the Ingestor calls), one worker per concurrent case.
        self.validator = UploadValidator(
            max_bytes=max_bytes, max_pages=max_pages, timeout=validate_timeout, workers=validators
        )
        self._counter = 0
        self.validator_restarts = 0
        self.pids_seen: set[int] = set()

    async def start(self) -> None:
        await asyncio.gather(self.extractor.warm_up(), self.validator.warm_up())
        self.pids_seen.update(self.extractor.worker_pids())

    async def close(self) -> None:
        await self.extractor.aclose()
        await self.validator.aclose()

    def worker_restarts(self) -> int:
        """Extraction workers seen since start that are gone now (crashed, killed or recycled; replaced on demand)."""
        live = set(self.extractor.worker_pids())
        self.pids_seen.update(live)
        return len(self.pids_seen - live)

    async def validate(self, data: bytes, password: str | None) -> tuple:
        """UploadValidator.validate, its outcome as plain data ("ok", "rejected", "timeout", "crashed", "raised")."""
        try:
            info = await self.validator.validate(data, password)
        except Exception as failure:  # noqa: BLE001 - sorted by _validation_outcome; the contract decides
            checked = _validation_outcome(failure)
            if checked[0] in ("timeout", "crashed"):
                self.validator_restarts += 1  # its worker was killed or died, and is replaced on demand
            return checked
        return ("ok", info.page_count, info.encrypted, info.repaired)

    async def run(self, data: bytes, password: str | None = None) -> Outcome:
        started = time.monotonic()
        outcome = await self._run(data, password)
        outcome.seconds = time.monotonic() - started
        self.pids_seen.update(self.extractor.worker_pids())
        return outcome

    async def _run(self, data: bytes, password: str | None) -> Outcome:
        from mivaa_platform.errors import MivaaError

        checked = await self.validate(data, password)
        if checked[0] in ("timeout", "crashed"):
            # The service maps both to PDF_UNREADABLE (ingest.py); within the contract, but worth a look.
            return Outcome(
                "rejected",
                "PDF_UNREADABLE",
                "validation",
                notable=f"VALIDATOR_{checked[0].upper()}",
                detail=f"validate_pdf {f'took longer than {self.validate_timeout:g}s' if checked[0] == 'timeout' else 'crashed its process'}",
            )
        if checked[0] == "raised":
            _, type_name, message, remote = checked
            return Outcome("rejected", "", "validation", violation=f"VALIDATION_RAISED_{type_name}", detail=remote)
        if checked[0] == "rejected":
            _, reason, kind, message = checked
            outcome = Outcome("rejected", reason, "validation")
            if not is_reason(reason) or not message:
                outcome.violation = "BAD_REASON"
                outcome.detail = f"{kind}({reason!r}, {message!r})"
            return outcome
        page_count = checked[1]

        self._counter += 1
        path = self.workdir / f"case-{os.getpid()}-{self._counter}.pdf"
        path.write_bytes(data)
        pages = []
        try:
            async with asyncio.timeout(self.hang_limit):
                async for batch in self.extractor.iter_pages(
                    path, password, page_count, time_limit=self.document_time_limit
                ):
                    if not isinstance(batch, list):
                        return Outcome("extracted", violation="BAD_BATCH", detail=repr(type(batch)))
                    pages.extend(batch)
        except MivaaError as error:
            outcome = Outcome("rejected", error.reason, "extraction", page_count=page_count)
            if not is_reason(error.reason):
                outcome.violation = "BAD_REASON"
            else:
                # Validation accepted the file, yet the whole document failed: worth a look.
                outcome.notable = f"EXTRACTION_{error.reason}"
            outcome.detail = repr(error)
            return outcome
        except TimeoutError:
            return Outcome(
                "extracted",
                page_count=page_count,
                violation="HANG",
                detail=f"iter_pages still running after {self.hang_limit:g}s ({len(pages)} of {page_count} pages)",
            )
        except Exception as error:  # noqa: BLE001 - the contract forbids any other exception
            return Outcome(
                "extracted",
                page_count=page_count,
                violation=f"EXTRACTION_RAISED_{type(error).__name__}",
                detail="".join(traceback.format_exception(error)),
            )
        finally:
            path.unlink(missing_ok=True)
        return check_pages(pages, page_count)

    async def known_good_ok(self) -> str | None:
        """None when the extractor still extracts the known-good PDF correctly, else what went wrong."""
        outcome = await self.run(known_good_pdf())
        if outcome.violation or outcome.status != "extracted":
            return f"known-good PDF: {outcome}"
        if outcome.page_errors or outcome.page_count != 2 or outcome.text_chars == 0:
            return f"known-good PDF extracted wrongly: {outcome}"
        return None


def check_pages(pages: list, page_count: int) -> Outcome:
    """The contract on an extracted document: pages 1..N in order, errors only with known reasons."""
    outcome = Outcome("extracted", page_count=page_count)
    numbers = [getattr(page, "number", None) for page in pages]
    if numbers != list(range(1, page_count + 1)):
        outcome.violation = "PAGE_NUMBERS"
        outcome.detail = (
            f"expected 1..{page_count}, got {numbers[:20]}{'...' if len(numbers) > 20 else ''} ({len(numbers)} pages)"
        )
        return outcome
    errors: dict[str, int] = {}
    for page in pages:
        if page.error is None:
            outcome.text_chars += len(page.text)
            continue
        reason = page.error.reason
        errors[reason] = errors.get(reason, 0) + 1
        if reason not in PAGE_ERROR_REASONS or not page.error.message:
            outcome.violation = "UNKNOWN_PAGE_ERROR"
            outcome.detail = f"page {page.number}: {page.error!r}"
        elif page.blocks:
            outcome.violation = "ERROR_PAGE_WITH_BLOCKS"
            outcome.detail = f"page {page.number}: {page.error!r} but {len(page.blocks)} blocks"
    outcome.page_errors = errors
    return outcome


def save_input(folder: str | os.PathLike[str], data: bytes, outcome: Outcome, case: dict | None = None) -> pathlib.Path:
    """Writes the input (named by its sha256) and a JSON note beside it; returns the PDF's path."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label = outcome.violation or outcome.notable or "case"
    path = folder / f"{label.lower()}-{hashlib.sha256(data).hexdigest()[:16]}.pdf"
    path.write_bytes(data)
    note = {
        "violation": outcome.violation,
        "notable": outcome.notable,
        "status": outcome.status,
        "reason": outcome.reason,
        "stage": outcome.stage,
        "page_count": outcome.page_count,
        "page_errors": outcome.page_errors,
        "detail": outcome.detail,
        "case": case,
    }
    path.with_suffix(".json").write_text(json.dumps(note, indent=2))
    return path
