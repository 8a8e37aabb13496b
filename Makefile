# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
MOTO_PORT ?= 5050

.PHONY: install run test unit integration e2e browser lint format package bench clean web browser-deps

WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.js web/package.json web/package-lock.json
WEB_BUILT := web/dist/index.html

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## The web UI (Vue 3 + Element Plus + ECharts), built by Vite from the npm registry; never committed.
$(WEB_BUILT): $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent
	touch $(WEB_BUILT)

web: $(WEB_BUILT)

## Debian's chromium for the browser tests (installed if missing).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk) \
		|| (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk); }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk) \
		|| (sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk) || true; }

## Start the whole platform locally (moto, resources, API, event pumps, scheduler, demo data).
run: install web
	PORT=$(PORT) MOTO_PORT=$(MOTO_PORT) $(PY) -m infra.local.runtime

## Everything CI checks: lint, layering contract, unit, integration, infrastructure and end-to-end tests.
test: install lint web browser-deps
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile tests

unit: install
	$(PY) -m pytest -q tests/unit

integration: install
	$(PY) -m pytest -q tests/integration tests/infra

e2e: install
	$(PY) -m pytest -q tests/e2e

browser: install web browser-deps
	$(PY) -m pytest -q tests/browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## CloudFormation for AWS: chalice package + the merge template generated from infra/declarations.py.
package: install
	$(PY) -m infra.template build/merge.json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $${STAGE:-prod} \
		--merge-template build/merge.json build/package
	$(VENV)/bin/cfn-lint build/package/sam.json

bench: install
	$(PY) bench/import_time.py

clean:
	rm -rf build .pytest_cache .ruff_cache
