"""Every other code block of the README runs as written (the CLI block has tests/test_readme.py).

Python blocks run in a fresh folder holding the files they name (a PyTorch checkpoint written by
``torch.save``, a photo); the set-up block's targets must exist in the Makefile (``make -n``: running
``make test`` inside the test suite would recurse); of the distributed block, the commands that one
machine can run are run, the others need a cluster (a hostfile, Slurm, a Dask scheduler) and are named.
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)
ENV = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           OPENBLAS_NUM_THREADS="1", SHENDU_NUM_THREADS="1")  # fmt: skip


def _prepare(block, folder):
    """Write the files a block reads: a torchvision-layout checkpoint saved by PyTorch, a photo."""
    if "resnet18.pth" in block:
        torch = pytest.importorskip("torch")
        from shendu.vision import models

        state = models.resnet18(weights=None).state_dict()
        torch.save({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()}, folder / "resnet18.pth")
    if "cat.jpg" in block:
        from PIL import Image

        pixels = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "cat.jpg")


@pytest.mark.parametrize("number", range(len(PYTHON_BLOCKS)))
def test_each_python_block_runs(number, tmp_path):
    block = PYTHON_BLOCKS[number]
    _prepare(block, tmp_path)
    (tmp_path / "block.py").write_text(block)
    done = subprocess.run([sys.executable, "block.py"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, f"README python block {number}:\n{block}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def test_the_set_up_block_names_real_make_targets():
    commands = [line.split("#")[0].strip() for line in BASH_BLOCKS[0].splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    done = subprocess.run(["make", "-n", "demo", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "shendu.cli train" in done.stdout and "pytest" in done.stdout, done.stderr


def test_the_distributed_block_runs_what_one_machine_can(tmp_path):
    pytest.importorskip("mpi4py")
    block = next(b for b in BASH_BLOCKS if "--nproc" in b)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    local = [c for c in commands if c.startswith(("shendu train mnist-cnn --nproc", "mpiexec -n 2 shendu"))]
    cluster = [c for c in commands if c not in local]
    assert len(local) == 2 and all(("hostfile" in c) or c.startswith("srun") or "--dask-scheduler" in c for c in cluster)
    quick = ["--set", "training.epochs=1", "--set", "data.limit=512", "--set", "data.test_limit=256"]
    for command in local:
        argv = shlex.split(command) + quick
        if argv[0] == "mpiexec" and os.geteuid() == 0:
            argv.insert(1, "--allow-run-as-root")
        done = subprocess.run(argv, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert (tmp_path / "runs" / "mnist-cnn" / "model.safetensors").exists()
