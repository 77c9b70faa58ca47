"""Data types: ``shendu.float32``, ``float64``, ``int64``, ``bool`` and friends."""

import builtins

from ._backend import xp


class dtype:
    """A tensor element type, a thin name over a NumPy dtype.

    Compares equal to its NumPy counterpart, so ``t.dtype == numpy.float32`` holds.
    """

    __slots__ = ("name", "numpy_dtype", "is_floating_point", "itemsize")

    def __init__(self, name, numpy_dtype):
        self.name = name
        self.numpy_dtype = xp.dtype(numpy_dtype)
        self.is_floating_point = self.numpy_dtype.kind == "f"
        self.itemsize = self.numpy_dtype.itemsize

    def __repr__(self):
        return f"shendu.{self.name}"

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.numpy_dtype == other.numpy_dtype
        try:
            return self.numpy_dtype == xp.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.numpy_dtype)


float16 = half = dtype("float16", "float16")
float32 = float = dtype("float32", "float32")
float64 = double = dtype("float64", "float64")
int8 = dtype("int8", "int8")
uint8 = dtype("uint8", "uint8")
int16 = short = dtype("int16", "int16")
int32 = int = dtype("int32", "int32")
int64 = long = dtype("int64", "int64")
bool = dtype("bool", "bool")  # noqa: A001 - PyTorch's public name

_BY_NUMPY = {d.numpy_dtype: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}
_BY_NAME = {d.name: d for d in _BY_NUMPY.values()}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

default_float = float32


def from_numpy_dtype(numpy_dtype):
    """Return the shendu dtype of a NumPy dtype."""
    try:
        return _BY_NUMPY[xp.dtype(numpy_dtype)]
    except KeyError:
        raise TypeError(f"unsupported dtype {numpy_dtype!r}; expected one of {sorted(_BY_NAME)}") from None


def to_numpy_dtype(requested):
    """Turn a shendu dtype, NumPy dtype, Python type or name into a NumPy dtype."""
    if isinstance(requested, dtype):
        return requested.numpy_dtype
    if isinstance(requested, str) and requested in _BY_NAME:
        return _BY_NAME[requested].numpy_dtype
    if requested is builtins.float:
        return default_float.numpy_dtype
    if requested is builtins.int:
        return int64.numpy_dtype
    if requested is builtins.bool:
        return bool.numpy_dtype
    try:
        return from_numpy_dtype(requested).numpy_dtype
    except TypeError:
        raise TypeError(f"unknown dtype {requested!r}; expected one of {sorted(_BY_NAME)}") from None
