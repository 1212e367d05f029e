# The two README commands: `make demo` and `make test`. Both bootstrap .venv themselves.
# `make run` serves the api alone (embedded Postgres, no Lightning).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo run test check venv system-deps

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/satrank demo

run: $(BIN)/.installed
	$(BIN)/satrank serve

check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy satrank

# npm clients the interop tests drive (L402 clients; nostr-tools): installed from lockfiles.
tests/interop/node_modules: tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund
	touch $@

tests/interop/nostr/node_modules: tests/interop/nostr/package.json tests/interop/nostr/package-lock.json
	cd tests/interop/nostr && npm ci --no-audit --no-fund
	touch $@

tests/interop/lnd_client/node_modules: tests/interop/lnd_client/package.json tests/interop/lnd_client/package-lock.json
	cd tests/interop/lnd_client && npm ci --no-audit --no-fund
	touch $@

system-deps:
	bash scripts/install-system-deps.sh

tests/interop/node_modules tests/interop/nostr/node_modules tests/interop/lnd_client/node_modules: | system-deps

test: system-deps check tests/interop/node_modules tests/interop/nostr/node_modules tests/interop/lnd_client/node_modules
	$(BIN)/pytest -q

# Regenerate satrank/lightning/*_pb2*.py* from protos/ (tests/test_protos.py checks drift).
.PHONY: protos
protos: $(BIN)/.installed
	$(BIN)/python scripts/gen_protos.py

# Copy this checkout to a host: SATRANK_HOST=user@host REMOTE_DIR=/opt/satrank make deploy
# rsync --delete with .rsync-exclude: secrets, .env*, macaroons, data, .venv and .git never
# leave this machine, and the host's own copies of them are never deleted. Refuses to run
# without .rsync-exclude (an exclude-less rsync --delete once wiped a host's secrets).
# Then, on the host: .venv/bin/pip install -e . && systemctl restart ... (DEPLOY.md §7).
.PHONY: deploy
deploy:
	@test -f .rsync-exclude || { echo "make deploy: .rsync-exclude is missing: refusing to copy secrets and to --delete without it" >&2; exit 1; }
	@test -n "$(SATRANK_HOST)" || { echo "make deploy: set SATRANK_HOST (user@host)" >&2; exit 1; }
	@case "$(REMOTE_DIR)" in /?*) ;; *) echo "make deploy: set REMOTE_DIR to an absolute directory other than / (e.g. /opt/satrank)" >&2; exit 1;; esac
	rsync -rlptz --delete --exclude-from=.rsync-exclude ./ "$(SATRANK_HOST):$(REMOTE_DIR)/"
