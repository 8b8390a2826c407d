"""CLIP in the embedder: OnnxClipModel, its preprocessing against transformers, image batching,
and EmbedImages / EmbedTexts / ListModels over real gRPC.

Everything runs on the tiny random-weight CLIP export of tests/embedder/clip_fixture.py
(dimension 32, 64x64 images). The reference pixel arrays come from transformers'
CLIPImageProcessor run by the export venv in a subprocess (this venv has no torch or
transformers); those tests skip when the export venv or its Pillow is missing.
"""

from __future__ import annotations

import asyncio
import io
import json
import pathlib
import shutil
import struct
import textwrap
import zlib

import grpc
import numpy as np
import pytest
from PIL import Image, ImageDraw

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.clip_model import (
    ClipPreprocess,
    ImageEmbeddings,
    OnnxClipModel,
    decode_image,
    l2_normalize,
    read_clip_manifest,
)
from mivaa_embedder.registry import ModelRegistry, discover_image_models
from mivaa_embedder.servicer import MAX_IMAGE_BYTES, MAX_REQUEST_MESSAGE_BYTES, EmbedderServicer
from mivaa_embedder.text_model import CPU, CUDA
from mivaa_platform.config import ServerSettings
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.server import GrpcService
from tests.embedder.clip_fixture import ExportVenvMissing, run_export_python
from tests.support.inprocess import serving
from tests.support.pictures import encode, gallery, jpeg_copy, resized_copy

REPO = pathlib.Path(__file__).resolve().parents[2]
TEXT_MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
SERVICE = "mivaa.embedder.v1.EmbedderService"
# What transformers' PIL backend computes, we compute: the same Pillow resize, the same float ops.
EXACT_BOUND = 1e-6
# transformers 5's default CLIPImageProcessor resizes with torchvision (antialiased bicubic in
# float, rounded once) where Pillow rounds between its two passes: up to 2 uint8 levels apart,
# 2 / 255 / min(std) = 0.030 after normalisation, on a few pixels (mean ~1e-4).
TORCHVISION_BOUND = 0.035


# -- images -------------------------------------------------------------------


