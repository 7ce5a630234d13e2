# Rapport: `make run` starts the portal on a laptop, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
PORT ?= 5000
export PORTAL_ENV ?= development
# Links in emails point at the server `make run` starts (PORTAL_BASE_URL in the environment wins).
export PORTAL_BASE_URL ?= http://localhost:$(PORT)

# Test processes in parallel (pytest-xdist); `make test WORKERS=0` runs in one process.
WORKERS ?= auto

.PHONY: run test test-only lint install install-test translations extract-messages update-messages chromium bench-tools screens clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations chromium

## Compile the translation catalogs (the .mo files are build output, not committed).
translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d portal/translations > /dev/null

extract-messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot --no-location --sort-output --omit-header .

update-messages: extract-messages
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching
	@# pybabel fills the project name of a header-less template with an extra space: keep the header as it was.
	@sed -i 's/^"Project-Id-Version:  /"Project-Id-Version: /' portal/translations/*/LC_MESSAGES/messages.po

## A Chromium for the browser tests: one on the machine, else Debian's (as root), else Playwright's.
chromium: $(VENV)/.installed-test
	@if [ -n "$$PORTAL_CHROMIUM" ] && [ -x "$$PORTAL_CHROMIUM" ]; then exit 0; fi; \
	for name in chromium chromium-browser google-chrome; do \
	  if command -v $$name >/dev/null 2>&1; then exit 0; fi; \
	done; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  $(PY) -m playwright install chromium; \
	fi

## What bench/ needs besides the test dependencies: wrk, the HTTP load generator (Debian's package, as root).
## Full-page screenshots of the main pages (admin, manager, client; English and Turkish; desktop and 375 px) from the demo.
screens: chromium translations
	$(PY) scripts/screens.py

bench-tools: $(VENV)/.installed-test
	@if command -v wrk >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing wrk for bench/pages.py…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else \
	  echo "bench/pages.py needs wrk: install it with your package manager (apt-get install wrk, brew install wrk)"; exit 1; \
	fi

run: install
	@mkdir -p instance
	@$(FLASK) db upgrade
	@$(FLASK) portal seed --if-empty
	@$(FLASK) portal banner
	@trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) portal scheduler & scheduler=$$!; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload

test: install-test lint
	$(PY) -m pytest -n $(WORKERS)

# The suite without the install step (used by .ci/run for its second pass).
test-only:
	$(PY) -m pytest -n $(WORKERS)

## Lint and type checks: zero findings, or the build fails.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-results
	find . -name '*.mo' -path '*/translations/*' -delete
