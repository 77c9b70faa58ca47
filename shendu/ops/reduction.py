"""Reductions: sum, mean, var, std, max, min, prod, argmax, logsumexp — with ``dim`` and ``keepdim``."""

import collections

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor

__all__ = [
    "cummax", "cummin",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "argmax", "argmin",
    "logsumexp", "sum_to_shape", "broadcast_to", "norm", "all", "any", "count_nonzero",
    "cumsum", "var_mean", "std_mean", "topk", "sort", "argsort",
]  # fmt: skip

_py_max = max
return_types_max = collections.namedtuple("max", ["values", "indices"])  # type: ignore[name-match]
return_types_min = collections.namedtuple("min", ["values", "indices"])  # type: ignore[name-match]
return_types_topk = collections.namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]
return_types_sort = collections.namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]
return_types_cummax = collections.namedtuple("cummax", ["values", "indices"])  # type: ignore[name-match]
return_types_cummin = collections.namedtuple("cummin", ["values", "indices"])  # type: ignore[name-match]


def _axes(dim, ndim):
    """Normalise ``dim`` (None, int or sequence) to a tuple of non-negative axes, checking range."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    bound = _py_max(ndim, 1)
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(
                f"dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {d})"
            )
    return tuple(sorted({d % bound for d in dims})) if ndim else ()


def _expand_back(gy, shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input ``shape``."""
    if keepdim or not axes:
        return gy
    kept = list(shape)
    for a in axes:
        kept[a] = 1
    return gy.reshape(tuple(kept))


class Sum(Function):
    differentiable_backward = True

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdim)

    def backward(self, gy):
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        if isinstance(gy, Tensor):
            return broadcast_to(gy, self.shape)
        return xp.broadcast_to(gy, self.shape)


class SumToShape(Function):
    """Sum a tensor down to a broadcast-compatible smaller shape (the tensor form of sum_to)."""

    differentiable_backward = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        from ..autograd import sum_to

        self.source = x.shape
        return sum_to(x, self.shape)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return broadcast_to(gy, self.source)
        return xp.broadcast_to(gy, self.source)


class BroadcastTo(Function):
    differentiable_backward = True

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.source = x.shape
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return sum_to_shape(gy, self.source)
        from ..autograd import sum_to

        return sum_to(gy, self.source)


class Mean(Sum):
    def forward(self, x):
        self.shape = x.shape
        self.count = 1
        for axis in self.axes:
            self.count *= x.shape[axis]
        return x.mean(axis=self.axes, keepdims=self.keepdim)

    def backward(self, gy):
        return super().backward(gy / self.count)


class Var(Function):
    """Variance Σ(x-μ)²/(N-correction); ∂/∂x = 2(x-μ)/(N-correction)."""

    differentiable_backward = True

    def __init__(self, axes, keepdim, correction):
        self.axes, self.keepdim, self.correction = axes, keepdim, correction

    def forward(self, x):
        return self.wide_variance(x).astype(x.dtype, copy=False)

    def wide_variance(self, x):
        """The variance, accumulated in float64 for float16/32 inputs (as PyTorch on the CPU): squares of
        values past 1.8e19 overflow float32 although the variance (or its root) may be representable."""
        self.shape = x.shape
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        self.divisor = _py_max(n - self.correction, 0)
        wide = x.astype(xp.float64) if x.dtype.kind == "f" and x.dtype.itemsize < 8 else x
        centered = wide - wide.mean(axis=self.axes, keepdims=True)
        self.centered = centered.astype(x.dtype, copy=False)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (centered * centered).sum(axis=self.axes, keepdims=self.keepdim) / self.divisor

    def backward(self, gy):
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        scale = 2.0 / self.divisor if self.divisor else float("inf")
        if isinstance(gy, Tensor):
            (x,) = self.input_values()
            return gy * (x - mean(x, self.axes, keepdim=True)) * scale
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (gy * self.centered * scale).astype(gy.dtype, copy=False)


class Std(Var):
    """Standard deviation √var, its root taken in float64 too; ∂/∂x = (x-μ)/((N-correction)·σ)."""

    def forward(self, x):
        self.root = xp.sqrt(self.wide_variance(x))
        return self.root.astype(x.dtype, copy=False)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            (x,) = self.input_values()
            sigma = std(x, self.axes, keepdim=True, correction=self.correction)
            gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
            return gy * (x - mean(x, self.axes, keepdim=True)) / (sigma * self.divisor)
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        root = self.root if self.keepdim else xp.expand_dims(self.root, self.axes)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (gy * (self.centered / (root * self.divisor))).astype(gy.dtype, copy=False)


