"""The embedder's own metrics (the RPC ones come from mivaa_platform.telemetry): what each model
call batched and how long the model took."""

from __future__ import annotations

from prometheus_client import Histogram

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
