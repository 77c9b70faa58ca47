"""``shendu.distributed``: data-parallel training on several processes and machines, over MPI.

PyTorch's names (``torch.distributed``): :func:`init_process_group`, :func:`get_rank`,
:func:`get_world_size`, collectives on tensors, and ``shendu.nn.parallel.DistributedDataParallel``
with ``shendu.utils.data.DistributedSampler``. ``shendu.train``/``Trainer``, the Keras dialect's
``fit`` and ``shendu train --nproc N`` use it by themselves once a process group is initialised.
Needs the ``[distributed]`` extra (mpi4py and Open MPI's ``mpiexec``).
"""

from . import launch
from .process_group import (
    DistributedError,
    ReduceOp,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    communicator,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    launched_by_mpiexec,
    reduce,
)
from .reducer import GradientReducer, broadcast_buffers, sync_module

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
    "barrier", "all_reduce", "reduce", "broadcast", "all_gather", "ReduceOp", "DistributedError", "launched_by_mpiexec",
    "communicator", "GradientReducer", "sync_module", "broadcast_buffers",
]  # fmt: skip
