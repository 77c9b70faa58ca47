# shendu: every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml setup.py shendu/_buffers.h shendu/optim/_fused.c shendu/ops/_lstm_cell.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	-command -v apt-get >/dev/null && (dpkg -s gcc python3-dev >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq gcc python3-dev))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	-command -v apt-get >/dev/null && (dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist))
	-command -v apt-get >/dev/null && (dpkg -s fortunes fortunes-de fortunes-es fortunes-it fortunes-br >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq fortunes fortunes-de fortunes-es fortunes-it fortunes-br))
	-command -v apt-get >/dev/null && (dpkg -s chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium))
	touch $(STAMP)

## Main job: train and evaluate the seed MLP (784-500-10) on the embedded MNIST digits.
demo: $(STAMP)
	$(PY) -m shendu.cli train

## The whole test suite (ruff, then pytest on 2 workers, one BLAS thread each).
test: $(STAMP)
	$(PY) -m ruff check shendu tests benchmarks examples
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(PY) -m ruff check shendu tests benchmarks examples

## Benchmarks against PyTorch, side by side in one process.
bench: $(STAMP)
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
