"""Normalisation ops: batch_norm, layer_norm and group_norm, each one fused Function.

All three compute x̂ = (x - μ) / √(σ² + ε) over some axes and y = γ·x̂ + β. Each is a single
op with a hand-written backward instead of a chain of a dozen elementwise ops: fewer array
passes and one saved array (x̂) instead of every intermediate. With m the number of elements
in a normalisation group and g = γ·∂L/∂y, the input gradient is

    ∂L/∂x = (g - mean(g) - x̂·mean(g·x̂)) / √(σ² + ε)

(means over the group). In evaluation mode batch norm uses fixed running statistics, so
then ∂L/∂x = g / √(σ² + ε).
"""

import math
import numbers

from .. import _compiled
from .._backend import xp
from .._parallel import pass_parts, run_shared, run_split_sum
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .dtype_check import check_same_dtype

try:
    from . import _batch_norm as _kernels  # type: ignore[attr-defined]  # the optional C kernels (_batch_norm.c)
except ImportError:  # not built: the NumPy passes run
    _kernels = None


__all__ = ["batch_norm", "layer_norm", "group_norm", "normalize", "local_response_norm"]


def channel_sums(rows):
    """Σ over the rows of an (M, C) matrix: the C kernel's float64 sums shared between threads for float32 (no BLAS
    call, whose idle threads would spin on the cores the next kernel's threads want), else a BLAS vector-matrix product."""
    if _kernels is None or rows.dtype != xp.float32 or not _compiled.enabled():
        return xp.ones(rows.shape[0], rows.dtype) @ rows
    return _moments(xp.ascontiguousarray(rows), None).astype(rows.dtype)


def _row_parts(rows):
    """How many threads share a pass over the (M, C) ``rows``: as any pass over memory (``_parallel.pass_parts``).

    NOTE: counted in rows (16384 a thread), a 128-channel layer of 16384 rows (8 MB) ran on one thread."""
    return pass_parts(rows.nbytes, rows.shape[0])


def _moments(rows, mean):
    """float64 Σ_r rows[r] (mean None) or Σ_r (rows[r] − mean)², per channel, by the C kernel shared between threads."""
    m, c = rows.shape

    def piece(out, start, stop):
        _kernels.moments(rows, mean, out, start, stop)

    return run_split_sum(piece, m, _row_parts(rows), (c,), xp.float64)


def _normalize(rows, mean, scale, shift):
    """(rows − mean)·scale + shift per channel of the (M, C) ``rows``, one pass of the C kernel shared between
    threads."""
    y = xp.empty_like(rows)
    run_shared(lambda start, stop: _kernels.normalize(rows, mean, scale, shift, y, start, stop), rows.shape[0],
               _row_parts(rows))  # fmt: skip
    return y


def _normalized_input_grad(g, xhat, invstd, axes):
    """∂L/∂x for x̂ = (x - mean) · invstd with batch statistics over ``axes`` (g = γ·∂L/∂y)."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
    return (g - mean_g - xhat * mean_gx) * invstd


def _check_tensor(name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} expects a Tensor input; got {type(value).__name__}")


def _affine_arguments(weight, bias):
    """The optional affine tensors as an argument list, with flags for which are present."""
    params = [p for p in (weight, bias) if p is not None]
    return params, weight is not None, bias is not None


def _match_dtype(input, weight, bias, name="normalization"):
    """The input, checked to have the parameters' dtype (a mismatch is a RuntimeError, as in PyTorch)."""
    reference = weight if weight is not None else bias
    if reference is not None and input._array.dtype != reference._array.dtype:
        check_same_dtype(name, input, reference)
    return input


def eval_batch_norm(x, mean, var, weight, bias, eps):
    """Batch norm with given statistics, nothing kept for backward: y = x·a + b with a = γ/√(σ² + ε) and b = β − μ·a
    per channel (dim 1); ``mean``, ``var`` of any shape holding C values, ``weight``, ``bias`` (C,) or None. One output
    array, two passes (one in the C kernel, for a channels-last float32 x).

    NOTE: under ``no_grad`` nothing is kept for backward; the general path made three full-size arrays
    (x − μ, x̂, y), which set resnet18's inference peak; it stays the oracle (tests compare the two).
    """
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mean = mean.astype(x.dtype, copy=False).reshape(shape)
    scale = 1.0 / xp.sqrt(var.astype(x.dtype, copy=False).reshape(shape) + x.dtype.type(eps))
    if weight is not None:
        scale = scale * weight.reshape(shape)
    rows = _channel_rows(x)
    if rows is not None and x.dtype == xp.float32 and _kernels is not None and _compiled.enabled():
        # NOTE: (x − μ)·a + β in one pass of the C kernel shared between threads: resnet18 at batch 16 spent
        # ~32 ms a forward in the two NumPy passes below
        mean, scale = mean.reshape(-1), scale.reshape(-1)
        y = _normalize(rows, mean, scale, bias if bias is not None else xp.zeros_like(mean))
        return _rows_to_input_shape(y, x)
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias.reshape(shape)
    y = xp.multiply(x, scale)
    y += shift
    return y


class BatchNorm(Function):
    """y = γ·(x - μ_c)/√(σ²_c + ε) + β per channel c (axis 1), statistics over every other axis.

    In training the batch statistics are used and the running ones updated in place
    (running_var with the unbiased variance, as PyTorch); otherwise the running ones are used.
    """

    def __init__(self, running_mean, running_var, training, momentum, eps, has_weight, has_bias):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *params):
        weight = params[0] if self.has_weight else None
        bias = params[-1] if self.has_bias else None
        rows = _channel_rows(x) if self.training else None
        self.compiled = rows is not None and x.dtype == xp.float32 and _kernels is not None and _compiled.enabled()
        if self.compiled:
            return self._forward_compiled(x, rows, weight, bias)
        if rows is not None:
            return self._forward_rows(x, rows, weight, bias)
        self.rows = None
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if self.training:
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            self._update_running(mean, var, x.size // x.shape[1])
        else:
            if not is_grad_enabled():
                return eval_batch_norm(x, self.running_mean._array, self.running_var._array, weight, bias, self.eps)
            mean = self.running_mean._array.astype(x.dtype, copy=False).reshape(shape)
            var = self.running_var._array.astype(x.dtype, copy=False).reshape(shape)
            centred = x - mean
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(self.eps))
        xhat = centred * invstd
        self.xhat, self.invstd, self.axes = xhat, invstd, axes
        y = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(shape)
        return y

    def _update_running(self, mean, var, m):
        if self.running_mean is None:
            return
        momentum = self.momentum
        running_mean, running_var = self.running_mean._array, self.running_var._array
        running_mean *= 1 - momentum
        running_mean += (momentum * mean).reshape(-1).astype(running_mean.dtype, copy=False)
        running_var *= 1 - momentum
        running_var += (momentum * m / (m - 1) * var).reshape(-1).astype(running_var.dtype, copy=False)

    def _forward_rows(self, x, rows, weight, bias):
        """Training forward on the (M, C) matrix view of a channels-last input.

        NOTE: the per-channel sums are matrix-vector products (BLAS, threaded) and Σ(x − μ)² an einsum that
        makes no temporary; x̂ is built in place of x − μ and y in one pass: four passes over the data where
        the axis-by-axis reductions of the general path take nine. ResNet-20's 19 BatchNorms (batch 128):
        measured in BENCHMARKS.md (W7).
        """
        m = rows.shape[0]
        ones = xp.ones(m, x.dtype)
        mean = (ones @ rows) / x.dtype.type(m)
        centred = rows - mean
        var = xp.einsum("ij,ij->j", centred, centred) / x.dtype.type(m)
        self._update_running(mean, var, m)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(self.eps))
        centred *= invstd  # now x̂
        # NOTE: x̂ is not kept: backward makes it again from x (which autograd keeps anyway) with the same two
        # operations, bit for bit. One activation less per BatchNorm (ResNet-20: 19 of them) for two passes in backward.
        self.rows, self.mean, self.invstd = True, mean, invstd
        if weight is not None:
            centred *= weight  # y, made in place of x̂
        if bias is not None:
            centred += bias
        return _rows_to_input_shape(centred, x)

    def _forward_compiled(self, x, rows, weight, bias):
        """The training forward of ``_forward_rows`` in the C kernels: Σx, Σ(x − μ)² (float64 sums) and
        y = (x − μ)·γ/√(σ² + ε) + β, three passes shared between threads, no temporary.

        NOTE: measured with W7 in BENCHMARKS.md; ``_forward_rows`` stays the oracle (the tests compare them).
        """
        m, c = rows.shape
        mean = (_moments(rows, None) / m).astype(x.dtype)
        var = _moments(rows, mean) / m
        self._update_running(mean, var.astype(x.dtype), m)
        invstd = (1.0 / xp.sqrt(var + self.eps)).astype(x.dtype)
        scale = invstd * weight if weight is not None else invstd
        y = _normalize(rows, mean, scale, bias if bias is not None else xp.zeros(c, x.dtype))
        self.rows, self.mean, self.invstd = True, mean, invstd
        return _rows_to_input_shape(y, x)

    def _backward_compiled(self, gy):
        """``_backward_rows`` in two passes of the C kernels: Σg and Σg·(x − μ), then ∂L/∂x = g·k_g + (x − μ)·k_x + k_0
        with k_g = γ·invstd, k_x = −γ·invstd³·Σg(x − μ)/M, k_0 = −γ·invstd·Σg/M."""
        x, *params = self.input_values()
        needs = self.needs_input_grad
        weight = params[0] if self.has_weight else None
        rows = _channel_rows(gy)
        if rows is None:
            rows = _channel_rows(_input_layout_copy(gy, x))
        source = _channel_rows(x)
        m, c = rows.shape
        parts = _row_parts(rows)

        def first(out, start, stop):
            _kernels.grad_moments(rows, source, self.mean, out, start, stop)

        sum_g, sum_gc = run_split_sum(first, m, parts, (2, c), xp.float64)
        sum_gx = (sum_gc * self.invstd).astype(gy.dtype)  # Σ g·x̂ = ∂L/∂γ
        gx = None
        if needs[0]:
            gamma = self.invstd.astype(xp.float64) * (1.0 if weight is None else weight)
            kg = gamma.astype(gy.dtype)
            kx = (-gamma * self.invstd * sum_gx / m).astype(gy.dtype)
            k0 = (-gamma * sum_g / m).astype(gy.dtype)
            out = xp.empty_like(rows)

            def second(start, stop):
                _kernels.normalize_grad(rows, source, self.mean, kg, kx, k0, out, start, stop)

            run_shared(second, m, parts)
            gx = _rows_to_input_shape(out, x)
        gw = sum_gx if self.has_weight and needs[1] else None
        gb = sum_g.astype(gy.dtype) if self.has_bias and needs[-1] else None
        return self._grads(gx, gw, gb)

    def backward(self, gy):
        if self.compiled:
            return self._backward_compiled(gy)
        if self.rows:
            return self._backward_rows(gy)
        x, *params = self.input_values()
        needs = self.needs_input_grad
        weight = params[0] if self.has_weight else None
        shape = (1, gy.shape[1]) + (1,) * (gy.ndim - 2)
        gx = gw = gb = None
        if self.has_weight and needs[1]:
            gw = (gy * self.xhat).sum(axis=self.axes)
        if self.has_bias and needs[-1]:
            gb = gy.sum(axis=self.axes)
        if needs[0]:
            g = gy * weight.reshape(shape) if weight is not None else gy
            if self.training:
                gx = _normalized_input_grad(g, self.xhat, self.invstd, self.axes)
            else:
                gx = g * self.invstd
        return self._grads(gx, gw, gb)

    def _grads(self, gx, gw, gb):
        grads = [gx]
        if self.has_weight:
            grads.append(gw)
        if self.has_bias:
            grads.append(gb)
        return tuple(grads)

    def _backward_rows(self, gy):
        """∂L/∂x = γ·invstd·(g − Σg/M − x̂·Σ(g·x̂)/M) with Σg = ∂L/∂β and Σ(g·x̂) = ∂L/∂γ: both sums serve twice."""
        x, *params = self.input_values()
        needs = self.needs_input_grad
        weight = params[0] if self.has_weight else None
        rows = _channel_rows(gy)
        if rows is None:  # an upstream gradient in another layout: bring it to the saved x̂'s
            rows = _channel_rows(_input_layout_copy(gy, x))
        m = rows.shape[0]
        xhat = _channel_rows(x) - self.mean
        xhat *= self.invstd  # x̂ as forward made it
        sum_g = xp.ones(m, gy.dtype) @ rows
        sum_gx = xp.einsum("ij,ij->j", rows, xhat)
        gx = None
        if needs[0]:
            gx = xhat
            gx *= sum_gx / gy.dtype.type(m)
            gx += sum_g / gy.dtype.type(m)
            xp.subtract(rows, gx, out=gx)
            gx *= self.invstd if weight is None else weight * self.invstd
            gx = _rows_to_input_shape(gx, x)
        gw = sum_gx if self.has_weight and needs[1] else None
        gb = sum_g if self.has_bias and needs[-1] else None
        return self._grads(gx, gw, gb)


