"""Averaging gradients across processes, and starting every process from the same model.

:class:`GradientReducer` packs the gradients into a few flat buckets (25 MB by default, as
PyTorch's DistributedDataParallel), starts a non-blocking all-reduce on each (``MPI_Iallreduce``:
the buckets travel at once), then divides by the number of processes and copies the averages
back into each ``.grad``. A parameter that has no gradient on some process counts as zero there,
and keeps ``grad = None`` only where no process produced one (one extra number per parameter in
its bucket says how many did, so no second collective is needed).

:func:`sync_module` checks that every process built the same model (names, shapes, dtypes of
every parameter and buffer; a mismatch names the first differing entry on every process, so all
of them fail together) and copies rank 0's values to the others.
"""

import numpy as np

from .process_group import DistributedError, communicator, get_world_size

__all__ = ["GradientReducer", "sync_module", "broadcast_buffers"]


class _Bucket:
    def __init__(self, params, dtype):
        self.params = params
        sizes = [p._array.size for p in params]
        self.buffer = np.empty(sum(sizes) + len(params), dtype)  # the values, then one "has a gradient" count each
        self.views, offset = [], 0
        for p, size in zip(params, sizes):
            self.views.append(self.buffer[offset : offset + size].reshape(p._array.shape))
            offset += size
        self.flags = self.buffer[offset:]


class GradientReducer:
    """Average the ``.grad`` of ``parameters`` across every process (see the module docstring).

    Args:
        parameters: the parameters whose gradients to average (those without ``requires_grad`` are left out).
        bucket_cap_mb: the largest bucket, in megabytes. Defaults to 25.
    """

    def __init__(self, parameters, bucket_cap_mb=25):
        if not (isinstance(bucket_cap_mb, (int, float)) and bucket_cap_mb > 0):
            raise ValueError(f"bucket_cap_mb must be a positive number. Received: bucket_cap_mb={bucket_cap_mb!r}")
        params = [p for p in parameters if p.requires_grad]
        cap = int(bucket_cap_mb * 1024 * 1024)
        self.buckets = []
        for dtype in dict.fromkeys(p._array.dtype for p in params):
            current, size = [], 0
            for p in (q for q in params if q._array.dtype == dtype):
                if current and size + p._array.nbytes > cap:
                    self.buckets.append(_Bucket(current, dtype))
                    current, size = [], 0
                current.append(p)
                size += p._array.nbytes
            if current:
                self.buckets.append(_Bucket(current, dtype))

    def reduce(self):
        """All-reduce every bucket (non-blocking, all at once), then write the averages into ``.grad``."""
        world = get_world_size()
        if world == 1:
            return
        from mpi4py import MPI

        from ..tensor import Tensor

        comm = communicator()
        requests = []
        for bucket in self.buckets:
            for p, view, index in zip(bucket.params, bucket.views, range(len(bucket.params))):
                grad = p._grad
                if grad is None:
                    view[...] = 0
                    bucket.flags[index] = 0
                else:
                    view[...] = grad._array
                    bucket.flags[index] = 1
            requests.append(comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM))
        for bucket, request in zip(self.buckets, requests):
            request.Wait()
            for p, view, count in zip(bucket.params, bucket.views, bucket.flags):
                if count == 0:
                    continue  # no process produced a gradient for it: it stays None everywhere
                if p._grad is None:
                    p._grad = Tensor(view / world)
                else:
                    np.divide(view, world, out=p._grad._array)


def _signature(module):
    entries = [("parameter", n, t) for n, t in module.named_parameters()] + [("buffer", n, t) for n, t in module.named_buffers()]
    return [(kind, name, tuple(t._array.shape), t._array.dtype.str) for kind, name, t in entries]


def sync_module(module):
    """Check every process holds the same architecture, then give every one rank 0's parameters and buffers.

    Raises:
        DistributedError: on every process, naming the first parameter or buffer whose name,
            shape or dtype differs between rank 0 and another rank.
    """
    if get_world_size() == 1:
        return
    comm = communicator()
    signatures = comm.allgather(_signature(module))  # small lists of names and shapes, never arrays
    reference = signatures[0]
    for rank, signature in enumerate(signatures[1:], start=1):
        if signature == reference:
            continue
        for ours, theirs in zip(reference, signature):
            if ours != theirs:
                raise DistributedError(
                    f"the model differs between processes: {ours[0]} {ours[1]!r} has shape {ours[2]} and dtype {ours[3]} "
                    f"on rank 0, but rank {rank} has {theirs[0]} {theirs[1]!r} with shape {theirs[2]} and dtype {theirs[3]}"
                )
        shorter, longer = (reference, signature) if len(reference) < len(signature) else (signature, reference)
        extra = longer[len(shorter)]
        raise DistributedError(
            f"the model differs between processes: rank 0 has {len(reference)} parameters and buffers, rank {rank} has "
            f"{len(signature)} (first unmatched: {extra[0]} {extra[1]!r})"
        )
    for tensor in list(module.parameters()) + list(module.buffers()):
        _broadcast_array(comm, tensor)


def broadcast_buffers(module):
    """Give every process rank 0's buffers (BatchNorm running statistics), as DistributedDataParallel does each forward."""
    if get_world_size() == 1:
        return
    comm = communicator()
    for tensor in module.buffers():
        _broadcast_array(comm, tensor)


def _broadcast_array(comm, tensor):
    array = tensor._array
    if array.flags.c_contiguous:
        comm.Bcast(array, root=0)
    else:
        buffer = np.ascontiguousarray(array)
        comm.Bcast(buffer, root=0)
        array[...] = buffer


