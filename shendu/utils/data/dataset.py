"""Datasets: anything with ``__getitem__`` and ``__len__`` (map-style) or ``__iter__`` (iterable).

In-memory datasets also offer a *batch fetcher* (``_batch_fetcher()``): a function from an index
array to the whole collated batch, so the DataLoader gathers a batch with one fancy-index per
array instead of a Python loop over samples. Any dataset may provide one; it must return exactly
what ``default_collate`` would make of the samples, or ``None`` when it cannot (e.g. a transform
must run per sample).
"""

import bisect
import math
import numbers

from ..._backend import xp
from ...random import resolve_generator
from ...tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


def _check_index(index, length, owner):
    """``index`` as a Python int in ``[0, length)`` (negative counts from the end), else IndexError."""
    if isinstance(index, Tensor):
        if index.ndim != 0:
            raise TypeError(f"{owner} index must be a single integer; got a tensor of shape {tuple(index.shape)}")
        index = index.item()
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{owner} index must be an integer; got {type(index).__name__}")
    index = int(index)
    if not -length <= index < length:
        raise IndexError(f"{owner} index {index} is out of range for a dataset of {length} samples")
    return index + length if index < 0 else index


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``dataset_a + dataset_b`` concatenates (a :class:`ConcatDataset`).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])

    def _batch_fetcher(self):
        """A function ``indices -> batch`` for the fast path, or None (see the module docstring)."""
        return None


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. The DataLoader batches it in order."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support '+'; chain the iterators instead")


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of the given tensors (or NumPy arrays), returned as a tuple.

    Args:
        *tensors: tensors or arrays with the same first dimension.

    Example:
        >>> ds = TensorDataset(shendu.randn(100, 784), shendu.randint(0, 10, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for position, t in enumerate(tensors):
            if isinstance(t, xp.ndarray):
                t = Tensor(t)
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset expects tensors or numpy arrays; argument {position} is {type(t).__name__}"
                )
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {position} is a 0-d tensor; samples need a first dimension")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}; they must be equal")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        index = _check_index(index, len(self), "TensorDataset")
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _batch_fetcher(self):
        if any(t.requires_grad for t in self.tensors):
            return None  # indexing must go through autograd
        arrays = [t._array for t in self.tensors]
        # One gather per array; ``take`` copies, so a batch never aliases the dataset.
        return lambda indices: [Tensor._from_op(a.take(indices, axis=0), False) for a in arrays]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order).

    Args:
        dataset: the whole dataset.
        indices: a sequence of integer indices into it.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._index_array = xp.asarray(indices.numpy() if isinstance(indices, Tensor) else indices, dtype=xp.int64)
        if self._index_array.ndim != 1:
            raise ValueError(f"Subset indices must be one-dimensional; got shape {self._index_array.shape}")

    def __getitem__(self, index):
        return self.dataset[int(self._index_array[_check_index(index, len(self), "Subset")])]

    def __len__(self):
        return len(self._index_array)

    def _batch_fetcher(self):
        inner = self.dataset._batch_fetcher() if isinstance(self.dataset, Dataset) else None
        if inner is None:
            return None
        positions = self._index_array
        return lambda indices: inner(positions[indices])


class ConcatDataset(Dataset):
    """Several map-style datasets one after another.

    Args:
        datasets: a sequence of datasets.

    Attributes:
        cumulative_sizes: the running totals of the datasets' lengths.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]

    def _batch_fetcher(self):
        fetchers = [d._batch_fetcher() if isinstance(d, Dataset) else None for d in self.datasets]
        if any(f is None for f in fetchers):
            return None
        bounds = xp.asarray([0] + self.cumulative_sizes, dtype=xp.int64)

        def fetch(indices):
            indices = xp.asarray(indices, dtype=xp.int64)
            which = xp.searchsorted(bounds, indices, side="right") - 1
            parts = [fetchers[part](indices[which == part] - bounds[part]) for part in xp.unique(which)]
            if len(parts) == 1:
                return parts[0]
            # The parts hold the batch grouped by dataset; ``restore`` puts it back in the sampler's order.
            restore = xp.argsort(xp.argsort(which, kind="stable"), kind="stable")
            columns = list(zip(*parts))
            if any(len({(c._array.dtype, c.shape[1:]) for c in column}) != 1 for column in columns):
                return None  # parts disagree; the caller falls back to per-sample collation
            return [Tensor._from_op(xp.concatenate([c._array for c in column])[restore], False) for column in columns]

        return fetch


def _split_lengths(lengths, total):
    """Turn fractions summing to 1 into counts (PyTorch's rule: floor, then the remainder round-robin)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split needs at least one length")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= f <= 1 for f in lengths):
        counts = [int(math.floor(total * f)) for f in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(
                f"random_split lengths must be non-negative integers or fractions summing to 1; got {lengths}"
            )
    return [int(n) for n in lengths]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1
            (e.g. ``[0.8, 0.2]``; leftover samples go round-robin to the first splits).
        generator: a seed, ``numpy.random.Generator`` or :class:`shendu.Generator`.
            Defaults to shendu's global generator.

    Example:
        >>> train, val = random_split(range(10), [0.8, 0.2], generator=0)
        >>> len(train), len(val)
        (8, 2)
    """
    total = len(dataset)
    counts = _split_lengths(lengths, total)
    if sum(counts) != total:
        raise ValueError(
            f"Sum of input lengths {counts} is {sum(counts)}, which does not equal the length of the dataset ({total})"
        )
    permutation = resolve_generator(generator).permutation(total)
    splits, offset = [], 0
    for n in counts:
        splits.append(Subset(dataset, permutation[offset : offset + n]))
        offset += n
    return splits
