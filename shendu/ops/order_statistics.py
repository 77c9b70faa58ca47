"""Order statistics and NaN-skipping reductions: median, kthvalue, quantile, aminmax, nanmean, nansum (PyTorch's).

Each is built from ``sort`` (a gather of the sorted positions) and arithmetic, so the gradient flows to the
element(s) each result was read from. ``median`` is the lower median (the ⌊(n − 1)/2⌋-th smallest), as PyTorch;
``quantile`` with ``interpolation="linear"`` is s[⌊h⌋] + (h − ⌊h⌋)(s[⌊h⌋ + 1] − s[⌊h⌋]) at h = q·(n − 1), and
NaN when the slice holds a NaN.
"""

import collections
import math

from .._backend import xp
from ..tensor import Tensor

__all__ = ["median", "kthvalue", "quantile", "nanquantile", "aminmax", "nanmean", "nansum"]

return_types_median = collections.namedtuple("median", ["values", "indices"])  # type: ignore[name-match]
return_types_kthvalue = collections.namedtuple("kthvalue", ["values", "indices"])  # type: ignore[name-match]
return_types_aminmax = collections.namedtuple("aminmax", ["min", "max"])  # type: ignore[name-match]
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _kth(input, k, dim, keepdim, name):
    """The k-th smallest (0-based) along ``dim``, and where it was."""
    from .reduction import sort
    from .shape import narrow, squeeze

    axis = dim % max(input.ndim, 1)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k < size:
        raise IndexError(f"{name}(): selected number k out of range for dimension {dim} of size {size}")
    ordered = sort(input if input.ndim else input.reshape(1), dim=axis)
    values, indices = narrow(ordered.values, axis, k, 1), narrow(ordered.indices, axis, k, 1)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return values, indices


def median(input, dim=None, keepdim=False):
    """The lower median: of every element (dim=None, a 0-d tensor), or along ``dim`` with the indices."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            return input.new_tensor(math.nan).reshape(())
        return _kth(flat, (flat.shape[0] - 1) // 2, 0, False, "median")[0]
    values, indices = _kth(input, (input.shape[dim % max(input.ndim, 1)] - 1) // 2 if input.ndim else 0, dim, keepdim, "median")
    return return_types_median(values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element (k counts from 1) along ``dim``, and its index."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"kthvalue(): k must be an int. Received: {k!r}")
    values, indices = _kth(input, k - 1, dim, keepdim, "kthvalue")
    return return_types_kthvalue(values, indices)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantile(s) (0 ≤ q ≤ 1, a number or a 1-D tensor) of every element or along ``dim``."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False, name="quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True, name="nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    from .arithmetic import where
    from .reduction import sort
    from .shape import movedim, stack, unsqueeze

    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. Got {interpolation}")
    qs = q._array if isinstance(q, Tensor) else xp.asarray(q, dtype=xp.float64)
    scalar_q = qs.ndim == 0
    qs = qs.reshape(-1).astype(xp.float64)
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if not input.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else dim % max(x.ndim, 1)
    x = movedim(x, axis, -1)
    n = x.shape[-1]
    ordered = sort(x, dim=-1).values  # NaNs sort last
    nan_count = xp.isnan(x._array).sum(axis=-1, keepdims=True)
    valid = (n - nan_count) if ignore_nan else xp.full_like(nan_count, n)
    results = []
    for level in qs:
        position = level * (xp.maximum(valid, 1) - 1).astype(xp.float64)
        below, above = xp.floor(position).astype(xp.int64), xp.ceil(position).astype(xp.int64)
        if interpolation == "lower":
            above = below
        elif interpolation == "higher":
            below = above
        elif interpolation == "nearest":
            below = above = xp.round(position).astype(xp.int64)  # halves to even, as PyTorch
        low, high = ordered.gather(-1, Tensor(below)), ordered.gather(-1, Tensor(above))
        if interpolation == "midpoint":
            value = low + (high - low) * 0.5
        elif interpolation == "linear":
            value = low + (high - low) * Tensor((position - below).astype(ordered._array.dtype))
        else:
            value = low
        empty = (valid == 0) if ignore_nan else (nan_count > 0)
        value = where(Tensor(empty), float("nan"), value)
        results.append(value)
    out = stack(results, 0).squeeze(-1)  # (len(q), the other dims of input in order)
    if keepdim:
        out = out.reshape((len(qs),) + (1,) * input.ndim) if dim is None else unsqueeze(out, axis + 1)
    return out[0] if scalar_q else out


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) of every element or along ``dim``."""
    from .reduction import amax, amin

    if dim is None:
        return return_types_aminmax(amin(input), amax(input))
    return return_types_aminmax(amin(input, dim, keepdim), amax(input, dim, keepdim))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum with NaNs counted as zero (they get no gradient)."""
    from .arithmetic import where

    zeroed = where(Tensor(xp.isnan(input._array)), 0.0, input)
    total = zeroed.sum() if dim is None else zeroed.sum(dim, keepdim=keepdim)
    return total if dtype is None else total.to(dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements (NaN where there are none)."""
    count = (~xp.isnan(input._array)).sum(axis=dim, keepdims=keepdim) if dim is not None else (~xp.isnan(input._array)).sum()
    total = nansum(input, dim, keepdim)
    return total / Tensor(xp.asarray(count, dtype=input._array.dtype))
