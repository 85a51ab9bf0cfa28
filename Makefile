# Every task of this repository. `make` (or `make help`) lists them.
# The two you need: `make demo` (set up, render a team repo, run its pipeline) and `make test`
# (everything, the end-to-end suite on a real kind cluster included).

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS_DIR ?= $(or $(GENAIOPS_TOOLS_DIR),$(CURDIR)/.tools)
UV := $(TOOLS_DIR)/uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
export GENAIOPS_TOOLS_DIR := $(TOOLS_DIR)
GENAIOPS_SCHEMA_CACHE ?= $(CURDIR)/.cache/schemas
export GENAIOPS_SCHEMA_CACHE
export PATH := $(TOOLS_DIR)/bin:$(CURDIR)/.venv/bin:$(PATH)
PYTEST_ARGS ?=

.PHONY: help
help: ## List the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required" >&2; exit 2; }
	$(PYTHON) -m venv $(TOOLS_DIR)/uv
	$(TOOLS_DIR)/uv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.PHONY: setup
setup: $(UV) ## Install the pinned Python environment (.venv) and Go tools (.tools/bin)
	$(UV) sync --locked --quiet --compile-bytecode
	scripts/install-tools.sh

.PHONY: demo
demo: setup ## Render a team repo with default answers into build/demo and run its pipeline
	scripts/demo.sh

.PHONY: pipeline
pipeline: setup ## Run the pipeline on this repo's artifacts (route, lint, ..., manifests)
	scripts/pipeline.sh

.PHONY: test
test: setup ## Set up and run the whole test suite: pytest, then the e2e suite on a kind cluster
	$(MAKE) --no-print-directory pytest
	$(MAKE) --no-print-directory e2e

.PHONY: pytest
pytest: setup ## Only the pytest suites (no cluster); PYTEST_ARGS selects a subset
	$(UV) run --locked --quiet pytest -n 2 $(PYTEST_ARGS)

.PHONY: e2e
e2e: setup ## Real cluster: kind up, every platform component, tests/e2e scenarios, teardown, timings
	PYTHONPATH=$(CURDIR)/scripts $(CURDIR)/.venv/bin/python -m genaiops_e2e all

.PHONY: check
check: setup lint-code validate ## The generated repo's own checks: code lint, manifests, pytest
	$(MAKE) --no-print-directory pytest

.PHONY: promptfoo
promptfoo: ## Install the pinned promptfoo (npm) for the side-by-side benchmarks in tests/benchmarks
	scripts/install-promptfoo.sh

.PHONY: validate
validate: setup ## kustomize build + kubeconform every overlay, with a tally
	scripts/validate.sh

.PHONY: lint-code
lint-code: setup ## ruff over the Python code
	$(UV) run --locked --quiet ruff check scripts tests
	$(UV) run --locked --quiet ruff format --check scripts tests

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv and .tools)
	rm -rf build .pytest_cache .ruff_cache .hypothesis
