"""Text embeddings from an exported sentence-transformers model, served with onnxruntime.

The model folder is what tools/export_text_model.py writes: model.onnx (the bare
transformer, last_hidden_state out), tokenizer.json and manifest.json. Pooling
(mean over real tokens) and L2 normalisation happen here in numpy, the same way
the export tool checked them against sentence-transformers.

The manifest's `variants` may list model.int8.onnx besides the fp32 model: the
same network with dynamically quantized INT8 MatMuls, about twice as fast on CPU
and checked by the export tool against fp32 (cosine >= 0.97 per text, ~0.99 on
average). Its activations are quantized per tensor at run time, so unlike fp32 a
text's int8 vector depends slightly on the other texts in the same model run.

Domain code: no torch, no grpc. Failures are mivaa_platform.errors exceptions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mivaa_embedder.bulk_runs import BulkRunner, QueryPressure
from mivaa_embedder.rows import VectorRows
from mivaa_platform.errors import FailedPrecondition, InvalidArgument

DOMAIN = "embedder.mivaa"

MANIFEST = "manifest.json"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
FP32 = "fp32"
INT8 = "int8"
# "auto": int8 on the CPU when the export has it, fp32 otherwise (int8 MatMul is a CPU optimisation).
PRECISIONS = ("auto", FP32, INT8)


@dataclasses.dataclass(frozen=True)
class EmbeddingBatch(VectorRows):
    """Vectors for a list of texts, in the caller's order.

    vectors: float32 [n, dimension], each row unit length.
    token_counts: tokens the model saw per text ([CLS] and [SEP] included, after truncation).
    truncated: whether a text was cut to the model's max_tokens.
    """

    vectors: np.ndarray
    token_counts: list[int]
    truncated: list[bool]


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors where mask is 1, then L2-normalised (sentence-transformers' way)."""
    hidden = np.asarray(hidden, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)[:, :, None]
    summed = (hidden * m).sum(axis=1)
    counts = np.maximum(m.sum(axis=1), 1e-9)
    pooled = summed / counts
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return (pooled / norms).astype(np.float32)


