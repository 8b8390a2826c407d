"""Zero-shot tags: the image's vector against the text tower's vectors of "a photo of a {label}"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mivaa_platform.errors import InvalidArgument

from .pictures import DOMAIN

MAX_LABELS = 64
MAX_LABEL_CHARS = 64
PROMPT = "a photo of a {label}"
# CLIP's learned temperature (logit scale) is about 100: cosines a few hundredths apart
# become clearly different probabilities, as in the model's own zero-shot classification.
LOGIT_SCALE = 100.0


@dataclass(frozen=True)
class Tag:
    label: str
    score: float
    similarity: float


def check_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """The labels, stripped and without repeats, or INVALID_ARGUMENT LABELS_INVALID."""
    if len(labels) > MAX_LABELS:
        raise InvalidArgument(
            "LABELS_INVALID", f"At most {MAX_LABELS} labels.", domain=DOMAIN, metadata={"limit": str(MAX_LABELS)}
        )
    seen: dict[str, None] = {}
    for raw in labels:
        label = raw.strip()
        if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
            raise InvalidArgument(
                "LABELS_INVALID",
                f"Each label is 1 to {MAX_LABEL_CHARS} printable characters.",
                domain=DOMAIN,
                metadata={"limit": str(MAX_LABEL_CHARS)},
            )
        seen.setdefault(label, None)
    return tuple(seen)


def prompts(labels: Sequence[str]) -> list[str]:
    return [PROMPT.format(label=label) for label in labels]


def score_tags(
    image_vector: Sequence[float], label_vectors: Sequence[Sequence[float]], labels: Sequence[str], top: int
) -> list[Tag]:
    """The `top` labels by softmax over scaled cosine similarities (the softmax of all labels sums to 1)."""
    image = np.asarray(image_vector, dtype=np.float64)
    texts = np.asarray(label_vectors, dtype=np.float64)
    image = image / (np.linalg.norm(image) or 1.0)
    texts = texts / np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-12)
    similarities = texts @ image
    logits = LOGIT_SCALE * similarities
    weights = np.exp(logits - logits.max())
    probabilities = weights / weights.sum()
    order = np.argsort(-probabilities, kind="stable")[:top]
    return [Tag(labels[i], float(probabilities[i]), float(similarities[i])) for i in order]
