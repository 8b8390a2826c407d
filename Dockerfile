# syntax=docker/dockerfile:1
# One multi-target build for every service; each image installs only its own service's
# distribution (with the stubs and the platform libraries it depends on):
#   docker build --target extractor -t ghcr.io/mivaa/extractor:0.1.0 .
#   docker build --target search    -t ghcr.io/mivaa/search:0.1.0 .
#   docker build --target embedder  -t ghcr.io/mivaa/embedder:0.1.0 .
#   docker build --target ocr       -t ghcr.io/mivaa/ocr:0.1.0 .
#   docker build --target answer    -t ghcr.io/mivaa/answer:0.1.0 .
#   docker build --target console   -t ghcr.io/mivaa/console:0.1.0 .

# Wheels of every distribution, built once; the targets below install the ones they run.
FROM python:3.11-slim AS wheels
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY gen/python gen/python
COPY libs libs
COPY services services
RUN pip wheel --no-deps -w /wheels ./gen/python ./libs ./services/extractor ./services/search ./services/embedder ./services/ocr ./services/answer

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/mivaa
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mivaa

# torch lives only in this stage: it exports the ONNX models the embedder serves
# (point pip at a CPU-only torch index here to keep the stage small).
FROM python:3.11-slim AS models
WORKDIR /build
COPY requirements/export.txt tools/export_text_model.py ./
RUN pip install torch==2.13.0 \
    && pip install -r export.txt \
    && python export_text_model.py --out /models/all-MiniLM-L6-v2

# Each target names its wheels as files, so pip takes ours and never looks up a mivaa-* name.
FROM runtime AS extractor
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl /wheels/mivaa_extractor-*.whl
USER 10001
CMD ["python", "-m", "mivaa_extractor.main"]

FROM runtime AS search
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl /wheels/mivaa_search-*.whl
USER 10001
CMD ["python", "-m", "mivaa_search.main"]

FROM runtime AS answer
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl /wheels/mivaa_answer-*.whl
USER 10001
CMD ["python", "-m", "mivaa_answer.main"]

# Tesseract from Debian; EasyOCR (and its CPU torch) from tools/install_ocr.sh.
FROM runtime AS ocr
COPY requirements/ocr.txt requirements/
COPY tools/install_ocr.sh tools/
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl "$(echo /wheels/mivaa_ocr-*.whl)[tesseract]" \
    && bash tools/install_ocr.sh /usr/local
USER 10001
CMD ["python", "-m", "mivaa_ocr.main"]

FROM runtime AS embedder
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl /wheels/mivaa_embedder-*.whl
COPY --from=models /models /opt/mivaa/models
ENV EMBEDDER_MODELS_DIR=/opt/mivaa/models
USER 10001
CMD ["python", "-m", "mivaa_embedder.main"]

# The web console: built with npm from package-lock.json (its API stubs are committed), served
# by an unprivileged nginx (uid 101, port 8080) behind the gateway, which adds the headers.
FROM node:20-bookworm-slim AS console-build
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.29-alpine AS console
COPY deploy/console/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=console-build /src/console/dist /usr/share/nginx/html
USER 101
