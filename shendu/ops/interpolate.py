"""``interpolate``: resizing feature maps (PyTorch's ``F.interpolate``), differentiable.

Modes ``nearest`` (source index ⌊dst·scale⌋), ``nearest-exact`` (⌊(dst + ½)·scale⌋), ``linear``,
``bilinear`` (separable: two neighbours per axis, ``align_corners`` as PyTorch) and ``area``
(adaptive average pooling). ``scale`` is in/out, or 1/scale_factor when a scale factor is given
(PyTorch's rule, unless ``recompute_scale_factor``). Each axis is a gather of rows plus, for the
linear modes, a weighted sum of two gathers, so gradients flow through the index ops.
"""

import math

import numpy as np

from ..tensor import Tensor
from .indexing import index_select
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "area")


def _per_axis(value, count, name):
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            raise ValueError(f"Input and {name} must have the same number of spatial dimensions, but got input with {count} spatial dimensions and {name} = {list(value)}")
        return list(value)
    return [value] * count


def _axis(x, axis, out_size, scale, mode, align_corners):
    n = x.shape[axis]
    positions = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        shift = 0.5 if mode == "nearest-exact" else 0.0
        index = np.minimum(np.floor((positions + shift) * scale).astype(np.int64), n - 1)
        return index_select(x, axis, Tensor(index))
    if align_corners:
        source = positions * ((n - 1) / (out_size - 1)) if out_size > 1 else np.zeros(out_size)
    else:
        source = np.maximum((positions + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    weight = (source - low).astype(x._array.dtype)
    shape = [1] * x.ndim
    shape[axis] = out_size
    weight = Tensor(weight.reshape(shape))
    below, above = index_select(x, axis, Tensor(low)), index_select(x, axis, Tensor(high))
    return below + (above - below) * weight


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``, as PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate expects a Tensor; got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not available; shendu has {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not available (vision.transforms.Resize antialiases images)")
    dims = input.ndim - 2
    if dims not in (1, 2):
        raise ValueError(f"interpolate takes (N, C, L) or (N, C, H, W) inputs; got shape {tuple(input.shape)}")
    if (mode == "linear" and dims != 1) or (mode == "bilinear" and dims != 2):
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {3 if mode == 'linear' else 4}D input")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        sizes = [int(s) for s in _per_axis(size, dims, "size")]
        scales = [n / s for n, s in zip(spatial, sizes)]
    else:
        factors = [float(f) for f in _per_axis(scale_factor, dims, "scale_factor")]
        sizes = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        scales = [n / s for n, s in zip(spatial, sizes)] if recompute_scale_factor else [1.0 / f for f in factors]
    if any(s <= 0 for s in sizes):
        raise ValueError(f"interpolate: the output size {sizes} must be positive")
    if mode == "area":
        return (adaptive_avg_pool1d if dims == 1 else adaptive_avg_pool2d)(input, sizes if dims == 2 else sizes[0])
    x = input
    for offset, (out_size, scale) in enumerate(zip(sizes, scales)):
        x = _axis(x, 2 + offset, out_size, scale, mode, bool(align_corners))
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """``interpolate`` under its former name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


