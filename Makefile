# Developer commands. Each installs the pinned tools into .venv first (once per change of
# requirements*.txt). `make plan STACK=vm` writes plans/vm.yaml; without STACK, every stack.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test charts plan plan-check docs schema benchmark lint tools e2e

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test:
	scripts/test.sh

# The real control plane's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# etcd, kwok, the webhook stand-in), built from Go modules pinned in tools/e2e/kube/ into .tools/bin/.
tools:
	tools/e2e/build-kube.sh

# The end-to-end run against that control plane (scripts/e2e.sh).
e2e:
	scripts/e2e.sh

# The chart sources the tests render, for a machine without ../shared/reference (needs internet).
charts: $(VENV)/.installed
	$(PY) -m tools.charts pull

# With the plans, the RBAC each previewed stack's preview identity needs (ci/preview-rbac/).
plan: $(VENV)/.installed
	$(PY) -m tools.plan $(STACK)
	$(PY) -m tools.preview_rbac

plan-check: $(VENV)/.installed
	$(PY) -m tools.plan --check $(STACK)
	$(PY) -m tools.preview_rbac --check

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
	$(VENV)/bin/shellcheck scripts/*.sh tools/e2e/*.sh .ci/run
	$(VENV)/bin/pyright
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint
