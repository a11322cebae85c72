# The README's commands. Each target creates .venv itself, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint system-deps bench clean-db sample

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	# Compile the optimiser's flow engine once (numba caches it on disk), not in the first plan.
	$(BIN)/python -c "import solver.simplex as s; s.warm_up()"
	touch $(STAMP)

## make run: migrate the SQLite database, load the sample region once, serve on http://127.0.0.1:5000
## with one plan worker beside the server (`rehab-net serve` starts it; Ctrl-C stops both)
run: $(STAMP) translations
	$(BIN)/rehab-net db upgrade
	$(BIN)/rehab-net load-sample --if-empty
	$(BIN)/rehab-net users demo
	$(BIN)/rehab-net summary
	$(BIN)/rehab-net serve --host $(HOST) --port $(PORT)

## make test: lint, then the whole suite on SQLite and on a throwaway PostgreSQL cluster
test: $(STAMP) translations system-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

## make translations: compile the catalogues (.po -> .mo; tools/translations.sh has extract,
## update and check too)
.PHONY: translations
translations: $(STAMP)
	bash tools/translations.sh compile

lint: $(STAMP)
	$(BIN)/ruff check .

system-deps:
	bash tools/system-deps.sh

## make sample: regenerate the sample region's files (deterministic)
sample: $(STAMP)
	$(BIN)/python -m sample_network.generate

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_setup
	$(BIN)/python -m benchmarks.bench_solver

clean-db:
	rm -f instance/rehab-net.sqlite3 instance/rehab-net.sqlite3-wal instance/rehab-net.sqlite3-shm
