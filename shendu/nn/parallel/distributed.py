"""``DistributedDataParallel``: one model replica per process, gradients averaged after every backward.

PyTorch's class and arguments. At construction every process checks it holds the same model
(a mismatch names the parameter) and takes rank 0's parameters and buffers; each forward (in
training, with gradients) queues the averaging of every gradient across the processes, which
runs when ``backward()`` has finished, before ``optimizer.step()``. Within :meth:`no_sync`,
gradients accumulate locally (the next synchronised backward averages the sum).

NOTE: shendu's backward pass computes every parameter gradient before any leaf receives it, so
the buckets are all-reduced right after the backward pass (non-blocking, all at once) rather than
during it; ``BENCHMARKS.md`` gives the measured share of a step.

Example:
    >>> dist.init_process_group("mpi")
    >>> model = DistributedDataParallel(Net())
    >>> loss_fn(model(x), y).backward()       # gradients are averaged here
    >>> optimizer.step()
"""

import contextlib

from ...autograd import is_grad_enabled, queue_callback
from ...distributed.reducer import GradientReducer, broadcast_buffers, sync_module
from ..module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the initialised process group.

    Args:
        module: the model (the same architecture on every process).
        device_ids, output_device, dim, process_group, gradient_as_bucket_view, static_graph:
            accepted for compatibility (CPU processes, one group).
        broadcast_buffers: give every process rank 0's buffers at each forward. Defaults to True.
        bucket_cap_mb: the largest all-reduce bucket, in megabytes. Defaults to 25.
        find_unused_parameters: accepted; a parameter without a gradient is handled either way.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, process_group=None,
                 bucket_cap_mb=25, find_unused_parameters=False, gradient_as_bucket_view=False, static_graph=False):  # fmt: skip
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel expects a shendu.nn.Module; got {type(module).__name__}")
        from ... import distributed

        distributed.communicator()  # raises a clear error without init_process_group
        sync_module(module)
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        object.__setattr__(self, "_reducer", GradientReducer(module.parameters(), bucket_cap_mb))
        object.__setattr__(self, "_synchronise", True)
        object.__setattr__(self, "_queued", False)

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers:
            broadcast_buffers(self.module)
        if self.training and is_grad_enabled() and self._synchronise and not self._queued:
            object.__setattr__(self, "_queued", True)
            queue_callback(self._average_gradients)
        return self.module(*args, **kwargs)

    def _average_gradients(self):
        object.__setattr__(self, "_queued", False)
        self._reducer.reduce()

    @contextlib.contextmanager
    def no_sync(self):
        """Within this block gradients are not averaged (accumulate several micro-batches locally)."""
        previous = self._synchronise
        object.__setattr__(self, "_synchronise", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_synchronise", previous)
