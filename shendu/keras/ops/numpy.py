"""Keras 3's NumPy-like ops (``keras.ops.numpy``), with NumPy's names and signatures over shendu tensors.

Reductions take ``axis`` (an int, a tuple or None) and ``keepdims``; creation ops default to float32
(Keras's floatx) and ``arange`` of ints to int32; ``mean`` of integers is float32, ``argmax`` int32.
"""

import builtins

import numpy as np

import shendu

from ... import _dtype
from .core import cast, convert_to_tensor, keras_dtype

_FLOATX = _dtype.float32


def _t(x):
    return convert_to_tensor(x)


def _floating(x):
    x = _t(x)
    return x if x.dtype.is_floating_point else x.to(_FLOATX)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % builtins.max(ndim, 1) for a in (axis if isinstance(axis, list | tuple) else (axis,)))


def _reduce(method, floating=False):
    def reduction(x, axis=None, keepdims=False):
        x = _floating(x) if floating else _t(x)
        axes = _axes(axis, x.ndim)
        if x.ndim == 0 or not axes:
            return x
        if method == "sum" and x.dtype == _dtype.bool:
            x = x.to(_dtype.int32)
        out = getattr(x, method)(dim=axes, keepdim=keepdims)
        if method == "sum" and not x.dtype.is_floating_point and x.dtype.itemsize <= 4:
            out = out.to(_dtype.int32)  # Keras sums bool and small integers as int32
        return out

    reduction.__name__ = method
    reduction.__doc__ = f"``{method}`` over ``axis`` (all axes when None), keeping them if ``keepdims``."
    return reduction


sum = _reduce("sum")  # noqa: A001 - Keras's names
mean = _reduce("mean", floating=True)
max = _reduce("amax")  # noqa: A001
min = _reduce("amin")  # noqa: A001
amax, amin = max, min


def prod(x, axis=None, keepdims=False, dtype=None):
    """The product over ``axis``."""
    x = _t(x) if dtype is None else cast(x, dtype)
    for a in sorted(_axes(axis, x.ndim), reverse=True):
        x = x.prod(dim=a, keepdim=keepdims)
    return x


def var(x, axis=None, keepdims=False):
    """The biased (population) variance over ``axis``."""
    x = _floating(x)
    return x.var(dim=_axes(axis, x.ndim), keepdim=keepdims, unbiased=False)


def std(x, axis=None, keepdims=False):
    """The biased (population) standard deviation over ``axis``."""
    return sqrt(var(x, axis, keepdims))


def any(x, axis=None, keepdims=False):  # noqa: A001
    """True where any element over ``axis`` is non-zero."""
    return _reduce("sum")(cast(cast(x, "bool"), "int32"), axis, keepdims) > 0


def all(x, axis=None, keepdims=False):  # noqa: A001
    """True where every element over ``axis`` is non-zero."""
    x = cast(cast(x, "bool"), "int32")
    return _reduce("sum")(x, axis, keepdims) == int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)]))


def argmax(x, axis=None, keepdims=False):
    """Index of the largest element (of the flattened tensor when ``axis`` is None), as int32."""
    x = _t(x)
    out = x.reshape(-1).argmax() if axis is None else x.argmax(dim=axis, keepdim=keepdims)
    return out.to(_dtype.int32)


