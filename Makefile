# Berth: the two commands the README promises, plus benchmarks.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench unit integration e2e lint clean sandbox

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test,lint]'
	touch $(STAMP)

# Pods run in a bubblewrap sandbox; without it pods with volumes cannot run, so `make run`
# installs it where it can and otherwise stops, saying how to install it.
sandbox:
	@.ci/ensure-bubblewrap

run: $(STAMP) sandbox
	$(VENV)/bin/berth up

test: $(STAMP) sandbox
	$(VENV)/bin/pytest

unit: $(STAMP) sandbox
	$(VENV)/bin/pytest tests/unit

integration: $(STAMP) sandbox
	$(VENV)/bin/pytest tests/integration

e2e: $(STAMP) sandbox
	$(VENV)/bin/pytest tests/e2e

# Lint, format and type checks; the settings live in pyproject.toml ([tool.ruff], [tool.pyright]).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright --pythonpath $(PY)

bench: $(STAMP) sandbox
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .berth .pytest_cache
