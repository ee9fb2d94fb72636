# Two commands for a new user: `make demo` and `make test`. Both create .venv and install
# everything they need; both are idempotent (the stamp files track pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
REPORT ?= memograd-report.html

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-stamp: pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@

$(VENV)/.dev-stamp: pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,all,interop,distributed,browser,fast]"
	touch $@ $(VENV)/.demo-stamp

demo: $(VENV)/.demo-stamp
	$(BIN)/memograd demo --out $(REPORT)

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# mypy: the package's types as configured in pyproject.toml ([tool.mypy]: --strict on the
# whole package)
typecheck: $(VENV)/.dev-stamp
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

$(VENV)/.bench-stamp: pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,all,interop,distributed,browser,fast,bench]"
	touch $@

# all benchmarks, printed as markdown (PyTorch joins when installed: pip install torch==2.13.0)
bench: $(VENV)/.bench-stamp
	$(BIN)/python benchmarks/memo_bench.py
	$(BIN)/python benchmarks/scalar_bench.py --steps 3
	$(BIN)/python benchmarks/tensor_bench.py --rounds 11
	$(BIN)/python benchmarks/sklearn_compare.py --threads 1 --seeds 2

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
