"""Activation functions and their derivatives, computed stably.

sigmoid σ(x) = 1/(1+e⁻ˣ), σ' = σ(1-σ); tanh, tanh' = 1 - tanh²; relu, relu' = [x > 0];
softmax along a dim and log_softmax, both shifted by the max so large logits never overflow.
The other activations (leaky_relu, prelu, elu/selu/celu, softplus, silu/swish, gelu, relu6,
hardtanh, mish, ...) follow; each states its derivative, and at the kinks the gradient is
the one PyTorch chooses.
"""

import math
import numbers

from .. import _compiled
from .._backend import xp
from .._parallel import flat_in_memory, pass_parts, run_shared
from ..autograd import Function, is_grad_enabled, sum_to
from ..tensor import Tensor
from .dtype_check import check_same_dtype

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "softmin", "leaky_relu", "prelu", "elu", "selu", "celu",
    "softplus", "silu", "swish", "gelu", "relu6", "hardtanh", "mish", "hardsigmoid", "hardswish", "tanhshrink",
    "softsign", "logsigmoid", "softshrink", "hardshrink", "threshold",
]  # fmt: skip


try:
    from . import _activation as _kernels  # type: ignore[attr-defined]  # the optional C kernels (_activation.c)
except ImportError:  # not built: the NumPy passes run
    _kernels = None


def _float_tensor(x):
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x if x._array.dtype.kind == "f" else x.float()


def stable_sigmoid(x):
    """σ(x) = 1/(1+e⁻ˣ) in four in-place passes over one new array.

    For very negative x, e⁻ˣ overflows to inf and σ comes out as exactly 0 (the true value is below
    the dtype's smallest normal number there): the overflow is expected and not reported.
    """
    # NOTE: the branch-free form is about twice as fast as exp(-|x|) with a where() for the sign, and
    # as accurate: both 1 + e⁻ˣ and its reciprocal are correctly rounded for every x.
    y = xp.empty_like(x)  # not negative(x): a 0-d input would give a NumPy scalar, which out= cannot fill
    xp.negative(x, out=y)
    with xp.errstate(over="ignore"):
        xp.exp(y, out=y)
    y += 1
    return xp.reciprocal(y, out=y)


class Sigmoid(Function):
    differentiable_backward = True

    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy):
        y = self.output_value(self.y)
        if isinstance(gy, Tensor):
            return gy * y * (1 - y)
        gx = 1 - y  # σ' = σ(1 - σ), with one temporary instead of three
        gx *= y
        gx *= gy
        return gx


class Tanh(Function):
    differentiable_backward = True

    def forward(self, x):
        self.y = xp.tanh(x)
        return self.y

    def backward(self, gy):
        y = self.output_value(self.y)
        return gy * (1 - y * y)


_ZEROS_ROW = 8192
_zero_rows: dict = {}  # dtype -> a read-only row of zeros


def _relu(x):
    """max(x, 0), NaN kept, as one or two ufunc calls against a row of zeros.

    NOTE: NumPy's maximum against a scalar runs an element-by-element loop, against an array its SIMD
    one: 27 µs for 100×500 float32 against a scalar, 13 µs against a zeros row (measured here). So a
    contiguous x is seen as rows of 8192 (plus a tail) compared with a cached zeros row.
    """
    out = _kernel_result("relu", (x,))  # x's memory order (a channels-last conv output stays channels-last)
    if out is not None:
        return out
    zeros = _zero_rows.get(x.dtype)  # only float dtypes are ever stored
    if zeros is None:
        if x.dtype.kind != "f" or len(_zero_rows) > 8:
            return xp.maximum(x, 0)
        zeros = _zero_rows[x.dtype] = xp.zeros(_ZEROS_ROW, x.dtype)
        zeros.flags.writeable = False
    flat = flat_in_memory(x) if x.size >= 2 * _ZEROS_ROW else None
    if flat is None:
        return xp.maximum(x, 0) if x.ndim == 0 or x.shape[-1] < 64 else xp.maximum(x, zeros[: x.shape[-1]])
    out = xp.empty_like(x)  # x's memory order (a channels-last conv output stays channels-last)
    flat_out = flat_in_memory(out)
    rows, tail = divmod(flat.size, _ZEROS_ROW)
    bulk, bulk_out = flat[: rows * _ZEROS_ROW].reshape(rows, _ZEROS_ROW), flat_out[: rows * _ZEROS_ROW].reshape(rows, _ZEROS_ROW)

    def piece(start, stop):  # NOTE: a large ReLU is shared between threads (ufuncs release the GIL)
        xp.maximum(bulk[start:stop], zeros, out=bulk_out[start:stop])

    run_shared(piece, rows, pass_parts(x.nbytes))
    if tail:
        xp.maximum(flat[rows * _ZEROS_ROW :], zeros[:tail], out=flat_out[rows * _ZEROS_ROW :])
    return out