# NOTE: the axis orders as constants: NumPy's moveaxis normalises its arguments in Python (~4 µs a call, two calls a
# batch norm: a tenth of resnet18's 7×7 batch norms at batch 1)
_CHANNELS_LAST = {3: (0, 2, 1), 4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}
_CHANNELS_FIRST = {3: (0, 2, 1), 4: (0, 3, 1, 2), 5: (0, 4, 1, 2, 3)}


def _channel_rows(x):
    """The (M, C) matrix view of an (N, C) or channels-last (N, C, *) array, or None when there is none without a copy."""
    if x.ndim == 2:
        return x if x.flags.c_contiguous else None
    moved = x.transpose(_CHANNELS_LAST[x.ndim] if x.ndim < 6 else (0, *range(2, x.ndim), 1))  # (NOTE below)
    if not moved.flags.c_contiguous:
        return None
    return moved.reshape(-1, x.shape[1])


def _rows_to_input_shape(rows, like):
    """(M, C) rows back to the (N, C, *) shape of ``like``, as a channels-last view."""
    if like.ndim == 2:
        return rows
    n, c = like.shape[:2]
    back = _CHANNELS_FIRST[like.ndim] if like.ndim < 6 else (0, like.ndim - 1, *range(1, like.ndim - 1))
    return rows.reshape((n,) + like.shape[2:] + (c,)).transpose(back)


