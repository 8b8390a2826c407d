"""The embedder's own metrics (the RPC ones come from mivaa_platform.telemetry): what each model
call batched, how long the model took, and how long bulk runs rested for queries."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_SIZE = Histogram(
    "mivaa_embedding_batch_size",
    "Inputs (texts or images) in one model call, after dynamic batching.",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
MODEL_SECONDS = Histogram(
    "mivaa_embedding_model_seconds",
    "Wall time of one model call (a whole batch).",
    ["model"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BULK_RESTED_SECONDS = Counter(
    "mivaa_embedding_bulk_rested_seconds",
    "Seconds bulk runs (documents' chunks) rested while queries arrived (EMBEDDER_BULK_CORES_WHILE_QUERYING).",
)