def scene(width: int, height: int, seed: int) -> Image.Image:
    """A noisy picture of overlapping ellipses (content every resampling filter notices)."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.ellipse(
            [x0, y0, x0 + int(rng.integers(5, width)), y0 + int(rng.integers(5, height))],
            fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
        )
    noise = rng.integers(-20, 20, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image).astype(int) + noise, 0, 255).astype(np.uint8))


def reference_images() -> dict[str, bytes]:
    """Every format and colour mode the decoder handles, at sizes that exercise resize and crop."""
    alpha = scene(300, 240, 13).convert("RGBA")
    mask = np.zeros((240, 300), np.uint8)
    mask[:, :150] = 255
    mask[60:180, 150:] = 128
    alpha.putalpha(Image.fromarray(mask))
    palette = scene(160, 160, 14).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    return {
        "landscape.png": encode(scene(640, 480, 1)),
        "portrait.png": encode(scene(333, 517, 2)),
        "square.png": encode(scene(224, 224, 3)),
        "tiny.png": encode(scene(17, 9, 4)),
        "wide.png": encode(scene(1000, 120, 5)),
        "photo.jpg": encode(scene(800, 600, 6), "JPEG", quality=90),
        "image.webp": encode(scene(300, 200, 7), "WEBP", quality=80),
        "image.bmp": encode(scene(250, 260, 8), "BMP"),
        "image.tiff": encode(scene(210, 330, 9), "TIFF"),
        "grey.png": encode(scene(120, 90, 10).convert("L")),
        "cmyk.jpg": encode(scene(120, 90, 11).convert("CMYK"), "JPEG"),
        "bilevel.png": encode(scene(100, 140, 12).convert("1")),
        "alpha.png": encode(alpha),
        "palette-transparent.gif": encode(palette, "GIF", transparency=3),
        "grey-alpha.png": encode(scene(90, 200, 15).convert("LA")),
        "exif-rotated.jpg": encode(scene(400, 300, 16), "JPEG", quality=92, exif=exif.tobytes()),
    }


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries one row of data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# -- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_dir(tiny_clip_dir) -> pathlib.Path:
    return tiny_clip_dir


@pytest.fixture(scope="module")
def clip(clip_dir) -> OnnxClipModel:
    return OnnxClipModel(clip_dir, providers=[CPU])


@pytest.fixture(scope="module")
def images() -> list[bytes]:
    return gallery(20)


def models_dir_with(
    tmp_path: pathlib.Path, clip_dir: pathlib.Path, *, text: bool = True, clip_name: str = "tiny-clip"
) -> pathlib.Path:
    """A models folder of symlinks: the CLIP export (and the text model, when exported)."""
    root = tmp_path / "models"
    root.mkdir(exist_ok=True)
    (root / clip_name).symlink_to(clip_dir, target_is_directory=True)
    if text and (TEXT_MODEL_DIR / "manifest.json").is_file():
        (root / TEXT_MODEL_DIR.name).symlink_to(TEXT_MODEL_DIR, target_is_directory=True)
    return root


def copy_export(src: pathlib.Path, dst: pathlib.Path) -> pathlib.Path:
    shutil.copytree(src, dst)
    return dst


# -- the model ----------------------------------------------------------------------


def test_metadata_comes_from_the_manifest(clip, clip_dir):
    manifest = json.loads((clip_dir / "manifest.json").read_text())
    assert clip.name == manifest["name"] == "tiny-clip"
    assert clip.dimension == manifest["dimension"] == 32
    assert clip.max_text_tokens == clip.max_tokens == 77
    assert clip.device == "CPUExecutionProvider/fp32" and clip.precision == "fp32"
    assert clip.source == manifest["source"]
    assert clip.image_size == (64, 64)


def test_image_vectors_are_unit_length_and_deterministic(clip, images):
    first = clip.embed_images(images[:5])
    again = clip.embed_images(images[:5])
    assert first.vectors.shape == (5, 32) and first.vectors.dtype == np.float32
    assert first.errors == [None] * 5 and first.ok == [True] * 5
    np.testing.assert_allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first.vectors, again.vectors)


def test_matches_the_exporters_parity_vectors(clip, clip_dir):
    """The export recorded torch's vectors for fixed inputs; onnxruntime here gives the same."""
    parity_file = clip_dir / "parity.json"
    if not parity_file.is_file():
        pytest.skip("this export has no parity.json")
    parity = json.loads(parity_file.read_text())
    texts = parity["texts"]
    result = clip.embed_texts(texts["texts"])
    np.testing.assert_allclose(result.vectors, l2_normalize(np.array(texts["vectors"])), atol=1e-4)
    assert result.token_counts == [len(ids) for ids in texts["input_ids"]]
    assert clip.pad_id == texts["pad_id"]


def test_same_image_ranks_first_and_light_edits_stay_in_the_top_three(clip, images):
    gallery_vectors = clip.embed_images(images).vectors
    off_diagonal = (gallery_vectors @ gallery_vectors.T)[~np.eye(len(images), dtype=bool)]
    assert off_diagonal.max() < 0.99  # the gallery really is varied
    for label, edit, top in (("itself", lambda d: d, 1), ("0.9x", resized_copy, 3), ("JPEG q85", jpeg_copy, 3)):
        for i, data in enumerate(images):
            query = clip.embed_images([edit(data)]).vectors[0]  # embedded on its own
            scores = gallery_vectors @ query
            rank = int((scores > scores[i]).sum()) + 1
            assert rank <= top, (
                f"{label}: image {i} ranked {rank} (self {scores[i]:.4f}, best other {np.delete(scores, i).max():.4f})"
            )
            if top == 1:
                assert scores[i] - np.delete(scores, i).max() > 0.02


