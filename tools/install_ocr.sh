#!/usr/bin/env bash
# Installs the OCR engines: Tesseract language data from the system packages (tools/install_tessdata.sh),
# then torch (CPU, alone and first), then requirements/ocr.txt into the venv $1.
# Idempotent: skips what is already there.
#
#   tools/install_ocr.sh .venv
set -euo pipefail

VENV="${1:?usage: tools/install_ocr.sh VENV}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIP="$VENV/bin/pip"
PY="$VENV/bin/python"
TORCH_VERSION="2.13.0"

# Tesseract and its language data for the major scripts, with the fonts the OCR tests render with
# (the tesserocr wheel bundles the library itself). MIVAA_OCR_EXTRA_LANGS adds languages.
bash "$ROOT/tools/install_tessdata.sh"

# torch first and alone, pinned: anything else lets pip pull GBs of CUDA wheels.
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null; then
    "$PIP" install --quiet "torch==$TORCH_VERSION"
fi
"$PIP" install --quiet -r "$ROOT/requirements/ocr.txt"

# Fail now, not at service start, when an engine cannot load.
PYTHONPATH="$ROOT/services/ocr:$ROOT/libs:$ROOT/gen/python${PYTHONPATH:+:$PYTHONPATH}" "$PY" - <<'PY'
from mivaa_ocr.engines.factory import create_engine

for name in ("tesseract", "easyocr"):
    engine = create_engine(name)
    info = engine.info()
    print(f"install_ocr: {info.name} ready on {info.device}, languages: {', '.join(info.languages)}")
    engine.close()
PY
