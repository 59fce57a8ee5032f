# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers; CI has 2 cores.
JOBS   ?= auto

.PHONY: all venv demo test check lint typecheck fuzz bench clean grammar

all: test

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -m compileall -q idlc runtime
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m samples.demo

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -q
	$(BIN)/ruff check idlc runtime tests bench samples
	$(BIN)/black --check -q idlc runtime tests bench samples
	$(BIN)/mypy idlc runtime

lint: $(STAMP)
	$(BIN)/ruff check idlc runtime tests bench samples
	$(BIN)/black --check idlc runtime tests bench samples

typecheck: $(STAMP)
	$(BIN)/mypy idlc runtime

# The long fuzzing campaign (CI runs the same tests with a small example budget).
fuzz: $(STAMP)
	IDLC_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -n $(JOBS) -q -m fuzz -p no:timeout

bench: $(STAMP)
	$(BIN)/python bench/frontend.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Rebuild the LALR table after editing idlc/grammar/idl.lark.
grammar: $(STAMP)
	$(BIN)/python -m idlc.grammar.build
