"""Running a Python program as several real MPI processes (``mpiexec``) on this machine, bounded in time."""

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def require_mpi():
    pytest.importorskip("mpi4py", reason="the [distributed] extra (mpi4py, Open MPI) is not installed")
    from shendu.distributed.launch import find_mpiexec

    if find_mpiexec() is None:
        pytest.skip("no mpiexec: the [distributed] extra installs Open MPI's")


def run_mpi(code, nproc=2, timeout=120, cwd=None, args=()):
    """Run ``code`` (a Python program) in ``nproc`` MPI processes; returns the CompletedProcess."""
    from shendu.distributed.launch import mpiexec_command

    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), "OPENBLAS_NUM_THREADS": "1"}
    command = mpiexec_command(nproc, [sys.executable, "-c", textwrap.dedent(code), *args])
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT, env=env)
