# shendu: every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test fuzz lint bench dist docs clean

$(STAMP): pyproject.toml setup.py shendu/_buffers.h shendu/optim/_fused.c shendu/ops/_lstm_cell.c shendu/ops/_conv.c shendu/ops/_batch_norm.c shendu/ops/_activation.c
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
	$(PY) -m ruff check shendu tests benchmarks examples tools docs
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

## The longer reliability suites: thousands of fuzzed model folders and weights files (each loaded in a
## memory-limited child), training killed at 40 random moments and resumed, slow clients against a real server.
fuzz: $(STAMP)
	SHENDU_FUZZ_EXAMPLES=3000 SHENDU_KILLS=40 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -s -p no:cacheprovider \
		tests/io/test_fuzz_model_folders.py tests/io/test_hostile_files.py tests/io/test_kill_during_save.py \
		tests/io/test_safetensors_conformance.py tests/cli/test_hostile_input.py tests/serve/test_slow_and_faulty.py

lint: $(STAMP)
	$(PY) -m ruff check shendu tests benchmarks examples tools docs

## Benchmarks against PyTorch, side by side in one process.
bench: $(STAMP)
	$(PY) -m benchmarks.run_all
	$(PY) -m benchmarks.cnn_family --json benchmarks/results/w7.json

## Release files: the sdist, the pure-Python wheel and the manylinux wheel with the kernels, each checked
## (twine check, installed into a fresh venv, imported, the demo trained for one epoch, an example run).
dist: $(STAMP)
	$(PY) tools/dist.py --out dist

## The documentation site (API reference from the docstrings, tutorials, examples, CLI, config schema,
## server API) in docs/_build/html; warnings are errors. `make test` builds it too (tests/test_docs.py).
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist docs/_build docs/generated *.egg-info .pytest_cache
