# Build and test tooling of the apim.certificates collection (this directory is the collection root).
# Needs only python3 (>= 3.9; 3.11 gives ansible-core 2.19), git and GNU make. `make help` lists targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# `make test` must run its steps in order and stop at the first failure, even with -j.
.NOTPARALLEL:

PYTHON ?= python3
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-stamp
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
LINK := $(COLLECTIONS)/ansible_collections/apim/certificates

# Extra arguments: make unit PYTEST_ARGS='-n auto -k jks'; make sanity SANITY_ARGS='--test pep8'
PYTEST_ARGS ?=
SANITY_ARGS ?=
DEMO_ARGS ?=

# Inherited by every recipe and by the processes pytest starts (ansible-playbook, molecule, ...).
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_PYTHON_INTERPRETER := $(VPY)
export ANSIBLE_LOCAL_TEMP := $(BUILD)/tmp/ansible-local
export ANSIBLE_REMOTE_TEMP := $(BUILD)/tmp/ansible-remote
export ANSIBLE_RETRY_FILES_ENABLED := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1

FLOOR_VENV := $(BUILD)/floor-venv
FLOOR_STAMP := $(FLOOR_VENV)/.stamp

.PHONY: help venv collection unit unit-floor node-python integration integration-targets interop sanity sanity-matrix matrix matrix-ends galaxy-importer changelog-lint lint docs docs-check molecule bench reliability-long test demo ee-context clean

help:
	@echo 'Targets:'
	@echo '  venv            .venv with requirements-test.txt (re-installed when a requirements file changes)'
	@echo '  collection      build/collections/ansible_collections/apim/certificates -> repository root'
	@echo '  unit            pytest tests/unit          (PYTEST_ARGS=...)'
	@echo '  integration     pytest tests/integration   (PYTEST_ARGS=...)'
	@echo '  integration-targets  ansible-test integration --venv: tests/integration/targets/ (INTEGRATION_ARGS=...)'
	@echo '  interop         pytest tests/interop       (PYTEST_ARGS=...)'
	@echo '  unit-floor      tests/unit on the oldest node libraries claimed (cryptography 3.4.8, tomlkit 0.9.2)'
	@echo '  node-python     vermin: the node-side code (modules, module_utils) needs no Python newer than 3.8'
	@echo '  sanity          ansible-test sanity --venv on a copy in build/sanity (SANITY_ARGS=...)'
	@echo '  sanity-matrix   sanity again with the newest ansible-core (2.21 on Python 3.13; the matrix venv)'
	@echo '  matrix          every ansible-core claimed (2.16-2.21): sanity, module/role integration, the role over SSH'
	@echo '                  (hack/matrix.py; MATRIX_ARGS="--versions 2.16,2.20 --parts sanity"); times in a summary table'
	@echo '  matrix-ends     the matrix for the oldest and the newest ansible-core only (2.16 on 3.11, 2.21 on 3.13)'
	@echo '  galaxy-importer Galaxy/Automation Hub import checks on the built tarball (own venv; no containers)'
	@echo '  lint            ansible-lint --offline --profile production at the collection root (as the Galaxy importer runs it)'
	@echo '  docs            regenerate docs/reference from the plugins and the role (docs-check: fail when stale)'
	@echo '  molecule        the gateway_sync role on three simulated nodes (converge, idempotence, verify)'
	@echo '  bench           benchmarks with PASS/MISS per target (BENCH_ARGS=--quick); see docs/performance.md'
	@echo '  reliability-long  the long crash-safety, concurrency and property variants (about 5 min)'
	@echo '  changelog-lint  antsibull-changelog lint'
	@echo '  test            venv collection node-python unit unit-floor integration integration-targets interop sanity'
	@echo '                  matrix-ends galaxy-importer changelog-lint lint docs-check, stopping at the first failure'
	@echo '  ee-context      the execution environment build context in build/ee (execution-environment.yml; docs/awx.md)'
	@echo '  demo            the main job on three simulated gateway nodes (DEMO_ARGS=--fresh to rebuild them)'
	@echo '  clean           remove build/ and .venv/'

