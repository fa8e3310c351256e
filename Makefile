# FWP Explorer: `make run` starts the app, `make test` runs every test. Both build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# A CPU wheel of torch lies in /opt/wheels on our machines; elsewhere pip takes it from the registry.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: run test test-fast bench pretrain clean

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

# The whole suite, browser tests included: scripts/install-browser installs Debian's Chromium where it is
# missing (as root) or stops saying how. `make test-fast` leaves the browser tests out, on purpose.
test: $(VENV)/.dev
	scripts/install-browser
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: $(VENV)/.dev
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -n 2 -m "not browser" $(PYTEST_ARGS)

bench: $(VENV)/.dev
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/run_all.py

# Retrain what the Programmer and Language pages show on arrival (fwp_core/{programmer,language}/pretrained/;
# the language models take a few minutes each on a CPU). Regenerate the README tables after.
pretrain: $(VENV)/.installed
	PYTHONPATH=$(CURDIR) $(PY) -m fwp_core.programmer.pretrain
	PYTHONPATH=$(CURDIR) $(PY) -m fwp_core.language.pretrain

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
