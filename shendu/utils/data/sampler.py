"""Samplers: the order in which a DataLoader visits a dataset's indices.

Besides iterating Python ints (the PyTorch protocol), the built-in samplers give a whole epoch's
indices at once as an int64 array (``_epoch_indices()``), which the DataLoader slices into batches
without a Python loop.
"""

import numbers

from ..._backend import xp
from ...random import Generator as _ShenduGenerator
from ...random import resolve_generator
from ...tensor import Tensor

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
]  # fmt: skip


def generator_source(generator):
    """A function returning the ``numpy.random.Generator`` to draw from, called once per epoch.

    ``None`` follows shendu's global generator (so ``shendu.manual_seed`` before an epoch fixes its
    order); an int seed makes one private generator, created here so successive epochs still differ.
    """
    if generator is None:
        return resolve_generator
    if isinstance(generator, _ShenduGenerator):
        return lambda: generator.generator  # manual_seed replaces the wrapped generator
    if isinstance(generator, bool) or not isinstance(generator, (numbers.Integral, xp.random.Generator)):
        raise TypeError(
            "generator must be None, an int seed, a numpy.random.Generator or a shendu.Generator; "
            f"got {type(generator).__name__}"
        )
    rng = resolve_generator(int(generator)) if isinstance(generator, numbers.Integral) else generator
    return lambda: rng


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer; got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class: yields dataset indices. Subclasses define ``__iter__`` (and usually ``__len__``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def _epoch_indices(self):
        """All of one epoch's indices as an int64 array (the loader's fast path)."""
        return xp.fromiter(iter(self), dtype=xp.int64)


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _epoch_indices(self):
        return xp.arange(len(self.data_source), dtype=xp.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch (or draws with replacement).

    Args:
        data_source: the dataset.
        replacement: draw ``num_samples`` indices with replacement. Defaults to False.
        num_samples: how many indices per epoch. Defaults to ``len(data_source)``.
        generator: a seed, ``numpy.random.Generator`` or :class:`shendu.Generator`. Defaults to the global one.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value; got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else _positive_int("num_samples", num_samples)
        self.generator = generator
        self._rng = generator_source(generator)
        if self.num_samples <= 0:  # PyTorch's words: an empty dataset cannot be shuffled
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self):
        n, rng = len(self.data_source), self._rng()
        if self.replacement:
            return rng.integers(0, n, self.num_samples, dtype=xp.int64)
        # Without replacement, num_samples beyond n continues with fresh permutations (as PyTorch).
        rounds = -(-self.num_samples // n) if n else 0
        return xp.concatenate([rng.permutation(n) for _ in range(rounds)] or [xp.empty(0, xp.int64)])[
            : self.num_samples
        ]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self._indices = xp.asarray(indices.numpy() if isinstance(indices, Tensor) else indices, dtype=xp.int64)
        self.generator = generator
        self._rng = generator_source(generator)

    def _epoch_indices(self):
        return self._indices[self._rng().permutation(len(self._indices))]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return len(self._indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    Args:
        weights: one non-negative weight per sample (need not sum to 1).
        num_samples: how many to draw per epoch.
        replacement: draw with replacement. Defaults to True.
        generator: as for :class:`RandomSampler`.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = xp.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=xp.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1-d sequence; got shape {weights.shape}")
        if (weights < 0).any() or not xp.isfinite(weights).all() or weights.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        self.num_samples = _positive_int("num_samples", num_samples)
        if not replacement and self.num_samples > (weights > 0).sum():
            raise ValueError(
                f"cannot draw num_samples={self.num_samples} without replacement from {(weights > 0).sum()} "
                "samples with non-zero weight"
            )
        self.weights = weights
        self.replacement = replacement
        self.generator = generator
        self._rng = generator_source(generator)

    def _epoch_indices(self):
        p = self.weights / self.weights.sum()
        return self._rng().choice(len(p), self.num_samples, replace=self.replacement, p=p).astype(xp.int64)

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    Args:
        sampler: any sampler or iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value; got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = _positive_int("batch_size", batch_size)
        self.drop_last = drop_last

    def _index_batches(self):
        """Each batch as an int64 array; whole-epoch slicing when the sampler allows it."""
        if isinstance(self.sampler, Sampler):
            order = self.sampler._epoch_indices()
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            for start in range(0, stop, self.batch_size):
                yield order[start : start + self.batch_size]
            return
        for batch in self:
            yield xp.asarray(batch, dtype=xp.int64)

    def __iter__(self):
        if isinstance(self.sampler, Sampler):
            for batch in self._index_batches():
                yield batch.tolist()
            return
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
