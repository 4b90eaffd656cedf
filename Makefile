# Berth: the two commands the README promises, plus benchmarks.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench unit integration e2e clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/berth up

test: $(STAMP)
	$(VENV)/bin/pytest

unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit

integration: $(STAMP)
	$(VENV)/bin/pytest tests/integration

e2e: $(STAMP)
	$(VENV)/bin/pytest tests/e2e

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .berth .pytest_cache
