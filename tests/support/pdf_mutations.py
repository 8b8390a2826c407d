"""PDF mutation fuzzing: seeds, mutations, and a harness that checks the extractor's contract.

Shared by tests/extractor/test_fuzz.py (a few dozen hypothesis-driven cases)
and bench/fuzz_extract.py (thousands of random cases). Nothing here imports
hypothesis: the test builds its strategies from `MUTATION_KINDS` and the
`Mutation` / `Case` dataclasses; the bench draws the same cases from a
`random.Random` (`random_case`).

Seeds are in tests/support/pdf_seeds.py, the harness in tests/support/fuzz_harness.py; their public
names are re-exported here so the fuzz test and bench import one module.

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
"""

from __future__ import annotations

import bisect
import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from tests.support.fuzz_harness import (
    PAGE_ERROR_REASONS,
    REASON_PATTERN,
    SERVICE_MAX_BYTES,
    SERVICE_MAX_PAGES,
    Outcome,
    ServiceHarness,
    check_pages,
    is_reason,
    save_input,
)
from tests.support.pdf_seeds import (
    CORPUS_PASSWORDS,
    CORPUS_WITHOUT_TEXT,
    KNOWN_GOOD_PHRASE,
    SEED_PASSWORD,
    Seed,
    corpus_seeds,
    generated_seeds,
    known_good_pdf,
)

__all__ = [
    "CORPUS_PASSWORDS",
    "CORPUS_WITHOUT_TEXT",
    "Case",
    "KNOWN_GOOD_PHRASE",
    "MAX_RAW",
    "MUTATION_KINDS",
    "Mutation",
    "Outcome",
    "PAGE_ERROR_REASONS",
    "REASON_PATTERN",
    "SEED_PASSWORD",
    "SERVICE_MAX_BYTES",
    "SERVICE_MAX_PAGES",
    "Seed",
    "ServiceHarness",
    "apply_all",
    "apply_mutation",
    "check_pages",
    "corpus_seeds",
    "generated_seeds",
    "is_reason",
    "known_good_pdf",
    "random_case",
    "random_mutation",
    "save_input",
]

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
