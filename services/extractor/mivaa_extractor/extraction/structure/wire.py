"""The structure model as JSON, for pages that travel between worker processes on other machines.

A range of pages extracted by one worker is read by the worker that assembles
the document (worker/shared_pages.py), through the bus's spool. Pickle would
let whoever can write to the spool run code in the reader, so the model goes
as JSON instead, decoded by the dataclasses' own field types: only the model's
types can come back, and a field of the wrong type is an error, not a surprise.

Floats survive exactly (Python's JSON writes the shortest repr that reads back
to the same float), so a page read from the wire is equal to the page as it
was extracted, and a document assembled from ranges equals one extracted in
one piece.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any


class WireError(ValueError):
    """The JSON does not describe a value of the expected type."""


def to_json(value: object) -> bytes:
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def from_json(kind: Any, data: bytes) -> Any:
    """`kind` (a model dataclass, or a type such as list[PageLayout]) decoded from `to_json`'s output."""
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"not JSON: {error}") from None
    return _decode(kind, raw, "$")


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_encode(item) for item in value)  # type: ignore[type-var]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not part of the structure model")


@functools.cache
def _field_types(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _decode(kind: Any, raw: object, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if raw is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None):
                return _decode(option, raw, where)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(raw, dict):
            raise WireError(f"{where}: expected an object for {kind.__name__}")
        hints = _field_types(kind)
        names = {field.name for field in dataclasses.fields(kind)}
        unknown = set(raw) - names
        if unknown:
            raise WireError(f"{where}: unknown fields {sorted(unknown)} for {kind.__name__}")
        values = {name: _decode(hints[name], item, f"{where}.{name}") for name, item in raw.items()}
        try:
            return kind(**values)
        except TypeError as error:
            raise WireError(f"{where}: {error}") from None
    if origin in (list, tuple, frozenset, set):
        if not isinstance(raw, list):
            raise WireError(f"{where}: expected a list")
        args = typing.get_args(kind)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(raw):
                raise WireError(f"{where}: expected {len(args)} items")
            return tuple(_decode(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, raw)))
        items = [_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(raw)]
        return origin(items) if origin is not list else items
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(raw)
        except ValueError:
            raise WireError(f"{where}: {raw!r} is not a {kind.__name__}") from None
    if kind is bytes:
        if not isinstance(raw, str):
            raise WireError(f"{where}: expected base64 text")
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            raise WireError(f"{where}: bad base64") from None
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise WireError(f"{where}: expected a number")
        return float(raw)
    if kind in (int, str, bool):
        if type(raw) is not kind:
            raise WireError(f"{where}: expected {kind.__name__}")
        return raw
    raise WireError(f"{where}: {kind!r} is not part of the structure model")
