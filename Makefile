# The two commands a new user needs: `make demo` (install + main job) and `make test` (install + checks + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH  := $(VENV)/.bench-installed

.PHONY: demo test test-fast check lint typecheck contracts docs installed bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/boflyt demo

check: $(STAMP) lint typecheck contracts docs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The docs site, strictly: a broken link, page or docstring fails the build (site/ is ignored).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

test: check
	$(BIN)/pytest -q
	PYTHON=$(BIN)/python .ci/installed

# The inner loop (well under a minute): lint, then the tests and doctests that need no PostgreSQL
# server, no browser and no extra processes (pytest -m; `make test` runs them all).
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not slow and not postgres and not browser"

# The wheel in a fresh venv, run from an empty folder (part of `make test`).
installed: $(STAMP)
	PYTHON=$(BIN)/python .ci/installed

# The benchmarks need the `bench` extra (SimPy) on top of the dev install.
$(BENCH): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH)

bench: $(BENCH)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) data reports site .pytest_cache .mypy_cache .ruff_cache
