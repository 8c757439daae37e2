# Everything starts from a machine with only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run build test lint golden bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feeds run

build: $(STAMP)
	$(BIN)/feeds build

lint: $(STAMP)
	$(BIN)/ruff check feeds tests benchmarks
	$(BIN)/ruff format --check feeds tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

golden: $(STAMP)
	$(BIN)/python -m tests.golden

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .feeds
