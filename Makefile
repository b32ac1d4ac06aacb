# Developer commands. Each installs the pinned tools into .venv first (once per change of
# requirements*.txt). `make plan STACK=vm` writes plans/vm.yaml; without STACK, every stack.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test charts plan plan-check docs schema benchmark lint tools

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test:
	scripts/test.sh

# The chart sources the tests render, for a machine without ../shared/reference (needs internet).
charts: $(VENV)/.installed
	$(PY) -m tools.charts pull

plan: $(VENV)/.installed
	$(PY) -m tools.plan $(STACK)

plan-check: $(VENV)/.installed
	$(PY) -m tools.plan --check $(STACK)

# The generated reference: docs/reference/ (config keys per scenario, outputs per stack).
docs: $(VENV)/.installed
	$(PY) -m tools.reference

# The component provider's schema (provider/schema.json), as Pulumi's analyzer infers it, and
# the TypeScript example's SDK stand-in made from it (examples/typescript/sdk).
schema: $(VENV)/.installed
	$(PY) -m meshstack.provider schema > provider/schema.json
	$(PY) -m tools.ts_sdk

benchmark: $(VENV)/.installed
	$(PY) -m tools.benchmark --write docs/benchmark.md $(STACK)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/shellcheck scripts/*.sh .ci/run
	$(VENV)/bin/pyright
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint

# The real toolchain for the end-to-end run, built from Go modules into .tools/bin/ (only what is
# missing or whose pins in tools/e2e/pulumi/go.mod changed): the Pulumi CLI and the
# pulumi-kubernetes provider.
tools:
	tools/e2e/build-pulumi.sh
