# Two commands on a fresh machine: `make demo` and `make test`. Each does all of its own setup.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: setup demo test lint services suites bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Investigate the sample incident offline (no API key) and print the report.
demo: setup
	$(VENV)/bin/day2ai demo

## Install the test servers: Prometheus, VictoriaMetrics, Alertmanager and Chromium from Debian's
## packages, and a llama.cpp model server (built from PyPI into .venv-llm; slow the first time).
services:
	bash tools/install_prometheus.sh
	bash tools/install_alertmanager.sh
	bash tools/install_chromium.sh
	bash tools/install_llm_server.sh

## Run the whole test suite (unit, end-to-end, real Prometheus, Chroma server, notebooks).
test: setup services
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check day2ai tests tools
	$(VENV)/bin/mypy

## Regenerate the evaluation suites that are not committed (see evals/suites/README.md).
suites: setup
	$(VENV)/bin/day2ai simulate --out evals/suites/dev --cases 60 --seed 2026

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
