"""`mivaa models`: model folders for the embedder, made by the export venv (torch lives only there).

    mivaa models export-clip --checkpoint PATH [--out DIR] [--name NAME] [--force]
    mivaa models export-clip --tiny [--out DIR] [--name NAME]

export-clip runs tools/export_clip.py with the export venv's Python: the folder
`.cache/export-venv` of the repository (`make export-venv` creates it), or the Python
named by $MIVAA_EXPORT_PYTHON. PATH is a Hugging Face transformers CLIP folder
(CLIPModel + CLIPProcessor save_pretrained, e.g. openai/clip-vit-base-patch32 as
downloaded on a machine with internet access); --tiny first builds a tiny
random-weight CLIP with tools/make_tiny_clip.py (for trying the pipeline; its vectors
mean nothing). DIR defaults to models/NAME in the repository, where the local mesh
looks for models; NAME defaults to the checkpoint folder's name ("tiny-clip" with --tiny).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPORT_VENV = pathlib.Path(".cache") / "export-venv"
EXPORT_PYTHON_ENV = "MIVAA_EXPORT_PYTHON"
EXPORT_CLIP = pathlib.Path("tools") / "export_clip.py"
MAKE_TINY_CLIP = pathlib.Path("tools") / "make_tiny_clip.py"
TINY_NAME = "tiny-clip"
TINY_SOURCE = "tools/make_tiny_clip.py (random weights, fixed seed)"

VENV_HINT = (
    "create it with `make export-venv`, or by hand:\n"
    "    python3 -m venv .cache/export-venv\n"
    "    .cache/export-venv/bin/pip install torch==2.13.0\n"
    "    .cache/export-venv/bin/pip install -r requirements/export.txt\n"
    f"or set {EXPORT_PYTHON_ENV} to a Python that has requirements/export.txt installed"
)


def add_parser(sub) -> None:
    parser = sub.add_parser("models", help="export models for the embedder (with the export venv)")
    actions = parser.add_subparsers(dest="models_action", required=True)
    clip = actions.add_parser(
        "export-clip",
        help="export a CLIP checkpoint to ONNX (image and text towers, fp32 and fp16)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = clip.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=pathlib.Path, help="Hugging Face transformers CLIP folder")
    source.add_argument("--tiny", action="store_true", help="build a tiny random-weight CLIP and export that")
    clip.add_argument("--out", type=pathlib.Path, help="output folder (default: models/NAME in the repository)")
    clip.add_argument("--name", help="model name (default: the checkpoint folder's name, or tiny-clip)")
    clip.add_argument("--force", action="store_true", help="re-export even when the folder is up to date")


def repo_root() -> pathlib.Path | None:
    """The checkout holding tools/export_clip.py: this package's own, else the working directory."""
    for root in (REPO_ROOT, pathlib.Path.cwd()):
        if (root / EXPORT_CLIP).is_file():
            return root
    return None


def export_python(root: pathlib.Path) -> pathlib.Path | None:
    configured = os.environ.get(EXPORT_PYTHON_ENV)
    if configured:
        path = pathlib.Path(configured)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    path = root / EXPORT_VENV / "bin" / "python"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _run(command: list[str], root: pathlib.Path) -> int:
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, cwd=root, check=False).returncode


def export_clip(args) -> int:
    root = repo_root()
    if root is None:
        print(f"error: {EXPORT_CLIP} not found (run mivaa from a mivaa checkout)", file=sys.stderr)
        return 2
    python = export_python(root)
    if python is None:
        where = os.environ.get(EXPORT_PYTHON_ENV) or str(root / EXPORT_VENV)
        print(
            f"error: no export venv at {where} (torch, transformers and onnx live only there);\n{VENV_HINT}",
            file=sys.stderr,
        )
        return 2

    if args.tiny:
        name = args.name or TINY_NAME
    else:
        checkpoint = args.checkpoint.expanduser().resolve()
        if not checkpoint.is_dir():
            print(f"error: checkpoint {args.checkpoint} is not a directory", file=sys.stderr)
            return 2
        name = args.name or checkpoint.name
    out = (args.out.expanduser() if args.out else root / "models" / name).resolve()
    export = [str(python), str(root / EXPORT_CLIP), "--out", str(out), "--name", name]
    if args.force:
        export.append("--force")

    if not args.tiny:
        return _run([*export, "--checkpoint", str(checkpoint)], root)
    with tempfile.TemporaryDirectory(prefix="mivaa-tiny-clip-") as tmp:
        checkpoint = pathlib.Path(tmp) / TINY_NAME
        rc = _run([str(python), str(root / MAKE_TINY_CLIP), "--out", str(checkpoint)], root)
        if rc != 0:
            print("error: building the tiny CLIP failed", file=sys.stderr)
            return rc
        return _run([*export, "--checkpoint", str(checkpoint), "--source", TINY_SOURCE], root)


def run(args) -> int:
    if args.models_action == "export-clip":
        return export_clip(args)
    print(f"unknown models action {args.models_action!r}", file=sys.stderr)
    return 2
