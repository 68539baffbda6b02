# Línea Directa. `make run` serves everything on localhost; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test system-deps audio audio-check migrate seed bench clean

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

test: install-test system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Recording prompts (`ivr audio build` and its tests) needs espeak-ng and
# ffmpeg: installed where we can (root with apt-get), skipped quietly elsewhere.
# Serving recorded prompts needs neither.
system-deps:
	@command -v espeak-ng >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq espeak-ng ffmpeg >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq espeak-ng ffmpeg >/dev/null 2>&1; }; } ; } || true

audio: install system-deps
	$(BIN)/ivr audio build

audio-check: install
	$(BIN)/ivr audio check

bench: install-test
	$(BIN)/python bench/payments.py

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/outbox *.egg-info .pytest_cache
