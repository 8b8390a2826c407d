"""Results with one row per input item: a vectors array beside per-row lists, sliced and joined by row.

The dynamic batcher (batching.py) splits large requests and joins the rows of one
model call back per caller; EmbeddingBatch (texts) and ImageEmbeddings (images)
are both such results, so the row bookkeeping lives here once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np


class VectorRows:
    """A frozen dataclass whose first field is `vectors` [n, dimension] and whose other fields are lists of n."""

    vectors: np.ndarray
    if TYPE_CHECKING:  # what the subclass's @dataclass provides
        __dataclass_fields__: ClassVar[dict[str, Any]]

        def __init__(self, vectors: np.ndarray, *rows: list[Any]) -> None: ...

    def row_lists(self) -> tuple[Any, ...]:
        """The per-row lists beside `vectors`, in field order."""
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self)[1:])

    def __len__(self) -> int:
        return len(self.vectors)

    @classmethod
    def empty(cls, dimension: int) -> Self:
        lists: list[list[Any]] = [[] for _ in dataclasses.fields(cls)[1:]]
        return cls(np.zeros((0, dimension), dtype=np.float32), *lists)

    def slice(self, start: int, stop: int) -> Self:
        rows = (values[start:stop] for values in self.row_lists())
        return type(self)(self.vectors[start:stop], *rows)

    @classmethod
    def concat(cls, parts: Sequence[Self], dimension: int) -> Self:
        if not parts:
            return cls.empty(dimension)
        if len(parts) == 1:
            return parts[0]
        columns = zip(*(part.row_lists() for part in parts), strict=True)
        lists = [[value for values in column for value in values] for column in columns]
        return cls(np.concatenate([p.vectors for p in parts], axis=0), *lists)
