"""What a search or listing request may ask for, checked before any work is done.

A filter is matched row by row in PostgreSQL and a query is embedded by the model, so
each is bounded: an oversized request is INVALID_ARGUMENT at once, with the limit in
the ErrorInfo metadata, instead of seconds of work.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def check_filters(*, documents: Sequence[str] = (), labels: Sequence[str] = ()) -> None:
    """TOO_MANY_DOCUMENTS, TOO_MANY_LABELS or LABEL_TOO_LONG for filters past the limits."""
    if len(documents) > MAX_FILTER_DOCUMENTS:
        raise _refuse(
            "TOO_MANY_DOCUMENTS",
            f"At most {MAX_FILTER_DOCUMENTS} documents may be named in a filter.",
            count=len(documents),
            max_count=MAX_FILTER_DOCUMENTS,
        )
    if len(labels) > MAX_FILTER_LABELS:
        raise _refuse(
            "TOO_MANY_LABELS",
            f"At most {MAX_FILTER_LABELS} labels may be named in a filter.",
            count=len(labels),
            max_count=MAX_FILTER_LABELS,
        )
    for label in labels:
        if len(label) > MAX_LABEL_CHARS:
            raise _refuse(
                "LABEL_TOO_LONG",
                f"A filter label is longer than {MAX_LABEL_CHARS} characters.",
                max_chars=MAX_LABEL_CHARS,
            )
