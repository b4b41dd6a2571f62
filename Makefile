# Shimanto drone pipeline. Two commands do all the set-up on a fresh machine:
#   make demo   – create .venv if missing, install, run every stage on demo data
#   make test   – create .venv if missing, install, run ruff, mypy and pytest

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: demo test lint typecheck pytest bench repro system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	# torch/torchvision wheels lie on the machine's disk; pip (not uv) takes them from there.
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shimanto demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check pipeline cli.py tests bench

typecheck: $(STAMP)
	$(BIN)/mypy pipeline cli.py

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# DVC chain (dvc.yaml): simulate → indices → train → evaluate → predict, season → reprocess.
repro: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc metrics show

system-deps:
	bash .ci/system-deps.sh

clean:
	rm -rf $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
