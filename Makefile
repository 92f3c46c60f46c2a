# The README's commands. `make run` for a running site, `make test` for the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test worker bench install lint fmt check-contracts clean

$(STAMP): pyproject.toml scripts/find-python
	@PYTHON=$$(scripts/find-python) && echo "Using $$PYTHON" && \
	  ( [ -x $(PY) ] || $$PYTHON -m venv $(VENV) ) && \
	  $(PY) -m pip install --quiet --upgrade pip && \
	  $(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# A random key for this machine's local runs (never committed); production sets SECRET_KEY.
.secret-key:
	@umask 077 && python3 -c "import secrets; print(secrets.token_urlsafe(50))" > $@

install: $(STAMP) .secret-key

run: $(STAMP) .secret-key
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_catalog
	$(PY) manage.py load_plans
	$(PY) manage.py runserver --insecure $(HOST):$(PORT)  # --insecure: serve static files with DEBUG off

worker: $(STAMP) .secret-key
	$(VENV)/bin/celery -A pricing_site worker --loglevel=info --concurrency=2

test: $(STAMP) .secret-key
	scripts/test

# The benchmark's own environment: the project plus LiteLLM, the peer it is measured
# against. LiteLLM is never a runtime dependency.
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed
$(BENCH_STAMP): pyproject.toml scripts/find-python
	@PYTHON=$$(scripts/find-python) && \
	  ( [ -x $(BENCH_VENV)/bin/python ] || $$PYTHON -m venv $(BENCH_VENV) ) && \
	  $(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  $(BENCH_VENV)/bin/python -m pip install --quiet -e . 'litellm==1.106.2' 'gunicorn==27.0.1' 'py-spy==0.4.3'
	@command -v wrk >/dev/null || ( [ "$$(id -u)" = 0 ] && (apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)) >/dev/null 2>&1 ) || echo "wrk not installed: the HTTP load test uses Python threads"
	@touch $(BENCH_STAMP)

BENCH_ARGS ?= --imports --compare
bench: $(BENCH_STAMP) .secret-key
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

check-contracts: $(STAMP) .secret-key
	PYTHON=$(PY) ../shared/tools/check-contracts

clean:
	rm -rf $(VENV) .bench-venv db.sqlite3 .pytest_cache .secret-key