# --- environment -----------------------------------------------------------------------------------

venv: $(STAMP)

$(STAMP): requirements-dev.txt requirements-test.txt
	@if [ ! -x "$(VPY)" ]; then echo "creating $(VENV)"; $(PYTHON) -m venv "$(VENV)"; fi
	"$(VPY)" -m pip install --quiet --upgrade pip
	"$(VPY)" -m pip install --quiet -r requirements-test.txt
	@touch "$@"

collection:
	@mkdir -p "$(dir $(LINK))"
	@if [ -d "$(LINK)" ] && [ ! -L "$(LINK)" ]; then rm -rf "$(LINK)"; fi
	@ln -sfn ../../../.. "$(LINK)"
	@test -f "$(LINK)/galaxy.yml"

# --- tests -----------------------------------------------------------------------------------------

# $(call pytest,DIR): run pytest on DIR. Exit code 5 (no tests collected) is accepted only while DIR
# holds no test files at all; a missing DIR (git keeps no empty directories) is skipped.
define pytest
	@mkdir -p "$(ANSIBLE_LOCAL_TEMP)" "$(ANSIBLE_REMOTE_TEMP)"
	@if [ ! -d $(1) ]; then echo "no tests in $(1) (directory missing)"; exit 0; fi; \
	rc=0; "$(VPY)" -m pytest -rs $(PYTEST_ARGS) $(1) || rc=$$?; \
	if [ $$rc -eq 5 ] && [ -z "$$(find $(1) -type f \( -name 'test_*.py' -o -name '*_test.py' \) -print -quit)" ]; then \
		echo "no tests in $(1)"; \
	else \
		exit $$rc; \
	fi
endef

unit: venv collection
	$(call pytest,tests/unit)

integration: venv collection
	$(call pytest,tests/integration)

interop: venv collection
	$(call pytest,tests/interop)

# The library floor (docs/managed-nodes.md): the unit tests again, on the oldest libraries the collection claims for
# managed nodes. Python's own is used, so this is also the node Python check where only one Python exists.
$(FLOOR_STAMP): requirements-floor.txt
	@rm -rf "$(FLOOR_VENV)"; echo "creating $(FLOOR_VENV)"; $(PYTHON) -m venv "$(FLOOR_VENV)"
	"$(FLOOR_VENV)/bin/python" -m pip install --quiet -r requirements-floor.txt
	@touch "$@"

unit-floor: collection $(FLOOR_STAMP)
	@"$(FLOOR_VENV)/bin/python" -c 'import cryptography, tomlkit; print("library floor: cryptography", cryptography.__version__, "tomlkit", tomlkit.__version__)'
	"$(FLOOR_VENV)/bin/python" -m pytest -rs -p no:cacheprovider -o addopts= -n 0 $(PYTEST_ARGS) tests/unit

# Node-side code must run on Python 3.8 (ansible-core 2.18/2.19's floor for managed nodes). vermin is the fast static
# guard; tests/integration/test_node_pythons.py and the SSH fleet run it on real CPython 3.8-3.10 (docs/managed-nodes.md).
node-python: venv
	"$(VENV)/bin/vermin" --target=3.8- --violations --no-tips plugins/modules plugins/module_utils

sanity: venv
	"$(VPY)" hack/sanity.py $(SANITY_ARGS)

# The targets in tests/integration/targets/ (one per node-side module and the role), run by ansible-test on this machine with
# the local connection, as community collections are tested: a copy in build/integration, offline pip bootstrap.
INTEGRATION_ARGS ?=
integration-targets: venv
	"$(VPY)" hack/integration.py $(INTEGRATION_ARGS)

changelog-lint: venv
	"$(VENV)/bin/antsibull-changelog" lint

test: venv collection node-python unit unit-floor integration integration-targets interop sanity matrix-ends galaxy-importer changelog-lint lint docs-check
	@echo 'make test: all steps passed'

# --- the ansible-core matrix (README.md "Supported ansible-core and Python versions") -----------------

# Every ansible-core meta/runtime.yml claims, each in its own venv (build/matrix/<version>/venv, pins in hack/matrix/)
# on a controller Python it supports: ansible-test sanity, the module and role integration tests with it as the
# controller, the role over the SSH fleet. A summary table with the time of each part at the end; fails when a part
# fails or skips, or when README.md's support table is not the one the matrix runs. make test runs the two ends.
MATRIX_ARGS ?=
matrix: venv collection
	"$(VPY)" hack/matrix.py $(MATRIX_ARGS)

matrix-ends: venv collection
	"$(VPY)" hack/matrix.py --ends $(MATRIX_ARGS)

# sanity with the newest ansible-core alone (2.21 on Python 3.13, the matrix's venv); make matrix-ends includes it.
sanity-matrix: venv collection
	"$(VPY)" hack/matrix.py --versions 2.21 --parts sanity -- $(SANITY_ARGS)

# galaxy-importer on the tarball ansible-galaxy collection build makes: no error and no warning allowed.
galaxy-importer:
	PYTHON="$(PYTHON)" hack/galaxy-importer.sh

# The role's multi-node Molecule scenario on its own (make integration runs it too, through pytest).
molecule: venv collection
	@mkdir -p "$(BUILD)/molecule"
	MOLECULE_EPHEMERAL_DIRECTORY="$(BUILD)/molecule" "$(VENV)/bin/molecule" test -s gateway_sync

# The long variants of the reliability suite (300 kills per writer, more concurrency rounds, 2000 examples per property).
reliability-long: venv collection
	APIM_LONG_TESTS=1 "$(VPY)" -m pytest -rs -m slow $(PYTEST_ARGS) tests/integration/reliability tests/unit/plugins/module_utils/test_properties.py

# Benchmarks: tables with ratios and PASS/MISS per target; JSON in build/bench/results.json.
# BENCH_ARGS=--quick (about 2 min), --only library,module,fleet, --no-java-cert, --strict.
BENCH_ARGS ?=
bench: venv collection
	@mkdir -p "$(BUILD)/bench" "$(ANSIBLE_LOCAL_TEMP)" "$(ANSIBLE_REMOTE_TEMP)"
	"$(VPY)" benchmarks/run.py $(BENCH_ARGS)

# Reference pages generated from the modules' DOCUMENTATION and the role's argument_specs (docs/reference/).
docs: venv collection
	hack/docs.sh docs/reference

# Fails when the committed reference is stale.
docs-check: venv collection
	hack/docs.sh --check docs/reference

# ansible-lint as Galaxy's importer runs it: the whole collection root, production profile, no skip list.
lint: venv collection
	"$(VENV)/bin/ansible-lint" --offline --profile production

# --- demo ------------------------------------------------------------------------------------------

# Three simulated gateway nodes with drift, a local HTTPS backend, the gateway_sync role, a JVM trust check.
# Re-running reports no change; DEMO_ARGS=--fresh rebuilds the nodes with drift.
demo: venv collection
	@mkdir -p "$(BUILD)/demo" "$(ANSIBLE_LOCAL_TEMP)" "$(ANSIBLE_REMOTE_TEMP)"
	"$(VPY)" demo/run_demo.py --dir "$(BUILD)/demo" $(DEMO_ARGS)

# The execution environment's build context: the collection tarball, then ansible-builder (no container engine needed).
ee-context: venv
	@mkdir -p "$(BUILD)/ee-src"
	rm -f "$(BUILD)"/ee-src/*.tar.gz
	"$(VENV)/bin/ansible-galaxy" collection build --force --output-path "$(BUILD)/ee-src" .
	cp "$(BUILD)"/ee-src/apim-certificates-*.tar.gz "$(BUILD)/ee-src/apim-certificates.tar.gz"
	"$(VENV)/bin/ansible-builder" create -f execution-environment.yml --context "$(BUILD)/ee"

clean:
	rm -rf "$(BUILD)" "$(VENV)"
