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

tests/interop/node_modules: tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund
	touch $@

test: check tests/interop/node_modules
	$(BIN)/pytest -q
