# Developer commands. Each installs the pinned tools into .venv first (once per change of
# requirements*.txt). `make plan STACK=vm` writes plans/vm.yaml; without STACK, every stack.
# `make` alone lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help test tools e2e charts plan plan-check docs schema benchmark lint
.DEFAULT_GOAL := help

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## This list: each target with its `## ` line.
help:
	@awk '/^## /{doc=substr($$0, 4)} /^[a-z0-9-]+:/{if (doc) printf "  make %-11s %s\n", substr($$1, 1, length($$1)-1), doc; doc=""}' $(MAKEFILE_LIST)

## The offline test suite (scripts/test.sh).
test:
	scripts/test.sh

# The control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok, the
# webhook stand-in; pins in tools/e2e/kube/) and Pulumi (the CLI, meshstack's SDK generator, the
# YAML language host and the kubernetes provider; pins in tools/e2e/pulumi/), built into
# .tools/bin/ only where missing or stale.
## The real control plane's and Pulumi's binaries, built from pinned Go modules into .tools/bin/.
tools:
	tools/e2e/build-kube.sh
	tools/e2e/build-pulumi.sh

## The end-to-end run against that control plane (scripts/e2e.sh).
e2e:
	scripts/e2e.sh

## The chart sources the tests render, into .charts/ (needs internet).
charts: $(VENV)/.installed
	$(PY) -m tools.charts pull

# With the plans, the RBAC each previewed stack's preview identity needs (ci/preview-rbac/).
## What each stack declares, into plans/<stack>.yaml (STACK=vm: one stack), and preview RBAC.
plan: $(VENV)/.installed
	$(PY) -m tools.plan $(STACK)
	$(PY) -m tools.preview_rbac

## Whether plans/ is current: the diff, without writing (STACK=vm: one stack).
plan-check: $(VENV)/.installed
	$(PY) -m tools.plan --check $(STACK)
	$(PY) -m tools.preview_rbac --check

## The generated reference, docs/reference/: config keys and outputs.
docs: $(VENV)/.installed
	$(PY) -m tools.reference

# The component provider's schema, as Pulumi's analyzer infers it, and the TypeScript example's
# SDK that Pulumi's nodejs code generator makes from it (examples/typescript/sdks/meshstack;
# the generator is built by `make tools`).
## provider/schema.json and the TypeScript example's generated SDK.
schema: $(VENV)/.installed
	$(PY) -m meshstack.provider schema > provider/schema.json
	$(PY) -m tools.e2e.sdks --write-example

## Evaluation time, memory, weighted chains, printed (WRITE=1: docs/benchmark.md).
benchmark: $(VENV)/.installed
	$(PY) -m tools.benchmark $(if $(WRITE),--write docs/benchmark.md) $(STACK)

## ruff, shellcheck, pyright and actionlint, as CI runs them.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/shellcheck scripts/*.sh tools/e2e/*.sh tools/e2e/plugins/* .ci/run
	$(VENV)/bin/pyright
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint

