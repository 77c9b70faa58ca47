"""``keras.utils``: ``to_categorical`` (one-hot labels) and friends, from shendu's preprocessing."""

import numpy as np

from ..preprocessing import to_categorical
from ..text.sequence import pad_sequences
from .plot_model import plot_model

__all__ = ["to_categorical", "pad_sequences", "normalize", "set_random_seed", "plot_model", "PyDataset", "Sequence"]


def normalize(x, axis=-1, order=2):
    """``x`` divided by its L-``order`` norm along ``axis`` (zero vectors stay zero)."""
    x = np.asarray(x, dtype=np.float32 if np.asarray(x).dtype.kind != "f" else None)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


def set_random_seed(seed):
    """Seed shendu's generator (initialisation, dropout, shuffling) and NumPy's global one."""
    from .. import manual_seed

    manual_seed(int(seed))
    np.random.seed(int(seed) % 2**32)


class PyDataset:
    """Base class for batch datasets in Python (Keras 3's ``keras.utils.PyDataset``, formerly ``Sequence``).

    A subclass defines ``__len__`` (the number of batches) and ``__getitem__(index)`` returning one batch:
    ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (``x`` and ``y`` may be lists or dicts). ``fit`` reads
    the batches in order and calls ``on_epoch_end()`` after each epoch. ``workers`` and
    ``use_multiprocessing`` are accepted; batches are read in the calling process.

    Example:
        >>> class Batches(keras.utils.PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, index):
        ...         part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        ...         return self.x[part], self.y[part]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) (one batch)")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after every epoch (e.g. to reshuffle)."""

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()


Sequence = PyDataset
