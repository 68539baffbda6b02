# Línea Directa. `make run` serves everything on localhost; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test system-packages audio audio-check migrate seed bench clean

# The venv is rebuilt when the project's dependencies change.
$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The desk's softphone runs Twilio's Voice JavaScript SDK, which the app serves
# itself (never from a CDN): installed from the npm registry at the exact
# version and integrity package-lock.json pins, copied where the desk serves it,
# and redone only when the lock file changes. Without npm the app still runs;
# the phone page then says the SDK is not installed.
VOICE_SDK := agent_desk/static/vendor/twilio.min.js
$(VOICE_SDK): package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    npm ci --ignore-scripts --no-audit --no-fund && \
	    mkdir -p $(@D) && cp node_modules/@twilio/voice-sdk/dist/twilio.min.js $@; \
	else \
	    echo "npm not found: the desk's phone will say the Twilio Voice SDK is not installed"; \
	fi

install: $(BIN)/.installed $(VOICE_SDK)

install-test: install $(BIN)/.installed-test

migrate: install
	$(BIN)/ivr db upgrade

seed: migrate
	$(BIN)/ivr bank seed-demo --if-empty

run: seed
	$(BIN)/ivr serve --host $(HOST) --port $(PORT)

# Debian packages the tests need: Chromium for the browser tests (driven by
# Playwright: never a downloaded browser), espeak-ng and ffmpeg for recording
# prompts (`ivr audio build`; serving recorded prompts needs neither). Installed
# when missing and we may (root with apt-get); otherwise the tests that need
# them say so (and fail under CI).
SYSTEM_PACKAGES ?= chromium espeak-ng ffmpeg
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing$$missing"; \
	        (apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	         (apt-get update -qq && apt-get install -y -qq $$missing >/dev/null)) || \
	        echo "could not install$$missing"; \
	    else echo "missing Debian packages:$$missing (tests that need them will say so)"; fi; \
	fi

test: install-test system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

audio: install system-packages
	$(BIN)/ivr audio build

audio-check: install
	$(BIN)/ivr audio check

bench: install-test
	$(BIN)/python bench/payments.py

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* instance/outbox *.egg-info .pytest_cache \
	    node_modules agent_desk/static/vendor
