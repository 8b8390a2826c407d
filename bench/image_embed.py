"""CLIP image embedding speed: the image tower alone, and EmbedImages under 50 concurrent callers.

    .venv/bin/python bench/image_embed.py [--model-dir models/NAME | --tiny] [--device cpu|cuda|auto]
                                          [--repeats 3] [--callers 50] [--rounds 5] [--threads N]

The model: a CLIP export (`mivaa models export-clip` / tools/export_clip.py) given
with --model-dir; by default a random-weight CLIP with ViT-B/32's shapes (224x224
images in 32x32 patches, 12 layers of 768 in the image tower, 12 of 512 in the
text tower, 512-d vectors; the tokenizer and so the text vocabulary are
tools/make_tiny_clip.py's small ones), built by the export venv
(.cache/export-venv) and exported with tools/export_clip.py into
.cache/bench/clip-vit-b32-random/ once (~1 min, ~1 GB while it builds; the
checkpoint is removed afterwards). Random weights run exactly as fast as real
ones; only the fp16-vs-fp32 agreement means less (random vectors crowd together,
see the "distinct images" cosine printed beside it). --tiny uses the tests' tiny
CLIP (64x64 images, 32-d) instead: a quick check of the script, not a benchmark.

Images: tests/support/pictures.py gallery(), 64 PNGs of --image-size (640x480).

1. Image tower throughput, in this process: images/s of `embed_pixels` (the
   model alone, on preprocessed pixels) and of `embed_images` (decode +
   preprocess + model, one thread) at batch 1, 8 and 32; each figure is the best
   of --repeats runs of at least --images-per-run images (and 0.25 s), after a
   warm-up call. On the CPU in fp32 (--cpu-fp16 adds fp16, slow there); on CUDA
   when onnxruntime offers CUDAExecutionProvider, in fp16 and fp32, with the
   fp16-vs-fp32 cosine agreement (min / mean over the 64 images).
2. EmbedImages latency: an in-process embedder (ModelRegistry + EmbedderServicer
   on grpc.aio, as tests/embedder/test_clip_grpc.py starts it) and --callers
   concurrent callers on one channel, each streaming one image, for --rounds
   rounds after a warm-up round: p50 / p95 / max per call, total throughput and
   the model calls made (OnnxClipModel.image_runs), once with dynamic batching
   (max_batch_images 32, max_wait_ms 5) and once without (max_batch_images 1).
   The client shares the server's process and event loop (its cost is in the
   latencies). Runs on CUDA (fp16, the service's "auto") when part 1 did, on the
   CPU otherwise.

--device cpu: CPU only; cuda: CUDA only (an error when onnxruntime does not
offer it); auto (the default): the CPU, plus CUDA when offered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from mivaa_embedder.clip_model import FP16, FP32, OnnxClipModel, read_clip_manifest  # noqa: E402
from mivaa_embedder.text_model import CPU, CUDA  # noqa: E402
from tests.support.pictures import gallery  # noqa: E402

CACHE_DIR = REPO_ROOT / ".cache" / "bench"
B32_DIR = CACHE_DIR / "clip-vit-b32-random"
B32_NAME = "clip-vit-b32-random"
MAKE_TINY_CLIP = REPO_ROOT / "tools" / "make_tiny_clip.py"
EXPORT_CLIP = REPO_ROOT / "tools" / "export_clip.py"
SERVICE = "mivaa.embedder.v1.EmbedderService"
GALLERY_SIZE = 64
MIN_RUN_SECONDS = 0.25

# Run by the export venv's Python: a HF CLIP checkpoint with openai/clip-vit-base-patch32's shapes, random
# weights (fixed seed), make_tiny_clip.py's tokenizer (so the text vocabulary is small) and 224x224 preprocessing.
_MAKE_B32 = r"""
import json, os, pathlib, sys
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, "tools")
import make_tiny_clip as tiny
import torch
from transformers import CLIPConfig, CLIPModel

