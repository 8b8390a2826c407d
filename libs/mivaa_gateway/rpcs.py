"""The gateway's view of the API: which RPCs exist, what scope each needs, its route class and timeouts."""

from __future__ import annotations

UPSTREAMS = ("extractor", "search", "embedder")
# Services a mesh may run without; each gets its route and cluster only when given.
OPTIONAL_UPSTREAMS = {"ocr": "/mivaa.ocr.v1.OcrService/", "answer": "/mivaa.answer.v1.AnswerService/"}


# What each scope grants through the gateway (full gRPC paths). admin grants everything;
# any RPC not listed here (the internal ones: CreateDocument, UpsertChunks,
# StreamEmbedTexts, EmbedImages, StreamRecognizeText, and new RPCs until they are listed)
# is admin-only.
_EXTRACTOR = "/mivaa.extractor.v1.ExtractorService/"
_SEARCH = "/mivaa.search.v1.SearchService/"
_EMBEDDER = "/mivaa.embedder.v1.EmbedderService/"
_OCR = "/mivaa.ocr.v1.OcrService/"
_ANSWER = "/mivaa.answer.v1.AnswerService/"
_ADMIN = "/mivaa.admin.v1.AdminService/"
_WEBHOOKS = "/mivaa.webhooks.v1.WebhookService/"
_IMAGES = "/mivaa.images.v1.ImageAnalysisService/"
# A tenant's webhooks (served by the extractor): subscribing and unsubscribing write one small
# record each, like a change; listing them and their deliveries reads the tenant's own records.
WEBHOOK_READ_RPCS = tuple(_WEBHOOKS + m for m in ("ListWebhooks", "ListWebhookDeliveries"))
WEBHOOK_WRITE_RPCS = tuple(_WEBHOOKS + m for m in ("CreateWebhook", "DeleteWebhook"))
# Operating the mesh (statistics, retries, queues, health, usage): in no scope's list, so admin only.
# Search's GetTenantUsage is internal (the extractor's GetUsage calls it) and stays unrouted by class.
ADMIN_RPCS = tuple(
    _ADMIN + m
    for m in ("GetJobStatistics", "RetryJob", "BatchRetryJobs", "GetQueueStatus", "GetSystemHealth", "GetUsage")
)
# A tenant's retention policy decides which of its documents get deleted: admin only, like operating the mesh.
RETENTION_RPCS = (_SEARCH + "GetRetentionPolicy", _SEARCH + "UpdateRetentionPolicy")
# Re-embedding a tenant spends the embedder on every chunk it holds and switches its searches to
# another model: admin only (in no scope's list), with a small budget of its own (a --watch polls).
REEMBED_RPCS = tuple(_SEARCH + m for m in ("StartReembedding", "GetReembedding", "CancelReembedding"))
# Answers spend retrieval, embedding and possibly a language model on one call: a budget of their own.
ANSWER_RPCS = (_ANSWER + "Ask", _ANSWER + "SummarizeDocument")
# Document intelligence: reads of the tenant's own data (read scope). Listing entities is a
# plain listing; related documents and comparisons compute over many vectors, like a search.
INTELLIGENCE_RPCS = ("ListDocumentEntities", "ListRelatedDocuments", "CompareDocuments")
# Image analysis decodes a picture, OCRs it, embeds it and its labels and searches look-alikes:
# several services' work per image (a batch: per image), so a low budget of its own; it reads only.
IMAGE_ANALYSIS_RPCS = (_IMAGES + "AnalyzeImage", _IMAGES + "BatchAnalyzeImages")
# A page rendered as a picture (the console's document view): MuPDF's work per call, a budget of its own.
# Thumbnails (a first page or a stored image, shrunk in the same worker) share its budget and cache.
RENDER_RPCS = (_EXTRACTOR + "RenderPage", _EXTRACTOR + "RenderThumbnail")
READ_RPCS = (
    *(_EXTRACTOR + m for m in ("GetJob", "ListJobs", "WatchJob", "GetBatch", "ListBatches", "WatchBatch")),
    *RENDER_RPCS,
    *(
        _SEARCH + m
        for m in (
            "GetDocument",
            "ListDocuments",
            "ListDocumentVersions",
            "SearchChunks",
            "ListPages",
            "ExportDocument",
            "ListImages",
            "GetImage",
            "GetImageContent",
            "SearchImages",
            *INTELLIGENCE_RPCS,
        )
    ),
    *(_EMBEDDER + m for m in ("EmbedTexts", "ListModels")),
    *(_OCR + m for m in ("ListEngines",)),
    *ANSWER_RPCS,
    *WEBHOOK_READ_RPCS,
    *IMAGE_ANALYSIS_RPCS,
)
# RecognizeText spends an OCR engine's compute on the caller's image, like an upload spends
# extraction: it needs write.
# UpdateDocument through the gateway changes title, labels and custom metadata only (search refuses the rest).
# ImportDocument makes the extractor fetch a URL and then costs what an upload costs: write.
IMPORT_RPCS = (_EXTRACTOR + "ImportDocument",)
# ReprocessDocument costs a whole document's extraction and embedding again, with no upload to pace
# it: write, with a small budget of its own.
REPROCESS_RPCS = (_EXTRACTOR + "ReprocessDocument",)
WRITE_RPCS = (
    _EXTRACTOR + "UploadDocument",
    *IMPORT_RPCS,
    *REPROCESS_RPCS,
    _EXTRACTOR + "CreateBatch",
    _SEARCH + "UpdateDocument",
    _SEARCH + "DeleteDocument",
    _EXTRACTOR + "CancelJob",
    _OCR + "RecognizeText",
    *WEBHOOK_WRITE_RPCS,
)
UPLOAD_RPCS = (_EXTRACTOR + "UploadDocument",)
SEARCH_RPCS = (
    _SEARCH + "SearchChunks",
    _SEARCH + "SearchImages",
    _SEARCH + "ListRelatedDocuments",
    _SEARCH + "CompareDocuments",
)
HEALTH_PREFIX = "/grpc.health.v1.Health/"
STATS_PATH = "/stats/prometheus"
ADMIN_CLUSTER = "envoy_admin"
# Admin socket paths must fit in sun_path (108 bytes on Linux, with its NUL).
MAX_SOCKET_PATH = 107
REFLECTION_PREFIX = "/grpc.reflection."
TENANT_HEADER = "x-mivaa-tenant"
SUBJECT_HEADER = "x-mivaa-subject"
# The verified token's scope claim (space separated), for the services: a platform admin's
# AdminService calls may span tenants (mivaa_platform.platform_admin).
SCOPES_HEADER = "x-mivaa-scopes"
JWT_FILTER = "envoy.filters.http.jwt_authn"


