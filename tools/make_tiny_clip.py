"""Builds a tiny random-weight CLIP checkpoint (Hugging Face transformers layout) for tests and CI.

Run with the export venv (requirements/export.txt), never the service venv:

    .cache/export-venv/bin/python tools/make_tiny_clip.py --out .cache/tiny-clip-checkpoint

Nothing is downloaded. The model is `CLIPModel(CLIPConfig(...))` with tiny towers
(hidden 64, 2 layers, 2 heads, 64x64 images in 16x16 patches, projection 32) and
weights drawn from a fixed seed (the vision tower's init scaled up, so that different
images get clearly different vectors). The tokenizer is a real CLIP byte-level BPE
tokenizer (`transformers.CLIPTokenizer`: NFC + whitespace folding + lowercase, the
CLIP split regex, byte-level, `</w>` word ends, <|startoftext|> ... <|endoftext|>)
whose merges are learnt here (plain BPE, deterministic) from TRAINING_TEXT; its
vocab is laid out like OpenAI's (the 256 byte symbols, the same with `</w>`, the
merged tokens in merge order, then <|startoftext|> and <|endoftext|> last), so the
special ids are the two highest, exactly as in a real checkpoint.

The folder holds what `CLIPModel.save_pretrained` and `CLIPTokenizer.save_pretrained`
write (config.json, model.safetensors, tokenizer.json, tokenizer_config.json, ...)
plus preprocessor_config.json, the CLIPImageProcessor settings in the layout that
the published checkpoints (openai/clip-vit-base-patch32) ship. That file is written
from its settings rather than by `CLIPProcessor.save_pretrained`, because
transformers 5's CLIPImageProcessor needs Pillow and torchvision, which the export
venv does not have; `CLIPProcessor.from_pretrained(OUT)` loads the folder wherever
they are installed.

The same arguments give byte-identical weights and tokenizer files (config.json
records the transformers version that wrote it).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

SEED = 0
IMAGE_SIZE = 64
PATCH_SIZE = 16
HIDDEN = 64
INTERMEDIATE = 128
LAYERS = 2
HEADS = 2
PROJECTION_DIM = 32
MAX_TEXT_TOKENS = 77
VISION_INIT_FACTOR = 4.0  # different images get clearly different vectors (pairwise cosine ~0.4-0.65)
BPE_MERGES = 400  # at most; the vocab is 512 byte symbols + the merged tokens + 2 specials
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# transformers.image_utils.OPENAI_CLIP_MEAN / OPENAI_CLIP_STD
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

TRAINING_TEXT = [
    "a photo of a cat",
    "a photo of a dog",
    "a photo of a bird sitting on a branch",
    "a diagram of the extraction pipeline",
    "a chart showing revenue by quarter",
    "a table with latency numbers",
    "a scanned page of a thesis with formulas",
    "the quick brown fox jumps over the lazy dog",
    "an aerial photograph of a river valley",
    "a black and white portrait of a woman",
    "a red car parked in front of a house",
    "a plot of training loss against epochs",
    "a map of the railway network in 1872",
    "a screenshot of source code",
    "a hand-drawn sketch of a bridge",
    "a logo on a white background",
    "photosynthesis converts light energy into chemical energy stored in glucose",
    "the committee met on a grey tuesday morning to review the proposal for the new library",
    "die katze sitzt auf der matte und draußen regnet es",
    "le laboratoire étudie les entrepôts de données",
    "figure 3: p95 latency (ms) = 12.5 ± 0.3 for n=1,024 requests",
    "an x-ray image of a chest",
    "a microscope image of cells",
    "a bar chart and a pie chart",
    "a flowchart with boxes and arrows",
    "a satellite image of clouds over the sea",
]


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's printable stand-in for every byte (what pre_tokenizers.ByteLevel emits)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def learn_merges(words: dict[str, int], limit: int) -> list[tuple[str, str]]:
    """Plain BPE over `words` (pre-tokenized, byte-level), deterministic: most frequent pair
    first, ties broken by the pair itself. (tokenizers' BpeTrainer breaks ties in hash order,
    so its merges differ from run to run.)"""
    from collections import Counter

    # Each word as its symbols, the last one carrying the end-of-word suffix.
    pieces = {word: [*word[:-1], word[-1] + "</w>"] for word in words}
    merges: list[tuple[str, str]] = []
    while len(merges) < limit:
        pairs: Counter = Counter()
        for word, symbols in pieces.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += words[word]
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        joined = best[0] + best[1]
        for word, symbols in pieces.items():
            i, merged = 0, []
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    merged.append(joined)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            pieces[word] = merged
    return merges


def build_tokenizer():
    """A real CLIPTokenizer over a small BPE vocabulary learnt from TRAINING_TEXT."""
    from collections import Counter

    from transformers import CLIPTokenizer

    # CLIPTokenizer's own normalizer and pre-tokenizer, so the merges are learnt on what it will see.
    pipeline = CLIPTokenizer(vocab={BOS: 0, EOS: 1}, merges=[]).backend_tokenizer
    words: Counter = Counter()
    for text in TRAINING_TEXT:
        normalized = pipeline.normalizer.normalize_str(text)
        words.update(piece for piece, _ in pipeline.pre_tokenizer.pre_tokenize_str(normalized))
    byte_symbols = list(bytes_to_unicode().values())
    merges = learn_merges(dict(words), BPE_MERGES)

    # OpenAI's layout: bytes, bytes + </w>, merged tokens in merge order, then the specials.
    vocab: dict[str, int] = {}
    for symbol in byte_symbols + [s + "</w>" for s in byte_symbols]:
        vocab.setdefault(symbol, len(vocab))
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_TEXT_TOKENS)
    return tokenizer, vocab


def image_processor_config() -> dict:
    """CLIPImageProcessor's settings for the tiny model, as preprocessor_config.json holds them."""
    return {
        "crop_size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "processor_class": "CLIPProcessor",
        "resample": 3,  # PIL.Image.BICUBIC
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": IMAGE_SIZE},
    }


def build(out: pathlib.Path) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    from transformers import CLIPConfig, CLIPModel

    tokenizer, vocab = build_tokenizer()
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": HIDDEN,
            "intermediate_size": INTERMEDIATE,
            "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS,
            "max_position_embeddings": MAX_TEXT_TOKENS,
            "projection_dim": PROJECTION_DIM,
            "bos_token_id": vocab[BOS],
            "eos_token_id": vocab[EOS],
            "pad_token_id": vocab[EOS],
        },
        vision_config={
            "hidden_size": HIDDEN,
            "intermediate_size": INTERMEDIATE,
            "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS,
            "image_size": IMAGE_SIZE,
            "patch_size": PATCH_SIZE,
            "projection_dim": PROJECTION_DIM,
            # With the default init the tiny vision tower maps every image to nearly the same
            # vector (pairwise cosine ~0.98), too close to tell a broken export from a good one.
            "initializer_factor": VISION_INIT_FACTOR,
        },
        projection_dim=PROJECTION_DIM,
    )
    torch.manual_seed(SEED)
    model = CLIPModel(config).eval()

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    (out / "preprocessor_config.json").write_text(json.dumps(image_processor_config(), indent=2, sort_keys=True) + "\n")
    print(
        f"wrote tiny CLIP to {out}: vocab {len(vocab)}, hidden {HIDDEN}, {LAYERS} layers, "
        f"image {IMAGE_SIZE}/{PATCH_SIZE}, dimension {PROJECTION_DIM}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="checkpoint folder to write")
    args = parser.parse_args(argv)
    build(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
