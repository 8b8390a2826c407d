"""The answer service's own Prometheus metrics (the per-RPC ones come from mivaa_platform)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FIRST_TOKEN = Histogram(
    "mivaa_answer_first_token_seconds",
    "From the start of an Ask to its first piece of answer text.",
    ["generator"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60),
)
ANSWERS = Counter(
    "mivaa_answer_answers_total",
    "Asks answered, by generator and whether the documents held an answer.",
    ["generator", "found"],
)
CITATIONS = Counter("mivaa_answer_citations_total", "Citations made (each quote found on its page).")