# The route classes: every public RPC is in exactly one, with its own budgets (RateLimits
# fields <class>_per_subject and <class>_shared) and the stat prefix / x-mivaa-ratelimited
# value `label`. Reflection is matched by prefix (its stream is the whole API listing).
ROUTE_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "upload": ("uploads", UPLOAD_RPCS),
    # Each import holds a connection to someone else's server and then an upload's work: fewer.
    "import": ("imports", IMPORT_RPCS),
    "reprocess": ("reprocesses", REPROCESS_RPCS),
    "search": ("searches", SEARCH_RPCS),
    "read": (
        "reads",
        (
            *(_EXTRACTOR + m for m in ("GetJob", "ListJobs", "GetBatch", "ListBatches")),
            *(
                _SEARCH + m
                for m in (
                    "GetDocument",
                    "ListDocuments",
                    "ListDocumentVersions",
                    "ListPages",
                    "ListImages",
                    "GetImage",
                    "ListDocumentEntities",
                )
            ),
            _EMBEDDER + "ListModels",
            _OCR + "ListEngines",
            *WEBHOOK_READ_RPCS,
        ),
    ),
    # Creating a batch writes one small record, like a change; its uploads pay as uploads.
    "change": (
        "changes",
        (
            _SEARCH + "UpdateDocument",
            _SEARCH + "DeleteDocument",
            _EXTRACTOR + "CancelJob",
            _EXTRACTOR + "CreateBatch",
            *WEBHOOK_WRITE_RPCS,
        ),
    ),
    "export": ("exports", (_SEARCH + "ExportDocument", _SEARCH + "GetImageContent")),
    "watch": ("watches", (_EXTRACTOR + "WatchJob", _EXTRACTOR + "WatchBatch")),
    "embed": ("embeddings", (_EMBEDDER + "EmbedTexts",)),
    "ocr": ("ocr", (_OCR + "RecognizeText",)),
    "answer": ("answers", ANSWER_RPCS),
    "render": ("renders", RENDER_RPCS),
    "images": ("image_analyses", IMAGE_ANALYSIS_RPCS),
    # A health call fans out to every service; statistics and bulk retries read many job records.
    "admin": ("admin", (*ADMIN_RPCS, *RETENTION_RPCS)),
    "reembed": ("reembeddings", REEMBED_RPCS),
    "reflection": ("reflection", ()),
}
# Each method route keeps its service's timeouts: (cluster, route timeout, grpc-timeout ceiling).
# Uploads, watches and OCR stream or wait for work: the caller's grpc-timeout bounds them.
# The first prefix that matches wins: a single RPC ahead of its service.
SERVICE_ROUTES = {
    # One page, rendered or cached: never worth a long wait.
    _EXTRACTOR + "RenderPage": ("extractor", "60s", "60s"),
    _EXTRACTOR + "RenderThumbnail": ("extractor", "60s", "60s"),
    # The fetch has its own deadline (EXTRACTOR_IMPORT_TOTAL_SECONDS, 90 s), then validation: a unary
    # call, which the extractor ends at EXTRACTOR_MAX_RPC_SECONDS (120 s) anyway.
    _EXTRACTOR + "ImportDocument": ("extractor", "150s", "150s"),
    # Reads and validates the stored original (seconds), then queues the job: a unary call.
    _EXTRACTOR + "ReprocessDocument": ("extractor", "120s", "120s"),
    _EXTRACTOR: ("extractor", "0s", "3600s"),
    _ADMIN: ("extractor", "120s", "120s"),
    # Creating resolves the target's host (seconds at most); the rest are key-value reads.
    _WEBHOOKS: ("extractor", "60s", "60s"),
    # A batch streams one analysis per image; the caller's grpc-timeout bounds it.
    _IMAGES: ("extractor", "0s", "600s"),
    _SEARCH: ("search", "60s", "600s"),
    _EMBEDDER: ("embedder", "120s", "600s"),
    _OCR: ("ocr", "0s", "1800s"),
    # An answer streams while a language model writes it.
    _ANSWER: ("answer", "0s", "600s"),
}
HEALTH_CHECK = HEALTH_PREFIX + "Check"
# Check with this header naming a service (extractor, search, ...) goes to that service: the
# admin screen's health summary. Admin scope only; a Check without it stays open (probes).
HEALTH_SERVICE_HEADER = "x-mivaa-health-service"
# Token rules, checked by RBAC on the verified claims: a tenant in the characters the services
# accept (mivaa_platform.tenancy; a bounded repeat like its {0,63} is past Envoy's RE2 program
# size limit, so the services refuse an over-long one: INVALID_TENANT) and a non-empty subject
# without control characters.
TENANT_CLAIM_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]*"
SUBJECT_CLAIM_REGEX = r"[^\x00-\x20\x7f][^\x00-\x1f\x7f]*"
DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