class MaxReduce(Function):
    """max/min over axes without indices; ties share the gradient evenly (as ``torch.amax``)."""

    differentiable_backward = True

    def __init__(self, axes, keepdim, largest):
        self.axes, self.keepdim, self.largest = axes, keepdim, largest

    def forward(self, x):
        if x.size == 0:
            raise RuntimeError("max(): expected a non-empty tensor")
        self.shape = x.shape
        reduce = xp.max if self.largest else xp.min
        self.y = reduce(x, axis=self.axes, keepdims=True)
        self.x = x
        return self.y if self.keepdim else self.y.reshape([s for i, s in enumerate(x.shape) if i not in self.axes])

    def backward(self, gy):
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        mask = self.x == self.y
        share = (mask / mask.sum(axis=self.axes, keepdims=True)).astype(self.x.dtype, copy=False)
        if isinstance(gy, Tensor):
            share = Tensor._from_op(share, False)
        return gy * share


class MaxDim(Function):
    """max/min along one dim returning (values, indices); the gradient goes to the returned index."""

    differentiable_backward = True

    def __init__(self, dim, keepdim, largest):
        self.dim, self.keepdim, self.largest = dim, keepdim, largest

    def forward(self, x):
        if x.shape[self.dim] == 0:
            raise RuntimeError("max(): cannot reduce over an empty dimension")
        self.shape = x.shape
        arg = xp.argmax if self.largest else xp.argmin
        self.indices = xp.expand_dims(arg(x, axis=self.dim), self.dim)
        values = xp.take_along_axis(x, self.indices, axis=self.dim)
        indices = self.indices
        if not self.keepdim:
            values, indices = values.squeeze(self.dim), indices.squeeze(self.dim)
        return values, indices.astype(xp.int64)

    def backward(self, gy, g_indices):
        if isinstance(gy, Tensor):  # a constant one-hot mask keeps grad-of-grad on the graph
            from .shape import unsqueeze

            mask = xp.zeros(self.shape, dtype=gy._array.dtype)
            xp.put_along_axis(mask, self.indices, 1, axis=self.dim)
            return (gy if self.keepdim else unsqueeze(gy, self.dim)) * Tensor._from_op(mask, False)
        if not self.keepdim:
            gy = xp.expand_dims(gy, self.dim)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        xp.put_along_axis(gx, self.indices, gy, axis=self.dim)
        return gx


class Prod(Function):
    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        self.shape = x.shape
        self.x = x
        return x.prod(axis=self.axes, keepdims=self.keepdim)

    def backward(self, gy):
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        x = self.x
        # product of all the others, computed without dividing (exact when zeros are present)
        moved = xp.moveaxis(x, self.axes, tuple(range(len(self.axes))))
        flat = moved.reshape((-1,) + moved.shape[len(self.axes) :])
        ones = xp.ones((1,) + flat.shape[1:], dtype=x.dtype)
        before = xp.concatenate([ones, xp.cumprod(flat, axis=0)[:-1]], axis=0)
        after = xp.concatenate([xp.cumprod(flat[::-1], axis=0)[:-1][::-1], ones], axis=0)
        others = (before * after).reshape(moved.shape)
        others = xp.moveaxis(others, tuple(range(len(self.axes))), self.axes)
        return (gy * others).astype(x.dtype, copy=False)


class LogSumExp(Function):
    """log Σ exp(x), computed as m + log Σ exp(x - m) (stable); ∂/∂x = exp(x - y) = softmax(x)."""

    differentiable_backward = True

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        self.shape = x.shape
        m = x.max(axis=self.axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.exp(x - m).sum(axis=self.axes, keepdims=True)
        with xp.errstate(divide="ignore"):
            out = xp.log(s) + m
        self.y = out if self.keepdim else out.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])
        return self.y

    def backward(self, gy):
        from .arithmetic import exp

        (x,) = self.input_values()
        y = _expand_back(self.output_value(self.y), self.shape, self.axes, self.keepdim)
        gy = _expand_back(gy, self.shape, self.axes, self.keepdim)
        if isinstance(gy, Tensor):
            return gy * exp(x - y)
        with xp.errstate(invalid="ignore"):  # an all -inf slice gives NaN, as in PyTorch
            return gy * xp.exp(x - y)


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def _float(x):
    return x if x._array.dtype.kind == "f" else x.float()


