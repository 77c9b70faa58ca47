"""``make dist`` as a test: the sdist and both wheels build, pass ``twine check`` and work when installed."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_the_release_files_build_install_and_train(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "dist.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3, names
    assert any(name.endswith("-py3-none-any.whl") for name in names)
    assert any("manylinux" in name and name.endswith("_x86_64.whl") for name in names)
    assert "accuracy:" in result.stdout and "PASSED" in result.stdout  # the demo trained; twine passed