def test_bad_images_fail_alone_and_the_rest_of_the_batch_embeds(clip, images):
    truncated = images[1][: len(images[1]) // 2]
    batch = [images[0], b"not an image at all", images[2], b"", truncated, png_header_only(100_000, 100_000), images[3]]
    result = clip.embed_images(batch)
    assert len(result) == len(batch)
    assert result.ok == [True, False, True, False, False, False, True]
    reasons = {i: e.reason for i, e in enumerate(result.errors) if e is not None}
    assert reasons == {1: "IMAGE_UNREADABLE", 3: "IMAGE_UNREADABLE", 4: "IMAGE_UNREADABLE", 5: "IMAGE_TOO_LARGE"}
    for i, error in enumerate(result.errors):
        if error is not None:
            assert isinstance(error, InvalidArgument) and error.domain == "embedder.mivaa"
            assert error.metadata["index"] == str(i)
            np.testing.assert_array_equal(result.vectors[i], 0.0)
    alone = clip.embed_images([images[0], images[2], images[3]]).vectors
    np.testing.assert_allclose(result.vectors[[0, 2, 6]], alone, atol=1e-5)
    with pytest.raises(InvalidArgument):
        result.raise_first_error()


def test_decode_errors_are_clear(clip):
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"GIF89a but then nothing")
    assert err.value.reason == "IMAGE_UNREADABLE"
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"")
    assert err.value.reason == "IMAGE_UNREADABLE" and "empty" in err.value.message
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"\x00\x01garbage" * 10)
    assert err.value.reason == "IMAGE_UNREADABLE" and "PNG, JPEG" in err.value.message


def test_decompression_bombs_are_refused_before_decoding():
    # Over our limit (checked from the header): the size is named.
    with pytest.raises(InvalidArgument) as err:
        decode_image(png_header_only(10_000, 6_000), max_pixels=50_000_000)
    assert err.value.reason == "IMAGE_TOO_LARGE"
    assert (err.value.metadata["width"], err.value.metadata["height"]) == ("10000", "6000")
    # Far over Pillow's own limit: refused while opening.
    with pytest.raises(InvalidArgument) as err:
        decode_image(png_header_only(100_000, 100_000))
    assert err.value.reason == "IMAGE_TOO_LARGE"
    # The limit is the model's setting.
    with pytest.raises(InvalidArgument) as err:
        decode_image(encode(scene(200, 100, 1)), max_pixels=10_000)
    assert err.value.reason == "IMAGE_TOO_LARGE" and err.value.metadata["max_pixels"] == "10000"


def test_colour_modes_become_rgb_like_clip_expects():
    # Transparency is composited on white.
    clear = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    assert np.asarray(decode_image(encode(clear))).min() == 255
    half = Image.new("LA", (20, 10), (0, 128))
    assert decode_image(encode(half)).mode == "RGB"
    assert np.abs(np.asarray(decode_image(encode(half))).astype(int) - 127).max() <= 1
    # CMYK, bilevel, palette and grey images come out as RGB.
    for image in (
        scene(30, 20, 1).convert("CMYK"),
        scene(30, 20, 2).convert("1"),
        scene(30, 20, 3).convert("P"),
        scene(30, 20, 4).convert("L"),
    ):
        fmt = "JPEG" if image.mode == "CMYK" else "PNG"
        decoded = decode_image(encode(image, fmt))
        assert decoded.mode == "RGB" and decoded.size == (30, 20)
    # 16-bit grey is scaled to 8 bits, not clipped at 255 (Pillow's own convert clips).
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    decoded = np.asarray(decode_image(encode(Image.fromarray(ramp))))[..., 0].astype(int)
    assert np.abs(decoded - np.rint(ramp / 257)).max() <= 1 and decoded.max() == 255 and decoded[0, 128] == 128
    # An animation gives its first frame.
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:])
    assert tuple(np.asarray(decode_image(animated.getvalue()))[8, 8]) == (255, 0, 0)


def test_exif_orientation_is_applied():
    upright = scene(300, 400, 16)
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera stores for orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(encode(sideways, "JPEG", quality=95, exif=exif.tobytes()))
    assert decoded.size == (300, 400)

    def distance(a: Image.Image, b: Image.Image) -> float:  # on thumbnails: JPEG noise averages out
        small = [np.asarray(x.resize((30, 40), Image.Resampling.BOX)).astype(float) for x in (a, b)]
        return float(np.abs(small[0] - small[1]).mean())

    assert distance(decoded, upright) < 2
    assert distance(decoded, upright.rotate(180)) > 10 * distance(decoded, upright)


def test_preprocess_shapes_and_crop_padding():
    pre = ClipPreprocess(resize_shortest_edge=48, crop_height=56, crop_width=40)
    assert pre.resized_size(640, 480) == (64, 48) and pre.resized_size(333, 517) == (48, 74)
    pixels = pre(scene(640, 480, 1))
    assert pixels.shape == (3, 56, 40) and pixels.dtype == np.float32
    # Rows outside the resized image are zero before normalisation: (0 - mean) / std.
    np.testing.assert_allclose(pixels[:, 0, 0], -np.array(pre.mean) / np.array(pre.std), rtol=1e-6)


EXPORT_REFERENCE = textwrap.dedent(
    """
    import json, pathlib, sys
    import numpy as np
    try:
        from PIL import Image, ImageOps
    except ImportError:
        sys.exit(3)
    import transformers
    from transformers import CLIPImageProcessorPil
    from transformers.utils import is_torchvision_available
    src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    report = {"transformers": transformers.__version__, "backends": []}
    for cfg_file in sorted(src.glob("*.json")):
        pre = json.loads(cfg_file.read_text())
        kw = dict(size={"shortest_edge": pre["resize_shortest_edge"]},
                  crop_size={"height": pre["crop_height"], "width": pre["crop_width"]},
                  image_mean=pre["mean"], image_std=pre["std"], rescale_factor=pre["rescale_factor"],
                  resample=3, do_convert_rgb=True, do_resize=True, do_center_crop=True)
        processors = {"pil": CLIPImageProcessorPil(**kw)}
        if is_torchvision_available():
            processors["torchvision"] = transformers.CLIPImageProcessor(**kw)
        report["backends"] = sorted(processors)
        for image_file in sorted((src / "images").iterdir()):
            # transformers.image_utils.load_image applies the EXIF orientation the same way.
            image = ImageOps.exif_transpose(Image.open(image_file))
            for backend, processor in processors.items():
                out = processor(images=image, return_tensors="np")["pixel_values"][0]
                np.save(dst / f"{cfg_file.stem}.{image_file.name}.{backend}.npy", out)
    print(json.dumps(report))
    """
)


def test_preprocessing_equals_transformers_clip_image_processor(tmp_path, clip, clip_dir):
    src, dst = tmp_path / "src", tmp_path / "ref"
    (src / "images").mkdir(parents=True)
    dst.mkdir()
    samples = reference_images()
    for name, data in samples.items():
        (src / "images" / name).write_bytes(data)
    configs = {
        "fixture": ClipPreprocess.from_file(clip_dir / "preprocess.json"),
        "openai-224": ClipPreprocess(resize_shortest_edge=224, crop_height=224, crop_width=224),
        "padded": ClipPreprocess(resize_shortest_edge=48, crop_height=56, crop_width=40),
    }
    for name, config in configs.items():
        fields = {k: v for k, v in vars(config).items()}
        (src / f"{name}.json").write_text(json.dumps({**fields, "mean": list(config.mean), "std": list(config.std)}))
    try:
        result = run_export_python(["-c", EXPORT_REFERENCE, str(src), str(dst)])
    except ExportVenvMissing as exc:
        pytest.skip(str(exc))
    if result.returncode == 3:
        pytest.skip(
            "the export venv has no Pillow, which CLIPImageProcessor needs: .cache/export-venv/bin/pip install pillow"
        )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    worst: dict[str, float] = {}
    for config_name, config in configs.items():
        for image_name, data in samples.items():
            ours = config(decode_image(data))
            for backend in report["backends"]:
                reference = np.load(dst / f"{config_name}.{image_name}.{backend}.npy")
                assert reference.shape == ours.shape, (config_name, image_name, backend)
                diff = np.abs(reference.astype(np.float64) - ours)
                worst[backend] = max(worst.get(backend, 0.0), float(diff.max()))
                bound = EXACT_BOUND if backend == "pil" else TORCHVISION_BOUND
                assert diff.max() <= bound, f"{config_name}/{image_name} vs {backend}: max |diff| {diff.max():.3g}"
                if backend != "pil":
                    assert diff.mean() < 1e-3
    print(f"preprocessing vs transformers {report['transformers']}: max |diff| {worst}")
    # The model's own preprocessing is the fixture config.
    assert np.array_equal(
        clip.preprocess_image(samples["photo.jpg"]), configs["fixture"](decode_image(samples["photo.jpg"]))
    )


