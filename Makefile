# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps
SOURCES := scripts/idlc $(shell find idlc runtime -name '*.py' -o -name '*.lark' -o -name '*.j2' 2>/dev/null)
# pytest-xdist workers; CI has 2 cores.
JOBS   ?= auto

.PHONY: all venv demo test check lint typecheck fuzz mutate bench clean grammar patterns templates docs golden

all: test

# Dependencies from the lock file, then idlc itself as a regular (not editable) install:
# an editable install's import hook costs ~10 ms at every start of `idlc`.
$(DEPS): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	touch $(DEPS)

# The kernel's core is compiled by the package build (setup.py, mypyc): NATIVE=1 (the
# default) compiles it into the wheel installed in .venv and copies the same modules beside
# the sources, where the tests and benchmarks import them (about 20 s on an idle machine
# when the core changed, mypyc's analysis, a few seconds, otherwise); NATIVE=0 installs
# and runs the sources.
NATIVE ?= 1
# one stamp per NATIVE value, so a switch rebuilds
STAMP  := $(VENV)/.installed-native$(NATIVE)

$(STAMP): $(DEPS) pyproject.toml setup.py $(SOURCES)
	rm -rf build/bdist.*  # what an interrupted wheel build left would stop the next one
	IDLC_NATIVE=$(NATIVE) $(BIN)/pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	IDLC_NATIVE=$(NATIVE) $(BIN)/python setup.py --quiet build_ext --inplace
	$(BIN)/python -I -m idlc.record
	rm -f $(VENV)/.installed*
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m samples.demo

test: $(STAMP)
	IDLC_NATIVE=$(NATIVE) $(BIN)/python -m pytest -n $(JOBS) -q
	$(BIN)/ruff check setup.py idlc runtime tests bench samples tools
	$(BIN)/black --check -q setup.py idlc runtime tests bench samples tools
	$(BIN)/mypy setup.py idlc runtime

lint: $(STAMP)
	$(BIN)/ruff check setup.py idlc runtime tests bench samples tools
	$(BIN)/black --check setup.py idlc runtime tests bench samples tools

typecheck: $(STAMP)
	$(BIN)/mypy setup.py idlc runtime

# The static checks of `make test` without the tests.
check: lint typecheck

# The long fuzzing campaign (CI runs the same tests with a small example budget), over
# the corpus of ../shared unless IDLC_CORPUS says otherwise; black checks the code
# generated from the whole corpus here (CI: a sample).
fuzz: $(STAMP)
	IDLC_CORPUS=$${IDLC_CORPUS:-../shared/corpus/omg-idl} \
	IDLC_CONFORMANCE=$${IDLC_CONFORMANCE:-../shared/conformance} \
	IDLC_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -n $(JOBS) -q tests/test_nocrash.py tests/test_recovery.py tests/runtime/test_props.py tests/backend/test_roundtrip.py tests/backend/test_roundtrip_corpus.py tests/backend/test_black.py

# Mutation testing of the compiler's and the kernel's core (docs/mutation.md), on demand
# only: mutmut (requirements-mutate.lock) over each module of tools/mutate.py with the
# tests that exercise it, on the interpreted sources of a scratch copy (build/mutate/);
# the last line printed is the JSON of scores. `make mutate MODULES=idlc/layout.py` runs one.
MODULES ?=
mutate: $(DEPS)
	$(BIN)/pip install --quiet -r requirements-mutate.lock
	IDLC_NATIVE=0 $(BIN)/python tools/mutate.py $(MODULES)

# The benchmarks of bench/README.md (bench/codegen.py, slower, runs on its own).
bench: $(STAMP)
	$(BIN)/python bench/frontend.py
	$(BIN)/python bench/marshal.py
	$(BIN)/python bench/ipc.py

# build/ holds setuptools' and mypyc's work (and the demo's stubs); the core's compiled
# modules and their record sit beside the sources, their library (runtime_native__mypyc)
# at the top.
clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
	rm -f runtime/*.so runtime/*/*.so runtime/kernel/_core.sha256 runtime_native__mypyc.*.so

# Regenerate docs/errors.md from the diagnostics table and tests/errors/ examples.
docs: $(STAMP)
	$(BIN)/python tools/errors_doc.py

# Rewrite tests/golden/expected/ after an intended change to the compiler's output;
# review the diff before committing it.
golden: $(STAMP)
	$(BIN)/python tools/golden.py

# Rebuild the LALR table after editing idlc/grammar/idl.lark.
grammar: $(STAMP)
	$(BIN)/python -m idlc.grammar.build

# Recompile the front end's regular expressions into idlc/_patterns.py after changing one
# (idlc/regex.py says why they are precompiled).
patterns: $(STAMP)
	$(BIN)/python -m idlc.regex

# Recompile the Python backend's templates (templates/*.j2) into _templates.py after
# editing one (docs/python-backend.md, "Templates").
templates: $(STAMP)
	$(BIN)/python -m idlc.backends.python.tmplc
