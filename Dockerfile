# syntax=docker/dockerfile:1
# One multi-target build for every service; each image installs only its own service's
# distribution (with the stubs and the platform libraries it depends on):
#   docker build --target extractor -t ghcr.io/mivaa/extractor:0.1.0 .
#   docker build --target search    -t ghcr.io/mivaa/search:0.1.0 .
#   docker build --target embedder  -t ghcr.io/mivaa/embedder:0.1.0 .
#   docker build --target embedder-gpu -t ghcr.io/mivaa/embedder-gpu:0.1.0 .
#   docker build --target model-export -t ghcr.io/mivaa/model-export:0.1.0 .
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

# torch lives only in these stages: they export the ONNX models the embedder serves (point pip at a
# CPU-only torch index here to keep them small). The export scripts keep the checkout's layout: they
# import tools/export_common.py beside them and check parity with the pooling the embedder serves
# (services/embedder/mivaa_embedder, which imports libs/mivaa_platform).
FROM python:3.11-slim AS export-tools
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements/export.txt requirements/
RUN pip install torch==2.13.0 \
    && pip install -r requirements/export.txt
COPY tools/export_common.py tools/export_text_model.py tools/export_clip.py tools/export_clip_checkpoint.py tools/export_clip_onnx.py tools/
COPY services/embedder/mivaa_embedder services/embedder/mivaa_embedder
COPY libs/mivaa_platform libs/mivaa_platform

# The text model, baked into the embedder image (and its tokenizer into the extractor's).
FROM export-tools AS models
RUN python tools/export_text_model.py --out /models/all-MiniLM-L6-v2

# Exports a CLIP checkpoint into a volume at deploy time (components/clip-model: the embedder's
# init container); nothing is downloaded, the checkpoint is read from its own volume.
FROM export-tools AS model-export
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mivaa
USER 10001
ENTRYPOINT ["python", "tools/export_clip.py"]

# Each target names its wheels as files, so pip takes ours and never looks up a mivaa-* name.
FROM runtime AS extractor
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install /wheels/mivaa_protos-*.whl /wheels/mivaa_platform-*.whl /wheels/mivaa_extractor-*.whl
# Chunks are cut to the embedder's token budget with the text model's own tokenizer (EXTRACTOR_TOKENIZER_PATH).
COPY --from=models /models/all-MiniLM-L6-v2/tokenizer.json /opt/mivaa/models/all-MiniLM-L6-v2/tokenizer.json
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

# Tesseract and the major scripts' language data from Debian (tools/install_tessdata.sh); EasyOCR (and its CPU torch) from tools/install_ocr.sh.
FROM runtime AS ocr
COPY requirements/ocr.txt requirements/
COPY tools/install_ocr.sh tools/install_tessdata.sh tools/
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

# The embedder on NVIDIA GPUs (components/gpu-embedder): onnxruntime's CUDA build in place of the
# CPU one, with the CUDA and cuDNN libraries from their pip wheels (the node supplies the driver).
FROM embedder AS embedder-gpu
USER root
RUN pip uninstall -y onnxruntime \
    && pip install "onnxruntime-gpu[cuda,cudnn]==1.31.1"
USER 10001

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
