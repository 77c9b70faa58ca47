"""``shendu.nn.parallel``: :class:`DistributedDataParallel` (see :mod:`shendu.distributed`)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
