# Línea Directa. `make run` serves everything on localhost; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test migrate seed bench clean

# The venv is rebuilt when the project's dependencies change.
$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test

migrate: install
	$(BIN)/ivr db upgrade

seed: migrate
	$(BIN)/ivr bank seed-demo --if-empty

run: seed
	$(BIN)/ivr serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/payments.py

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/outbox *.egg-info .pytest_cache
