"""``keras.utils``: ``to_categorical`` (one-hot labels) and friends, from shendu's preprocessing."""

import numpy as np

from ..preprocessing import to_categorical
from ..text.sequence import pad_sequences
from .plot_model import plot_model

__all__ = ["to_categorical", "pad_sequences", "normalize", "set_random_seed", "plot_model"]


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