# -- texts ------------------------------------------------------------------------


def test_text_tower_counts_tokens_truncates_and_ignores_padding(clip):
    long = "a scanned page of a thesis with formulas " * 30
    texts = ["a photo of a cat", long, "", "a photo of a dog"]
    batch = clip.embed_texts(texts)
    assert batch.vectors.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)
    assert batch.token_counts[1] == 77 and batch.truncated == [False, True, False, False]
    assert batch.token_counts[2] == 2  # <|startoftext|> <|endoftext|>
    assert batch.token_counts == clip.count_tokens(texts)
    # Each text's vector is the same alone as padded next to a long one.
    for i, text in enumerate(texts):
        np.testing.assert_allclose(clip.embed_texts([text]).vectors[0], batch.vectors[i], atol=1e-5)
    with pytest.raises(InvalidArgument) as err:
        clip.embed_texts(["fine", 7])
    assert err.value.reason == "INVALID_TEXT"
    assert clip.embed_texts([]).vectors.shape == (0, 32)


# -- the model folder ------------------------------------------------------------------


def test_bad_model_folders_are_reported(tmp_path, clip_dir):
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tmp_path / "nothing-here")
    assert err.value.reason == "MODEL_NOT_FOUND" and "export-clip" in err.value.message

    wrong_kind = copy_export(clip_dir, tmp_path / "wrong-kind")
    manifest = json.loads((wrong_kind / "manifest.json").read_text())
    (wrong_kind / "manifest.json").write_text(json.dumps({**manifest, "kind": "text"}))
    with pytest.raises(FailedPrecondition) as err:
        read_clip_manifest(wrong_kind)
    assert err.value.reason == "MODEL_INVALID"

    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "manifest.json").write_text("{not json")
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tmp_path / "garbled")
    assert err.value.reason == "MODEL_INVALID"

    missing = copy_export(clip_dir, tmp_path / "missing")
    (missing / "text.fp32.onnx").unlink()
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(missing)
    assert err.value.reason == "MODEL_INVALID" and err.value.metadata["file"] == "text.fp32.onnx"

    tampered = copy_export(clip_dir, tmp_path / "tampered")
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["checksums"]["image.fp32.onnx"] = "0" * 64  # as if the file had changed since the export
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tampered, providers=[CPU])
    assert err.value.reason == "MODEL_INVALID" and "checksum" in err.value.message
    assert err.value.metadata["file"] == "image.fp32.onnx"
    assert OnnxClipModel(tampered, providers=[CPU], verify_checksums=False).dimension == 32

    (tampered / "image.fp32.onnx").write_bytes(b"not onnx")
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tampered, providers=[CPU], verify_checksums=False)
    assert err.value.reason == "MODEL_INVALID" and "onnxruntime could not load" in err.value.message

    with pytest.raises(InvalidArgument) as err:
        OnnxClipModel(clip_dir, precision="int8")
    assert err.value.reason == "INVALID_PRECISION"


def test_explicit_fp16_runs_and_agrees_with_fp32(clip_dir, clip, images):
    fp16 = OnnxClipModel(clip_dir, providers=[CPU], precision="fp16")
    assert fp16.device == "CPUExecutionProvider/fp16"
    cosines = (fp16.embed_images(images[:6]).vectors * clip.embed_images(images[:6]).vectors).sum(axis=1)
    assert cosines.min() > 0.99


def test_auto_picks_fp16_when_cuda_runs_the_model(monkeypatch, clip_dir):
    import onnxruntime as ort

    real = ort.InferenceSession
    opened: list[str] = []

    class PretendCuda:
        """A CPU session that says it runs on CUDA (this test machine has no GPU)."""

        def __init__(self, path, sess_options=None, providers=None):
            opened.append(pathlib.Path(path).name)
            self._session = real(path, sess_options=sess_options, providers=[CPU])

        def get_providers(self):
            return [CUDA, CPU]

        def __getattr__(self, name):
            return getattr(self._session, name)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", PretendCuda)
    model = OnnxClipModel(clip_dir)
    assert model.device == "CUDAExecutionProvider/fp16"
    assert opened == ["image.fp16.onnx", "text.fp16.onnx"]


