# Developer commands. Each installs the pinned tools into .venv first (once per change of
# requirements*.txt). `make plan STACK=vm` writes plans/vm.yaml; without STACK, every stack.
# `make` alone lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help test charts plan plan-check docs schema benchmark lint
.DEFAULT_GOAL := help

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## This list: each target with its `## ` line.
help:
	@awk '/^## /{doc=substr($$0, 4)} /^[a-z-]+:/{if (doc) printf "  make %-11s %s\n", substr($$1, 1, length($$1)-1), doc; doc=""}' $(MAKEFILE_LIST)

## The offline test suite (scripts/test.sh).
test:
	scripts/test.sh

## The chart sources the tests render, into .charts/ (needs internet).
charts: $(VENV)/.installed
	$(PY) -m tools.charts pull

## What each stack declares, into plans/<stack>.yaml (STACK=vm: one stack).
plan: $(VENV)/.installed
	$(PY) -m tools.plan $(STACK)

## Whether plans/ is current: the diff, without writing (STACK=vm: one stack).
plan-check: $(VENV)/.installed
	$(PY) -m tools.plan --check $(STACK)

## The generated reference, docs/reference/: config keys and outputs.
docs: $(VENV)/.installed
	$(PY) -m tools.reference

# The component provider's schema, as Pulumi's analyzer infers it, and the TypeScript example's
# SDK stand-in made from it (examples/typescript/sdk).
## provider/schema.json and the TypeScript example's SDK stand-in.
schema: $(VENV)/.installed
	$(PY) -m meshstack.provider schema > provider/schema.json
	$(PY) -m tools.ts_sdk

## Evaluation time, memory, weighted chains, printed (WRITE=1: docs/benchmark.md).
benchmark: $(VENV)/.installed
	$(PY) -m tools.benchmark $(if $(WRITE),--write docs/benchmark.md) $(STACK)

## ruff, shellcheck, pyright and actionlint, as CI runs them.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/shellcheck scripts/*.sh .ci/run
	$(VENV)/bin/pyright
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint
