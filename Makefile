# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test lint imports typecheck docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

PLUGINS := plugins/govflow-webhook plugins/govflow-smtp plugins/govflow-postgres

# Re-install whenever the project's or a plugin package's metadata changes.
$(STAMP): $(BIN)/python pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e plugins/govflow-webhook -e 'plugins/govflow-smtp[test]' -e 'plugins/govflow-postgres[test]'
	touch $(STAMP)

# The bulletin extra too, so that every example in README.md runs after `make demo`.
$(VENV)/.installed-runtime: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bulletin]'
	touch $@

demo: $(VENV)/.installed-runtime
	rm -f demo.sqlite3 demo.sqlite3-wal demo.sqlite3-shm
	$(BIN)/python examples/full_cycle.py demo.sqlite3

test: $(STAMP)
	$(BIN)/python -m pytest -q tests $(addsuffix /tests,$(PLUGINS))

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks plugins docs

# The layers of DESIGN.md (contracts in pyproject.toml).
imports: $(STAMP)
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/ $(addsuffix /src,$(PLUGINS))

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache demo.sqlite3*
