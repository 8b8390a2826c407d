"""Regenerates the shared Python stub package (gen/python/mivaa) from protos/.

`make proto` runs this; `--check` regenerates into a temporary folder and fails
when the committed stubs differ, so stubs never drift from the protos.
"""

from __future__ import annotations

import argparse
import filecmp
import pathlib
import shutil
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
OUT = ROOT / "gen" / "python"


def generate(out: pathlib.Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Regular packages (not namespace packages) so every tool finds them.
    for folder in [out / "mivaa", *(p for p in (out / "mivaa").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def tree_differs(a: pathlib.Path, b: pathlib.Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    drift = sorted(str(p) for p in files_a ^ files_b)
    drift += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed stubs drift from protos")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(pathlib.Path(tmp))
            drift = tree_differs(pathlib.Path(tmp) / "mivaa", OUT / "mivaa")
        if drift:
            print("generated stubs drift from protos/ (run `make proto`):", *drift, sep="\n  ", file=sys.stderr)
            return 1
        print("stubs match protos")
        return 0
    shutil.rmtree(OUT / "mivaa", ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    generate(OUT)
    print(f"stubs written to {OUT.relative_to(ROOT)}/mivaa")
    return 0


if __name__ == "__main__":
    sys.exit(main())