# NOTE: below this many elements NumPy's own pass is as fast as the kernel's call with its checks (the W3 CNN's
# one-sample inference, 21632 and 7744 values: 199 µs against 204)
KERNEL_MIN_SIZE = 1 << 16


def _flat_alike(*arrays):
    """The 1-d views of float32 arrays laid out alike (shape and strides) in one block of memory each, for the C
    kernels; None when the kernels are not there or switched off, or the arrays are not so."""
    first = arrays[0]
    if _kernels is None or first.size < KERNEL_MIN_SIZE or not _compiled.enabled():
        return None
    if any(a.dtype != xp.float32 or a.shape != first.shape or a.strides != first.strides for a in arrays):
        return None
    flats = [flat_in_memory(a) for a in arrays]
    return None if any(f is None for f in flats) else flats


def _run_kernel(name, arrays, *extra):
    """The C kernel ``name`` over ``arrays`` (the last one written), ``extra`` (a slope) after them, shared between
    threads; False, with nothing written, where :func:`_flat_alike` says no."""
    flats = _flat_alike(*arrays)
    if flats is None:
        return False
    kernel = getattr(_kernels, name)
    run_shared(lambda start, stop: kernel(*flats, *extra, start, stop), flats[0].size, pass_parts(arrays[0].nbytes))
    return True


def _kernel_result(name, inputs, *extra):
    """A new array in the first input's memory order written by :func:`_run_kernel` from ``inputs``; None, with
    nothing made, where the kernel does not run."""
    first = inputs[0]
    if _kernels is None or first.dtype != xp.float32 or first.size < KERNEL_MIN_SIZE:
        return None
    out = xp.empty_like(first)
    return out if _run_kernel(name, (*inputs, out), *extra) else None


def relu_into(x, out):
    """out = max(x, 0), NaN kept (out may be x), by the C kernel shared between threads; False, with nothing
    written, where :func:`_flat_alike` says no."""
    return _run_kernel("relu", (x, out))


def _relu_grad_compiled(gy, y):
    """gy where y > 0, else 0, by the C kernel shared between threads, in y's memory order; None where
    :func:`_flat_alike` says no for y (the NumPy passes then run).

    A gy laid out otherwise (a depthwise convolution's cropped input gradient) is copied into the result sample by
    sample first, the kernel then working in place. NOTE: NumPy's gy·(y > 0) on such a gy took 5.3 ms of the
    separable network's two-thread step."""
    gx = _kernel_result("relu_grad", (gy, y))  # gy laid out as y
    if gx is not None or y.size < KERNEL_MIN_SIZE or _kernels is None:
        return gx
    gx = xp.empty_like(y)  # y's memory order
    flats = _flat_alike(y, gx)
    if flats is None or gy.dtype != y.dtype or gy.shape != y.shape:
        return None
    flat_y, flat_gx = flats
    per_sample = y[0].size
    if y.ndim < 2 or y.strides[0] != per_sample * y.itemsize:  # samples are not the outermost in memory
        return None

    def piece(start, stop):
        xp.copyto(gx[start:stop], gy[start:stop])
        _kernels.relu_grad(flat_gx, flat_y, flat_gx, start * per_sample, stop * per_sample)

    run_shared(piece, y.shape[0], pass_parts(y.nbytes, y.shape[0]))
    return gx


class ReLU(Function):
    """max(x, 0); the gradient at exactly 0 is 0 (as PyTorch)."""

    differentiable_backward = True

    def forward(self, x):
        self.y = _relu(x)
        return self.y

    def backward(self, gy):
        y = self.y
        if not isinstance(gy, Tensor) and not isinstance(y, Tensor):
            gx = _relu_grad_compiled(gy, y)
            if gx is not None:
                return gx
        if not isinstance(gy, Tensor) and gy.shape == y.shape and y.ndim > 1 and pass_parts(gy.nbytes) > 1:
            gx = xp.empty_like(y, dtype=xp.result_type(gy, y))  # y's memory order, whatever gy's (a conv's cropped gx)

            def piece(start, stop):  # NOTE: gy·(y > 0) shared between threads by samples, as the forward
                xp.multiply(gy[start:stop], y[start:stop] > 0, out=gx[start:stop])

            run_shared(piece, gy.shape[0], pass_parts(gy.nbytes, gy.shape[0]))
            return gx
        mask = self.y > 0
        if isinstance(gy, Tensor):
            return gy * Tensor._from_op(mask.astype(gy._array.dtype), False)
        return gy * mask


class Softmax(Function):
    """softmax(x)ᵢ = exp(xᵢ - m) / Σ exp(x - m); backward y ⊙ (gy - Σ gy ⊙ y)."""

    differentiable_backward = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        with xp.errstate(invalid="ignore"):  # a row of all -inf gives NaN quietly, as in PyTorch
            shifted = x - x.max(axis=self.axis, keepdims=True)
            e = xp.exp(shifted)
            e /= e.sum(axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy):
        y = self.output_value(self.y)
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x) = x - m - log Σ exp(x - m); backward gy - softmax · Σ gy."""

    differentiable_backward = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        with xp.errstate(invalid="ignore"):  # a row of all -inf gives NaN quietly, as in PyTorch
            shifted = x - x.max(axis=self.axis, keepdims=True)
            self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, gy):
        y = self.output_value(self.y)
        softmax = y.exp() if isinstance(y, Tensor) else xp.exp(y)
        return gy - softmax * gy.sum(axis=self.axis, keepdims=True)


def _axis(dim, x):
    ndim = max(x.ndim, 1)
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def relu(input, inplace=False):
    """max(x, 0). With ``inplace`` and no graph being recorded (``no_grad``, inference), written over ``input``.

    NOTE: in place, a network's inference keeps one copy of each activation instead of two (torchvision's ResNets
    use ``ReLU(inplace=True)``); with autograd on, the result is a new tensor (backward needs the input's sign).
    """
    if inplace and isinstance(input, Tensor) and not is_grad_enabled() and input.is_floating_point() \
            and input._array.flags.writeable:  # fmt: skip
        return input.relu_()
    return ReLU()(_float_tensor(input) if not isinstance(input, Tensor) else input)


def sigmoid(input):
    """σ(x) = 1/(1+e⁻ˣ), stable for any x."""
    return Sigmoid()(_float_tensor(input))


def tanh(input):
    """tanh(x) = 2σ(2x) - 1."""
    return Tanh()(_float_tensor(input))


def softmax(input, dim=None, dtype=None):
    """exp(x) / Σ exp(x) along ``dim``, shifted by the max for stability."""
    input = _float_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return Softmax(None)(input)
    return Softmax(_axis(dim, input))(input)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) computed as x - logsumexp(x), exact for large logits."""
    input = _float_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return LogSoftmax(None)(input)
    return LogSoftmax(_axis(dim, input))(input)


# ----- validation shared by the functions here and the modules in shendu.nn.activation ------------------


def _real(function, name, value):
    """``value`` as a Python float, or a TypeError naming the function, the argument and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function}: {name} must be a real number. Received: {name}={value!r}")
    return float(value)


def _check_hardtanh_bounds(function, min_val, max_val):
    min_val, max_val = _real(function, "min_val", min_val), _real(function, "max_val", max_val)
    if not max_val > min_val:
        raise ValueError(
            f"{function}: max_val must be greater than min_val. Received: min_val={min_val}, max_val={max_val}"
        )
    return min_val, max_val


def _check_lambd(function, lambd):
    lambd = _real(function, "lambd", lambd)
    if lambd < 0:
        raise ValueError(f"{function}: lambd must be non-negative. Received: lambd={lambd}")
    return lambd


def _check_nonzero(function, name, value):
    value = _real(function, name, value)
    if value == 0:
        raise ValueError(f"{function}: {name} must be non-zero (it divides). Received: {name}={value}")
    return value


_GELU_APPROXIMATIONS = ("none", "tanh")


def _check_approximate(function, approximate):
    if approximate not in _GELU_APPROXIMATIONS:
        raise ValueError(f"{function}: approximate must be 'none' or 'tanh'. Received: approximate={approximate!r}")
    return approximate


# ----- elementwise activations: y = f(x), backward gy · f'(x) -------------------------------------------


class _Pointwise(Function):
    """An elementwise activation y = f(x) whose backward is gy · f'(x).

    Subclasses give ``value(x)`` and ``slope(x)`` (f and f') on arrays. Both run with floating-point
    warnings off: the formulas are the stable ones, and a branch that ``where`` discards (say exp of a
    large positive x) must not warn.
    """

    def forward(self, x):
        with xp.errstate(all="ignore"):
            return xp.asarray(self.value(x), dtype=x.dtype)  # asarray: ufuncs turn 0-d arrays into scalars

    def backward(self, gy):
        (x,) = self.input_values()
        with xp.errstate(all="ignore"):
            return xp.asarray(gy * self.slope(x).astype(gy.dtype, copy=False))


def _softplus_array(x):
    """log(1 + eˣ) = max(x, 0) + log1p(e^-|x|), finite for any x."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class LeakyReLU(_Pointwise):
    """x for x > 0, else α·x; derivative 1 or α (α at 0, as PyTorch)."""

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def value(self, x):
        return xp.where(x > 0, x, x * self.negative_slope)

    def slope(self, x):
        return xp.where(x > 0, 1.0, self.negative_slope)

    def forward(self, x):
        """NOTE: for 0 ≤ α ≤ 1, max(x, α·x) (NaN kept): two passes in x's dtype where ``where`` made four and a mask;
        the DCGAN of W7 spent 19 ms a step in LeakyReLU's forward and backward. ``value`` stays the oracle."""
        y = _kernel_result("leaky_relu", (x,), self.negative_slope)  # one pass of the C kernel (_activation.c)
        if y is not None:
            return y
        if x.dtype.kind != "f" or x.ndim == 0 or not 0 <= self.negative_slope <= 1:
            return super().forward(x)
        y, slope = xp.empty_like(x), x.dtype.type(self.negative_slope)

        def piece(start, stop):  # shared between threads by samples, as ReLU
            part = y[start:stop]
            xp.multiply(x[start:stop], slope, out=part)
            xp.maximum(x[start:stop], part, out=part)

        run_shared(piece, x.shape[0], pass_parts(x.nbytes, x.shape[0]))
        return y

    def backward(self, gy):
        """∂L/∂x = gy · ((x > 0)·(1 − α) + α), in gy's dtype with SIMD ufuncs only (``where`` with a mask runs an
        element-by-element loop: 10 ms for 2 M values against 1.5 ms; ``slope`` also made a float64 array)."""
        (x,) = self.input_values()
        gx = None if isinstance(gy, Tensor) else _kernel_result("leaky_relu_grad", (gy, x), self.negative_slope)
        if gx is not None:  # one pass of the C kernel where NumPy makes four
            return gx
        dtype = gy.dtype.type
        alpha, rest = dtype(self.negative_slope), dtype(1 - self.negative_slope)
        if gy.dtype.kind != "f" or x.shape != gy.shape or x.ndim == 0 or rest + alpha != 1:
            return super().backward(gy)
        gx = xp.empty_like(x, dtype=gy.dtype)

        def piece(start, stop):  # shared between threads by samples
            part = gx[start:stop]
            xp.greater(x[start:stop], 0, out=part)
            part *= rest
            part += alpha  # exactly 1 where x > 0 (checked above), α elsewhere
            part *= gy[start:stop]

        run_shared(piece, x.shape[0], pass_parts(x.nbytes, x.shape[0]))
        return gx


class ELU(_Pointwise):
    """scale·x for x > 0, else scale·α·(exp(input_scale·x) − 1): elu, selu and celu, as PyTorch's one kernel.

    Derivative scale, or scale·α·input_scale·exp(input_scale·x) for x ≤ 0 (that side at 0, as PyTorch).
    """

    def __init__(self, alpha, scale=1.0, input_scale=1.0):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale

    def value(self, x):
        negative = xp.expm1(xp.minimum(x, 0) * self.input_scale) * (self.alpha * self.scale)
        return xp.where(x > 0, x * self.scale, negative)

    def slope(self, x):
        negative = xp.exp(xp.minimum(x, 0) * self.input_scale) * (self.alpha * self.scale * self.input_scale)
        return xp.where(x <= 0, negative, self.scale)  # a NaN input takes the positive side, as PyTorch


class Softplus(_Pointwise):
    """log(1 + e^(βx))/β, or x where βx > threshold; derivative σ(βx) (1 above the threshold)."""

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def value(self, x):
        bx = x * self.beta
        return xp.where(bx > self.threshold, x, _softplus_array(bx) / self.beta)

    def slope(self, x):
        bx = x * self.beta
        return xp.where(bx > self.threshold, 1.0, stable_sigmoid(bx))


class Hardtanh(_Pointwise):
    """clip(x, min_val, max_val); derivative 1 strictly inside, 0 at and beyond the bounds (as PyTorch)."""

    def __init__(self, min_val, max_val):
        self.min_val, self.max_val = min_val, max_val

    def value(self, x):
        return xp.clip(x, self.min_val, self.max_val)

    def slope(self, x):
        return (x > self.min_val) & (x < self.max_val)


class Hardsigmoid(_Pointwise):
    """clip(x/6 + 1/2, 0, 1); derivative 1/6 for -3 < x < 3, else 0."""

    def value(self, x):
        return xp.clip(x / 6 + 0.5, 0, 1)

    def slope(self, x):
        return xp.where((x > -3) & (x < 3), 1 / 6, 0.0)


class Hardswish(_Pointwise):
    """x·relu6(x + 3)/6; derivative 0 for x ≤ -3, x/3 + 1/2 for -3 < x < 3, 1 for x ≥ 3 (as PyTorch)."""

    def value(self, x):
        return x * xp.clip(x + 3, 0, 6) / 6

    def slope(self, x):
        return xp.where(x <= -3, 0.0, xp.where(x < 3, x / 3 + 0.5, 1.0))


class Mish(_Pointwise):
    """x·tanh(softplus(x)); derivative t + x·σ(x)·(1 − t²) with t = tanh(softplus(x))."""

    def value(self, x):
        return x * xp.tanh(_softplus_array(x))

    def slope(self, x):
        t = xp.tanh(_softplus_array(x))
        return t + x * stable_sigmoid(x) * (1 - t * t)


class Tanhshrink(_Pointwise):
    """x − tanh(x); derivative tanh²(x)."""

    def value(self, x):
        return x - xp.tanh(x)

    def slope(self, x):
        return xp.tanh(x) ** 2


class Softsign(_Pointwise):
    """x / (1 + |x|); derivative 1 / (1 + |x|)²."""

    def value(self, x):
        return x / (1 + xp.abs(x))

    def slope(self, x):
        return 1 / (1 + xp.abs(x)) ** 2


class LogSigmoid(_Pointwise):
    """log σ(x) = −softplus(−x); derivative σ(−x) = 1 − σ(x)."""

    def value(self, x):
        return -_softplus_array(-x)

    def slope(self, x):
        return stable_sigmoid(-x)


class Hardshrink(_Pointwise):
    """x where |x| > λ, else 0; derivative [|x| > λ]."""

    def __init__(self, lambd):
        self.lambd = lambd

    def value(self, x):
        return xp.where(xp.abs(x) <= self.lambd, 0, x)  # NaN stays NaN, as PyTorch

    def slope(self, x):
        return xp.abs(x) > self.lambd


class Softshrink(Hardshrink):
    """x − λ·sign(x) where |x| > λ, else 0; derivative [|x| > λ]."""

    def value(self, x):
        return xp.where(xp.abs(x) <= self.lambd, 0, x - xp.sign(x) * self.lambd)  # NaN stays NaN, as PyTorch


class Threshold(_Pointwise):
    """x where x > threshold, else value; derivative [x > threshold]."""

    def __init__(self, threshold, value):
        self.threshold, self.replacement = threshold, value

    def value(self, x):
        return xp.where(x > self.threshold, x, self.replacement)

    def slope(self, x):
        return x > self.threshold


# Cephes' rational approximations of erf and erfc (relative error ~1e-16 in float64), for GELU's Φ.
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)  # fmt: skip
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)  # fmt: skip
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)  # fmt: skip
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)  # fmt: skip
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)  # fmt: skip
_ERFC_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)  # fmt: skip


def _polynomial(x, coefficients, monic=False):
    """Horner's rule, highest power first; ``monic`` adds a leading coefficient 1."""
    result = x + coefficients[0] if monic else xp.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _normal_cdf(x):
    """Φ(x) = ½·erfc(−x/√2) in float64: the erf series near 0, erfc in the tails (no cancellation)."""
    z = xp.asarray(x, dtype=xp.float64) * math.sqrt(0.5)
    a = xp.abs(z)
    out = xp.full_like(z, xp.nan)  # NaN where x is NaN (no mask below takes it)
    centre = a < 1
    zc = z[centre]
    zz = zc * zc
    out[centre] = 0.5 + 0.5 * zc * _polynomial(zz, _ERF_T) / _polynomial(zz, _ERF_U, monic=True)
    for mask, p, q in ((~centre & (a < 8), _ERFC_P, _ERFC_Q), (a >= 8, _ERFC_R, _ERFC_S)):
        v = xp.minimum(a[mask], 40.0)  # erfc(40) underflows to 0: the same value, and no inf/inf at infinity
        half_erfc = 0.5 * xp.exp(-v * v) * _polynomial(v, p) / _polynomial(v, q, monic=True)
        out[mask] = xp.where(z[mask] > 0, 1 - half_erfc, half_erfc)
    return out


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(_Pointwise):
    """x·Φ(x) with Φ the standard normal CDF; derivative Φ(x) + x·φ(x)."""

    def value(self, x):
        cdf = _normal_cdf(x)
        return xp.where(cdf == 0, -0.0, x * cdf)  # GELU(+inf) = inf, GELU(-inf) = -0 (no inf·0)

    def slope(self, x):
        density = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return _normal_cdf(x) + xp.where(density == 0, 0.0, x * density)


class GELUTanh(_Pointwise):
    """½x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715x³); derivative ½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715x²)."""

    def value(self, x):
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))

    def slope(self, x):
        t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)


# ----- activations with a (possibly learnable) parameter tensor ------------------------------------------


class Swish(Function):
    """x·σ(βx); ∂/∂x = s·(1 + βx·(1 − s)), ∂/∂β = x²·s·(1 − s), with s = σ(βx). β = 1 is SiLU."""

    def forward(self, x, beta):
        with xp.errstate(all="ignore"):
            self.s = stable_sigmoid(x * beta)
            return xp.asarray(x * self.s)

    def backward(self, gy):
        x, beta = self.input_values()
        s = self.s
        need_x, need_beta = self.needs_input_grad
        with xp.errstate(all="ignore"):
            s_ds = s * (1 - s)
            gx = gy * (s + beta * x * s_ds) if need_x else None
            gbeta = sum_to(gy * x * x * s_ds, beta.shape) if need_beta else None
        return gx, gbeta


def _channel_view(weight, x):
    """PReLU's weight (C,) shaped to broadcast along dim 1 of x: (C, 1, ..., 1); for inputs of rank < 2 (one
    channel) as is, or a scalar for a 0-d input."""
    if x.ndim < 2:
        return weight.reshape(()) if x.ndim == 0 else weight
    return weight.reshape((weight.size,) + (1,) * (x.ndim - 2))


class PReLU(Function):
    """x for x > 0, else a·x with a learnable a per channel (dim 1); ∂/∂x = 1 or a, ∂/∂a = x·[x ≤ 0]."""

    def forward(self, x, weight):
        return xp.where(x > 0, x, x * _channel_view(weight, x))

    def backward(self, gy):
        x, weight = self.input_values()
        a = _channel_view(weight, x)
        positive = x > 0
        need_x, need_weight = self.needs_input_grad
        gx = xp.where(positive, gy, gy * a) if need_x else None
        gweight = sum_to(xp.where(positive, 0, x * gy), a.shape).reshape(weight.shape) if need_weight else None
        return gx, gweight


# ----- the public functions ----------------------------------------------------------------------------------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def softmin(input, dim=None, dtype=None):
    """softmax(−x) along ``dim``: weights that favour the smallest entries."""
    return softmax(-_float_tensor(input), dim=dim, dtype=dtype)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """LeakyReLU(x) = x if x > 0 else negative_slope·x; derivative 1 or negative_slope (the latter at 0).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    return LeakyReLU(_real("leaky_relu", "negative_slope", negative_slope))(_float_tensor(input))


def prelu(input, weight):
    """PReLU(x) = x if x > 0 else a·x, with ``a = weight`` of shape (1,) or (C,) along dim 1 of the input.

    Derivatives: ∂/∂x = 1 or a; ∂/∂a = Σ x over the non-positive x of that channel.
    """
    input = _float_tensor(input)
    weight = _float_tensor(weight)
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim != 1 or weight.shape[0] not in (1, channels):
        raise ValueError(
            f"prelu: weight must have shape (1,) or (num_channels,) = ({channels},) for input of shape "
            f"{tuple(input.shape)} (channels on dim 1); got weight of shape {tuple(weight.shape)}"
        )
    check_same_dtype("prelu", input, weight)  # PyTorch: "Type promoting not supported"
    return PReLU()(input, weight)


def elu(input, alpha=1.0, inplace=False):
    """ELU(x) = x if x > 0 else α·(eˣ − 1); derivative 1 or α·eˣ (the latter at 0)."""
    return ELU(_real("elu", "alpha", alpha))(_float_tensor(input))


def selu(input, inplace=False):
    """SELU(x) = scale·ELU(x, α) with α ≈ 1.6733, scale ≈ 1.0507; derivative scale or scale·α·eˣ."""
    return ELU(_SELU_ALPHA, _SELU_SCALE)(_float_tensor(input))


def celu(input, alpha=1.0, inplace=False):
    """CELU(x) = max(0, x) + min(0, α·(e^(x/α) − 1)); derivative 1 or e^(x/α)."""
    alpha = _check_nonzero("celu", "alpha", alpha)
    return ELU(alpha, 1.0, 1 / alpha)(_float_tensor(input))


def softplus(input, beta=1.0, threshold=20.0):
    """Softplus(x) = log(1 + e^(βx))/β (x itself where βx > threshold); derivative σ(βx). Stable for any x."""
    beta = _check_nonzero("softplus", "beta", beta)
    return Softplus(beta, _real("softplus", "threshold", threshold))(_float_tensor(input))


def swish(input, beta=1.0):
    """Swish(x) = x·σ(βx), β a number or a (learnable) tensor; β = 1 is SiLU, β = 0 gives x/2.

    Derivatives: ∂/∂x = s·(1 + βx·(1 − s)), ∂/∂β = x²·s·(1 − s), with s = σ(βx).
    """
    input = _float_tensor(input)
    if isinstance(beta, Tensor):
        beta = _float_tensor(beta)
        if beta.dtype != input.dtype:
            beta = beta.to(input.dtype)
    else:
        beta = Tensor._from_op(xp.asarray(_real("swish", "beta", beta), dtype=input._array.dtype), False)
    return Swish()(input, beta)


def silu(input, inplace=False):
    """SiLU(x) = x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x)))."""
    return swish(input, 1.0)


def gelu(input, approximate="none"):
    """GELU(x) = x·Φ(x) (Φ the standard normal CDF); derivative Φ(x) + x·φ(x).

    ``approximate='tanh'``: ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))), as PyTorch.
    """
    function = GELU if _check_approximate("gelu", approximate) == "none" else GELUTanh
    return function()(_float_tensor(input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Hardtanh(x) = clip(x, min_val, max_val); derivative 1 strictly between the bounds, else 0."""
    return Hardtanh(*_check_hardtanh_bounds("hardtanh", min_val, max_val))(_float_tensor(input))


def relu6(input, inplace=False):
    """ReLU6(x) = min(max(x, 0), 6); derivative 1 for 0 < x < 6, else 0."""
    return Hardtanh(0.0, 6.0)(_float_tensor(input))


def mish(input, inplace=False):
    """Mish(x) = x·tanh(softplus(x)); derivative t + x·σ(x)·(1 − t²), t = tanh(softplus(x))."""
    return Mish()(_float_tensor(input))


def hardsigmoid(input, inplace=False):
    """Hardsigmoid(x) = clip(x/6 + 1/2, 0, 1); derivative 1/6 for -3 < x < 3, else 0."""
    return Hardsigmoid()(_float_tensor(input))


def hardswish(input, inplace=False):
    """Hardswish(x) = x·relu6(x + 3)/6; derivative 0 (x ≤ -3), x/3 + 1/2 (-3 < x < 3), 1 (x ≥ 3)."""
    return Hardswish()(_float_tensor(input))


def tanhshrink(input):
    """Tanhshrink(x) = x − tanh(x); derivative tanh²(x)."""
    return Tanhshrink()(_float_tensor(input))


def softsign(input):
    """Softsign(x) = x / (1 + |x|); derivative 1 / (1 + |x|)²."""
    return Softsign()(_float_tensor(input))


def logsigmoid(input):
    """LogSigmoid(x) = log σ(x) = −softplus(−x), stable for any x; derivative 1 − σ(x)."""
    return LogSigmoid()(_float_tensor(input))


def softshrink(input, lambd=0.5):
    """Softshrink(x) = x − λ·sign(x) if |x| > λ else 0; derivative [|x| > λ]."""
    return Softshrink(_check_lambd("softshrink", lambd))(_float_tensor(input))


def hardshrink(input, lambd=0.5):
    """Hardshrink(x) = x if |x| > λ else 0; derivative [|x| > λ]."""
    return Hardshrink(_check_lambd("hardshrink", lambd))(_float_tensor(input))


def threshold(input, threshold, value, inplace=False):
    """Threshold(x) = x if x > threshold else value; derivative [x > threshold]."""
    return Threshold(_real("threshold", "threshold", threshold), _real("threshold", "value", value))(
        _float_tensor(input)
    )
