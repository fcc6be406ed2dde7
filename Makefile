# Two commands for a fresh machine with python3 and make:
#   make run    the product on embedded defaults (SQLite, files under var/, filesystem broker,
#               sandbox), served like production minus TLS: gunicorn, DEBUG off
#   make test   the import contracts (pyproject.toml [tool.importlinter]), then the whole test suite
# `make dev` is the development server (runserver, DEBUG on). Knobs, passed to every process:
#   HOST (127.0.0.1), PORT (8000), SANDBOX_PORT (8765), SITE_URL (from HOST and PORT).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765

.PHONY: run dev test bench lint ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/python scripts/run_local.py --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

dev: $(VENV)/.runtime
	$(BIN)/python scripts/run_local.py --dev --host $(HOST) --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: $(VENV)/.dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
