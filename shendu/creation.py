"""Tensor creation: tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint and ``*_like``.

Random functions draw from shendu's one ``numpy.random.Generator`` (see :func:`shendu.manual_seed`).
"""

from typing import Any

import numpy as np

from . import _dtype
from ._backend import xp
from ._typing import DeviceLike, DTypeLike, Number, ShapeLike
from .random import resolve_generator
from .tensor import Tensor, as_array, quiet_cast
from .tensor import device as _device

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "zeros_like", "ones_like",
    "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
]  # fmt: skip


def _make(array, dtype, requires_grad, device=None):
    if device is not None:
        _device(device)  # only the CPU exists: anything else raises a clear error
    if dtype is not None:
        array = quiet_cast(array, _dtype.to_numpy_dtype(dtype))
    return Tensor(array, requires_grad=requires_grad)


def _float_dtype(dtype):
    return _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, xp.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers; got {tuple(size)}")
    return tuple(int(s) for s in size)


def tensor(data: Any, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    NumPy arrays keep their dtype (float64 stays float64); Python floats become float32,
    ints int64, bools bool — as PyTorch.
    """
    if device is not None:
        _device(device)
    array = as_array(data, dtype)
    if isinstance(data, (xp.ndarray, Tensor)) and array is (data._array if isinstance(data, Tensor) else data):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    """A tensor sharing memory with ``data`` where possible."""
    if device is not None:
        _device(device)
    if isinstance(data, Tensor) and dtype is None:
        return data
    return Tensor(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray; got {type(array).__name__}")
    return Tensor(array)


def zeros(*size: ShapeLike, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    return _make(xp.zeros(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def ones(*size: ShapeLike, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    return _make(xp.ones(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def empty(*size: ShapeLike, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    return _make(xp.empty(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def full(size: ShapeLike, fill_value: Number, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = as_array(fill_value).dtype
    with xp.errstate(all="ignore"):  # full((2,), 1e40) is inf in float32, silently, as PyTorch
        array = xp.full(_size((size,)) if isinstance(size, int) else _size(size), fill_value, _dtype.to_numpy_dtype(dtype))
    return _make(array, None, requires_grad, device)


def arange(start: Number, end: Number | None = None, step: Number = 1, dtype: DTypeLike = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = xp.int64 if all(isinstance(v, int) for v in values) else _dtype.default_float.numpy_dtype
    return _make(xp.arange(*values, dtype=_dtype.to_numpy_dtype(dtype)), None, requires_grad, device)


def linspace(start: Number, end: Number, steps: int, dtype: DTypeLike = None, device: DeviceLike = None,
             requires_grad: bool = False) -> Tensor:
    return _make(xp.linspace(start, end, steps, dtype=_float_dtype(dtype)), None, requires_grad, device)


def eye(n: int, m: int | None = None, dtype: DTypeLike = None, device: DeviceLike = None,
        requires_grad: bool = False) -> Tensor:
    return _make(xp.eye(n, m, dtype=_float_dtype(dtype)), None, requires_grad, device)


def rand(*size: ShapeLike, generator: Any = None, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = resolve_generator(generator)
    return _make(rng.random(_size(size), dtype=xp.float64).astype(_float_dtype(dtype)), None, requires_grad, device)


def randn(*size: ShapeLike, generator: Any = None, dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    rng = resolve_generator(generator)
    return _make(rng.standard_normal(_size(size)).astype(_float_dtype(dtype)), None, requires_grad, device)


def randint(low: int, high: int | None = None, size: ShapeLike | None = None, generator: Any = None,
            dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high)."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), as torch allows
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    rng = resolve_generator(generator)
    dtype = xp.int64 if dtype is None else _dtype.to_numpy_dtype(dtype)
    return _make(
        rng.integers(low, high, _size((size,)) if isinstance(size, int) else _size(size)).astype(dtype),
        None,
        requires_grad,
        device,
    )


def randperm(n: int, generator: Any = None, dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    rng = resolve_generator(generator)
    return _make(
        rng.permutation(n).astype(xp.int64 if dtype is None else _dtype.to_numpy_dtype(dtype)), None, False, device
    )


def normal(mean: Any, std: Any, size: ShapeLike | None = None, generator: Any = None) -> Tensor:
    rng = resolve_generator(generator)
    mean_a, std_a = as_array(mean), as_array(std)
    shape = size if size is not None else xp.broadcast_shapes(mean_a.shape, std_a.shape)
    dtype = mean_a.dtype if mean_a.dtype.kind == "f" else _dtype.default_float.numpy_dtype
    return Tensor(rng.normal(mean_a, std_a, shape).astype(dtype))


def bernoulli(input: Tensor, p: float | None = None, generator: Any = None) -> Tensor:
    rng = resolve_generator(generator)
    probs = as_array(input) if p is None else xp.full(as_array(input).shape, p)
    return Tensor((rng.random(probs.shape) < probs).astype(as_array(input).dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
    rng = resolve_generator(generator)
    probs = as_array(input).astype(xp.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    out = xp.stack([rng.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor(out.reshape(probs.shape[:-1] + (num_samples,)).astype(xp.int64))


def _like(function):
    def like(input: Tensor, dtype: DTypeLike = None, device: DeviceLike = None, requires_grad: bool = False,
             **kwargs: Any) -> Tensor:
        dtype = input.dtype if dtype is None else dtype
        return function(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)

    like.__name__ = function.__name__ + "_like"
    like.__doc__ = f"``{function.__name__}`` with the shape (and dtype) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input: Tensor, fill_value: Number, dtype: DTypeLike = None, device: DeviceLike = None,
              requires_grad: bool = False) -> Tensor:
    return full(
        tuple(input.shape),
        fill_value,
        dtype=input.dtype if dtype is None else dtype,
        device=device,
        requires_grad=requires_grad,
    )


def randint_like(input: Tensor, low: int, high: int | None = None, dtype: DTypeLike = None,
                 generator: Any = None) -> Tensor:
    return randint(low, high, tuple(input.shape), generator=generator, dtype=input.dtype if dtype is None else dtype)
