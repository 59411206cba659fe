# Linktor — the one entry point. `make help` lists the targets.
# Nothing here needs Docker or a running service: `make services` starts what tests need.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

UV_VERSION := 0.13.8
UV := .tools/uv/bin/uv
PY := .venv/bin/python
BUF := tools/node_modules/.bin/buf
# Generated Python, OpenAPI and SDK code, written only by `make gen`: gen/, and the Python
# SDK's generated layer and sync twins (sdks/python/tools/generate.py).
GEN_DIRS := gen sdks/python/src/linktor/sdk/_generated 'sdks/python/src/linktor/sdk/*_sync.py'
BUF_BREAKING_AGAINST ?= .git\#ref=HEAD~1

export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- setup
$(UV):
	python3 -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml gen/python/pyproject.toml
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

GRPCURL := .tools/bin/grpcurl
GRPCURL_VERSION := v1.9.4

$(GRPCURL):
	GOBIN=$(CURDIR)/.tools/bin go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

$(BUF): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: setup
setup: .venv/.synced ## Install the Python workspace (uv, locked) — all `make run` needs.

.PHONY: setup-tools
setup-tools: setup $(BUF) $(GRPCURL) ## Also install buf and grpcurl (contracts, tests).

# ---------------------------------------------------------------- contracts
.PHONY: gen
gen: setup $(BUF) ## Regenerate gen/ from proto/ (the only writer of gen/).
	@# Generate into a scratch tree, then swap each generated root in with a rename, so
	@# processes importing gen/python never see it half-written or missing.
	rm -rf .gen-tmp
	$(BUF) generate -o .gen-tmp
	$(BUF) generate --template buf.gen.goplugin.yaml -o .gen-tmp
	@# The OpenAPI document ships inside linktor-proto too: `linktor serve` serves it at
	@# /openapi.json from an installed wheel, where gen/openapi/ does not exist.
	cp .gen-tmp/gen/openapi/linktor.openapi.json .gen-tmp/gen/python/linktor/v1/
	for new in .gen-tmp/gen/python/* .gen-tmp/gen/openapi/*; do \
	  dest=$${new#.gen-tmp/}; rm -rf "$$dest.old"; \
	  if [ -e "$$dest" ]; then mv "$$dest" "$$dest.old"; fi; \
	  mkdir -p "$$(dirname "$$dest")"; mv "$$new" "$$dest"; rm -rf "$$dest.old"; \
	done
	rm -rf .gen-tmp
	$(MAKE) gen-post

.PHONY: gen-post
gen-post:
	@true

# The Python SDK's generated layer (resources from proto/, sync twins of its async modules).
gen-post: gen-python-sdk
.PHONY: gen-python-sdk
gen-python-sdk: setup ## Regenerate sdks/python's generated layer (part of `make gen`).
	$(PY) sdks/python/tools/generate.py >/dev/null

.PHONY: sdk-python-docs
sdk-python-docs: setup ## Python SDK reference docs from docstrings (pdoc) into docs/sdk/python.
	$(PY) -m pdoc -o docs/sdk/python --docformat google linktor.sdk

.PHONY: check-gen
check-gen: gen ## Fail if `make gen` changes any generated file (gen/, the SDK's generated layer).
	@if [ -n "$$(git status --porcelain -- $(GEN_DIRS))" ]; then \
	  echo "generated code is out of date: run 'make gen' and commit the result." >&2; \
	  git status --porcelain -- $(GEN_DIRS) >&2; git --no-pager diff --stat -- $(GEN_DIRS) >&2; exit 1; fi
	@echo "generated code is up to date."

.PHONY: buf-lint
buf-lint: setup $(BUF) ## buf lint and buf format on proto/.
	$(BUF) lint
	$(BUF) format -d --exit-code proto

.PHONY: buf-breaking
buf-breaking: setup $(BUF) ## buf breaking (FILE) against BUF_BREAKING_AGAINST (default: previous commit).
	@if git rev-parse -q --verify HEAD~1 >/dev/null; then \
	  $(BUF) breaking --against '$(BUF_BREAKING_AGAINST)'; \
	else echo "no previous commit: nothing to compare"; fi

# ---------------------------------------------------------------- quality
.PHONY: lint
lint: setup ## ruff (lint + format check) and mypy --strict.
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

.PHONY: fmt
fmt: setup ## Format and auto-fix Python code.
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# ---------------------------------------------------------------- services
.PHONY: services
services: ## Install (if missing) and start PostgreSQL, Redis and NATS JetStream on 127.0.0.1.
	scripts/services.sh up

.PHONY: services-stop
services-stop: ## Stop exactly what `make services` started.
	scripts/services.sh down

# ---------------------------------------------------------------- web chat widget
# The bundle is committed inside the server package (served at /widget.js from an installed
# wheel, no Node needed to run Linktor); check-widget fails when it drifts from its sources.
# See docs/adr/0008-web-chat.md.
WIDGET := web/widget
WIDGET_BUNDLE := server/src/linktor/server/webchat/static/widget.js

$(WIDGET)/node_modules/.package-lock.json: $(WIDGET)/package.json $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: widget-deps
widget-deps: $(WIDGET)/node_modules/.package-lock.json

.PHONY: widget
widget: widget-deps ## Type-check (strict) and bundle the web chat widget into the server.
	cd $(WIDGET) && node_modules/.bin/tsc --noEmit -p . && node build.mjs

.PHONY: check-widget
check-widget: widget ## Fail if the committed widget bundle differs from web/widget/src.
	@if [ -n "$$(git status --porcelain -- $(WIDGET_BUNDLE))" ]; then \
	  echo "$(WIDGET_BUNDLE) is out of date: run 'make widget' and commit the result." >&2; exit 1; fi
	@echo "the widget bundle is up to date."

.PHONY: browser
browser: ## Install Debian's chromium for the browser tests (idempotent).
	@scripts/browser.sh >/dev/null

# ---------------------------------------------------------------- tests
PYTEST := $(PY) -m pytest

.PHONY: test
test: ## Everything CI runs: contracts, lint, and every test on both backends.
	@# Independent set-up runs side by side (the Go build of grpcurl, npm, apt and the
	@# services); mypy then runs beside the tests, which mostly wait on their servers.
	$(MAKE) -j3 --output-sync=target setup-tools prepare widget-deps
	$(MAKE) buf-lint check-gen buf-breaking check-widget
	$(MAKE) -j2 --output-sync=line lint pytest

.PHONY: prepare
prepare: ## Services and the browser the tests need (apt-based: one after the other).
	scripts/services.sh up
	@scripts/browser.sh >/dev/null

.PHONY: pytest
pytest: setup ## The whole test suite against the running services (see `make services`).
	set -a; eval "$$(scripts/services.sh env)"; set +a; $(PYTEST) --durations=25 $(PYTEST_ARGS)

.PHONY: check
check: buf-lint check-gen buf-breaking lint check-widget ## Contracts, generated code and lint (no tests).

.PHONY: test-unit
test-unit: setup ## Unit tests only (no services).
	$(PYTEST) -m unit $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: setup services ## Integration and e2e tests against real services.
	set -a; eval "$$(scripts/services.sh env)"; set +a; $(PYTEST) -m "integration or e2e" $(PYTEST_ARGS)

# ---------------------------------------------------------------- run
.PHONY: run
run: setup ## Start Linktor on the embedded default (SQLite, in-process bus).
	@LINKTOR_LOG_FORMAT=$${LINKTOR_LOG_FORMAT:-console} $(PY) -m linktor.server.cli serve --banner

.PHONY: bench
bench: setup services ## Run the benchmarks and record results under bench/results/.
	set -a; eval "$$(scripts/services.sh env)"; set +a; $(PY) -m bench $(BENCH_ARGS)

.PHONY: clean
clean: ## Remove local state and caches (not the installed tools).
	rm -rf .linktor .pytest_cache .mypy_cache .ruff_cache