def test_auto_uses_fp32_when_cuda_is_offered_but_the_cpu_runs_it(monkeypatch, clip_dir):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        model = OnnxClipModel(clip_dir)
    assert model.device == "CPUExecutionProvider/fp32"


# -- batching across callers ------------------------------------------------------------


async def test_fifty_concurrent_callers_share_a_few_batches_and_get_their_own_vectors(tmp_path, clip_dir, clip):
    images = gallery(50, size=(96, 80))
    alone = np.stack([clip.embed_images([image]).vectors[0] for image in images])
    registry = ModelRegistry(
        models_dir_with(tmp_path, clip_dir, text=False),
        (),
        image_models=("tiny-clip",),
        max_batch_texts=64,
        max_wait_ms=10,
        threads=None,
        max_batch_images=32,
    )
    await registry.load()
    try:
        served = registry.image_model("")
        vectors = await asyncio.gather(*(served.embed_image(image) for image in images))
        batcher, model = served.image_batcher, served.model
        for i, vector in enumerate(vectors):
            np.testing.assert_allclose(vector, alone[i], rtol=0, atol=1e-5)
        assert batcher.requests == 50 and batcher.texts_embedded == 50
        assert model.image_runs == batcher.batches_run <= 6, batcher.batches_run
        assert batcher.max_batch_seen <= 32
        print(f"50 concurrent callers: {batcher.batches_run} model calls, largest batch {batcher.max_batch_seen}")

        # A caller with a bad image gets its own error; the callers around it get vectors.
        results = await asyncio.gather(
            *(served.embed_image(image) for image in [images[0], b"broken", images[1]]), return_exceptions=True
        )
        assert isinstance(results[1], InvalidArgument) and results[1].reason == "IMAGE_UNREADABLE"
        np.testing.assert_allclose(results[0], alone[0], atol=1e-5)
        np.testing.assert_allclose(results[2], alone[1], atol=1e-5)
    finally:
        await registry.close()


def test_image_embeddings_slice_and_concat():
    a = ImageEmbeddings(np.ones((2, 4), np.float32), [None, None])
    b = ImageEmbeddings(np.zeros((1, 4), np.float32), [InvalidArgument("IMAGE_UNREADABLE", "x")])
    both = ImageEmbeddings.concat([a, b], 4)
    assert len(both) == 3 and both.ok == [True, True, False]
    assert both.slice(1, 3).ok == [True, False]
    assert ImageEmbeddings.empty(4).vectors.shape == (0, 4)


async def test_registry_discovers_clip_exports(tmp_path, clip_dir):
    root = models_dir_with(tmp_path, clip_dir)
    (root / "half-written").mkdir()
    assert discover_image_models(root) == ("tiny-clip",)
    registry = ModelRegistry(root, (), image_models=None, max_batch_texts=8, max_wait_ms=1, threads=1)
    await registry.load()
    try:
        (info,) = registry.describe()
        assert (info.name, info.modality, info.input_modalities, info.dimension) == (
            "tiny-clip",
            "image",
            ("text", "image"),
            32,
        )
        assert info.device == "CPUExecutionProvider/fp32" and info.max_tokens == 77
        assert registry.text_model("").name == "tiny-clip"  # no text model: EmbedTexts uses CLIP's text tower
    finally:
        await registry.close()


# -- over gRPC ----------------------------------------------------------------------------


def stub_for(channel) -> embedder_service_pb2_grpc.EmbedderServiceStub:
    return embedder_service_pb2_grpc.EmbedderServiceStub(channel)


async def collect(call) -> list[pb.EmbedImagesResponse]:
    return [response async for response in call]


def requests(images: list[bytes], *, model: str = "tiny-clip", prefix: str = "img"):
    for i, image in enumerate(images):
        yield pb.EmbedImagesRequest(model=model if i == 0 else "", image=image, id=f"{prefix}-{i}")


