# Whole-COMM research companion. Two commands do everything on a fresh machine:
#   make book   build the book (every notebook executed) into _build/html
#   make test   build the book, then run the whole test suite
# Both create .venv from requirements.lock first (needs only python3.11 with venv).

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# One thread for the numerical libraries, in the build and the tests alike: the recorded
# results must not depend on how many cores a machine has (see tools/results.py).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: book test lint data results bench lock linkcheck-external clean help

help:
	@echo "make book     build the book into _build/html (executes changed notebooks)"
	@echo "make test     build the book and run every test"
	@echo "make lint     ruff (lint, format, complexity) and mypy on the library and tools"
	@echo "make data     regenerate the synthetic twin in data/"
	@echo "make results  accept the current build's results as the expected results"
	@echo "make bench    measure build times, page weights and library speed"
	@echo "make lock     re-resolve requirements.in into the locks (full, runtime) and environment.yml"
	@echo "make clean    remove _build (keeps .venv)"

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@echo "Setting up $(VENV) from requirements.lock (first run only; log in $(VENV)/install.log) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -r requirements.lock > $(VENV)/install.log 2>&1 \
	  || { grep -v "^WARNING: Location" $(VENV)/install.log | tail -30; echo "pip install failed (see $(VENV)/install.log)"; exit 1; }
	@$(BIN)/python -m pip install --no-deps --no-build-isolation -e . >> $(VENV)/install.log 2>&1 \
	  || { tail -30 $(VENV)/install.log; echo "installing the wholecomm package failed"; exit 1; }
	@touch $@

book: $(STAMP)
	$(BIN)/python tools/build_book.py

test: $(STAMP)
	$(BIN)/python tools/build_book.py
	$(BIN)/python tools/browser_setup.py
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tools tests book/_ext
	$(BIN)/ruff format --check src tools tests book/_ext
	$(BIN)/python -m mypy

data: $(STAMP)
	$(BIN)/python -m wholecomm.twin

results: $(STAMP)
	$(BIN)/python tools/results.py accept

bench: $(STAMP)
	$(BIN)/python tools/bench.py --record

lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv >/dev/null 2>&1
	$(BIN)/python tools/lock.py

linkcheck-external: $(STAMP)
	-$(BIN)/python tools/check_links.py --external

clean:
	rm -rf _build
