# Línea Directa. `make run` serves everything on localhost; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test lock audit system-packages audio audio-check migrate seed \
        bench clean

# The venv installs exactly the versions (and files, by hash) the lock files
# name, the ones audited; it is redone when a lock file changes. `make lock`
# regenerates them after setup.cfg's dependencies change, keeping every pin it
# can (LOCK_ARGS=--upgrade to move everything to the newest allowed).
RUN_LOCK  := requirements/run.txt
TEST_LOCK := requirements/test.txt
$(BIN)/.installed: $(RUN_LOCK) setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	    echo "setup.cfg asks for something $(RUN_LOCK) lacks: run make lock"; exit 1; }
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	touch $@

# The test lock is the superset; the run lock is solved under it, so both name
# the same version of every package they share.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	mkdir -p requirements
	$(PIP_COMPILE) --extra test --output-file $(TEST_LOCK) setup.cfg
	$(PIP_COMPILE) --constraint $(TEST_LOCK) --output-file $(RUN_LOCK) setup.cfg

# Known vulnerabilities in the locked versions (PyPI's advisory data, through
# pip-audit): a finding fails the run naming the package and the advisory; an
# unreachable service is said in one line and the run goes on.
audit: $(BIN)/.installed-test
	$(BIN)/python tools/audit_deps.py $(TEST_LOCK)

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
	$(BIN)/python tools/audit_deps.py $(TEST_LOCK)
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
