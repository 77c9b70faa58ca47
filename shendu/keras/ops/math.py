"""Keras 3's math ops (``keras.ops.math``): logsumexp, top_k, segment sums, in_top_k."""

import numpy as np

import shendu

from .core import convert_to_numpy, convert_to_tensor, scatter
from .numpy import _axes, _floating


def logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x) over ``axis``, computed stably."""
    x = _floating(x)
    return shendu.logsumexp(x, dim=_axes(axis, x.ndim), keepdim=keepdims)


def top_k(x, k, sorted=True):  # noqa: A002 - Keras's name
    """(values, indices) of the ``k`` largest entries along the last axis."""
    return tuple(shendu.topk(convert_to_tensor(x), k, dim=-1, largest=True, sorted=True))


def in_top_k(targets, predictions, k):
    """True where the target's score is among the ``k`` largest of its row."""
    predictions = convert_to_numpy(predictions)
    targets = convert_to_numpy(targets).astype(np.int64)
    target_scores = np.take_along_axis(predictions, targets[:, None], axis=1)
    return convert_to_tensor((predictions > target_scores).sum(axis=1) < k)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Sums of ``data`` rows per segment id."""
    ids = convert_to_numpy(segment_ids).astype(np.int64)
    data = convert_to_tensor(data)
    count = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    return scatter(ids[:, None], data, (count, *data.shape[1:]))


def erf(x):
    """The error function."""
    return shendu.erf(_floating(x))


def rsqrt(x):
    """1 / √x."""
    return shendu.rsqrt(_floating(x))
