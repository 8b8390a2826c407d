import sys

# PyMuPDF >= 2.0 imports its optional ONNX layout analyser (pymupdf.layout) on
# `import pymupdf` when that package is installed, which it is by default. We
# do our own layout analysis, and the analyser would cost every extraction
# worker process ~0.2 s of start-up and ~55 MB of memory: keep it unloaded.
# (A process that imported pymupdf before this package keeps what it has.)
if "pymupdf" not in sys.modules:
    sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