def sum(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Σ over ``dim`` (all dims by default). Booleans and integers sum to int64.

    ``axis``/``keepdims`` are accepted as aliases, as in PyTorch (so code written for arrays works too).
    """
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input._array.dtype.kind in "bui":
        input = input.long()
    return Sum(_axes(dim, input.ndim), keepdim)(input)


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Arithmetic mean over ``dim``."""
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if input._array.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype; input dtype is {input.dtype}: use .float() first")
    return Mean(_axes(dim, input.ndim), keepdim)(input)


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance with Bessel's ``correction`` (1 by default, as PyTorch)."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    input = _float(_tensor(input))
    return Var(_axes(dim, input.ndim), keepdim, correction)(input)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """Standard deviation: √var (the root taken in float64 for float32 inputs, as PyTorch)."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    input = _float(_tensor(input))
    return Std(_axes(dim, input.ndim), keepdim, correction)(input)


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return std(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def _extreme(input, dim, keepdim, largest, other=None):
    from .arithmetic import maximum, minimum

    input = _tensor(input)
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        return MaxReduce(_axes(None, input.ndim), False, largest)(input)
    (axis,) = _axes(dim, input.ndim) or (0,)
    if input.ndim == 0:
        return (input, Tensor(xp.zeros((), xp.int64)))
    values, indices = MaxDim(axis, keepdim, largest)(input)
    kind = return_types_max if largest else return_types_min
    return kind(values, indices)


def max(input, dim=None, keepdim=False):
    """Largest value; with ``dim``, a (values, indices) pair; with a tensor, elementwise maximum."""
    return _extreme(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):
    """Smallest value; with ``dim``, a (values, indices) pair; with a tensor, elementwise minimum."""
    return _extreme(input, dim, keepdim, False)


def _aliases(dim, keepdim, axis, keepdims):
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Largest value over ``dim`` (all dims by default); ties share the gradient."""
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    input = _tensor(input)
    return MaxReduce(_axes(dim, input.ndim), keepdim, True)(input)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Smallest value over ``dim`` (all dims by default); ties share the gradient."""
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    input = _tensor(input)
    return MaxReduce(_axes(dim, input.ndim), keepdim, False)(input)


def prod(input, dim=None, keepdim=False):
    input = _tensor(input)
    return Prod(_axes(dim, input.ndim), keepdim)(input)


def _arg(input, dim, keepdim, function):
    input = _tensor(input)
    array = input._array
    if dim is None:
        out = function(array.reshape(-1), axis=0)
        out = out.reshape((1,) * array.ndim) if keepdim else out
    else:
        (axis,) = _axes(dim, array.ndim) or (0,)
        out = function(array, axis=axis) if array.ndim else xp.zeros((), xp.int64)
        if keepdim and array.ndim:
            out = xp.expand_dims(out, axis)
    return Tensor._from_op(xp.asarray(out, dtype=xp.int64), False)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (first one at ties)."""
    return _arg(input, dim, keepdim, xp.argmax)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value (first one at ties)."""
    return _arg(input, dim, keepdim, xp.argmin)


def logsumexp(input, dim, keepdim=False):
    """log Σ exp(x) along ``dim``, stable for large |x|."""
    input = _float(_tensor(input))
    return LogSumExp(_axes(dim, input.ndim), keepdim)(input)


def sum_to_shape(input, shape):
    """Sum ``input`` down to ``shape`` (undoing broadcasting), differentiably."""
    return SumToShape(tuple(shape))(input)


def broadcast_to(input, shape):
    """Broadcast ``input`` to ``shape`` (a view; the gradient sums back)."""
    input = _tensor(input)
    shape = tuple(shape)
    shape = tuple(input.shape[i - len(shape) + input.ndim] if s == -1 else s for i, s in enumerate(shape))
    try:
        xp.broadcast_shapes(input._array.shape, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {tuple(input.shape)} cannot be broadcast to {shape}") from None
    if tuple(input.shape) == shape:
        return input
    return BroadcastTo(shape)(input)


def norm(input, p=2, dim=None, keepdim=False):
    """Vector p-norm (``p='fro'`` is the 2-norm over all elements)."""
    from .arithmetic import abs as abs_, pow as pow_

    input = _float(_tensor(input))
    if p == "fro":
        p = 2
    if p == float("inf"):
        return amax(abs_(input), dim, keepdim)
    if p == 1:
        return sum(abs_(input), dim, keepdim)
    total = sum(input * input, dim, keepdim) if p == 2 else sum(pow_(abs_(input), p), dim, keepdim)
    if not (input.requires_grad and (total._array == 0).any()):
        return pow_(total, 1.0 / p)
    # A zero vector's norm has gradient 0, as in PyTorch (the root's derivative at 0 would make it NaN):
    # take the root of 1 there, so nothing infinite reaches the backward pass.
    from .arithmetic import where

    nonzero = total > 0
    return where(nonzero, pow_(where(nonzero, total, 1.0), 1.0 / p), 0.0)


def all(input, dim=None, keepdim=False):
    input = _tensor(input)
    axes = None if dim is None else _axes(dim, input.ndim)
    return Tensor._from_op(xp.asarray(input._array.all(axis=axes, keepdims=keepdim)), False)


def any(input, dim=None, keepdim=False):
    input = _tensor(input)
    axes = None if dim is None else _axes(dim, input.ndim)
    return Tensor._from_op(xp.asarray(input._array.any(axis=axes, keepdims=keepdim)), False)


def count_nonzero(input, dim=None):
    input = _tensor(input)
    axes = None if dim is None else _axes(dim, input.ndim)
    return Tensor._from_op(xp.asarray(xp.count_nonzero(input._array, axis=axes), dtype=xp.int64), False)


class CumSum(Function):
    """Running sum; the gradient is the running sum of gy taken from the end."""

    differentiable_backward = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return xp.cumsum(x, axis=self.axis)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            from .shape import flip

            return flip(cumsum(flip(gy, self.axis), self.axis), self.axis)
        return xp.flip(xp.cumsum(xp.flip(gy, self.axis), axis=self.axis), self.axis)


def cumsum(input, dim):
    input = _tensor(input)
    (axis,) = _axes(dim, input.ndim)
    return CumSum(axis)(input)


def _running_extreme(input, dim, largest, result):
    from .indexing import gather

    input = _tensor(input)
    (axis,) = _axes(dim, input.ndim)
    array = input._array
    accumulate = xp.maximum.accumulate if largest else xp.minimum.accumulate
    running = accumulate(array, axis=axis)
    shape = [1] * array.ndim
    shape[axis] = array.shape[axis] if array.ndim else 1
    positions = xp.arange(array.shape[axis] if array.ndim else 1).reshape(shape)
    # the latest position holding the running extreme (ties go to the later index, as PyTorch); NaN is extreme
    holds = (array == running) | xp.isnan(array)
    indices = xp.maximum.accumulate(xp.where(holds, positions, 0), axis=axis).astype(xp.int64)
    index_tensor = Tensor._from_op(indices, False)
    return result(gather(input, axis, index_tensor), index_tensor)


def cummax(input, dim):
    """The running maximum along ``dim`` and where it was reached: values[i] = max(x[:i+1]) (gradient to that index)."""
    return _running_extreme(input, dim, True, return_types_cummax)


def cummin(input, dim):
    """The running minimum along ``dim`` and where it was reached."""
    return _running_extreme(input, dim, False, return_types_cummin)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along ``dim`` with their indices."""
    from .indexing import gather

    input = _tensor(input)
    (axis,) = _axes(dim, input.ndim)
    order = xp.argsort(-input._array if largest else input._array, axis=axis, kind="stable")
    indices = xp.take(order, xp.arange(k), axis=axis).astype(xp.int64)
    index_tensor = Tensor._from_op(indices, False)
    return return_types_topk(gather(input, axis, index_tensor), index_tensor)


def sort(input, dim=-1, descending=False, stable=True):
    from .indexing import gather

    input = _tensor(input)
    (axis,) = _axes(dim, input.ndim)
    order = xp.argsort(-input._array if descending else input._array, axis=axis, kind="stable").astype(xp.int64)
    index_tensor = Tensor._from_op(order, False)
    return return_types_sort(gather(input, axis, index_tensor), index_tensor)


def argsort(input, dim=-1, descending=False, stable=True):
    return sort(input, dim, descending).indices
