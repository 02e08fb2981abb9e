# Two commands set everything up on a fresh machine:
#   make run    train, register and promote the models, index the case library, report quality
#   make test   the test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

.PHONY: install run test bench
install: $(BIN)/.installed

run: install
	$(BIN)/yuqing bootstrap

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/predict_benchmark.py
	$(BIN)/python benchmarks/search_benchmark.py