async def test_embed_images_over_grpc(tmp_path, clip_dir, clip, images):
    root = models_dir_with(tmp_path, clip_dir)
    text_models = (TEXT_MODEL_DIR.name,) if (root / TEXT_MODEL_DIR.name).exists() else ()
    registry = ModelRegistry(root, text_models, image_models=None, max_batch_texts=64, max_wait_ms=5, threads=None)
    servicer = EmbedderServicer(registry)
    async with serving(
        "embedder-clip-test", embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server, servicer, SERVICE
    ) as (
        _,
        channel,
    ):
        stub = stub_for(channel)
        # Before the models are loaded the service says so.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await collect(stub.EmbedImages(requests(images[:1])))
        assert (
            failure.value.code() == grpc.StatusCode.UNAVAILABLE and error_info(failure.value).reason == "MODEL_LOADING"
        )
        await registry.load()
        try:
            # One response per image, in order, ids echoed, the model named on the first.
            responses = await collect(stub.EmbedImages(requests(images)))
            assert [r.id for r in responses] == [f"img-{i}" for i in range(len(images))]
            assert responses[0].model == "tiny-clip" and all(r.model == "" for r in responses[1:])
            direct = clip.embed_images(images).vectors
            np.testing.assert_allclose(np.array([r.embedding.values for r in responses]), direct, atol=1e-5)

            # Two streams at once, the default image model (no name): each gets its own vectors, in order.
            first, second = await asyncio.gather(
                collect(stub.EmbedImages(requests(images[:10], model="", prefix="a"))),
                collect(stub.EmbedImages(requests(images[10:][::-1], model="", prefix="b"))),
            )
            np.testing.assert_allclose(np.array([r.embedding.values for r in first]), direct[:10], atol=1e-5)
            np.testing.assert_allclose(np.array([r.embedding.values for r in second]), direct[10:][::-1], atol=1e-5)
            assert [r.id for r in second] == [f"b-{i}" for i in range(10)]

            # A bad image: the images before it are answered, then the stream fails naming it.
            bad = [images[0], images[1], b"\x89PNG\r\n\x1a\n truncated", images[2]]
            call = stub.EmbedImages(requests(bad))
            received = []
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                async for response in call:
                    received.append(response.id)
            assert received == ["img-0", "img-1"]
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            info = error_info(failure.value)
            assert (info.reason, info.domain, info.metadata["index"], info.metadata["id"]) == (
                "IMAGE_UNREADABLE",
                "embedder.mivaa",
                "2",
                "img-2",
            )

            # A caller that walks away mid-stream costs nothing lasting: the next stream is served.
            call = stub.EmbedImages(requests(images))
            async for _ in call:
                break
            call.cancel()
            await asyncio.sleep(0.05)
            assert len(await collect(stub.EmbedImages(requests(images[:3])))) == 3

            # An unknown model name.
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await collect(stub.EmbedImages(requests(images[:1], model="no-such-model")))
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND

            # EmbedTexts with the CLIP name uses its text tower; the default stays the text model.
            texts = ["a photo of a cat", "a chart showing revenue by quarter"]
            response = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=texts, model="tiny-clip"))
            assert response.model == "tiny-clip"
            np.testing.assert_allclose(
                np.array([e.values for e in response.embeddings]), clip.embed_texts(texts).vectors, atol=1e-5
            )
            assert [e.token_count for e in response.embeddings] == clip.count_tokens(texts)
            default = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=texts))
            if text_models:
                assert default.model == "all-MiniLM-L6-v2" and len(default.embeddings[0].values) == 384

            # ListModels: the CLIP model is an image model that embeds text and images.
            models = {m.name: m for m in (await stub.ListModels(pb.ListModelsRequest())).models}
            tiny = models["tiny-clip"]
            assert tiny.modality == pb.MODALITY_IMAGE
            assert list(tiny.input_modalities) == [pb.MODALITY_TEXT, pb.MODALITY_IMAGE]
            assert (tiny.dimension, tiny.max_tokens, tiny.device) == (32, 77, "CPUExecutionProvider/fp32")
            assert tiny.source == clip.source != ""
            if text_models:
                text = models["all-MiniLM-L6-v2"]
                assert text.modality == pb.MODALITY_TEXT and list(text.input_modalities) == [pb.MODALITY_TEXT]
        finally:
            await registry.close()


