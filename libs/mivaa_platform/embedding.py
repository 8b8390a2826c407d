"""Plain data shared by the services that exchange vectors (no gRPC here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddedTexts:
    """Unit-length vectors for a batch of texts, in the batch's order."""

    vectors: Sequence[Sequence[float]]
    token_counts: Sequence[int]
