# Two commands on a fresh machine with Python 3.11 and make: `make run`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cosflow serve

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/objects_bench.py
	$(BIN)/python bench/media_bench.py
	$(BIN)/python bench/callbacks_bench.py
	$(BIN)/python bench/links_bench.py
	$(BIN)/python bench/routing_bench.py
	$(BIN)/python bench/s3_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache
