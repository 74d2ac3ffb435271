# polyzarr: the two commands a newcomer needs are `make test` and (later) `make matrix`.
# Each bootstraps what is missing (venv, Debian codec libraries, Julia) and is quick when all is there.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
JULIA ?= $(CURDIR)/.cache/julia/bin/julia
export JULIA

.PHONY: setup setup-python setup-debs setup-julia test test-python test-julia bench clean help

help:
	@echo "make test    install what is missing, then run the whole suite (Python, Julia, S3 via moto)"
	@echo "make bench   benchmarks against zarr-python (not part of the tests)"
	@echo "make setup   only install (venv, Debian codec libraries, Julia 1.5+ with the libunwind fix)"

setup: setup-python setup-debs setup-julia

setup-python:
	@scripts/setup-python.sh

setup-debs:
	@scripts/install-debs.sh

setup-julia:
	@scripts/install-julia.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/bench_v2.py $(BENCH_ARGS)

clean:
	rm -rf .pytest_cache reports build python/*.egg-info
