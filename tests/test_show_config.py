"""shendu.show_config(): versions, BLAS, threads, which compiled kernels are built and active, extras."""

import os
import subprocess
import sys

import numpy as np

import shendu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_show_config_prints_what_the_installation_holds(capsys):
    shendu.show_config()
    out = capsys.readouterr().out
    assert f"shendu {shendu.__version__}" in out and f"NumPy {np.__version__}" in out and "threads:" in out
    assert "compiled kernel shendu.optim._fused:" in out and "extras: serve" in out


def test_kernels_that_were_not_built_are_not_reported_active():
    """With the kernel modules hidden (as after an install without a compiler), enabled() stays True but nothing is active."""
    code = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith(c_kernels): raise ImportError(name)\n"
        "c_kernels = ('shendu.optim._fused', 'shendu.ops._lstm_cell', 'shendu.ops._conv', 'shendu.ops._batch_norm',\n"
        "             'shendu.ops._activation')\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import shendu, shendu._compiled as c\n"
        "assert c.enabled() and c.built() == dict.fromkeys(c_kernels, False)\n"
        "assert not any(c.active().values())\n"
        "shendu.show_config()\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "compiled kernel shendu.optim._fused: not built (NumPy fallback)" in result.stdout


def test_the_licences_are_declared():
    with open(os.path.join(ROOT, "pyproject.toml")) as handle:
        text = handle.read()
    assert 'license = "MIT AND CC-BY-SA-3.0 AND Apache-2.0"' in text and 'license-files = ["LICENSE", "LICENSES/*"]' in text
    with open(os.path.join(ROOT, "LICENSES", "mnist-10k.md")) as handle:
        assert "CC BY-SA 3.0" in handle.read()
    with open(os.path.join(ROOT, "LICENSES", "droid-sans-fallback.md")) as handle:  # the demo page's title glyphs
        assert "Apache License, Version 2.0" in handle.read()
    assert os.path.isfile(os.path.join(ROOT, "LICENSE"))


def test_malloc_tuning_is_on_by_default_and_can_be_switched_off():
    """glibc's thresholds are raised at import (shendu/_malloc.py); SHENDU_MALLOC_TUNING=0 leaves them alone."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = "import shendu, shendu._malloc as m; print(m.tuned()); shendu.show_config()"
    on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**env, "SHENDU_MALLOC_TUNING": "0"})  # fmt: skip
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert on.stdout.startswith("True") and "malloc: large blocks kept for reuse" in on.stdout
    assert off.stdout.startswith("False") and "malloc: as the platform sets it" in off.stdout
