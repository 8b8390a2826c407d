"""Local rate limits: the budgets of each route class and the Envoy local_ratelimit config they become."""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_gateway.rpcs import ROUTE_CLASSES, SUBJECT_HEADER


@dataclass(frozen=True)
class Budget:
    """A token bucket: `rate` requests a second, bursts up to `burst`."""

    rate: int
    burst: int


@dataclass(frozen=True)
class RateLimits:
    """Local (per Envoy process) rate limits, applied when JWT authentication is on.

    Every public RPC belongs to one route class (ROUTE_CLASSES) with two budgets. Each subject
    (the token's `sub`) gets its own bucket per route class, created on its first request
    (local_ratelimit dynamic descriptors, at most max_subjects buckets per route class, least
    recently used evicted). The shared bucket bounds the route class for all subjects together.
    None switches a budget off. Health is open (no subject): it has a shared budget only.
    """

    upload_per_subject: Budget | None = Budget(10, 20)
    upload_shared: Budget | None = Budget(100, 200)
    # An import makes the extractor connect to another server and wait on it (slots bound it there too).
    import_per_subject: Budget | None = Budget(2, 10)
    import_shared: Budget | None = Budget(20, 50)
    # A reprocess runs a whole document through extraction and embedding again.
    reprocess_per_subject: Budget | None = Budget(2, 10)
    reprocess_shared: Budget | None = Budget(20, 50)
    search_per_subject: Budget | None = Budget(50, 100)
    search_shared: Budget | None = Budget(500, 1000)
    read_per_subject: Budget | None = Budget(100, 200)
    read_shared: Budget | None = Budget(1000, 2000)
    change_per_subject: Budget | None = Budget(10, 20)
    change_shared: Budget | None = Budget(100, 200)
    export_per_subject: Budget | None = Budget(20, 40)
    export_shared: Budget | None = Budget(200, 400)
    # An ingest follows each of its jobs with one watch: a directory's worth may start at once.
    watch_per_subject: Budget | None = Budget(20, 100)
    watch_shared: Budget | None = Budget(200, 1000)
    embed_per_subject: Budget | None = Budget(50, 100)
    embed_shared: Budget | None = Budget(500, 1000)
    ocr_per_subject: Budget | None = Budget(5, 10)
    ocr_shared: Budget | None = Budget(50, 100)
    answer_per_subject: Budget | None = Budget(5, 10)
    answer_shared: Budget | None = Budget(50, 100)
    # A reader pages through a document: a page a keypress, a few ahead.
    render_per_subject: Budget | None = Budget(10, 30)
    render_shared: Budget | None = Budget(100, 300)
    # An image analysis spends OCR, two embeddings and a search: a few a second per subject.
    images_per_subject: Budget | None = Budget(2, 5)
    images_shared: Budget | None = Budget(20, 50)
    # An admin screen refreshes a few panels at once; a bulk retry is one call for many jobs.
    admin_per_subject: Budget | None = Budget(5, 20)
    admin_shared: Budget | None = Budget(20, 50)
    # A re-embedding is started once and then watched (a status read every second or two).
    reembed_per_subject: Budget | None = Budget(2, 10)
    reembed_shared: Budget | None = Budget(10, 30)
    reflection_per_subject: Budget | None = Budget(5, 10)
    reflection_shared: Budget | None = Budget(50, 100)
    health_shared: Budget | None = Budget(200, 400)
    max_subjects: int = 10000

    @classmethod
    def uniform(cls, per_subject: Budget | None, shared: Budget | None, **overrides) -> RateLimits:
        """The same budgets for every route class (tests), some overridden by keyword."""
        budgets = {f"{name}_per_subject": per_subject for name in ROUTE_CLASSES} | {
            f"{name}_shared": shared for name in ROUTE_CLASSES
        }
        budgets["health_shared"] = shared
        return cls(**(budgets | overrides))

    def budgets(self, route_class: str) -> tuple[Budget | None, Budget | None]:
        return getattr(self, f"{route_class}_per_subject"), getattr(self, f"{route_class}_shared")


def _bucket(budget: Budget) -> dict:
    return {"max_tokens": budget.burst, "tokens_per_fill": budget.rate, "fill_interval": "1s"}


def rate_limit_config(name: str, per_subject: Budget | None, shared: Budget | None, max_subjects: int) -> dict | None:
    if per_subject is None and shared is None:
        return None
    everyone = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    config: dict = {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": name,
        # No shared budget: a bucket too large to matter (the filter needs a default bucket).
        "token_bucket": _bucket(shared or Budget(1_000_000, 1_000_000)),
        "filter_enabled": {**everyone, "runtime_key": f"ratelimit.{name}.enabled"},
        "filter_enforced": {**everyone, "runtime_key": f"ratelimit.{name}.enforced"},
        "rate_limited_as_resource_exhausted": True,
        "response_headers_to_add": [
            {"append_action": "OVERWRITE_IF_EXISTS_OR_ADD", "header": {"key": "x-mivaa-ratelimited", "value": name}}
        ],
    }
    if per_subject is not None:
        # An entry with an empty value is a wildcard: one bucket per distinct subject (dynamic descriptors).
        config["descriptors"] = [{"entries": [{"key": "subject", "value": ""}], "token_bucket": _bucket(per_subject)}]
        config["rate_limits"] = [
            {"actions": [{"request_headers": {"header_name": SUBJECT_HEADER, "descriptor_key": "subject"}}]}
        ]
        config["max_dynamic_descriptors"] = max_subjects
    return config
