"""What a search or listing request may ask for, checked before any work is done.

A filter is matched row by row in PostgreSQL and a query is embedded by the model, so
each is bounded: an oversized request is INVALID_ARGUMENT at once, with the limit in
the ErrorInfo metadata, instead of seconds of work.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence

from mivaa_platform.errors import InvalidArgument

DOMAIN = "search.mivaa"  # ErrorInfo domain, as in mivaa_search.servicer
MAX_QUERY_CHARS = 4096
MAX_FILTER_DOCUMENTS = 100
MAX_FILTER_LABELS = 32
MAX_LABEL_CHARS = 256


def _refuse(reason: str, message: str, **metadata: object) -> InvalidArgument:
    return InvalidArgument(
        reason, message, domain=DOMAIN, metadata={key: str(value) for key, value in metadata.items()}
    )


def check_query(text: str, field: str = "query") -> str:
    """The stripped query text, or QUERY_EMPTY / QUERY_TOO_LONG."""
    query = text.strip()
    if not query:
        raise _refuse("QUERY_EMPTY", f"{field} must not be empty.")
    if len(query) > MAX_QUERY_CHARS:
        raise _refuse(
            "QUERY_TOO_LONG", f"{field} is longer than {MAX_QUERY_CHARS} characters.", max_chars=MAX_QUERY_CHARS
        )
    return query


def check_top_k(top_k: int) -> int:
    """top_k as given (0 means the default; above the maximum it is cut to it), or INVALID_TOP_K."""
    if top_k < 0:
        raise _refuse("INVALID_TOP_K", "top_k must not be negative.")
    return top_k


def _check_count(values: Sequence[object], limit: int, reason: str, what: str) -> None:
    if len(values) > limit:
        raise _refuse(reason, f"At most {limit} {what} may be named in a filter.", count=len(values), max_count=limit)


def check_filters(*, documents: Sequence[str] = (), labels: Sequence[str] = ()) -> None:
    """TOO_MANY_DOCUMENTS, TOO_MANY_LABELS or LABEL_TOO_LONG for filters past the limits."""
    _check_count(documents, MAX_FILTER_DOCUMENTS, "TOO_MANY_DOCUMENTS", "documents")
    _check_count(labels, MAX_FILTER_LABELS, "TOO_MANY_LABELS", "labels")
    for label in labels:
        if len(label) > MAX_LABEL_CHARS:
            raise _refuse(
                "LABEL_TOO_LONG",
                f"A filter label is longer than {MAX_LABEL_CHARS} characters.",
                max_chars=MAX_LABEL_CHARS,
            )


MAX_FILTER_BLOCK_TYPES = 16
MAX_FILTER_LANGUAGES = 16
MAX_PAGE_NUMBER = 1_000_000  # far past any real document; a bound keeps the value an int4


def check_scoring(min_score: float, diversity: float) -> None:
    """INVALID_MIN_SCORE unless min_score is finite; INVALID_DIVERSITY unless diversity is in [0, 1]."""
    if not math.isfinite(min_score):
        raise _refuse("INVALID_MIN_SCORE", "min_score must be a finite number.")
    if not math.isfinite(diversity) or not 0.0 <= diversity <= 1.0:
        raise _refuse("INVALID_DIVERSITY", "diversity must be between 0 and 1.", min=0, max=1)


def check_page_range(page_min: int, page_max: int) -> None:
    """INVALID_PAGE_RANGE for negative pages, pages past MAX_PAGE_NUMBER, or page_min > page_max."""
    for value in (page_min, page_max):
        if not 0 <= value <= MAX_PAGE_NUMBER:
            raise _refuse(
                "INVALID_PAGE_RANGE",
                f"page_min and page_max must be between 1 and {MAX_PAGE_NUMBER} (0 leaves an end open).",
                max_page=MAX_PAGE_NUMBER,
            )
    if page_min and page_max and page_min > page_max:
        raise _refuse("INVALID_PAGE_RANGE", "page_min must not be greater than page_max.")


def check_time_range(after: dt.datetime | None, before: dt.datetime | None) -> None:
    if after is not None and before is not None and after >= before:
        raise _refuse("INVALID_TIME_RANGE", "create_time_after must be earlier than create_time_before.")


def check_block_types(kinds: Sequence[str]) -> None:
    """TOO_MANY_BLOCK_TYPES past the limit; INVALID_BLOCK_TYPE for a kind no block has."""
    _check_count(kinds, MAX_FILTER_BLOCK_TYPES, "TOO_MANY_BLOCK_TYPES", "block types")
    if "unspecified" in kinds:
        raise _refuse("INVALID_BLOCK_TYPE", "block_types must not hold BLOCK_TYPE_UNSPECIFIED.")


def check_languages(languages: Sequence[str]) -> list[str]:
    """The languages as lower-case primary tags; TOO_MANY_LANGUAGES or INVALID_LANGUAGE."""
    _check_count(languages, MAX_FILTER_LANGUAGES, "TOO_MANY_LANGUAGES", "languages")
    tags = []
    for language in languages:
        tag = language.strip().lower()
        if not (2 <= len(tag) <= 3 and tag.isascii() and tag.isalpha()):
            raise _refuse(
                "INVALID_LANGUAGE",
                'A language must be a BCP 47 primary tag of 2 or 3 letters, such as "en" or "de".',
                language=language[:16],
            )
        tags.append(tag)
    return tags


MAX_METADATA_KEYS = 32
MAX_METADATA_VALUE_CHARS = 256
METADATA_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_.-]{0,62}")


def check_custom_metadata(pairs: Mapping[str, str], field: str = "custom_metadata") -> dict[str, str]:
    """The pairs as a dict; TOO_MANY_METADATA_KEYS, INVALID_METADATA_KEY or METADATA_VALUE_TOO_LONG.

    The same limits hold for what is stored and for a filter on it."""
    if len(pairs) > MAX_METADATA_KEYS:
        raise _refuse(
            "TOO_MANY_METADATA_KEYS",
            f"{field} may hold at most {MAX_METADATA_KEYS} keys.",
            count=len(pairs),
            max_count=MAX_METADATA_KEYS,
        )
    for key, value in pairs.items():
        if not METADATA_KEY_PATTERN.fullmatch(key):
            raise _refuse(
                "INVALID_METADATA_KEY",
                f"{field} keys must match {METADATA_KEY_PATTERN.pattern}.",
                key=key[:64],
                pattern=METADATA_KEY_PATTERN.pattern,
            )
        if len(value) > MAX_METADATA_VALUE_CHARS or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise _refuse(
                "INVALID_METADATA_VALUE",
                f"{field} values must be at most {MAX_METADATA_VALUE_CHARS} characters, without control characters.",
                key=key,
                max_chars=MAX_METADATA_VALUE_CHARS,
            )
    return dict(pairs)


def check_title_filter(text: str) -> str:
    """A title substring filter, or TITLE_FILTER_TOO_LONG."""
    if len(text) > MAX_LABEL_CHARS:
        raise _refuse(
            "TITLE_FILTER_TOO_LONG",
            f"title_contains is longer than {MAX_LABEL_CHARS} characters.",
            max_chars=MAX_LABEL_CHARS,
        )
    return text
