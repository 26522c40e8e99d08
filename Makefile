# The two commands a new user needs:
#   make demo   create .venv, install, and run the main job on the embedded defaults
#   make test   create .venv, install with test extras, and run the linter and the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SPEC   ?= specs/quickstart.txt
OUT    ?= builds/quickstart

.PHONY: demo test install lint bench clean constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-installs whenever pyproject.toml or constraints.txt changes; pip's download cache keeps
# repeat installs fast. constraints.txt pins every package to the version the tests last passed
# with, so a fresh machine installs what was tested, not whatever newer wheel the ranges allow.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/facetory build $(SPEC) --out $(OUT) --yes --offline

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

bench: install
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Re-pin on purpose: after upgrading packages in .venv and seeing `make test` pass, write what
# is installed (every package but facetory itself and pip) to constraints.txt and commit it.
constraints: $(BIN)/python
	{ echo "# pip freeze of the venv the tests passed in; regenerate with make constraints"; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v -i -E '^(facetory|pip)=='; \
	} > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) builds .pytest_cache
