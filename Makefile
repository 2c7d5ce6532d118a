# The two commands of the README. Each creates .venv when it is missing, reinstalls when
# pyproject.toml is newer than the last install, then runs. The install brings the
# dependencies and the project's metadata only: `app`, `modules` and `transports` run from
# this checkout (see pyproject.toml), so other projects in the same environment never see them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast clinic-doc lint typecheck architecture pytest catalog asyncapi bench clean browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet '.[redis,server,metrics,tracing,architecture,dev]'
	@rm -rf build flask_eventbus.egg-info  # the build's leftovers would shadow the metadata
	@touch $(STAMP)

# The deployment sequence in small: bring the schema to head, then serve (docs/deployment.md).
run: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi run

test: $(STAMP) browser lint typecheck architecture pytest

# The dashboard's browser tests drive Debian's Chromium through chromedriver: install both
# when missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) -a -x /usr/bin/chromedriver || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# ADR 0003's rules (module boundaries, event names, breaking payload changes), a fresh
# docs/events-catalog.md and a fresh docs/asyncapi.yaml, and migrations that make exactly the
# models' tables (`db check`, on a scratch database).
architecture: $(STAMP)
	$(BIN)/flask --app wsgi db check
	$(BIN)/flask --app wsgi events check
	$(BIN)/flask --app wsgi events catalog --check
	$(BIN)/flask --app wsgi events asyncapi --check

pytest: $(STAMP)
	$(BIN)/pytest -q

# The quick loop while working: the unit tests (in-process bus, SQLite, fakeredis): nothing
# marked `slow` (fault, load and worker-subprocess tests), `redis` or `postgres`. For the
# integration tests too, minus the slow ones: `pytest -m "not slow"`. `make test` runs all.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not redis and not postgres"

# docs/clinic.md's session, from a real run of the README's walk-through (tests/test_readme.py
# fails when it is stale).
clinic-doc: $(STAMP)
	$(BIN)/python -m tests.support.walkthrough

catalog: $(STAMP)
	$(BIN)/flask --app wsgi events catalog

asyncapi: $(STAMP)
	$(BIN)/flask --app wsgi events asyncapi

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .mypy_cache .pytest_cache .ruff_cache build dist *.egg-info