async def test_embed_images_without_an_image_model_says_how_to_get_one(tmp_path):
    if not (TEXT_MODEL_DIR / "manifest.json").is_file():
        pytest.skip(f"text model not exported at {TEXT_MODEL_DIR}: run `make models`")
    registry = ModelRegistry(
        TEXT_MODEL_DIR.parent, (TEXT_MODEL_DIR.name,), image_models=(), max_batch_texts=8, max_wait_ms=1, threads=1
    )
    await registry.load()
    try:
        async with serving(
            "embedder-noimage-test",
            embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
            EmbedderServicer(registry),
            SERVICE,
        ) as (
            _,
            channel,
        ):
            stub = stub_for(channel)
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await collect(stub.EmbedImages(requests([encode(scene(32, 32, 1))])))
            assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert error_info(failure.value).reason == "IMAGE_MODEL_UNAVAILABLE"
            assert "mivaa models export-clip" in failure.value.details()
            # The text model is untouched.
            response = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=["still here"]))
            assert response.model == "all-MiniLM-L6-v2"
            (only,) = (await stub.ListModels(pb.ListModelsRequest())).models
            assert only.modality == pb.MODALITY_TEXT
            # What the extractor and search services use: the same reason, before any image is sent,
            # so documents are still indexed (without image vectors) and image search says why it cannot answer.
            from mivaa_platform.embedder_client import ImageEmbedderClient
            from mivaa_platform.errors import FailedPrecondition

            with pytest.raises(FailedPrecondition) as unavailable:
                await ImageEmbedderClient(channel).embed_images([encode(scene(32, 32, 1))])
            assert unavailable.value.reason == "IMAGE_MODEL_UNAVAILABLE"
            with pytest.raises(FailedPrecondition):
                await ImageEmbedderClient(channel).embed_texts(["a red bicycle"])
    finally:
        await registry.close()


async def test_one_image_of_32_mib_fits_in_a_message(tmp_path, clip_dir, clip):
    """The embedder's server takes a 32 MiB image plus its id (the shared default stops at 32 MiB)."""
    side = int(np.sqrt((MAX_IMAGE_BYTES - 1024) / 3)) // 4 * 4
    bmp = encode(scene(400, 400, 7).resize((side, side)), "BMP")
    big = bmp + b"\0" * (MAX_IMAGE_BYTES - len(bmp))  # BMP readers ignore trailing bytes
    assert len(big) == MAX_IMAGE_BYTES
    registry = ModelRegistry(
        models_dir_with(tmp_path, clip_dir, text=False),
        (),
        image_models=None,
        max_batch_texts=8,
        max_wait_ms=1,
        threads=None,
    )
    await registry.load()
    service = GrpcService(
        "embedder-big-test", ServerSettings(port=0), max_receive_message_bytes=MAX_REQUEST_MESSAGE_BYTES
    )
    service.add(embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server, EmbedderServicer(registry), SERVICE)
    port = await service.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    )
    try:
        stub = stub_for(channel)
        request = pb.EmbedImagesRequest(model="tiny-clip", image=big, id="x" * 1000)
        assert request.ByteSize() > 32 * 1024 * 1024
        (response,) = await collect(stub.EmbedImages(iter([request]), timeout=120))
        assert response.id == "x" * 1000
        np.testing.assert_allclose(response.embedding.values, clip.embed_images([bmp]).vectors[0], atol=1e-5)
        # Over the per-image limit (but within the message limit): a clear error, not a transport one.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await collect(stub.EmbedImages(iter([pb.EmbedImagesRequest(image=big + b"\0")]), timeout=120))
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(failure.value)
        assert (info.reason, info.metadata["index"], info.metadata["max_bytes"]) == (
            "IMAGE_TOO_LARGE",
            "0",
            str(MAX_IMAGE_BYTES),
        )
    finally:
        await channel.close()
        await service.stop()
        await registry.close()
