"""Keras 3's core ops: tensors in and out, shapes, casts, control of gradients.

Every op takes tensors, NumPy arrays or Python numbers and returns shendu tensors, so a program
written against ``keras.ops`` runs on shendu's autograd unchanged.
"""

import builtins

import numpy as np

from ... import _dtype
from ...autograd import Function
from ...tensor import Tensor

__all__ = [
    "convert_to_tensor", "convert_to_numpy", "is_tensor", "cast", "shape", "dtype", "stop_gradient",
    "slice", "cond", "fori_loop", "while_loop", "scatter", "scatter_update", "slice_update", "unstack",
]  # fmt: skip


def keras_dtype(name):
    """A Keras dtype name (``"float32"``, ``"int32"``, a NumPy or shendu dtype) as a shendu dtype."""
    if name is None or isinstance(name, _dtype.dtype):
        return name
    try:
        return _dtype.from_numpy_dtype(np.dtype(getattr(name, "numpy_dtype", name)))
    except TypeError:
        raise ValueError(f"Invalid dtype: {name!r}") from None


def convert_to_tensor(x, dtype=None, sparse=None):
    """``x`` as a tensor: Python floats → float32, Python ints → int32, arrays keep their dtype (as Keras)."""
    dtype = keras_dtype(dtype)
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else x.to(dtype)
    array = np.asarray(x)
    if dtype is None:
        if array.dtype == np.float64 and not isinstance(x, np.ndarray | np.floating):
            dtype = _dtype.float32  # Python floats and lists of them: Keras's floatx
        elif array.dtype == np.int64 and not isinstance(x, np.ndarray | np.integer):
            dtype = _dtype.int32
        else:
            dtype = _dtype.from_numpy_dtype(array.dtype)
    return Tensor(array.astype(dtype.numpy_dtype, copy=True))


def convert_to_numpy(x):
    """A NumPy copy of ``x`` (detached)."""
    if isinstance(x, Tensor):
        return x.detach().numpy().copy()
    return np.asarray(x)


def is_tensor(x):
    """True for a shendu tensor (the backend's native tensor)."""
    return isinstance(x, Tensor)


def cast(x, dtype):
    """``x`` as ``dtype``; float casts keep the gradient."""
    return convert_to_tensor(x).to(keras_dtype(dtype))


def shape(x):
    """The static shape as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x):
    """The dtype's Keras name, e.g. ``"float32"``."""
    return convert_to_tensor(x).dtype.name


def stop_gradient(variable):
    """The value of ``variable`` with no gradient flowing back through it."""
    return convert_to_tensor(variable).detach()


def slice(inputs, start_indices, shape):  # noqa: A001 - Keras's name
    """``inputs[start[0]:start[0]+shape[0], ...]``."""
    key = tuple(builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape, strict=True))
    return convert_to_tensor(inputs)[key]


def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    from ...nn.functional import pad
    from .numpy import where

    inputs, updates = convert_to_tensor(inputs), convert_to_tensor(updates)
    key = tuple(builtins.slice(int(s), int(s) + n) for s, n in zip(start_indices, updates.shape, strict=True))
    mask = np.zeros(inputs.shape, dtype=bool)
    mask[key] = True
    widths = [w for k, size in reversed(list(zip(key, inputs.shape, strict=True))) for w in (k.start, size - k.stop)]
    return where(Tensor(mask), pad(updates.to(inputs.dtype), widths), inputs)


class _ScatterAdd(Function):
    """y = zeros(shape); y.flat[index] += x (repeats add up); dx = dy.flat[index]."""

    def __init__(self, flat_index, shape):
        self.flat_index, self.shape = flat_index, shape

    def forward(self, values):
        out = np.zeros(int(np.prod(self.shape)), dtype=values.dtype)
        np.add.at(out, self.flat_index, values.reshape(-1))
        self.values_shape = values.shape
        return out.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(-1)[self.flat_index].reshape(self.values_shape)


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (rows of coordinates); repeats add up."""
    indices = convert_to_numpy(indices).astype(np.int64)
    shape = tuple(int(n) for n in shape)
    coordinates = tuple(indices[..., i].reshape(-1) for i in range(indices.shape[-1]))
    flat = np.ravel_multi_index(coordinates, shape[: indices.shape[-1]])
    inner = shape[indices.shape[-1]:]
    if inner:  # each coordinate row addresses a whole block
        block = int(np.prod(inner))
        flat = (flat[:, None] * block + np.arange(block)).reshape(-1)
    return _ScatterAdd(flat, shape)(convert_to_tensor(values))


def scatter_update(inputs, indices, updates):
    """A copy of ``inputs`` with the entries at ``indices`` (rows of coordinates) set to ``updates``."""
    inputs = convert_to_tensor(inputs)
    out = inputs.clone()
    index = tuple(convert_to_numpy(indices).astype(np.int64).T)
    out[index] = convert_to_tensor(updates).to(inputs.dtype)
    return out


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    return list(convert_to_tensor(x).unbind(axis))


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``; a tuple in, a tuple out."""
    single = not isinstance(loop_vars, list | tuple)
    values = (loop_vars,) if single else tuple(loop_vars)
    count = 0
    while cond(*values) and (maximum_iterations is None or count < maximum_iterations):
        values = body(*values)
        values = (values,) if single else tuple(values)
        count += 1
    return values[0] if single else values
