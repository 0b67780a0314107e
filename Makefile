# The two commands of the README.  Each creates the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-e2e format bench clean

$(BIN)/xuncha: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(BIN)/xuncha        ## the agent on the embedded demo fleet (loopback, SQLite state)
	$(BIN)/xuncha demo

test: $(BIN)/xuncha       ## lint, types and the whole test suite
	$(BIN)/ruff format --check agent domain probes dashboards tests bench
	$(BIN)/ruff check agent domain probes dashboards tests bench
	$(BIN)/mypy agent domain probes dashboards
	$(BIN)/pytest -q

test-e2e: $(BIN)/xuncha   ## only the slow end-to-end tests
	$(BIN)/pytest -q -m e2e

format: $(BIN)/xuncha     ## format the code as make test expects it
	$(BIN)/ruff format agent domain probes dashboards tests bench

bench: $(BIN)/xuncha
	$(BIN)/python bench/probe_cpu.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
