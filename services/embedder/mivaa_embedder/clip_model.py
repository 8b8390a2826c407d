"""Image and text embeddings in one vector space: an exported CLIP model on onnxruntime.

The model folder (written by `mivaa models export-clip` / tools/export_clip.py) holds:

  manifest.json    {"name", "kind": "clip", "dimension", "source", "variants": {"fp32": {"image", "text"},
                   "fp16": {...}}, "tokenizer", "preprocess", "max_text_tokens", "checksums": {file: sha256}}
  image.*.onnx     pixel_values float32 [N,3,H,W] -> image_embeds [N,D] (projected, not normalised)
  text.*.onnx      input_ids, attention_mask int64 [N,L] -> text_embeds [N,D] (not normalised)
  tokenizer.json   CLIP's BPE tokenizer (tokenizers.Tokenizer)
  preprocess.json  the CLIPImageProcessor settings: resize_shortest_edge, crop_height/width, resample,
                   rescale_factor, mean, std, convert_rgb

Images are decoded with Pillow (any format it reads; EXIF orientation applied; palette,
alpha, CMYK and 16-bit images made 8-bit RGB, transparency composited on white) and
preprocessed in numpy exactly as transformers' CLIPImageProcessor (PIL backend) does:
bicubic resize of the shortest edge, center crop, rescale, normalise. Vectors are L2
normalised here, so a dot product is the cosine similarity, image to image or text to image.

Per-image errors: `preprocess_image(data)` raises InvalidArgument (IMAGE_UNREADABLE, or
IMAGE_TOO_LARGE for decompression bombs) for that one image; `embed_images(list)` never
raises for a bad image, it returns an ImageEmbeddings whose `errors[i]` holds the error
of image i (its vector row is zeros) while the other images get their vectors.

Domain code: no torch, no grpc. Failures are mivaa_platform.errors exceptions.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import threading
from collections.abc import Sequence

import numpy as np

from mivaa_embedder.images import ClipPreprocess, decode_image
from mivaa_embedder.rows import VectorRows
from mivaa_embedder.settings import DEFAULT_MAX_IMAGE_PIXELS
from mivaa_embedder.text_model import (
    CUDA,
    DOMAIN,
    EmbeddingBatch,
    encode_texts,
    file_sha256,
    first_available,
    model_invalid,
    padded_runs,
    session_settings,
)
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, MivaaError

log = logging.getLogger("mivaa.embedder.clip")

MANIFEST = "manifest.json"
KIND = "clip"
FP32 = "fp32"
FP16 = "fp16"
# "auto": fp16 when CUDA runs the model and the export has it, fp32 otherwise.
PRECISIONS = ("auto", FP32, FP16)
IMAGE_INPUT = "pixel_values"
IMAGE_OUTPUT = "image_embeds"
TEXT_OUTPUT = "text_embeds"


# -- the model folder ---------------------------------------------------------


def is_clip_model_dir(path: str | os.PathLike) -> bool:
    """True when `path` holds a manifest.json whose kind is "clip" (used to discover image models)."""
    manifest = pathlib.Path(path) / MANIFEST
    try:
        return json.loads(manifest.read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def read_clip_manifest(model_dir: str | os.PathLike) -> dict:
    """Reads and sanity-checks a CLIP export's manifest.json (checksums are checked when files load).

    FailedPrecondition MODEL_NOT_FOUND when the folder holds no export, MODEL_INVALID when the
    manifest or the files it names do not add up.
    """
    root = pathlib.Path(model_dir)
    path = root / MANIFEST
    if not path.is_file():
        raise FailedPrecondition(
            "MODEL_NOT_FOUND",
            f"No exported image model at {root} (missing {MANIFEST}); export one with "
            f"`mivaa models export-clip` first.",
            domain=DOMAIN,
            metadata={"model_dir": str(root)},
        )
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest, dict):
            raise TypeError
        for key in ("name", "dimension", "variants"):
            manifest[key]
        int(manifest["dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        raise model_invalid(root, f"{path} is not a readable image model manifest.") from None
    if manifest.get("kind") != KIND:
        raise model_invalid(root, f"{path} describes a {manifest.get('kind') or 'text'} model, not a CLIP model.")
    try:
        variants = {str(p): {"image": str(v["image"]), "text": str(v["text"])} for p, v in manifest["variants"].items()}
    except (AttributeError, KeyError, TypeError):
        raise model_invalid(root, f"{path} has a malformed `variants` entry.") from None
    if FP32 not in variants:
        raise model_invalid(root, f"{path} lists no fp32 variant.")
    manifest["variants"] = variants
    checksums = manifest.get("checksums") or {}
    if not isinstance(checksums, dict):
        raise model_invalid(root, f"{path} has a malformed `checksums` entry.")
    manifest.setdefault("tokenizer", "tokenizer.json")
    manifest.setdefault("preprocess", "preprocess.json")
    for rel in (manifest["tokenizer"], manifest["preprocess"], *(f for v in variants.values() for f in v.values())):
        if not (root / rel).is_file():
            raise model_invalid(root, f"Model file {rel} in {root} is missing; re-export the model.", file=str(rel))
    return manifest


# -- results ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ImageEmbeddings(VectorRows):
    """Vectors for a list of images, in the caller's order, with per-image errors.

    vectors: float32 [n, dimension]; row i is unit length when errors[i] is None, and
    all zeros when image i could not be used. errors[i]: the InvalidArgument
    (IMAGE_UNREADABLE / IMAGE_TOO_LARGE, metadata["index"] = i) for image i, or None.
    """

    vectors: np.ndarray
    errors: list[MivaaError | None]

    @property
    def ok(self) -> list[bool]:
        return [e is None for e in self.errors]

    def raise_first_error(self) -> None:
        for error in self.errors:
            if error is not None:
                raise error


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return (vectors / norms).astype(np.float32)


# -- the model ----------------------------------------------------------------


class OnnxClipModel:
    """CLIP's image and text towers on onnxruntime, unit vectors in one space.

    precision: "fp32", "fp16" or "auto" (fp16 when the CUDA provider runs the model
    and the export has an fp16 variant, fp32 otherwise; fp16 asked for CUDA that ends
    up on the CPU falls back to fp32). `.device` is "<provider>/<precision>", e.g.
    "CPUExecutionProvider/fp32". Thread-safe: the service calls the image tower from
    one batcher thread and the text tower from another.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
        verify_checksums: bool = True,
        precision: str = "auto",
        max_batch_size: int = 32,
        max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in PRECISIONS:
            raise InvalidArgument(
                "INVALID_PRECISION",
                f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}.",
                domain=DOMAIN,
                metadata={"precision": str(precision)},
            )
        if max_batch_size < 1:
            raise InvalidArgument("INVALID_BATCH_SIZE", "max_batch_size must be at least 1.", domain=DOMAIN)
        self.model_dir = pathlib.Path(model_dir)
        self.manifest = read_clip_manifest(self.model_dir)
        self.verify_checksums = verify_checksums
        self._checksums: dict = self.manifest.get("checksums") or {}
        self._verified: set[str] = set()
        self.name: str = str(self.manifest["name"])
        self.dimension: int = int(self.manifest["dimension"])
        self.max_text_tokens: int = int(self.manifest.get("max_text_tokens", 77))
        self.source: str = source_label(self.manifest.get("source"))
        self.max_batch_size = int(max_batch_size)
        self.max_image_pixels = int(max_image_pixels)
        self.variants: dict[str, dict[str, str]] = self.manifest["variants"]
        if precision != "auto" and precision not in self.variants:
            raise FailedPrecondition(
                "MODEL_VARIANT_NOT_FOUND",
                f"The {self.name} export in {self.model_dir} has no {precision} variant (it has "
                f"{', '.join(sorted(self.variants))}); re-export it or choose another precision.",
                domain=DOMAIN,
                metadata={
                    "model_dir": str(self.model_dir),
                    "precision": precision,
                    "available": ",".join(sorted(self.variants)),
                },
            )

        self._check(self.manifest["preprocess"])
        self.preprocess = ClipPreprocess.from_file(self.model_dir / self.manifest["preprocess"])
        self._check(self.manifest["tokenizer"])
        try:
            self._tokenizer = Tokenizer.from_file(str(self.model_dir / self.manifest["tokenizer"]))
        except Exception:  # noqa: BLE001 - tokenizers raises its own exception type
            raise model_invalid(
                self.model_dir,
                f"{self.manifest['tokenizer']} in {self.model_dir} is not a readable tokenizer.",
                file=str(self.manifest["tokenizer"]),
            ) from None
        self.pad_id = self._pad_id()
        self._tokenizer.enable_truncation(max_length=self.max_text_tokens)
        self._tokenizer.no_padding()

        providers, options = session_settings(ort, providers, intra_op_threads)
        if precision == "auto":
            precision = FP16 if first_available(ort, providers) == CUDA and FP16 in self.variants else FP32
            self._image_session = self._open(ort, precision, "image", options, providers)
            if precision == FP16 and self._image_session.get_providers()[0] != CUDA:
                # CUDA was offered but could not run it: fp16 graphs are a GPU optimisation.
                precision = FP32
                self._image_session = self._open(ort, precision, "image", options, providers)
        else:
            self._image_session = self._open(ort, precision, "image", options, providers)
        self._text_session = self._open(ort, precision, "text", options, providers)
        self.precision: str = precision
        self.provider: str = self._image_session.get_providers()[0]
        self.device: str = f"{self.provider}/{self.precision}"
        self.intra_op_threads = options.intra_op_num_threads

        self._image_output = _output_name(self._image_session, IMAGE_OUTPUT)
        self._text_output = _output_name(self._text_session, TEXT_OUTPUT)
        image_input = next((i for i in self._image_session.get_inputs() if i.name == IMAGE_INPUT), None)
        if image_input is None:
            raise model_invalid(
                self.model_dir, f"The image graph of {self.name} has no {IMAGE_INPUT} input; re-export the model."
            )
        self._image_dtype = np.float16 if image_input.type == "tensor(float16)" else np.float32
        self._text_inputs = {i.name: i for i in self._text_session.get_inputs()}
        if "input_ids" not in self._text_inputs:
            raise model_invalid(
                self.model_dir, f"The text graph of {self.name} has no input_ids input; re-export the model."
            )
        length = self._text_inputs["input_ids"].shape[-1]
        self._static_text_length = length if isinstance(length, int) and length > 0 else None
        for session in (self._image_session, self._text_session):
            out_dim = session.get_outputs()[0].shape[-1]
            if isinstance(out_dim, int) and out_dim != self.dimension:
                raise model_invalid(
                    self.model_dir,
                    f"A graph of {self.name} outputs {out_dim} dims, the manifest says {self.dimension}.",
                )

        self._lock = threading.Lock()
        self.images_embedded = 0
        self.image_runs = 0  # onnxruntime calls of the image tower
        self.texts_embedded = 0
        self.tokens_embedded = 0

    # -- loading -----------------------------------------------------------

    def _check(self, rel: str) -> None:
        """Verifies a file's sha256 against the manifest (once per file) when asked to."""
        if not self.verify_checksums or rel in self._verified:
            return
        expected = self._checksums.get(rel)
        if expected is not None and file_sha256(self.model_dir / rel) != str(expected).lower():
            raise model_invalid(
                self.model_dir,
                f"Model file {rel} in {self.model_dir} does not match its checksum; re-export the model.",
                file=str(rel),
            )
        self._verified.add(rel)

    def _open(self, ort, precision: str, tower: str, options, providers: list[str]):
        rel = self.variants[precision][tower]
        self._check(rel)
        try:
            return ort.InferenceSession(str(self.model_dir / rel), sess_options=options, providers=providers)
        except Exception:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise model_invalid(
                self.model_dir,
                f"onnxruntime could not load {rel} from {self.model_dir}; re-export the model.",
                file=str(rel),
            ) from None

    def _pad_id(self) -> int:
        padding = self._tokenizer.padding
        if padding and padding.get("pad_id") is not None:
            return int(padding["pad_id"])
        for token in ("<|endoftext|>", "<pad>", "[PAD]"):
            token_id = self._tokenizer.token_to_id(token)
            if token_id is not None:
                return int(token_id)
        return 0

    def __repr__(self) -> str:
        device = getattr(self, "device", "not loaded")
        return f"OnnxClipModel({self.name!r}, dim={self.dimension}, device={device!r}, source={self.source!r})"

    @property
    def max_tokens(self) -> int:
        return self.max_text_tokens

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the model's input."""
        return self.preprocess.crop_height, self.preprocess.crop_width

    # -- images ------------------------------------------------------------

    def preprocess_image(self, data: bytes) -> np.ndarray:
        """Encoded image -> float32 [3, H, W] model input. Raises InvalidArgument for a bad image."""
        return self.preprocess(decode_image(data, max_pixels=self.max_image_pixels))

    def embed_pixels(self, pixels: Sequence[np.ndarray] | np.ndarray) -> ImageEmbeddings:
        """Unit vectors for preprocessed images ([N,3,H,W] or a list of [3,H,W]); no errors possible per image."""
        batch = np.ascontiguousarray(np.stack(list(pixels)) if not isinstance(pixels, np.ndarray) else pixels)
        n = int(batch.shape[0]) if batch.ndim else 0
        if n == 0:
            return ImageEmbeddings.empty(self.dimension)
        expected = (3, *self.image_size)
        if batch.ndim != 4 or tuple(batch.shape[1:]) != expected:
            raise InvalidArgument(
                "INVALID_PIXELS",
                f"Preprocessed images must be [N, {', '.join(map(str, expected))}], got {list(batch.shape)}.",
                domain=DOMAIN,
            )
        vectors = np.empty((n, self.dimension), dtype=np.float32)
        for start in range(0, n, self.max_batch_size):
            chunk = batch[start : start + self.max_batch_size].astype(self._image_dtype, copy=False)
            out = self._image_session.run([self._image_output], {IMAGE_INPUT: chunk})[0]
            vectors[start : start + len(chunk)] = l2_normalize(out)
            with self._lock:
                self.image_runs += 1
        with self._lock:
            self.images_embedded += n
        return ImageEmbeddings(vectors, [None] * n)

    def embed_images(self, images: Sequence[bytes]) -> ImageEmbeddings:
        """Unit vectors for encoded images, in order. A bad image gets errors[i] and a zero row; the rest still embed."""
        images = list(images)
        errors: list[MivaaError | None] = [None] * len(images)
        pixels: list[np.ndarray] = []
        good: list[int] = []
        for i, data in enumerate(images):
            try:
                pixels.append(self.preprocess_image(data))
                good.append(i)
            except MivaaError as error:
                errors[i] = type(error)(
                    error.reason, error.message, domain=error.domain, metadata={**error.metadata, "index": str(i)}
                )
        vectors = np.zeros((len(images), self.dimension), dtype=np.float32)
        if good:
            vectors[good] = self.embed_pixels(pixels).vectors
        return ImageEmbeddings(vectors, errors)

    # -- texts -------------------------------------------------------------

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text would use (start and end markers included), after truncation."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        """Unit vectors from the text tower, in order; texts longer than max_text_tokens are cut."""
        encoded = encode_texts(self._tokenizer, texts, DOMAIN)
        if encoded is None:
            return EmbeddingBatch.empty(self.dimension)
        vectors = np.empty((len(encoded.encodings), self.dimension), dtype=np.float32)
        for idx, feeds in padded_runs(encoded, self.max_batch_size, pad_id=self.pad_id, width=self._static_text_length):
            feeds = {k: v for k, v in feeds.items() if k in self._text_inputs}
            vectors[idx] = l2_normalize(self._text_session.run([self._text_output], feeds)[0])
        with self._lock:
            self.texts_embedded += len(encoded.encodings)
            self.tokens_embedded += int(encoded.lengths.sum())
        return EmbeddingBatch(vectors, encoded.lengths.tolist(), encoded.truncated)


def _output_name(session, wanted: str) -> str:
    names = [o.name for o in session.get_outputs()]
    return wanted if wanted in names else names[0]


def source_label(source) -> str:
    """The manifest's `source` as one line: a checkpoint name or path, or package==version."""
    if source is None:
        return ""
    if isinstance(source, dict):
        if "package" in source:
            return f"{source['package']}=={source['version']}" if source.get("version") else str(source["package"])
        for key in ("checkpoint", "name", "path", "model"):
            if key in source:
                return str(source[key])
        return json.dumps(source, sort_keys=True)
    return str(source)
