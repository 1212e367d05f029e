# The two README commands: `make run` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check venv

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/satrank serve

check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy satrank

test: check
	$(BIN)/pytest -q

# Regenerate satrank/lightning/*_pb2*.py* from protos/ (tests/test_protos.py checks drift).
.PHONY: protos
protos: $(BIN)/.installed
	$(BIN)/python scripts/gen_protos.py
