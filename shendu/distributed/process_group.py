"""The process group: which process this is, how many there are, and collectives on tensors, over MPI.

shendu's data parallelism runs on MPI (through mpi4py), the engine behind Horovod and ChainerMN:
start the processes with ``mpiexec -n N python train.py`` (or ``shendu train --nproc N``), call
:func:`init_process_group` in each, and they find each other through ``mpiexec``'s environment.
The names and arguments are PyTorch's (``torch.distributed``).

Collectives work on the tensor's own buffer, in place, with MPI's buffer interface: no array is
ever pickled. A process that raises an uncaught exception aborts the whole job (``MPI_Abort``),
so the others exit with a clear message instead of waiting forever in a collective.

Example:
    >>> import shendu.distributed as dist
    >>> dist.init_process_group(backend="mpi")
    >>> t = shendu.tensor([float(dist.get_rank())])
    >>> dist.all_reduce(t)            # t = 0 + 1 + ... + (N-1) on every process
"""

import enum
import os
import sys

import numpy as np

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
    "barrier", "all_reduce", "broadcast", "all_gather", "reduce", "ReduceOp", "DistributedError", "launched_by_mpiexec",
    "communicator",
]  # fmt: skip

_STATE = {"comm": None, "hook": None}
_LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "SLURM_NTASKS")


class DistributedError(RuntimeError):
    """A distributed call that cannot work: no process group, no MPI, mismatched models across ranks."""


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` combines the tensors of every process (PyTorch's names)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedError(
            "shendu.distributed needs mpi4py and an MPI: pip install 'shendu[distributed]' "
            "(installs mpi4py and Open MPI's mpiexec into the environment)"
        ) from None
    return MPI


def is_available():
    """True when mpi4py (and so an MPI library) can be imported."""
    try:
        _mpi()
    except DistributedError:
        return False
    return True


def launched_by_mpiexec():
    """True when this process was started by ``mpiexec``/``srun`` as one of several."""
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(name)
        if value is not None and value.isdigit() and int(value) > 1:
            return True
    return False


def _abort_on_uncaught_exception(kind, value, traceback):
    """An uncaught exception on one rank ends every rank (never a hang in a collective)."""
    previous = _STATE["hook"] or sys.__excepthook__
    previous(kind, value, traceback)
    comm = _STATE["comm"]
    if comm is not None and comm.Get_size() > 1:
        sys.stderr.write(f"shendu.distributed: rank {comm.Get_rank()} failed ({kind.__name__}); aborting every rank\n")
        sys.stderr.flush()
        comm.Abort(1)


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1, **kwargs):
    """Join the processes started together by ``mpiexec`` (PyTorch's signature).

    Args:
        backend: ``"mpi"``. ``"gloo"`` (PyTorch's CPU backend) is accepted as a synonym, since
            programs written for PyTorch on CPUs name it; the processes must still be started by
            ``mpiexec``.
        init_method: accepted for compatibility; MPI finds its processes itself.
        timeout: accepted for compatibility.
        world_size: if given, must equal the number of processes ``mpiexec`` started.
        rank: if given, must equal this process's MPI rank.

    Raises:
        DistributedError: no MPI, a second initialisation, an unknown backend, or a
            world_size/rank that does not match mpiexec's.
    """
    if _STATE["comm"] is not None:
        raise DistributedError("init_process_group: the default process group is already initialized")
    if backend not in ("mpi", "gloo", None):
        raise DistributedError(f"init_process_group: backend {backend!r} is not available; shendu runs on 'mpi' (or 'gloo', its synonym)")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise DistributedError(f"init_process_group: world_size={world_size}, but mpiexec started {comm.Get_size()} processes")
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise DistributedError(f"init_process_group: rank={rank}, but this process is MPI rank {comm.Get_rank()}")
    _STATE["comm"] = comm
    if sys.excepthook is not _abort_on_uncaught_exception:
        _STATE["hook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def destroy_process_group(group=None):
    """Leave the process group (the MPI library itself stays initialised until the process exits)."""
    comm = _STATE["comm"]
    if comm is None:
        return
    _STATE["comm"] = None
    if sys.excepthook is _abort_on_uncaught_exception:
        sys.excepthook = _STATE["hook"] or sys.__excepthook__
    comm.Free()


def is_initialized():
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _STATE["comm"] is not None


def communicator():
    """The MPI communicator of the process group (for code that needs mpi4py itself)."""
    comm = _STATE["comm"]
    if comm is None:
        raise DistributedError("Default process group has not been initialized, please make sure to call init_process_group.")
    return comm


def get_rank(group=None):
    """This process's rank, 0 .. world size − 1 (0 without a process group, as a single process)."""
    return _STATE["comm"].Get_rank() if _STATE["comm"] is not None else 0


def get_world_size(group=None):
    """The number of processes (1 without a process group)."""
    return _STATE["comm"].Get_size() if _STATE["comm"] is not None else 1


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every process reaches this call."""
    communicator().Barrier()


def _buffer(tensor, name):
    from ..tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} expects a shendu Tensor; got {type(tensor).__name__}")
    array = tensor._array
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _write_back(tensor, buffer):
    if buffer is not tensor._array:
        tensor._array[...] = buffer


def _mpi_op(op):
    MPI = _mpi()
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be a shendu.distributed.ReduceOp; got {op!r}")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX}[op]  # fmt: skip


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across every process, in place: after the call each holds the result."""
    comm = communicator()
    buffer = _buffer(tensor, "all_reduce")
    comm.Allreduce(_mpi().IN_PLACE, buffer, op=_mpi_op(op))
    if op is ReduceOp.AVG:
        np.divide(buffer, comm.Get_size(), out=buffer, casting="unsafe")
    _write_back(tensor, buffer)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across every process into the one of rank ``dst`` (in place there)."""
    comm = communicator()
    buffer = _buffer(tensor, "reduce")
    MPI = _mpi()
    if comm.Get_rank() == dst:
        comm.Reduce(MPI.IN_PLACE, buffer, op=_mpi_op(op), root=dst)
        if op is ReduceOp.AVG:
            np.divide(buffer, comm.Get_size(), out=buffer, casting="unsafe")
        _write_back(tensor, buffer)
    else:
        comm.Reduce(buffer, None, op=_mpi_op(op), root=dst)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every other process's ``tensor`` (same shape and dtype), in place."""
    comm = communicator()
    buffer = _buffer(tensor, "broadcast")
    comm.Bcast(buffer, root=src)
    _write_back(tensor, buffer)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor`` (every tensor of one shape and dtype)."""
    comm = communicator()
    if not isinstance(tensor_list, list) or len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather: tensor_list must be a list of {comm.Get_size()} tensors (one per process)")
    buffer = _buffer(tensor, "all_gather")
    gathered = np.empty((comm.Get_size(),) + buffer.shape, buffer.dtype)
    comm.Allgather(buffer, gathered)
    for target, part in zip(tensor_list, gathered):
        if tuple(target.shape) != buffer.shape or target._array.dtype != buffer.dtype:
            raise ValueError(f"all_gather: every tensor in tensor_list must have shape {buffer.shape} and dtype {buffer.dtype}")
        target._array[...] = part
