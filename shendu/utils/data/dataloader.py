"""DataLoader: batches of a dataset, shuffled or in order, as shendu Tensors."""

import numbers

from ..._backend import xp
from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a dataset in mini-batches.

    In-memory datasets (:class:`TensorDataset`, the MNIST datasets without a transform, their
    :class:`Subset` s and concatenations) take a fast path when ``collate_fn`` is the default: each
    batch is one fancy-index gather per array, with no Python loop over samples. Other datasets are
    read sample by sample and collated with :func:`default_collate`.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` + ``__len__``) or an :class:`IterableDataset`.
        batch_size: samples per batch, or None to yield single samples unbatched. Defaults to 1.
        shuffle: visit the samples in a new random order each epoch. Defaults to False.
        sampler: a :class:`Sampler` (or iterable of indices) choosing the order; excludes ``shuffle``.
        batch_sampler: yields lists of indices, one list per batch; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: accepted for PyTorch compatibility; loading runs in this process (NumPy
            gathers are faster than shipping batches between processes). Defaults to 0.
        collate_fn: turns a list of samples into a batch. Defaults to :func:`default_collate`.
        pin_memory: accepted for compatibility; no effect on the CPU.
        drop_last: drop the last batch if it is smaller than ``batch_size``. Defaults to False.
        generator: the randomness for ``shuffle``: an int seed, a ``numpy.random.Generator`` or a
            :class:`shendu.Generator`. Defaults to shendu's global generator, so
            ``shendu.manual_seed(0)`` makes the order repeatable.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=100, shuffle=True)
        >>> for xb, yb in loader:
        ...     loss = criterion(model(xb), yb)
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
    ):
        if not (hasattr(dataset, "__getitem__") or hasattr(dataset, "__iter__")):
            raise TypeError(f"DataLoader expects a dataset with __getitem__ and __len__; got {type(dataset).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"num_workers option should be a non-negative integer; got num_workers={num_workers!r}")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0
        ):
            raise ValueError(f"batch_size should be a positive integer or None; got batch_size={batch_size!r}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle should be a boolean value; got shuffle={shuffle!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn should be callable; got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: shuffle, sampler and batch_sampler are not supported "
                    "(the dataset decides the order)"
                )
        elif batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_size is not None or batch_sampler is not None
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        """Batches per epoch (for an IterableDataset, from ``len(dataset)`` if it has one)."""
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _index_batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._index_batches()
        return (xp.asarray(batch, dtype=xp.int64) for batch in self.batch_sampler)

    def _iter_batches(self):
        fetch = None
        if self._default_collate and isinstance(self.dataset, Dataset):
            fetch = self.dataset._batch_fetcher()
        for indices in self._index_batches():
            batch = fetch(indices) if fetch is not None else None
            if batch is None:
                batch = self.collate_fn([self.dataset[i] for i in indices.tolist()])
            yield batch

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __repr__(self):
        return f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, drop_last={self.drop_last})"