def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element, as int32."""
    return argmax(-_floating(x), axis, keepdims)


def _unary(name, floating=True):
    function = getattr(shendu, name)

    def op(x):
        return function(_floating(x) if floating else _t(x))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (integers computed in float32)." if floating else f"Elementwise ``{name}``."
    return op


exp, log, sqrt, tanh, sin, cos, log1p, expm1, log2, log10 = (
    _unary(n) for n in ("exp", "log", "sqrt", "tanh", "sin", "cos", "log1p", "expm1", "log2", "log10")
)
sinh, cosh, arctan, floor, ceil, rsqrt = (_unary(n) for n in ("sinh", "cosh", "atan", "floor", "ceil", "rsqrt"))
abs, negative, sign, square = (_unary(n, floating=False) for n in ("abs", "neg", "sign", "square"))  # noqa: A001
absolute = abs


def round(x, decimals=0):  # noqa: A001
    """Round half to even to ``decimals`` places."""
    return shendu.round(_t(x), decimals=decimals)


def reciprocal(x):
    """1 / x."""
    return 1.0 / _floating(x)


def _binary(name, function):
    def op(x1, x2):
        return function(_t(x1), _t(x2))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return op


add = _binary("add", lambda a, b: a + b)
subtract = _binary("subtract", lambda a, b: a - b)
multiply = _binary("multiply", lambda a, b: a * b)
divide = true_divide = _binary("divide", lambda a, b: _floating(a) / _floating(b))
floor_divide = _binary("floor_divide", lambda a, b: a // b)
mod = _binary("mod", lambda a, b: a % b)
power = _binary("power", lambda a, b: a**b)
maximum = _binary("maximum", shendu.maximum)
minimum = _binary("minimum", shendu.minimum)
equal = _binary("equal", lambda a, b: a == b)
not_equal = _binary("not_equal", lambda a, b: a != b)
greater = _binary("greater", lambda a, b: a > b)
greater_equal = _binary("greater_equal", lambda a, b: a >= b)
less = _binary("less", lambda a, b: a < b)
less_equal = _binary("less_equal", lambda a, b: a <= b)
logical_and = _binary("logical_and", shendu.logical_and)
logical_or = _binary("logical_or", shendu.logical_or)
logical_xor = _binary("logical_xor", shendu.logical_xor)
matmul = _binary("matmul", shendu.matmul)
arctan2 = _binary("arctan2", shendu.atan2)


def logical_not(x):
    """Elementwise not."""
    return shendu.logical_not(_t(x))


def dot(x1, x2):
    """``matmul``; a product of scalars for 0-d inputs."""
    x1, x2 = _t(x1), _t(x2)
    return x1 * x2 if x1.ndim == 0 or x2.ndim == 0 else shendu.matmul(x1, x2)


def einsum(subscripts, *operands):
    """Einstein summation."""
    return shendu.einsum(subscripts, *(_t(o) for o in operands))


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes``."""
    return shendu.tensordot(_t(x1), _t(x2), dims=axes)


def outer(x1, x2):
    """The outer product of the flattened inputs."""
    return shendu.outer(_t(x1).reshape(-1), _t(x2).reshape(-1))


def clip(x, x_min, x_max):
    """``x`` limited to [x_min, x_max]."""
    return shendu.clamp(_t(x), x_min, x_max)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2``; with one argument, the indices of non-zero elements."""
    condition = cast(condition, "bool")
    if x1 is None and x2 is None:
        return tuple(convert_to_tensor(i) for i in np.nonzero(condition.numpy()))
    return shendu.where(condition, _t(x1), _t(x2))


def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default)."""
    return shendu.zeros(_shape(shape), dtype=keras_dtype(dtype) or _FLOATX)


def ones(shape, dtype=None):
    """A tensor of ones (float32 by default)."""
    return shendu.ones(_shape(shape), dtype=keras_dtype(dtype) or _FLOATX)


def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value``."""
    return convert_to_tensor(np.full(_shape(shape), fill_value, dtype=_numpy_dtype(dtype, fill_value)))


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape and dtype."""
    x = _t(x)
    return shendu.zeros(tuple(x.shape), dtype=keras_dtype(dtype) or x.dtype)


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape and dtype."""
    x = _t(x)
    return shendu.ones(tuple(x.shape), dtype=keras_dtype(dtype) or x.dtype)


def full_like(x, fill_value, dtype=None):
    """``fill_value`` in ``x``'s shape and dtype."""
    x = _t(x)
    return convert_to_tensor(np.full(tuple(x.shape), fill_value), dtype=dtype or x.dtype)


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)


def _numpy_dtype(dtype, *values):
    if dtype is not None:
        return keras_dtype(dtype).numpy_dtype
    kinds = [np.asarray(v).dtype.kind for v in values if v is not None]
    return np.float32 if "f" in kinds else np.bool_ if kinds and builtins.all(k == "b" for k in kinds) else np.int32


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop); int32 for integer arguments, float32 otherwise."""
    return convert_to_tensor(np.arange(start, stop, step, dtype=_numpy_dtype(dtype, start, stop, step)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from start to stop."""
    values = np.linspace(start, stop, num, endpoint=endpoint, dtype=_numpy_dtype(dtype or "float32"), axis=axis)
    return convert_to_tensor(values)


def eye(N, M=None, k=0, dtype=None):
    """Ones on the ``k``-th diagonal."""
    return convert_to_tensor(np.eye(N, M, k, dtype=_numpy_dtype(dtype or "float32")))


identity = eye


def reshape(x, newshape):
    """``x`` with a new shape (one -1 allowed)."""
    return _t(x).reshape(_shape(newshape))


def transpose(x, axes=None):
    """Axes reversed, or permuted as ``axes``."""
    x = _t(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def moveaxis(x, source, destination):
    """Move axes to new positions, keeping the order of the rest."""
    x = _t(x)
    axes = list(range(x.ndim))
    sources = [s % x.ndim for s in np.atleast_1d(source)]
    destinations = [d % x.ndim for d in np.atleast_1d(destination)]
    rest = [a for a in axes if a not in sources]
    for d, s in sorted(zip(destinations, sources, strict=True)):
        rest.insert(d, s)
    return x.permute(*rest)


def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    return _t(x).transpose(axis1, axis2)


def expand_dims(x, axis):
    """A new axis of length 1 at ``axis`` (each of them, for a tuple)."""
    x = _t(x)
    for a in sorted(a % (x.ndim + len(np.atleast_1d(axis))) for a in np.atleast_1d(axis)):
        x = x.unsqueeze(int(a))
    return x


def squeeze(x, axis=None):
    """Drop axes of length 1 (only ``axis`` when given; an error if it is not 1)."""
    x = _t(x)
    if axis is None:
        return x.squeeze()
    for a in sorted((a % x.ndim for a in np.atleast_1d(axis)), reverse=True):
        if x.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of size {x.shape[a]}; only axes of size 1 can be squeezed")
        x = x.squeeze(int(a))
    return x


def concatenate(xs, axis=0):
    """Join tensors along an existing axis."""
    return shendu.cat([_t(x) for x in xs], dim=axis)


def append(x1, x2, axis=None):
    """``x2`` joined after ``x1`` (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([_t(x1).reshape(-1), _t(x2).reshape(-1)])
    return concatenate([x1, x2], axis=axis)


def stack(x, axis=0):
    """Join tensors along a new axis."""
    return shendu.stack([_t(t) for t in x], dim=axis)


def vstack(xs):
    """Stack along rows."""
    return shendu.vstack([_t(x) for x in xs])


def hstack(xs):
    """Stack along columns."""
    return shendu.hstack([_t(x) for x in xs])


def split(x, indices_or_sections, axis=0):
    """Equal sections (an int) or pieces cut at the given indices."""
    x = _t(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"array split does not result in an equal division: {n} into {indices_or_sections}")
        return list(shendu.split(x, n // indices_or_sections, dim=axis))
    edges = [0, *indices_or_sections, n]
    return list(shendu.split(x, [b - a for a, b in zip(edges, edges[1:], strict=False)], dim=axis))


def tile(x, repeats):
    """``x`` repeated ``repeats`` times along each axis."""
    return shendu.tile(_t(x), tuple(np.atleast_1d(repeats).tolist()))


def repeat(x, repeats, axis=None):
    """Each element repeated (of the flattened tensor when ``axis`` is None)."""
    x = _t(x)
    return shendu.repeat_interleave(x.reshape(-1) if axis is None else x, repeats, dim=0 if axis is None else axis)


def flip(x, axis=None):
    """Reverse the order along ``axis`` (all axes when None)."""
    x = _t(x)
    return shendu.flip(x, _axes(axis, x.ndim))


def roll(x, shift, axis=None):
    """Elements shifted cyclically."""
    return shendu.roll(_t(x), shift, dims=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad with ``pad_width`` = ((before, after), ...) per axis (NumPy's order)."""
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    flat = [int(n) for pair in reversed(widths.tolist()) for n in pair]
    from ...nn.functional import pad as torch_pad

    return torch_pad(x, flat, mode=mode, value=constant_values or 0)


def take(x, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (of the flattened tensor when None); negative indices count back."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = np.asarray(convert_to_tensor(indices).numpy() if hasattr(indices, "numpy") else indices)
    indices = np.where(indices < 0, indices + x.shape[axis], indices).astype(np.int64)
    picked = x.index_select(axis, shendu.tensor(indices.reshape(-1)))
    shape = (*x.shape[:axis % x.ndim], *indices.shape, *x.shape[axis % x.ndim + 1 :])
    return picked.reshape(shape)


def take_along_axis(x, indices, axis=None):
    """``x`` gathered with ``indices`` shaped like it along ``axis``."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return shendu.take_along_dim(x, convert_to_tensor(indices).to(_dtype.int64), dim=axis)


def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (of the flattened tensor when None)."""
    x = _t(x) if dtype is None else cast(x, dtype)
    return shendu.cumsum(x.reshape(-1) if axis is None else x, dim=0 if axis is None else axis)


def cumprod(x, axis=None, dtype=None):
    """Running product along ``axis``."""
    x = _t(x) if dtype is None else cast(x, dtype)
    return shendu.cumprod(x.reshape(-1) if axis is None else x, dim=0 if axis is None else axis)


def sort(x, axis=-1):
    """Values sorted ascending along ``axis``."""
    return shendu.sort(_t(x), dim=axis)[0]


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (int32)."""
    return shendu.argsort(_t(x), dim=axis).to(_dtype.int32)


def tril(x, k=0):
    """Lower triangle (below the ``k``-th diagonal)."""
    return shendu.tril(_t(x), k)


def triu(x, k=0):
    """Upper triangle."""
    return shendu.triu(_t(x), k)


def diag(x, k=0):
    """The diagonal of a matrix, or the matrix of a diagonal."""
    return shendu.diag(_t(x), k)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the diagonal."""
    return shendu.diagonal(_t(x), offset, axis1, axis2).sum(-1)


def isnan(x):
    """True where NaN."""
    return shendu.isnan(_t(x))


def isinf(x):
    """True where ±inf."""
    return shendu.isinf(_t(x))


def isfinite(x):
    """True where finite."""
    return shendu.isfinite(_t(x))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers."""
    return shendu.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def count_nonzero(x, axis=None):
    """Number of non-zero elements over ``axis`` (int32)."""
    return sum(cast(cast(x, "bool"), "int32"), axis)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return shendu.broadcast_to(_t(x), _shape(shape))


def size(x):
    """Number of elements."""
    return int(np.prod(_t(x).shape))


def ndim(x):
    """Number of axes."""
    return _t(x).ndim


def copy(x):
    """A copy that still carries the gradient."""
    return _t(x).clone()


def ravel(x):
    """The flattened tensor."""
    return _t(x).reshape(-1)


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)), computed stably."""
    return shendu.logaddexp(_floating(x1), _floating(x2))


def average(x, axis=None, weights=None):
    """The (weighted) mean over ``axis``."""
    if weights is None:
        return mean(x, axis)
    x, weights = _floating(x), _floating(weights)
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    return sum(x * weights, axis) / sum(broadcast_to(weights, x.shape), axis)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids."""
    return list(shendu.meshgrid(*(_t(t) for t in x), indexing=indexing))


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal along two axes."""
    return shendu.diagonal(_t(x), offset, axis1, axis2)


__all__ = sorted(
    name for name, value in globals().items()
    if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == __name__
)  # fmt: skip
