"""The extractor's settings (EXTRACTOR_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "EXTRACTOR"


@dataclass(frozen=True)
class ExtractorSettings:
    # NATS: EXTRACTOR_NATS_URL, _USER, _PASSWORD_FILE, _CA_FILE (mivaa_platform.messaging.NatsSettings).
    search_addr: str
    embedder_addr: str
    # 32 random bytes, base64, shared by the API and the workers: passwords in work items are sealed with it.
    task_key_file: str
    roles: tuple[str, ...] = ("api", "worker")
    max_upload_bytes: int = 200 * 1024 * 1024
    max_pages: int = 10_000
    # Pictures uploaded as documents: pixels and side of one frame, frames (pages) of one TIFF.
    max_picture_pixels: int = 50_000_000
    max_picture_side_px: int = 30_000
    max_picture_pages: int = 200
    # Extraction worker processes per worker role; 0 means one per core.
    processes: int = 0
    batch_pages: int = 16
    embed_batch: int = 32
    ack_wait_seconds: float = 30.0
    max_deliver: int = 5
    # tokenizer.json of the text model, for exact chunk token counts; a conservative estimate otherwise.
    tokenizer_path: str = ""
    # all-MiniLM-L6-v2 accepts 256 tokens but was trained on 128: longer chunks
    # dilute what a chunk is about (measured on GeoTopo: a theorem's chunk scored
    # 0.33 against a query for it at 256 tokens and ranked first, 0.53, at 128).
    chunk_max_tokens: int = 128
    chunk_overlap_tokens: int = 16
    scratch_dir: str = ""
    # OCR of pages without a usable text layer; empty disables it (such pages are reported).
    ocr_addr: str = ""
    # The answer service, for AdminService.GetSystemHealth only (empty: not part of the mesh).
    answer_addr: str = ""
    ocr_dpi: int = 200
    # A page rendered for OCR is at most this many pixels: larger pages get a lower resolution,
    # down to ocr_min_dpi; below it the page is a page error (PAGE_TOO_LARGE_FOR_OCR).
    ocr_max_pixels: int = 40_000_000
    ocr_min_dpi: int = 72
    ocr_engine: str = ""
    ocr_languages: tuple[str, ...] = ()
    # Per-page and per-document limits of structured extraction (see text_extraction.py).
    page_time_limit_seconds: float = 30.0
    document_time_limit_seconds: float = 1800.0
    # How long sending one spooled document to search and its commit may take (the stream opens
    # only when the document is extracted and embedded; tens of seconds for 5,000 chunks).
    index_time_limit_seconds: float = 1800.0
    worker_memory_limit_mb: int = 2048
    worker_recycle_rss_mb: int = 768
    worker_recycle_after_tasks: int = 200
    # Decompression bombs: what a page's drawing instructions may inflate to and its images decode to,
    # and what all pages' instructions together may inflate to (measured before MuPDF parses a page).
    page_content_limit_mb: int = 64
    page_image_limit_mb: int = 1024
    document_content_limit_mb: int = 1024
    # Documents one worker process extracts at once; one per tenant while other tenants wait.
    concurrent_tasks: int = 2
    # Long documents are split into ranges of range_pages pages that every worker reads (the one
    # running the document assembles them): documents of more than share_above_pages pages; 0 turns
    # it off. A range not back within range_wait_seconds is read by the assembling worker itself.
    range_pages: int = 48
    share_above_pages: int = 96
    range_wait_seconds: float = 300.0
    # Images smaller than this (pixels, either side) or covering less of the page are decorative and skipped.
    image_min_side_px: int = 32
    image_min_area_ratio: float = 0.002
    image_max_side_px: int = 4096
    extract_images: bool = True
    detect_tables: bool = True
    # Image vectors for image search: the embedder's image model (empty: its first one, if any).
    embed_images: bool = True
    image_model: str = ""
    # Processes recognizing named entities in English documents' chunks (spaCy); 0 turns it off.
    entity_processes: int = 1
    entity_batch_time_limit_seconds: float = 60.0
    # RenderPage: seconds to render one page (the process is killed past it), rendering processes
    # in the API role, and the byte budget of its cache of rendered pages (0: no cache).
    render_time_limit_seconds: float = 20.0
    render_processes: int = 1
    render_cache_mb: int = 64
    # Finished jobs (succeeded, failed, cancelled) are removed this long after they finished,
    # by a sweep in the API role; 0 keeps every job. Running jobs are never removed.
    job_retention_seconds: float = 30 * 24 * 3600
    # Most documents (uploads, refused ones included) one batch may hold; batches expire with the
    # retention of jobs once every job in them has.
    batch_max_documents: int = 10_000
    # Webhooks (the API role): subscriptions per tenant, the longest uri, and targets allowed beyond
    # public HTTPS ones (plain http, loopback, private and link-local addresses: tests and labs only).
    webhook_max_per_tenant: int = 20
    webhook_max_uri_chars: int = 2048
    webhook_allow_http: bool = False
    webhook_allow_loopback: bool = False
    webhook_allow_private: bool = False
    # Attempts per event, the first wait (doubled after each failure, at most the max) and one POST's limit.
    webhook_max_attempts: int = 5
    webhook_backoff_seconds: float = 1.0
    webhook_max_backoff_seconds: float = 60.0
    webhook_timeout_seconds: float = 10.0
    # ImportDocument (the API role): loopback and private addresses are refused unless allowed here
    # (tests and labs only); redirects followed, the deadlines of one fetch, and imports running at
    # once per tenant and in all (more are refused, not queued). The size cap is max_upload_bytes.
    import_allow_loopback: bool = False
    import_allow_private: bool = False
    import_max_redirects: int = 5
    import_connect_seconds: float = 10.0
    import_read_seconds: float = 30.0
    # Under the unary call ceiling (EXTRACTOR_MAX_RPC_SECONDS, 120 s): validation and storage follow the fetch.
    import_total_seconds: float = 90.0
    # PEM file of CAs an https:// import may chain to besides the system's ("": the system's only).
    import_ca_file: str = ""
    import_per_tenant: int = 2
    import_concurrent: int = 8
    # Image analysis (ImageAnalysisService, the API role): the largest picture in bytes and pixels
    # (checked from the header before decoding), images per BatchAnalyzeImages call, and the labels
    # tagged against when a call names none (EXTRACTOR_IMAGE_ANALYSIS_LABELS, comma-separated).
    image_analysis_max_bytes: int = 20 * 1024 * 1024
    image_analysis_max_pixels: int = 40_000_000
    image_analysis_batch_max: int = 50
    image_analysis_labels: tuple[str, ...] = (
        "chart",
        "diagram",
        "table",
        "photograph",
        "map",
        "logo",
        "screenshot",
        "drawing",
        "text document",
        "person",
        "building",
        "landscape",
    )
