"""Starting N processes of a command with ``mpiexec`` (what ``shendu train --nproc N`` does).

The ``mpiexec`` is the one installed into this Python environment by the ``[distributed]`` extra
(Open MPI's wheel), else the first on ``PATH``. As root, Open MPI needs ``--allow-run-as-root``;
with more processes than cores, ``--oversubscribe``. Both are added when they apply.
"""

import os
import shutil
import sys

__all__ = ["find_mpiexec", "mpiexec_command"]


def find_mpiexec():
    """The path of ``mpiexec``: beside this Python first, then on PATH; None if there is none."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def mpiexec_command(nproc, command):
    """``[mpiexec, options..., *command]`` starting ``nproc`` copies of ``command`` on this machine."""
    from .process_group import DistributedError

    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise DistributedError("no mpiexec found: pip install 'shendu[distributed]' (installs Open MPI's mpiexec)")
    options = ["-n", str(int(nproc))]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-run-as-root")
    if nproc > (os.cpu_count() or 1):
        options.append("--oversubscribe")
    return [mpiexec, *options, *command]