def file_sha256(path: pathlib.Path) -> str:
    """Hex sha256 of a file, read in blocks (model files are hundreds of MB)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def session_settings(ort, providers: Sequence[str] | None, intra_op_threads: int | None) -> tuple[list[str], Any]:
    """The providers (CUDA first when onnxruntime offers it) and the session options every model runs with.

    One model call at a time per session, its operators spread over `intra_op_threads` (default: every core).
    The threads sleep between operators instead of spinning: onnxruntime's default busy-waits, which on a
    few cores shared with the rest of the mesh took half of the CPU time of every run from its neighbours
    (twice the CPU seconds per text, and slower under load).
    """
    if providers is None:
        providers = [CUDA, CPU] if CUDA in ort.get_available_providers() else [CPU]
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(intra_op_threads or os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return list(providers), options


def first_available(ort, providers: Sequence[str]) -> str:
    """The provider a session will be tried on first: the first one onnxruntime offers, else the CPU."""
    available = set(ort.get_available_providers())
    return next((p for p in providers if p in available), CPU)


def model_invalid(root: pathlib.Path, message: str, **metadata: str) -> FailedPrecondition:
    """MODEL_INVALID for a model folder whose manifest or files do not add up."""
    return FailedPrecondition("MODEL_INVALID", message, domain=DOMAIN, metadata={"model_dir": str(root), **metadata})


def read_manifest(model_dir: str | os.PathLike, *, verify_checksums: bool = False) -> dict:
    """Reads and sanity-checks a text model's manifest.json.

    Raises FailedPrecondition MODEL_NOT_FOUND when the folder holds no export, and
    MODEL_INVALID when the manifest or the files it lists do not add up.
    """
    root = pathlib.Path(model_dir)
    path = root / MANIFEST
    meta = {"model_dir": str(root)}
    if not path.is_file():
        raise FailedPrecondition(
            "MODEL_NOT_FOUND",
            f"No exported text model at {root} (missing {MANIFEST}); run "
            f"tools/export_text_model.py --out {root} with the export venv first.",
            metadata=meta,
        )
    try:
        manifest = json.loads(path.read_text())
        files = dict(manifest["files"])
        for key in ("name", "dimension", "max_tokens"):
            manifest[key]
    except (OSError, ValueError, KeyError, TypeError):
        raise FailedPrecondition("MODEL_INVALID", f"{path} is not a readable model manifest.", metadata=meta) from None
    if manifest.get("modality", "text") != "text":
        raise FailedPrecondition(
            "MODEL_INVALID", f"{path} describes a {manifest.get('modality')} model, not a text model.", metadata=meta
        )
    if manifest.get("pooling", "mean") != "mean" or manifest.get("normalize", True) is not True:
        raise FailedPrecondition(
            "MODEL_INVALID", f"{path}: only mean pooling with normalisation is supported.", metadata=meta
        )
    try:
        variants = model_variants(manifest)
    except (AttributeError, KeyError, TypeError):
        raise FailedPrecondition("MODEL_INVALID", f"{path} has a malformed `variants` entry.", metadata=meta) from None
    for rel in (*variants.values(), manifest.get("tokenizer", "tokenizer.json")):
        if rel not in files:
            raise FailedPrecondition("MODEL_INVALID", f"{path} lists no {rel}.", metadata=meta)
    for rel, info in files.items():
        fpath = root / rel
        if not fpath.is_file() or fpath.stat().st_size != info.get("bytes", fpath.stat().st_size):
            raise FailedPrecondition(
                "MODEL_INVALID",
                f"Model file {rel} in {root} is missing or has the wrong size; re-export the model.",
                metadata={**meta, "file": rel},
            )
        if verify_checksums and file_sha256(fpath) != info.get("sha256"):
            raise FailedPrecondition(
                "MODEL_INVALID",
                f"Model file {rel} in {root} does not match its checksum; re-export the model.",
                metadata={**meta, "file": rel},
            )
    return manifest


def model_variants(manifest: dict) -> dict[str, str]:
    """Precision -> ONNX file (relative to the model folder) for the variants a manifest lists.

    fp32 is always there: manifests written before variants existed have only `onnx.file`.
    """
    variants = {FP32: str(manifest.get("onnx", {}).get("file", "model.onnx"))}
    for precision, entry in (manifest.get("variants") or {}).items():
        variants[str(precision)] = str(entry["file"])
    return variants


class OnnxTextEmbedder:
    """Embeds texts with an exported sentence-transformers model (mean pooling, unit vectors).

    Thread-safe: embed() and embed_bulk() may be called from several threads (onnxruntime
    sessions and tokenizers allow concurrent use); the service calls each from its own lane.

    precision picks the manifest variant: "fp32", "int8", or "auto" (int8 when the
    session runs on CPUExecutionProvider and the export has it, else fp32). A variant
    the manifest lacks is FailedPrecondition MODEL_VARIANT_NOT_FOUND. `.precision` is
    the one in use, `.device` the execution provider.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        max_batch_size: int = 64,
        intra_op_threads: int | None = None,
        providers: Sequence[str] | None = None,
        verify_checksums: bool = True,
        precision: str = "auto",
        bulk_threads: int | None = None,
        pressure: QueryPressure | None = None,
    ):
        """bulk_threads: how many bulk runs go side by side on the CPU (default: one per core);
        pressure: when given, bulk runs on the CPU pace themselves while queries arrive."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if max_batch_size < 1:
            raise InvalidArgument("INVALID_BATCH_SIZE", "max_batch_size must be at least 1.")
        if precision not in PRECISIONS:
            raise InvalidArgument(
                "INVALID_PRECISION",
                f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}.",
                metadata={"precision": str(precision)},
            )
        self.model_dir = pathlib.Path(model_dir)
        self.manifest = read_manifest(self.model_dir, verify_checksums=verify_checksums)
        self.name: str = str(self.manifest["name"])
        self.dimension: int = int(self.manifest["dimension"])
        self.max_tokens: int = int(self.manifest["max_tokens"])
        self.max_batch_size = int(max_batch_size)

        self.variants = model_variants(self.manifest)
        if precision != "auto" and precision not in self.variants:
            raise FailedPrecondition(
                "MODEL_VARIANT_NOT_FOUND",
                f"The {self.name} export in {self.model_dir} has no {precision} variant (it has "
                f"{', '.join(sorted(self.variants))}); re-export it with tools/export_text_model.py "
                f"or choose another precision.",
                metadata={
                    "model_dir": str(self.model_dir),
                    "precision": precision,
                    "available": ",".join(sorted(self.variants)),
                },
            )
        tokenizer_file = self.model_dir / self.manifest.get("tokenizer", "tokenizer.json")

        # The exported tokenizer.json carries its own truncation/padding defaults; ours win.
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()

        # On the CPU every run is single-threaded: a query's few tokens gain little from a second
        # thread, and under load a run split over threads waits at every operator for the one the
        # scheduler left out. Bulk runs go side by side instead (1.6x the texts a second of one run
        # on two threads, bench: two cores, 256-token texts).
        providers = session_settings(ort, providers, None)[0]
        on_cpu = first_available(ort, providers) == CPU
        options = session_settings(ort, providers, 1 if on_cpu else intra_op_threads)[1]
        if precision == "auto":
            # int8 only where the CPU provider will run the model. When another provider is
            # first (CUDA) but the session still lands on the CPU (no usable GPU), reopen as int8.
            precision = INT8 if first_available(ort, providers) == CPU and INT8 in self.variants else FP32
            self._session = self._open(ort, precision, options, providers)
            if precision == FP32 and INT8 in self.variants and self._session.get_providers()[0] == CPU:
                precision = INT8
                options = session_settings(ort, providers, 1)[1]
                self._session = self._open(ort, precision, options, providers)
        else:
            self._session = self._open(ort, precision, options, providers)
        self.precision: str = precision
        # Dynamic int8 quantization scales activations over the whole model run, so a text's
        # vector would shift with its batch partners. One text per run keeps every vector a
        # function of its text alone (same query, same scores under any load) and is still
        # ~1.6x faster than fp32 on CPU; fp32 batches freely.
        self.run_batch_size = 1 if precision == "int8" else self.max_batch_size
        self.device: str = self._session.get_providers()[0]
        self.intra_op_threads = options.intra_op_num_threads
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._output_name = self.manifest.get("onnx", {}).get("output", "last_hidden_state")
        out_dim = self._session.get_outputs()[0].shape[-1]
        if isinstance(out_dim, int) and out_dim != self.dimension:
            raise FailedPrecondition(
                "MODEL_INVALID",
                f"{self.variants[self.precision]} outputs {out_dim} dims, the manifest says {self.dimension}.",
            )
        self._lock = threading.Lock()  # keeps the counters consistent across threads
        self.texts_embedded = 0
        self.tokens_embedded = 0
        # Bulk runs (embed_bulk) on the CPU: the same single-threaded session, runs side by side on
        # low-priority threads (bulk_runs.py). A GPU runs them as one stream.
        self._bulk = None
        if self.device == CPU:
            self._bulk = BulkRunner(
                int(bulk_threads or intra_op_threads or os.cpu_count() or 1),
                name=f"{self.name}-bulk",
                pressure=pressure,
            )

    def close(self) -> None:
        if self._bulk is not None:
            self._bulk.close()

    def _open(self, ort, precision: str, options, providers: list[str]):
        onnx_file = self.model_dir / self.variants[precision]
        try:
            return ort.InferenceSession(str(onnx_file), sess_options=options, providers=providers)
        except Exception:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise FailedPrecondition(
                "MODEL_INVALID",
                f"onnxruntime could not load {onnx_file}; re-export the model.",
                metadata={"model_dir": str(self.model_dir), "file": self.variants[precision]},
            ) from None

    def __repr__(self) -> str:
        return (
            f"OnnxTextEmbedder({self.name!r}, dim={self.dimension}, max_tokens={self.max_tokens}, "
            f"device={self.device!r}, precision={self.precision!r})"
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text would use ([CLS]/[SEP] included), after truncation."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> EmbeddingBatch:
        """Unit-length vectors for `texts`, in order. Long texts are cut to max_tokens."""
        return self._embed(texts, bulk=False)

    def embed_bulk(self, texts: Sequence[str]) -> EmbeddingBatch:
        """embed() for work nobody waits on in person: the same vectors, from runs side by side on
        low-priority threads, so a query's embed() runs first on busy cores."""
        return self._embed(texts, bulk=True)

    def _embed(self, texts: Sequence[str], *, bulk: bool) -> EmbeddingBatch:
        encoded = encode_texts(self._tokenizer, texts)
        if encoded is None:
            return EmbeddingBatch.empty(self.dimension)
        session = self._session

        def run(indexed_feeds: tuple[np.ndarray, dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
            idx, feeds = indexed_feeds
            feeds = {k: v for k, v in feeds.items() if k in self._input_names}
            hidden = session.run([self._output_name], feeds)[0]
            return idx, mean_pool_normalize(hidden, feeds["attention_mask"])

        size = self.run_batch_size
        if bulk and self._bulk is not None:  # fp32 batches freely: at least one run per bulk thread
            size = max(1, min(size, -(-len(encoded.encodings) // self._bulk.threads)))
        runs = padded_runs(encoded, size)
        results = self._bulk.map(run, runs) if bulk and self._bulk is not None else map(run, runs)
        vectors = np.empty((len(encoded.encodings), self.dimension), dtype=np.float32)
        for idx, rows in results:
            vectors[idx] = rows
        with self._lock:
            self.texts_embedded += len(encoded.encodings)
            self.tokens_embedded += int(encoded.lengths.sum())
        return EmbeddingBatch(vectors, encoded.lengths.tolist(), encoded.truncated)


@dataclass(frozen=True)
class EncodedTexts:
    """Tokenized texts with their lengths (special tokens included) and whether each was cut."""

    encodings: list
    lengths: np.ndarray
    truncated: list[bool]


def encode_texts(tokenizer, texts: Sequence[str], domain: str | None = None) -> EncodedTexts | None:
    """Checks and tokenizes texts (truncation as the tokenizer is set up); None for no texts."""
    texts = list(texts)
    if not texts:
        return None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidArgument(
                "INVALID_TEXT",
                f"Text {i} is a {type(text).__name__}, not a string.",
                domain=domain or DOMAIN,
                metadata={"index": str(i)},
            )
    encodings = tokenizer.encode_batch(texts)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    return EncodedTexts(encodings, lengths, [bool(e.overflowing) for e in encodings])


def padded_runs(
    encoded: EncodedTexts, run_size: int, *, pad_id: int = 0, width: int | None = None
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Model runs of at most `run_size` texts, as (their indices, padded input arrays).

    Texts are grouped by length so that little compute goes to padding; `width`
    pads every run to a fixed length (graphs exported with a static sequence).
    """
    order = np.argsort(encoded.lengths, kind="stable")
    for start in range(0, len(order), run_size):
        idx = order[start : start + run_size]
        run_width = width or max(int(encoded.lengths[idx].max()), 1)
        ids = np.full((len(idx), run_width), pad_id, dtype=np.int64)
        mask = np.zeros((len(idx), run_width), dtype=np.int64)
        types = np.zeros((len(idx), run_width), dtype=np.int64)
        for row, j in enumerate(idx):
            enc = encoded.encodings[j]
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = enc.attention_mask
            types[row, :n] = enc.type_ids
        yield idx, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
