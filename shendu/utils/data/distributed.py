"""``DistributedSampler``: each process of a data-parallel job visits its own share of a dataset.

PyTorch's semantics: the dataset's indices (shuffled with ``seed + epoch`` when ``shuffle``; call
:meth:`DistributedSampler.set_epoch` at each epoch so the order changes) are padded by repeating
the first ones until they divide evenly among the processes (or cut, with ``drop_last``), and
process ``rank`` takes every ``num_replicas``-th index starting at ``rank``. Every process thus
has the same number of samples, so the same number of batches and of gradient all-reduces.
"""

import math

from ..._backend import xp
from .sampler import Sampler

__all__ = ["DistributedSampler", "shard"]


def shard(order, rank, num_replicas, drop_last=False):
    """Process ``rank``'s share of the index array ``order`` (padded or cut to divide evenly)."""
    n = len(order)
    if drop_last and n % num_replicas:
        total = (n // num_replicas) * num_replicas
        order = order[:total]
    else:
        total = math.ceil(n / num_replicas) * num_replicas if n else 0
        if total > n:
            order = xp.concatenate([order] + [order[: total - n]] * math.ceil((total - n) / max(n, 1)))[:total]
    return order[rank:total:num_replicas]


class DistributedSampler(Sampler):
    """Restrict a DataLoader to this process's share of the dataset (see the module docstring).

    Args:
        dataset: the dataset (anything with ``len``).
        num_replicas: the number of processes. Defaults to the process group's world size.
        rank: this process's rank. Defaults to the process group's rank.
        shuffle: shuffle the indices, with ``seed + epoch``. Defaults to True.
        seed: the shuffling seed, the same on every process. Defaults to 0.
        drop_last: drop the tail instead of padding. Defaults to False.

    Example:
        >>> sampler = DistributedSampler(train_set)
        >>> loader = DataLoader(train_set, batch_size=64, sampler=sampler)
        >>> for epoch in range(epochs):
        ...     sampler.set_epoch(epoch)
        ...     for x, y in loader: ...
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        from ... import distributed

        if num_replicas is None:
            num_replicas = distributed.get_world_size()
        if rank is None:
            rank = distributed.get_rank()
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive integer. Received: num_replicas={num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """The epoch whose order to use next (every process must call it with the same number)."""
        self.epoch = int(epoch)

    def _epoch_indices(self):
        n = len(self.dataset)
        order = xp.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else xp.arange(n)
        return shard(order.astype(xp.int64), self.rank, self.num_replicas, self.drop_last)

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples
