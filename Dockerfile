# One multi-target build for every service, so the shared platform and stubs are built once:
#   docker build --target extractor -t ghcr.io/mivaa/extractor:0.1.0 .
#   docker build --target search    -t ghcr.io/mivaa/search:0.1.0 .
#   docker build --target embedder  -t ghcr.io/mivaa/embedder:0.1.0 .
#   docker build --target ocr       -t ghcr.io/mivaa/ocr:0.1.0 .
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/mivaa
COPY pyproject.toml README.md ./
COPY gen gen
COPY libs libs
COPY services services
COPY cli cli
RUN pip install . && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mivaa
USER 10001

# torch lives only in this stage: it exports the ONNX models the embedder serves
# (point pip at a CPU-only torch index here to keep the stage small).
FROM python:3.11-slim AS models
WORKDIR /build
COPY requirements/export.txt tools/export_text_model.py ./
RUN pip install torch==2.13.0 \
    && pip install -r export.txt \
    && python export_text_model.py --out /models/all-MiniLM-L6-v2

FROM runtime AS extractor
CMD ["python", "-m", "mivaa_extractor.main"]

FROM runtime AS search
CMD ["python", "-m", "mivaa_search.main"]

# Tesseract from Debian; EasyOCR (and its CPU torch) from tools/install_ocr.sh.
FROM runtime AS ocr
USER root
COPY requirements/ocr.txt requirements/
COPY tools/install_ocr.sh tools/
RUN bash tools/install_ocr.sh /usr/local
USER 10001
CMD ["python", "-m", "mivaa_ocr.main"]

FROM runtime AS embedder
COPY --from=models /models /opt/mivaa/models
ENV EMBEDDER_MODELS_DIR=/opt/mivaa/models
CMD ["python", "-m", "mivaa_embedder.main"]
