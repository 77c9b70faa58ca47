"""Finding and counting values (PyTorch's): ``isin``, ``bincount``, ``unique``, ``searchsorted``, ``bucketize``,
``nan_to_num``. Index and count results carry no gradient; ``nan_to_num`` passes it where the input was finite."""

import numpy as np

from ..tensor import Tensor, as_array

__all__ = ["isin", "bincount", "unique", "searchsorted", "bucketize", "nan_to_num", "histc", "unique_consecutive",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "gcd", "lcm"]


def _array(value):
    return value._array if isinstance(value, Tensor) else as_array(value)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` is among ``test_elements``."""
    return Tensor(np.isin(_array(elements), _array(test_elements), assume_unique=assume_unique, invert=invert))


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (or the sum of their ``weights``)."""
    values = _array(input)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if values.size and values.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    weight = None if weights is None else _array(weights)
    counts = np.bincount(values, weights=weight, minlength=int(minlength))
    return Tensor(counts.astype(np.int64 if weight is None else (weight.dtype if weight.dtype.kind == "f" else np.float64)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), and optionally the inverse indices and the counts."""
    values = _array(input)
    found = np.unique(values, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return Tensor(found)
    found = list(found)
    out = [Tensor(found[0])]
    if return_inverse:
        out.append(Tensor(found[1].reshape(values.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor(found[-1].astype(np.int64)))
    return tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each of ``input`` would be inserted into the innermost dimension of ``sorted_sequence`` to keep it sorted."""
    boundaries, values = _array(sorted_sequence), _array(input)
    side = side or ("right" if right else "left")
    if boundaries.ndim == 1:
        result = np.searchsorted(boundaries, values, side=side, sorter=None if sorter is None else _array(sorter))
    else:
        result = np.stack([np.searchsorted(b, v, side=side) for b, v in zip(boundaries.reshape(-1, boundaries.shape[-1]),
                                                                          values.reshape(-1, values.shape[-1]))]).reshape(values.shape)  # fmt: skip
    return Tensor(result.astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value among 1-D ``boundaries`` (``right``: boundaries[i-1] <= x < boundaries[i])."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN → ``nan``, +inf → ``posinf`` (the largest finite value), −inf → ``neginf`` (the lowest)."""
    from .arithmetic import where

    x = input if isinstance(input, Tensor) else Tensor(as_array(input))
    if x._array.dtype.kind != "f":
        return x
    info = np.finfo(x._array.dtype)
    replaced = np.nan_to_num(x._array, nan=nan, posinf=info.max if posinf is None else posinf, neginf=info.min if neginf is None else neginf)
    return where(Tensor(np.isfinite(x._array)), x, Tensor(replaced))


def histc(input, bins=100, min=0, max=0):
    """Counts of the values in ``bins`` equal bins over [min, max] (the data's range when both are 0)."""
    values = _array(input).astype(np.float64).ravel()
    low, high = float(min), float(max)
    if low == high == 0:
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if low == high:
        low, high = low - 1, high + 1
    counts, _ = np.histogram(values, bins=int(bins), range=(low, high))
    dtype = _array(input).dtype if _array(input).dtype.kind == "f" else np.float32
    return Tensor(counts.astype(dtype))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The values with each run of repeats collapsed (flattened), optionally the inverse and the run lengths."""
    values = _array(input).ravel()
    if values.size == 0:
        starts = np.zeros(0, np.int64)
    else:
        starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    out = [Tensor(values[starts])]
    if return_inverse:
        out.append(Tensor((np.cumsum(np.concatenate([[True], values[1:] != values[:-1]])) - 1).reshape(_array(input).shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor(np.diff(np.concatenate([starts, [values.size]])).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def _integer_op(name, function):
    def op(input, other=None):
        a = _array(input)
        if a.dtype.kind not in "iub":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{"Float" if a.dtype.kind == "f" else a.dtype}\'')
        return Tensor(function(a) if other is None else function(a, _array(other)))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or boolean tensors."
    return op


bitwise_and = _integer_op("bitwise_and", np.bitwise_and)
bitwise_or = _integer_op("bitwise_or", np.bitwise_or)
bitwise_xor = _integer_op("bitwise_xor", np.bitwise_xor)
bitwise_not = _integer_op("bitwise_not", np.invert)
gcd = _integer_op("gcd", np.gcd)
lcm = _integer_op("lcm", np.lcm)
