# FWP Explorer: `make run` starts the app, `make test` runs every test. Both build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# A CPU wheel of torch lies in /opt/wheels on our machines; elsewhere pip takes it from the registry.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: run test test-fast bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install $(FIND_LINKS) -r requirements.txt
	$(PIP) install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install $(FIND_LINKS) -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	PYTHONPATH=$(CURDIR) $(PY) -m app.serve --server.port $(PORT) --server.headless true

# The slow tests (the 20-session load test, which times the server) run on their own after the rest, on an
# otherwise idle machine; exit code 5 = PYTEST_ARGS selected none of them.
test: $(VENV)/.dev
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" $(PYTEST_ARGS)
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-fast: $(VENV)/.dev
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -n 2 -m "not slow and not browser" $(PYTEST_ARGS)

bench: $(VENV)/.dev
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