def _input_layout_copy(a, like):
    out = xp.moveaxis(xp.empty(xp.moveaxis(like, 1, -1).shape, a.dtype), -1, 1)
    out[...] = a
    return out


def _check_channel_vector(function, name, tensor, channels, input):
    if tensor is not None and tuple(tensor.shape) != (channels,):
        raise ValueError(
            f"{function}: {name} has shape {tuple(tensor.shape)} but the input of shape {tuple(input.shape)} "
            f"has {channels} channels (dim 1); expected ({channels},)"
        )


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over dim 1 (channels) of an (N, C, *) input, as ``torch.nn.functional.batch_norm``.

    y = γ·(x - E[x]) / √(Var[x] + ε) + β, statistics per channel over N and the spatial dims.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) tensors, updated in place when ``training`` (may be None then).
        weight, bias: γ and β, shape (C,). Default to None (no affine transform).
        training: use batch statistics (and update the running ones). Defaults to False.
        momentum: running = (1 - momentum)·running + momentum·batch. Defaults to 0.1.
        eps: added to the variance. Defaults to 1e-5.

    Example:
        >>> y = batch_norm(x, mean, var, training=True)
    """
    _check_tensor("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *); got shape {tuple(input.shape)}")
    channels = input.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_channel_vector("batch_norm", name, tensor, channels, input)
    if training and input.numel() // max(channels, 1) <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training; got input of shape {tuple(input.shape)}"
        )
    input = _match_dtype(input, weight, bias, "batch_norm")
    params, has_weight, has_bias = _affine_arguments(weight, bias)
    op = BatchNorm(running_mean, running_var, bool(training), float(momentum), float(eps), has_weight, has_bias)
    return op(input, *params)


class LayerNorm(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² over the last ``k`` axes of each sample."""

    def __init__(self, k, eps, has_weight, has_bias):
        self.k, self.eps, self.has_weight, self.has_bias = k, eps, has_weight, has_bias

    def forward(self, x, *params):
        axes = tuple(range(x.ndim - self.k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(self.eps))
        xhat = centred * invstd
        self.xhat, self.invstd, self.axes = xhat, invstd, axes
        y = xhat * params[0] if self.has_weight else xhat.copy()
        if self.has_bias:
            y += params[-1]
        return y

    def backward(self, gy):
        x, *params = self.input_values()
        needs = self.needs_input_grad
        lead = tuple(range(gy.ndim - self.k))
        grads = [None]
        if needs[0]:
            g = gy * params[0] if self.has_weight else gy
            grads[0] = _normalized_input_grad(g, self.xhat, self.invstd, self.axes)
        if self.has_weight:
            grads.append((gy * self.xhat).sum(axis=lead) if needs[1] else None)
        if self.has_bias:
            grads.append(gy.sum(axis=lead) if needs[-1] else None)
        return tuple(grads)


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last ``len(normalized_shape)`` dims, as ``torch.nn.functional.layer_norm``.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: an int or a shape: the trailing dims to normalise over.
        weight, bias: γ and β of shape ``normalized_shape``. Default to None.
        eps: added to the variance. Defaults to 1e-5.
    """
    _check_tensor("layer_norm", input)
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ValueError(
            f"layer_norm: normalized_shape={shape} does not match the input of shape {tuple(input.shape)}; "
            f"expected (*, {', '.join(map(str, shape))})"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise ValueError(f"layer_norm: {name} has shape {tuple(tensor.shape)}; expected normalized_shape {shape}")
    input = _match_dtype(input, weight, bias, "layer_norm")
    params, has_weight, has_bias = _affine_arguments(weight, bias)
    return LayerNorm(k, float(eps), has_weight, has_bias)(input, *params)


class GroupNorm(Function):
    """Split the C channels into G groups; normalise each (sample, group) over its channels and
    spatial positions; then γ, β per channel."""

    def __init__(self, groups, eps, has_weight, has_bias):
        self.groups, self.eps, self.has_weight, self.has_bias = groups, eps, has_weight, has_bias

    def forward(self, x, *params):
        n, c = x.shape[:2]
        grouped = x.reshape(n, self.groups, -1)
        mean = grouped.mean(axis=2, keepdims=True)
        centred = grouped - mean
        var = (centred * centred).mean(axis=2, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(self.eps))
        xhat = (centred * invstd).reshape(x.shape)
        self.xhat, self.invstd = xhat, invstd
        shape = (1, c) + (1,) * (x.ndim - 2)
        y = xhat * params[0].reshape(shape) if self.has_weight else xhat.copy()
        if self.has_bias:
            y += params[-1].reshape(shape)
        return y

    def backward(self, gy):
        x, *params = self.input_values()
        needs = self.needs_input_grad
        n, c = gy.shape[:2]
        shape = (1, c) + (1,) * (gy.ndim - 2)
        axes = (0,) + tuple(range(2, gy.ndim))
        grads = [None]
        if needs[0]:
            g = gy * params[0].reshape(shape) if self.has_weight else gy
            grouped = _normalized_input_grad(
                g.reshape(n, self.groups, -1), self.xhat.reshape(n, self.groups, -1), self.invstd, 2
            )
            grads[0] = grouped.reshape(gy.shape)
        if self.has_weight:
            grads.append((gy * self.xhat).sum(axis=axes) if needs[1] else None)
        if self.has_bias:
            grads.append(gy.sum(axis=axes) if needs[-1] else None)
        return tuple(grads)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (Wu & He 2018), as ``torch.nn.functional.group_norm``.

    Args:
        input: (N, C, *) with C divisible by ``num_groups``.
        num_groups: number of channel groups G.
        weight, bias: γ and β of shape (C,). Default to None.
        eps: added to the variance. Defaults to 1e-5.
    """
    _check_tensor("group_norm", input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *); got shape {tuple(input.shape)}")
    channels = input.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups <= 0 or channels % num_groups:
        raise ValueError(
            f"group_norm: the {channels} channels of the input of shape {tuple(input.shape)} cannot be split "
            f"into num_groups={num_groups!r} equal groups"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        _check_channel_vector("group_norm", name, tensor, channels, input)
    input = _match_dtype(input, weight, bias, "group_norm")
    params, has_weight, has_bias = _affine_arguments(weight, bias)
    if math.prod(input.shape) == 0:
        raise ValueError(f"group_norm: got an empty input of shape {tuple(input.shape)}")
    return GroupNorm(int(num_groups), float(eps), has_weight, has_bias)(input, *params)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(‖input‖_p, eps)`` along ``dim`` (PyTorch's ``F.normalize``); differentiable.

    Example:
        >>> normalize(shendu.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    norm = input.norm(p=p, dim=dim, keepdim=True)
    return input / norm.clamp(min=eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (Krizhevsky et al. 2012), as ``torch.nn.functional``'s:

    b_c = a_c / (k + α/n · Σ_{c' ∈ window(c)} a_c'²)^β, the window of n = ``size`` channels around c
    (zero-padded at the ends), for inputs (N, C, *).
    """
    from .pooling import avg_pool2d
    from .shape import pad

    _check_tensor("local_response_norm", input)
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer. Received: size={size!r}")
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    n, c = input.shape[0], input.shape[1]
    squares = (input * input).reshape(n, 1, c, -1)
    windows = avg_pool2d(pad(squares, (0, 0, size // 2, (size - 1) // 2)), (size, 1), stride=1)
    denominator = (windows.reshape(*input.shape) * alpha + k) ** beta
    return input / denominator
