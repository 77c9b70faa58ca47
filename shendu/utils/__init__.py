"""Utilities in the ``torch.utils`` dialect: :mod:`shendu.utils.data` (datasets, samplers, loaders)."""

from . import data
