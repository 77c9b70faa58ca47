"""The documentation site builds from a clean slate with no Sphinx warning (``make docs``)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_the_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
                             "-d", str(tmp_path / "doctrees"), os.path.join(ROOT, "docs"), str(tmp_path / "html")],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    assert result.stderr.strip() == ""  # -q: only warnings would be printed
    html = tmp_path / "html"
    api = {name for name in os.listdir(html / "generated" / "api")}
    for module in ("shendu.nn.linear", "shendu.keras.models", "shendu.vision.models.resnet", "shendu.sklearn"):
        assert f"{module}.html" in api
    assert "POST /predict" in (html / "generated" / "server.html").read_text()
    assert "training.epochs" in (html / "generated" / "config.html").read_text()
    assert "--nproc" in (html / "cli.html").read_text()
    assert len(os.listdir(html / "generated" / "tutorials")) >= 5
