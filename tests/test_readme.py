"""The README's command block runs as written, in a fresh folder, with the project's environment active."""

import os
import pathlib
import re
import shlex
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _command_block():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The `shendu` command and the model server"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_command_block_runs_as_written(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("fastapi")
    commands = _command_block()
    assert commands[0] == ". .venv/bin/activate" and commands[-1].startswith("shendu serve")
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               SHENDU_NUM_THREADS="1")  # fmt: skip
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(pathlib.Path(sys.executable).parent)  # "activate" as in a checkout
    for command in commands[:-1]:
        done = subprocess.run(["bash", "-c", f". .venv/bin/activate && {command}"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, f"{command!r} failed:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    assert (tmp_path / "runs" / "mnist-mlp" / "model.safetensors").exists()
    assert (tmp_path / "runs" / "cnn" / "model.safetensors").exists()
    server = subprocess.Popen(["bash", "-c", f". .venv/bin/activate && exec {commands[-1].replace('8000', '0')}"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        address, deadline = None, time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match and match.group(1) != "0":
                address = f"http://127.0.0.1:{match.group(1)}"
        assert address, "the server did not say where it listens"
        with urllib.request.urlopen(f"{address}/health", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()
    assert shlex.split(commands[2])[:2] == ["shendu", "train"]
