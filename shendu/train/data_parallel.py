"""What ``Trainer.fit`` does differently when it runs on several processes (an initialised process group).

Every process trains the same model on its own share of each epoch's samples; after every
backward pass the gradients are averaged (:class:`~shendu.distributed.GradientReducer`), so each
update equals one of a single process on the union of the processes' batches (``batch_size`` is
per process, as in PyTorch: the global batch is ``batch_size × world size``). The shares come
from one permutation that every process draws from the same seed (rank 0's, broadcast), padded
to divide evenly as ``DistributedSampler`` does, so every process runs the same number of steps.

Losses and metrics are averaged across the processes, weighted by their sample counts; the
validation data is measured whole on every process (the weights are the same everywhere, so
are the results). Only rank 0 prints, and runs the callbacks that write files; only rank 0
writes checkpoints, which every process reads to resume.
"""

import numpy as np


__all__ = ["DataParallelRun"]


class DataParallelRun:
    """The per-fit helper; ``active`` is False in a single process, where every method is a no-op."""

    def __init__(self, model):
        from .. import distributed

        self.world = distributed.get_world_size() if distributed.is_initialized() else 1
        self.rank = distributed.get_rank() if self.world > 1 else 0
        self.active = self.world > 1
        self.reducer = None
        if self.active:
            from ..distributed import GradientReducer, sync_module
            from ..nn.parallel import DistributedDataParallel

            self.comm = distributed.communicator()
            if not isinstance(model, DistributedDataParallel):  # a DDP model averages its own gradients
                sync_module(model)
                self.reducer = GradientReducer(model.parameters())

    @property
    def is_writer(self):
        """True in the process that prints and writes files (rank 0)."""
        return self.rank == 0

    def agree_seed(self, seed):
        """Rank 0's seed, on every process (the data order must be the same everywhere)."""
        return int(self.comm.bcast(int(seed), root=0)) if self.active else seed

    def shard(self, source):
        """This process's share of a training source (arrays), or the loader as it is (a DistributedSampler's)."""
        if not self.active:
            return source
        if hasattr(source, "inputs"):
            return _ShardedArraySource(source, self.rank, self.world)
        from ..utils.data import DistributedSampler

        if not isinstance(getattr(getattr(source, "loader", None), "sampler", None), DistributedSampler):
            from ..distributed import DistributedError

            raise DistributedError(
                "fit on several processes: give the training data as arrays (shendu shards them), or a DataLoader "
                "whose sampler is a shendu.utils.data.DistributedSampler"
            )
        return source

    def begin_epoch(self, source, epoch):
        sampler = getattr(getattr(source, "loader", None), "sampler", None)
        if self.active and hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)

    def callbacks(self, callbacks):
        """The callbacks this process runs: all of them on rank 0, those not marked ``rank_zero_only`` elsewhere."""
        return list(callbacks) if self.is_writer else [c for c in callbacks if not getattr(c, "rank_zero_only", False)]

    def average_gradients(self):
        if self.reducer is not None:
            self.reducer.reduce()

    def mean(self, value):
        """The mean of a number across the processes (every process gets the same)."""
        if not self.active:
            return value
        buffer = np.array([value], np.float64)
        from mpi4py import MPI

        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        return float(buffer[0] / self.world)

    def weighted_means(self, values, count):
        """``{name: Σ value·count / Σ count}`` across the processes, for scalar values."""
        if not self.active:
            return dict(values)
        names = [k for k, v in values.items() if np.ndim(v) == 0]
        buffer = np.array([float(values[k]) * count for k in names] + [count], np.float64)
        from mpi4py import MPI

        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        total = buffer[-1]
        result = dict(values)
        result.update({k: float(v / total) if total else float("nan") for k, v in zip(names, buffer[:-1])})
        return result


class _ShardedArraySource:
    """An array source restricted, each epoch, to one process's share of the (shuffled) samples."""

    def __init__(self, source, rank, world):
        from ..utils.data.distributed import shard

        self.source, self.rank, self.world, self._shard = source, rank, world, shard
        self.inputs, self.target, self.batch_size = source.inputs, source.target, source.batch_size
        self.num_samples = -(-source.num_samples // world)

    def __len__(self):
        return -(-self.num_samples // self.batch_size)

    def batches(self, rng=None):
        n = self.source.num_samples
        order = rng.permutation(n) if rng is not None else np.arange(n)
        mine = self._shard(order, self.rank, self.world)
        for start in range(0, len(mine), self.batch_size):
            yield self.source.batch(mine[start : start + self.batch_size])
