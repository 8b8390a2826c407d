"""The embedder's settings (EMBEDDER_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "EMBEDDER"

# Larger images are refused before they are decoded (a small PNG can unpack to gigabytes).
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class EmbedderSettings:
    models_dir: str = "models"
    text_models: tuple[str, ...] = ("all-MiniLM-L6-v2",)
    max_batch_texts: int = 128
    max_wait_ms: float = 5.0
    # onnxruntime intra-op threads of a query's run, and bulk runs side by side; 0 means one per core.
    threads: int = 0
    # Cores a document's chunks may use while queries arrive (any in the last second), so the
    # query path (search, PostgreSQL, Envoy) keeps the rest where it shares the machine's cores
    # (the local mesh sets 0.1); 0: no limit, for an embedder whose cores are its own.
    bulk_cores_while_querying: float = 0.0
    # Model variant: "auto" (int8 on CPU when exported, fp32 on CUDA), "fp32" or "int8".
    precision: str = "auto"
    # CLIP exports (folders under models_dir) to serve for EmbedImages; empty serves every
    # folder whose manifest.json has kind "clip", "none" serves no image model.
    image_models: tuple[str, ...] = ()
    # Images per image-model run (EMBEDDER_MAX_WAIT_MS is shared with the text batcher).
    max_batch_images: int = 32
    # CLIP variant: "auto" (fp16 on CUDA when exported, fp32 on CPU), "fp32" or "fp16".
    image_precision: str = "auto"
    # Images with more pixels are refused before decoding (decompression bombs).
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    # Threads decoding and preprocessing images; 0 means min(4, cores).
    decode_threads: int = 0
