# Two commands: `make demo` and `make test`. Each bootstraps its own virtual env.
PYTHON ?= python3
VENV := .venv
GTO_VENV := .venv-gto
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/stagetag: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' --config-settings editable_mode=compat
	touch $@

# The compatibility oracle: the real gto, in a venv of its own, never a runtime dependency.
$(GTO_VENV)/bin/gto:
	$(PYTHON) -m venv $(GTO_VENV)
	$(GTO_VENV)/bin/pip install -q 'gto==1.10.1'

demo: $(BIN)/stagetag
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

lint: $(BIN)/stagetag
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --python-version 3.11 ci/release_check.py  # a CI script: 3.11+ (tomllib)

# Branch coverage of every stagetag process the tests start (coverage's subprocess patch), with
# a floor for the registry core.
COVERAGE_FLOOR := 95

test: lint $(GTO_VENV)/bin/gto
	rm -rf .coverage && mkdir .coverage
	GTO_ORACLE="$(CURDIR)/$(GTO_VENV)/bin/gto" PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=
	$(BIN)/coverage report --precision=1
	$(BIN)/coverage report --include='stagetag/*' --fail-under=$(COVERAGE_FLOOR) > /dev/null \
		|| { echo "coverage of stagetag/ is under $(COVERAGE_FLOOR)%"; exit 1; }

# Bytecode first: an installed wheel has it (pip compiles on install), while an editable
# install under PYTHONDONTWRITEBYTECODE would compile every module on every run.
bench: $(BIN)/stagetag $(GTO_VENV)/bin/gto
	$(BIN)/python -m compileall -q stagetag > /dev/null
	GTO_ORACLE="$(CURDIR)/$(GTO_VENV)/bin/gto" PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/bench.py
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/writers.py

clean:
	rm -rf $(VENV) $(GTO_VENV)
