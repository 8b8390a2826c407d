#!/usr/bin/env bash
# Installs the OCR engines: Tesseract language data from the system packages,
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

# Tesseract language data (the tesserocr wheel bundles the library itself).
tessdata_has() { ls /usr/share/tesseract-ocr/*/tessdata/"$1".traineddata >/dev/null 2>&1; }
if ! command -v tesseract >/dev/null 2>&1 || ! tessdata_has eng || ! tessdata_has osd; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd
        # a second language for the multi-language tests; not fatal where the package is missing
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr-deu || \
            echo "install_ocr: tesseract-ocr-deu not available, German OCR tests will be skipped"
    else
        echo "install_ocr: no apt-get here; install Tesseract and its eng/osd language data yourself" >&2
    fi
fi

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