out = pathlib.Path(sys.argv[1])
tokenizer, vocab = tiny.build_tokenizer()
config = CLIPConfig(
    text_config={
        "vocab_size": len(vocab), "hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
        "num_attention_heads": 8, "max_position_embeddings": 77, "projection_dim": 512,
        "bos_token_id": vocab[tiny.BOS], "eos_token_id": vocab[tiny.EOS], "pad_token_id": vocab[tiny.EOS],
    },
    vision_config={
        "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
        "image_size": 224, "patch_size": 32, "projection_dim": 512,
    },
    projection_dim=512,
)
torch.manual_seed(0)
model = CLIPModel(config).eval()
out.mkdir(parents=True, exist_ok=True)
model.save_pretrained(str(out))
tokenizer.save_pretrained(str(out))
processor = tiny.image_processor_config()
processor["crop_size"] = {"height": 224, "width": 224}
processor["size"] = {"shortest_edge": 224}
(out / "preprocessor_config.json").write_text(json.dumps(processor, indent=2, sort_keys=True) + "\n")
print(f"wrote a random ViT-B/32-shaped CLIP checkpoint to {out}")
"""


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


def b32_source() -> str:
    """What the cached export's manifest records as its source: changes whenever the recipe does."""
    digest = hashlib.sha256(_MAKE_B32.encode())
    for path in (MAKE_TINY_CLIP, EXPORT_CLIP, EXPORT_CLIP.with_name("export_common.py")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"bench/image_embed.py: random-weight CLIP, ViT-B/32 shapes (recipe {digest.hexdigest()[:12]})"


def b32_model_dir() -> pathlib.Path:
    """The random ViT-B/32-shaped export, built (export venv, ~1 min) unless the cached one is current."""
    from tests.embedder.clip_fixture import run_export_python

    source = b32_source()
    with contextlib.suppress(Exception):
        if read_clip_manifest(B32_DIR).get("source") == source:
            return B32_DIR
    print(
        f"  (building {B32_DIR.relative_to(REPO_ROOT)}: a random ViT-B/32-shaped CLIP, exported once and cached)",
        flush=True,
    )
    started = time.perf_counter()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=".clip-b32-checkpoint.", dir=CACHE_DIR))
    try:
        for args, what in (
            (["-c", _MAKE_B32, str(work)], "building the checkpoint"),
            (
                [
                    str(EXPORT_CLIP),
                    "--checkpoint",
                    str(work),
                    "--out",
                    str(B32_DIR),
                    "--name",
                    B32_NAME,
                    "--source",
                    source,
                    "--force",
                ],
                "tools/export_clip.py",
            ),
        ):
            result = run_export_python(args)
            if result.returncode != 0:
                raise SystemExit(
                    f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the export is all the bench needs
    print(f"  (built in {time.perf_counter() - started:.0f} s)", flush=True)
    return B32_DIR


def resolve_model_dir(args: argparse.Namespace) -> pathlib.Path:
    if args.model_dir is not None:
        return args.model_dir
    if args.tiny:
        from tests.embedder.clip_fixture import build_tiny_clip

        return build_tiny_clip()
    return b32_model_dir()


def cuda_offered() -> bool:
    import onnxruntime as ort

    return CUDA in ort.get_available_providers()


def providers_for(device: str) -> list[str]:
    return [CUDA, CPU] if device == "cuda" else [CPU]


def load(model_dir: pathlib.Path, device: str, precision: str, threads: int | None) -> OnnxClipModel:
    model = OnnxClipModel(
        model_dir, providers=providers_for(device), precision=precision, intra_op_threads=threads, max_batch_size=32
    )
    if device == "cuda" and model.provider != CUDA:
        raise SystemExit(
            f"onnxruntime offers {CUDA} but the {precision} session runs on {model.provider} "
            "(CUDA/cuDNN libraries missing?)"
        )
    return model


# ---------------------------------------------------------------------------------------------
# What else ran on the machine meanwhile (a shared 2-core box makes every figure noisy)
# ---------------------------------------------------------------------------------------------


def _machine_busy_seconds() -> float | None:
    """CPU seconds spent outside idle, all cores, since boot (from /proc/stat); None where unreadable."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def others_note():
    """Prints, at the end of a section, how much of the machine's CPU other processes took during it."""
    busy, own, started = _machine_busy_seconds(), os.times(), time.perf_counter()
    yield
    end_busy, end_own, wall = _machine_busy_seconds(), os.times(), time.perf_counter() - started
    if busy is None or end_busy is None or wall <= 0:
        return
    mine = (end_own.user + end_own.system) - (own.user + own.system)
    share = max(0.0, (end_busy - busy) - mine) / (wall * (os.cpu_count() or 1))
    warning = "; the figures above are disturbed" if share >= 0.10 else ""
    print(f"  ({wall:.0f} s; other processes used {share:.0%} of the machine's CPU meanwhile{warning})")


# ---------------------------------------------------------------------------------------------
# 1. Image tower throughput
# ---------------------------------------------------------------------------------------------


def one_run(fn: Callable[[Sequence], object], items: Sequence, batch: int, images_per_run: int) -> float:
    """Images/s of fn over consecutive batches of `batch` items, for at least images_per_run images and
    MIN_RUN_SECONDS."""
    calls_per_pass = max(1, len(items) // batch)
    done, call = 0, 0
    started = time.perf_counter()
    while done < images_per_run or time.perf_counter() - started < MIN_RUN_SECONDS:
        start = (call % calls_per_pass) * batch
        fn(items[start : start + batch])
        done += batch
        call += 1
    return done / (time.perf_counter() - started)


def best_rates(
    runs: list[tuple[Callable[[Sequence], object], Sequence]], batch: int, images_per_run: int, repeats: int
) -> list[float]:
    """The best of `repeats` runs of each (fn, items), after a warm-up call of each. Runs alternate
    between the functions, so a busy spell on the machine does not land on one of them only."""
    for fn, items in runs:
        fn(items[:batch])
    best = [0.0] * len(runs)
    for _ in range(repeats):
        for i, (fn, items) in enumerate(runs):
            best[i] = max(best[i], one_run(fn, items, batch, images_per_run))
    return best


def throughput_table(
    models: list[OnnxClipModel], images: list[bytes], batches: list[int], images_per_run: int, repeats: int
) -> None:
    for model in models:
        pixels = np.stack([model.preprocess_image(image) for image in images])
        for batch in batches:
            model_rate, full_rate = best_rates(
                [(model.embed_pixels, pixels), (model.embed_images, images)], batch, images_per_run, repeats
            )
            print(
                f"  {model.device:<30} {batch:>5} {model_rate:>9.1f} i/s {full_rate:>9.1f} i/s "
                f"{min(full_rate / model_rate, 1.0):>11.0%}",
                flush=True,
            )


def preprocess_rate(model: OnnxClipModel, images: list[bytes], repeats: int) -> float:
    (rate,) = best_rates(
        [(lambda chunk: [model.preprocess_image(image) for image in chunk], images)], len(images), len(images), repeats
    )
    return rate


def agreement(fp16: OnnxClipModel, fp32: OnnxClipModel, images: list[bytes]) -> None:
    half = fp16.embed_images(images).vectors
    full = fp32.embed_images(images).vectors
    same = (half * full).sum(axis=1)
    pairs = full @ full.T
    distinct = pairs[~np.eye(len(full), dtype=bool)]
    print(
        f"  fp16 vs fp32 on {fp32.provider}, {len(images)} images: cosine min {same.min():.6f}, "
        f"mean {same.mean():.6f}  (distinct images' fp32 cosine: mean {distinct.mean():.4f}, "
        f"max {distinct.max():.4f})"
    )


def tower_throughput(
    args: argparse.Namespace, model_dir: pathlib.Path, devices: list[str], images: list[bytes]
) -> None:
    threads = args.threads or os.cpu_count()
    print(
        f"1. Image tower throughput, images/s (best of {args.repeats} runs of >= {args.images_per_run} images "
        f"after a warm-up call; embed_images decodes and preprocesses on one thread; "
        f"{threads} onnxruntime threads, {os.cpu_count()} cores); model share: of embed_images' time"
    )
    print(f"  {'device / precision':<30} {'batch':>5} {'embed_pixels':>13} {'embed_images':>13} {'model share':>12}")
    for device in devices:
        precisions = [FP16, FP32] if device == "cuda" or args.cpu_fp16 else [FP32]
        models = {precision: load(model_dir, device, precision, args.threads) for precision in precisions}
        throughput_table(list(models.values()), images, args.batches, args.images_per_run, args.repeats)
        if FP16 in models:
            agreement(models[FP16], models[FP32], images)
        if device == devices[0]:
            rate = preprocess_rate(models[FP32], images, args.repeats)
            print(f"  decode + preprocess alone (one thread): {rate:.1f} images/s ({1000 / rate:.2f} ms/img)")
        del models


# ---------------------------------------------------------------------------------------------
# 2. EmbedImages under concurrent callers, over gRPC
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def registry_providers(providers: list[str]):
    """ModelRegistry lets OnnxClipModel pick its providers (CUDA when offered); the bench pins them."""
    import mivaa_embedder.registry as registry_module

    original = registry_module.OnnxClipModel
    registry_module.OnnxClipModel = functools.partial(original, providers=providers)
    try:
        yield
    finally:
        registry_module.OnnxClipModel = original


@contextlib.asynccontextmanager
async def embedder(
    model_dir: pathlib.Path, device: str, *, max_batch_images: int, max_wait_ms: float, threads: int | None
):
    """An in-process embedder serving the CLIP export (ModelRegistry + EmbedderServicer on grpc.aio):
    yields (stub, the OnnxClipModel, its image batcher)."""
    from mivaa.embedder.v1 import embedder_service_pb2_grpc
    from mivaa_embedder.registry import ModelRegistry
    from mivaa_embedder.servicer import EmbedderServicer
    from tests.support.inprocess import serving

    with tempfile.TemporaryDirectory(prefix="bench-image-embed-") as tmp:
        root = pathlib.Path(tmp)
        (root / "clip").symlink_to(model_dir.resolve(), target_is_directory=True)  # noqa: ASYNC240 - set-up, before timing
        registry = ModelRegistry(
            root,
            (),
            image_models=("clip",),
            max_batch_texts=64,
            max_wait_ms=max_wait_ms,
            threads=threads,
            max_batch_images=max_batch_images,
        )
        with registry_providers(providers_for(device)):
            await registry.load()
        try:
            served = registry.image_model("")
            add = embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server
            async with serving("bench-embedder", add, EmbedderServicer(registry), SERVICE) as (_, channel):
                yield embedder_service_pb2_grpc.EmbedderServiceStub(channel), served.model, served.image_batcher
        finally:
            await registry.close()


async def one_round(
    stub, model: OnnxClipModel, images: list[bytes], callers: int, number: int
) -> tuple[list[float], float]:
    """`callers` concurrent EmbedImages calls of one image each: (latencies in s, wall time of the round)."""
    from mivaa.embedder.v1 import embedder_service_pb2 as pb

    async def call(i: int) -> float:
        image_id = f"r{number}-c{i}"
        request = pb.EmbedImagesRequest(image=images[(number * callers + i) % len(images)], id=image_id)
        started = time.perf_counter()
        responses = [r async for r in stub.EmbedImages(iter([request]))]
        elapsed = time.perf_counter() - started
        if len(responses) != 1 or responses[0].id != image_id or len(responses[0].embedding.values) != model.dimension:
            raise SystemExit(f"unexpected EmbedImages answer for {image_id}: {responses!r:.300}")
        return elapsed

    started = time.perf_counter()
    latencies = await asyncio.gather(*(call(i) for i in range(callers)))
    return list(latencies), time.perf_counter() - started


async def compare_batching(
    args: argparse.Namespace,
    model_dir: pathlib.Path,
    device: str,
    images: list[bytes],
    settings: dict[str, tuple[int, float]],
) -> dict[str, dict]:
    """Both embedders up at once; their rounds alternate, so a busy spell on the machine hits both alike."""
    async with contextlib.AsyncExitStack() as stack:
        servers = {
            label: await stack.enter_async_context(
                embedder(model_dir, device, max_batch_images=max_batch, max_wait_ms=wait_ms, threads=args.threads)
            )
            for label, (max_batch, wait_ms) in settings.items()
        }
        stats = {}
        for label, (stub, model, batcher) in servers.items():
            await one_round(stub, model, images, args.callers, -1)  # warm-up: channel, decode threads, batcher, model
            stats[label] = {
                "device": model.device,
                "latencies": [],
                "wall": 0.0,
                "runs": -model.image_runs,
                "batches": -batcher.batches_run,
            }
        for number in range(args.rounds):
            for label, (stub, model, _) in servers.items():
                latencies, wall = await one_round(stub, model, images, args.callers, number)
                stats[label]["latencies"] += latencies
                stats[label]["wall"] += wall
        for label, (_, model, batcher) in servers.items():
            stat = stats[label]
            stat["runs"] += model.image_runs
            stat["batches"] += batcher.batches_run
            stat["largest"] = batcher.max_batch_seen
            stat["latencies"] = np.array(stat["latencies"]) * 1000
            stat["images"] = len(stat["latencies"])
            stat["throughput"] = stat["images"] / stat["wall"]
            if stat["batches"] != stat["runs"]:
                raise SystemExit(f"{label}: the batcher ran {stat['batches']} batches, the model {stat['runs']} runs")
        return stats


def latency_comparison(args: argparse.Namespace, model_dir: pathlib.Path, device: str, images: list[bytes]) -> None:
    settings = {"with": (32, 5.0), "without": (1, 5.0)}
    results = asyncio.run(compare_batching(args, model_dir, device, images, settings))
    with_, without = results["with"], results["without"]
    print(
        f"2. EmbedImages over gRPC: {args.callers} concurrent callers, one image each, x {args.rounds} rounds per "
        f"setting (alternating, after a warm-up round); in-process embedder on {with_['device']}, the client on "
        f"its event loop"
    )
    print(f"  {'':<26} {'batching (32 images, 5 ms)':>27} {'no batching (1 image)':>22} {'without / with':>15}")
    rows = [
        (
            "p50 latency per call (ms)",
            float(np.percentile(with_["latencies"], 50)),
            float(np.percentile(without["latencies"], 50)),
        ),
        (
            "p95 latency per call (ms)",
            float(np.percentile(with_["latencies"], 95)),
            float(np.percentile(without["latencies"], 95)),
        ),
        ("max latency per call (ms)", float(with_["latencies"].max()), float(without["latencies"].max())),
        ("throughput (images/s)", with_["throughput"], without["throughput"]),
    ]
    for name, a, b in rows:
        print(f"  {name:<26} {a:>27.1f} {b:>22.1f} {b / a:>14.2f}x")
    print(f"  {'model calls (image_runs)':<26} {with_['runs']:>27} {without['runs']:>22}")
    print(
        f"  {'images per model call':<26} {with_['images'] / with_['runs']:>27.1f} "
        f"{without['images'] / without['runs']:>22.1f}"
    )
    print(f"  {'largest batch':<26} {with_['largest']:>27} {without['largest']:>22}")


# ---------------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--model-dir", type=pathlib.Path, help="an exported CLIP folder (manifest kind clip)")
    which.add_argument("--tiny", action="store_true", help="the tests' tiny CLIP (64x64, 32-d): a smoke run")
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: all cores)")
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure in part 1 (the best counts)")
    parser.add_argument("--images-per-run", type=int, default=32)
    parser.add_argument("--cpu-fp16", action="store_true", help="also time the fp16 graph on the CPU (slow there)")
    parser.add_argument("--image-size", type=parse_size, default=(640, 480), help="WxH of the gallery PNGs")
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-grpc", action="store_true")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    offered = cuda_offered()
    if args.device == "cuda" and not offered:
        raise SystemExit(f"--device cuda: onnxruntime offers no {CUDA} here (install onnxruntime-gpu)")
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "auto": ["cpu", "cuda"] if offered else ["cpu"]}[args.device]
    model_dir = resolve_model_dir(args)
    manifest = read_clip_manifest(model_dir)
    images = gallery(GALLERY_SIZE, size=args.image_size)
    mean_kb = statistics.fmean(len(i) for i in images) / 1024
    print(f"CLIP image embedding: {manifest['name']} ({manifest.get('source', '')}), {model_dir}")
    print(
        f"  {manifest['dimension']}-d, {manifest.get('image_size', '?')}px input; {len(images)} gallery PNGs of "
        f"{args.image_size[0]}x{args.image_size[1]} ({mean_kb:.0f} KiB mean); devices: {', '.join(devices)}"
        + ("" if offered else f" ({CUDA} not offered by onnxruntime here)")
    )
    print()
    if not args.skip_throughput:
        with others_note():
            tower_throughput(args, model_dir, devices, images)
        print()
    if not args.skip_grpc:
        with others_note():
            latency_comparison(args, model_dir, devices[-1], images)
        print()
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
