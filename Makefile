# Sahakari — the README's commands. `make run` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
export PYTHONPATH := .

.PHONY: run test lint format bench worker install install-dev migrate seed clean browser

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	mkdir -p instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo-seed

run: seed
	@echo "Sahakari on http://127.0.0.1:5000  (staff sign-in: /auth/login)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# `make test` runs the whole suite in parallel (pytest-xdist, one worker per core, at most 4).
# Local PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are used when they
# answer and TEST_DATABASE_URL / TEST_REDIS_URL are not set (tests/conftest.py says so in one line).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)
PYTEST_ARGS ?= -n $(TEST_WORKERS)

test: install-dev browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (no browser download), with a Devanagari font for the
# Hindi pages. Installed here when we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed"; \
	  else echo "chromium not found: browser tests will be skipped (install Debian's chromium to run them)"; fi; }
	@fc-list 2>/dev/null | grep -qi devanagari || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing a Devanagari font so the Hindi pages render in the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-lohit-deva >/dev/null) || echo "fonts-lohit-deva could not be installed"; \
	  fi; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

worker: install
	$(BIN)/python worker.py

clean:
	rm -rf $(VENV) instance/bank.db .pytest_cache
