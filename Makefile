# Two commands set everything up on a fresh machine:
#   make run    the service: train a champion if none is registered (FAST=1 stops at the baseline),
#               index the case library and the sample stream, then serve the API on 127.0.0.1
#   make test   lint, types and the test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

.PHONY: install run test lint bench
install: $(BIN)/.installed

run: install
	$(BIN)/yuqing run --host $(HOST) --port $(PORT) $(if $(FAST),--fast,)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/predict_benchmark.py
	$(BIN)/python benchmarks/search_benchmark.py
	$(BIN)/python benchmarks/load_benchmark.py
