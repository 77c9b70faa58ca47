"""Datasets, samplers and the DataLoader (the ``torch.utils.data`` dialect).

Example:
    >>> import numpy as np
    >>> from shendu.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
    >>> [tuple(x.shape) for x, y in DataLoader(ds, batch_size=4)]
    [(4, 3), (4, 3), (2, 3)]
"""

from ._collate import default_collate, default_convert
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)  # fmt: skip

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "DistributedSampler", "default_collate", "default_convert",
]  # fmt: skip
