"""Limits on what callers may store as a document's metadata, shared by the extractor and search.

Every caller-supplied field of an upload (file name, title, labels, password)
is checked here before anything is stored, so one rule holds wherever a
document is created or changed. The numbers are far above what a person types
and far below what hurts a store: with them, a job record or a work item stays
a few kilobytes, well under the bus's payload limit (1 MiB).

Each check raises InvalidArgument with one reason from this small set:
FILENAME_TOO_LONG, FILENAME_INVALID, TITLE_TOO_LONG, TOO_MANY_LABELS,
LABEL_TOO_LONG, LABEL_INVALID, CONTROL_CHARACTERS, PASSWORD_TOO_LONG.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from mivaa_platform.errors import InvalidArgument

# UTF-8 bytes, as in most file systems (NAME_MAX).
MAX_FILENAME_BYTES = 255
MAX_TITLE_CHARS = 1000
MAX_LABELS = 32
MAX_LABEL_CHARS = 64
# PDF passwords are at most 127 UTF-8 bytes (ISO 32000-2, AES-256); room to spare for the older schemes.
MAX_PASSWORD_BYTES = 1024
# A record on the bus (a job in the KV bucket, a job event, a work item) must stay well under the
# NATS server's max_payload (1 MiB by default): a bigger publish makes the server drop the connection.
MAX_BUS_RECORD_BYTES = 256 * 1024

# Letters and digits of any script, then the same plus - _ . : / + @ # and single inner spaces.
_LABEL_PATTERN = re.compile(r"[^\W_](?:[\w.:/+@#-]| (?=[^\s]))*", re.UNICODE)


def _control_characters(value: str) -> bool:
    """C0/C1 controls (NUL, newlines, escapes), and format characters such as bidi overrides."""
    return any(unicodedata.category(character) in ("Cc", "Cf", "Cs") for character in value)


def _refused(reason: str, message: str, *, domain: str, field: str, **limits: int) -> InvalidArgument:
    """The InvalidArgument every check raises: the field it refuses, and the limits it was held to."""
    return InvalidArgument(
        reason,
        message,
        domain=domain,
        metadata={"field": field, **{name: str(value) for name, value in limits.items()}},
    )


def _check_utf8_bytes(value: str, limit: int, reason: str, *, domain: str, field: str, say_size: bool) -> None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        sizes = {"max_bytes": limit, "bytes": size} if say_size else {"max_bytes": limit}
        raise _refused(reason, f"{field} must be at most {limit} bytes of UTF-8.", domain=domain, field=field, **sizes)


def _control_error(field: str, domain: str) -> InvalidArgument:
    return _refused("CONTROL_CHARACTERS", f"{field} must not contain control characters.", domain=domain, field=field)


def check_filename(value: str, *, domain: str, field: str = "filename") -> str:
    """A file's base name: at most 255 UTF-8 bytes, no control characters, no path."""
    _check_utf8_bytes(value, MAX_FILENAME_BYTES, "FILENAME_TOO_LONG", domain=domain, field=field, say_size=True)
    if _control_characters(value):
        raise _control_error(field, domain)
    if "/" in value or "\\" in value or value in (".", ".."):
        raise _refused(
            "FILENAME_INVALID", f"{field} must be a file's name without a directory.", domain=domain, field=field
        )
    return value


def check_title(value: str, *, domain: str, field: str = "title") -> str:
    if len(value) > MAX_TITLE_CHARS:
        raise _refused(
            "TITLE_TOO_LONG",
            f"{field} must be at most {MAX_TITLE_CHARS} characters.",
            domain=domain,
            field=field,
            max_chars=MAX_TITLE_CHARS,
        )
    if _control_characters(value):
        raise _control_error(field, domain)
    return value


def check_labels(values: Iterable[str], *, domain: str, field: str = "labels") -> list[str]:
    """At most 32 labels of at most 64 characters: letters, digits, - _ . : / + @ # and single spaces."""
    labels = list(values)
    if len(labels) > MAX_LABELS:
        raise _refused(
            "TOO_MANY_LABELS",
            f"{field} may hold at most {MAX_LABELS} labels.",
            domain=domain,
            field=field,
            max_labels=MAX_LABELS,
            labels=len(labels),
        )
    for label in labels:
        if len(label) > MAX_LABEL_CHARS:
            raise _refused(
                "LABEL_TOO_LONG",
                f"A label must be at most {MAX_LABEL_CHARS} characters.",
                domain=domain,
                field=field,
                max_chars=MAX_LABEL_CHARS,
            )
        if not _LABEL_PATTERN.fullmatch(label):
            raise _refused(
                "LABEL_INVALID",
                "A label starts with a letter or digit and holds only letters, digits, "
                "single spaces and - _ . : / + @ #.",
                domain=domain,
                field=field,
            )
    return labels


def check_password(value: str, *, domain: str, field: str = "password") -> str:
    # The refusal does not say the password's size.
    _check_utf8_bytes(value, MAX_PASSWORD_BYTES, "PASSWORD_TOO_LONG", domain=domain, field=field, say_size=False)
    return value


def check_bus_record(size: int, *, what: str, domain: str) -> None:
    """Refuses a record too large for the bus before it is published (JOB_RECORD_TOO_LARGE)."""
    if size > MAX_BUS_RECORD_BYTES:
        raise InvalidArgument(
            "JOB_RECORD_TOO_LARGE",
            f"The {what} would be larger than the bus accepts.",
            domain=domain,
            metadata={"bytes": str(size), "max_bytes": str(MAX_BUS_RECORD_BYTES)},
        )


def printable(value: str, max_chars: int) -> str:
    """Text read from a file (a PDF's own title), made storable: control characters dropped, length capped."""
    kept = "".join(character for character in value if unicodedata.category(character) not in ("Cc", "Cf", "Cs"))
    return kept[:max_chars].strip()
