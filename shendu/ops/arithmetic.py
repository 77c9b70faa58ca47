"""Elementwise arithmetic: + - * / ** and the unary maths functions, with their gradients.

Binary ops broadcast as NumPy does; backward reduces each gradient to its input's shape
with the one :func:`~shendu.autograd.sum_to`. The backward formulas here are written with
operators that work on arrays and tensors alike, so they also build graphs of gradients.
"""

from .._backend import xp
from .._parallel import shared_add
from ..autograd import Function, sum_to
from ..tensor import Tensor, _binary_operands, as_tensor_operand

__all__ = [
    "add", "sub", "mul", "div", "true_divide", "neg", "pow", "exp", "log", "log2", "log10", "log1p", "expm1",
    "sqrt", "rsqrt", "square", "reciprocal", "abs", "sign", "sin", "cos", "clamp", "clip", "maximum",
    "minimum", "where", "floor_divide", "remainder", "floor", "ceil", "round", "trunc", "cast", "clone",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
    "isnan", "isinf", "isfinite", "equal", "allclose", "isclose", "addcmul", "lerp",
]  # fmt: skip


def _constant(array):
    return Tensor._from_op(array, False)


def _broadcast_error(name, a, b):
    return ValueError(
        f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} are not broadcastable "
        "(each dimension must match or be 1, aligned from the right)"
    )


def _binary(function_class, name, a, b):
    a, b = _binary_operands(a, b)
    try:
        return function_class()(a, b)
    except ValueError as error:
        if "broadcast" in str(error):
            raise _broadcast_error(name, a, b) from None
        raise


class Add(Function):
    differentiable_backward = True

    def forward(self, a, b):
        return shared_add(a, b)

    def backward(self, gy):
        a, b = self.inputs  # NOTE: only their shapes are needed, and a recorded op keeps its inputs anyway
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a._array.shape) if need_a else None, sum_to(gy, b._array.shape) if need_b else None)


class Sub(Function):
    differentiable_backward = True

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy, a._array.shape) if need_a else None, sum_to(-gy, b._array.shape) if need_b else None)


class Mul(Function):
    differentiable_backward = True

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.input_values()
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * b, a.shape) if need_a else None, sum_to(gy * a, b.shape) if need_b else None)


class Div(Function):
    differentiable_backward = True

    def forward(self, a, b):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return a / b

    def backward(self, gy):
        a, b = self.input_values()
        need_a, need_b = self.needs_input_grad
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ga = sum_to(gy / b, a.shape) if need_a else None
            gb = sum_to(-gy * a / (b * b), b.shape) if need_b else None
        return ga, gb


class Neg(Function):
    differentiable_backward = True

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    """y = x ** c for a constant exponent c; dy/dx = c·x^(c-1)."""

    differentiable_backward = True

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = x**self.exponent
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.input_values()
        c = self.exponent
        if c == 0:
            return gy * 0
        if c == 1:
            return gy
        if c == 2:
            return gy * (x * 2)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return gy * c * x ** (c - 1)


class Pow(Function):
    """y = a ** b with tensor exponent; ∂y/∂a = b·a^(b-1), ∂y/∂b = y·ln a (0 where a = 0, as PyTorch)."""

    differentiable_backward = True

    def forward(self, a, b):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.y = a**b
        return self.y

    def backward(self, gy):
        a, b = self.input_values()
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if need_a:
                ga = sum_to(gy * b * a ** (b - 1), a.shape)
            if need_b:
                zero = a == 0
                if isinstance(a, Tensor):  # NOTE: log of 1 where a = 0, so no NaN leaks into grad-of-grad
                    log_a = where(zero, 0.0, log(where(zero, 1.0, a)))
                else:
                    log_a = xp.where(zero, 0, xp.log(xp.where(zero, 1, a))).astype(a.dtype, copy=False)
                gb = sum_to(gy * self.output_value(self.y) * log_a, b.shape)
        return ga, gb


class ReversePowScalar(Function):
    """y = c ** x for a constant base c; dy/dx = y·ln c."""

    differentiable_backward = True

    def __init__(self, base):
        self.base = base

    def forward(self, x):
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.y = (xp.asarray(self.base, dtype=x.dtype) ** x).astype(x.dtype, copy=False)
        return self.y

    def backward(self, gy):
        with xp.errstate(divide="ignore", invalid="ignore"):
            log_base = float(xp.log(xp.float64(self.base)))
        return gy * self.output_value(self.y) * log_base


class Exp(Function):
    differentiable_backward = True

    def forward(self, x):
        with xp.errstate(over="ignore"):
            self.y = xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.output_value(self.y)


class Log(Function):
    differentiable_backward = True

    def forward(self, x):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log(x)

    def backward(self, gy):
        (x,) = self.input_values()
        with xp.errstate(divide="ignore", invalid="ignore"):
            return gy / x


class Log1p(Function):
    differentiable_backward = True

    def forward(self, x):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log1p(x)

    def backward(self, gy):
        (x,) = self.input_values()
        with xp.errstate(divide="ignore", invalid="ignore"):
            return gy / (1 + x)


class Expm1(Function):
    differentiable_backward = True

    def forward(self, x):
        with xp.errstate(over="ignore"):
            self.y = xp.expm1(x)
        return self.y

    def backward(self, gy):
        return gy * (self.output_value(self.y) + 1)


class Sqrt(Function):
    differentiable_backward = True

    def forward(self, x):
        with xp.errstate(invalid="ignore"):
            self.y = xp.sqrt(x)
        return self.y

    def backward(self, gy):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return gy / (self.output_value(self.y) * 2)


class Abs(Function):
    differentiable_backward = True

    def forward(self, x):
        return xp.abs(x)

    def backward(self, gy):
        (x,) = self.input_values()
        return gy * _sign_of(x)


def _sign_of(x):
    if isinstance(x, Tensor):
        return _constant(xp.sign(x._array))
    return xp.sign(x)


class Sin(Function):
    differentiable_backward = True

    def forward(self, x):
        return xp.sin(x)

    def backward(self, gy):
        (x,) = self.input_values()
        return gy * (cos(x) if isinstance(x, Tensor) else xp.cos(x))


class Cos(Function):
    differentiable_backward = True

    def forward(self, x):
        return xp.cos(x)

    def backward(self, gy):
        (x,) = self.input_values()
        return -gy * (sin(x) if isinstance(x, Tensor) else xp.sin(x))


class Clamp(Function):
    """y = min(max(x, low), high); the gradient passes where low ≤ x ≤ high (as PyTorch)."""

    differentiable_backward = True

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return xp.clip(x, self.low, self.high).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.input_values()
        data = x._array if isinstance(x, Tensor) else x
        mask = xp.ones(data.shape, dtype=bool)
        if self.low is not None:
            mask &= data >= self.low
        if self.high is not None:
            mask &= data <= self.high
        return gy * (_constant(mask) if isinstance(x, Tensor) else mask)


class Maximum(Function):
    """Elementwise max; at ties the gradient is split in half (as PyTorch)."""

    differentiable_backward = True
    select_greater = True

    def forward(self, a, b):
        return xp.maximum(a, b) if self.select_greater else xp.minimum(a, b)

    def backward(self, gy):
        a, b = self.input_values()
        da = a._array if isinstance(a, Tensor) else a
        db = b._array if isinstance(b, Tensor) else b
        wins = (da > db) if self.select_greater else (da < db)
        share_a = xp.where(da == db, 0.5, wins).astype(gy.dtype if not isinstance(gy, Tensor) else gy._array.dtype)
        share_b = 1 - share_a
        if isinstance(gy, Tensor):
            share_a, share_b = _constant(share_a), _constant(share_b)
        need_a, need_b = self.needs_input_grad
        return (sum_to(gy * share_a, da.shape) if need_a else None, sum_to(gy * share_b, db.shape) if need_b else None)


class Minimum(Maximum):
    select_greater = False


class Where(Function):
    """y = a where condition else b; the gradient goes to the branch that was chosen."""

    differentiable_backward = True

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return xp.where(self.condition, a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        if isinstance(gy, Tensor):
            condition = _constant(self.condition)
            ga = sum_to(where(condition, gy, 0.0), self.shapes[0]) if need_a else None
            gb = sum_to(where(condition, 0.0, gy), self.shapes[1]) if need_b else None
            return ga, gb
        zero = xp.zeros((), dtype=gy.dtype)
        ga = sum_to(xp.where(self.condition, gy, zero), self.shapes[0]) if need_a else None
        gb = sum_to(xp.where(self.condition, zero, gy), self.shapes[1]) if need_b else None
        return ga, gb


class Cast(Function):
    differentiable_backward = True

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.source = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return cast(gy, self.source)
        return gy.astype(self.source)


class Clone(Function):
    differentiable_backward = True

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def add(input, other, alpha=1):
    """input + alpha·other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, "add", input, other)


def sub(input, other, alpha=1):
    """input − alpha·other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, "sub", input, other)


def mul(input, other):
    """Elementwise product, broadcasting."""
    return _binary(Mul, "mul", input, other)


def div(input, other, rounding_mode=None):
    """Elementwise quotient (true division: integers give float32), broadcasting."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return trunc(div(input, other))
    input, other = _binary_operands(input, other)
    if input._array.dtype.kind != "f":
        input, other = input.float(), other.float()
    return _binary(Div, "div", input, other)


true_divide = div


def neg(input):
    return Neg()(_tensor(input))


def pow(input, exponent):
    """input ** exponent; either may be a tensor or a number."""
    if not isinstance(input, Tensor):
        exponent = _tensor(exponent)
        if isinstance(input, int) and not isinstance(input, bool) and not exponent.is_floating_point():
            return _constant(xp.asarray(input, dtype=exponent._array.dtype) ** exponent._array)  # int ** int stays int
        if isinstance(input, (int, float)):
            return ReversePowScalar(input)(exponent if exponent.is_floating_point() else exponent.float())
        input = as_tensor_operand(input, exponent)
    if isinstance(exponent, Tensor):
        return _binary(Pow, "pow", input, exponent)
    if input._array.dtype.kind != "f" and (isinstance(exponent, float) or exponent < 0):
        input = input.float()
    return PowScalar(exponent)(input)


def _float_input(input):
    input = _tensor(input)
    return input if input._array.dtype.kind == "f" else input.float()


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def exp(input):
    """eˣ; derivative eˣ."""
    return Exp()(_float_input(input))


def log(input):
    """Natural logarithm; derivative 1/x."""
    return Log()(_float_input(input))


def log2(input):
    return div(log(input), float(xp.log(2.0)))


def log10(input):
    return div(log(input), float(xp.log(10.0)))


def log1p(input):
    return Log1p()(_float_input(input))


def expm1(input):
    return Expm1()(_float_input(input))


def sqrt(input):
    """√x; derivative 1/(2√x)."""
    return Sqrt()(_float_input(input))


def rsqrt(input):
    return pow(_float_input(input), -0.5)


def square(input):
    return pow(input, 2)


def reciprocal(input):
    return pow(_float_input(input), -1)


def abs(input):
    """|x|; derivative sign(x) (0 at 0)."""
    return Abs()(_tensor(input))


def sign(input):
    """-1, 0 or 1 by the sign of each element (0 for NaN, as PyTorch); no gradient."""
    array = _tensor(input)._array
    out = xp.sign(array)
    if array.dtype.kind == "f":
        out = xp.where(xp.isnan(out), xp.zeros((), out.dtype), out)
    return _constant(out)


def sin(input):
    return Sin()(_float_input(input))


def cos(input):
    return Cos()(_float_input(input))


def clamp(input, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where min ≤ x ≤ max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = _tensor(input)
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp(min, max)(_tensor(input))


clip = clamp


def maximum(input, other):
    """Elementwise maximum (ties share the gradient)."""
    return _binary(Maximum, "maximum", input, other)


def minimum(input, other):
    """Elementwise minimum (ties share the gradient)."""
    return _binary(Minimum, "minimum", input, other)


def where(condition, input=None, other=None):
    """Choose ``input`` where ``condition`` holds, else ``other``."""
    condition = _tensor(condition)
    if input is None and other is None:
        return tuple(_constant(i) for i in xp.nonzero(condition._array))
    input, other = _binary_operands(input, other)
    try:
        return Where(condition._array.astype(bool, copy=False))(input, other)
    except ValueError as error:
        if "broadcast" in str(error):
            raise ValueError(
                f"where: condition {tuple(condition.shape)}, input {tuple(input.shape)} and other "
                f"{tuple(other.shape)} are not broadcastable"
            ) from None
        raise


def cast(input, dtype):
    """Convert to ``dtype``; float-to-float conversions carry the gradient."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "f" or input._array.dtype.kind != "f":
        with xp.errstate(all="ignore"):  # NaN to an integer: silently, as PyTorch
            return _constant(input._array.astype(dtype))
    return Cast(dtype)(input)


def clone(input):
    return Clone()(input)


def _no_grad_binary(numpy_function, name):
    def function(input, other):
        a, b = _binary_operands(input, other)
        try:
            with xp.errstate(all="ignore"):
                return _constant(numpy_function(a._array, b._array))
        except ValueError as error:
            if "broadcast" in str(error):
                raise _broadcast_error(name, a, b) from None
            raise

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` (no gradient)."
    return function


eq = _no_grad_binary(xp.equal, "eq")
ne = _no_grad_binary(xp.not_equal, "ne")
lt = _no_grad_binary(xp.less, "lt")
le = _no_grad_binary(xp.less_equal, "le")
gt = _no_grad_binary(xp.greater, "gt")
ge = _no_grad_binary(xp.greater_equal, "ge")
logical_and = _no_grad_binary(xp.logical_and, "logical_and")
logical_or = _no_grad_binary(xp.logical_or, "logical_or")
logical_xor = _no_grad_binary(xp.logical_xor, "logical_xor")
floor_divide = _no_grad_binary(xp.floor_divide, "floor_divide")
remainder = _no_grad_binary(xp.remainder, "remainder")


def logical_not(input):
    return _constant(xp.logical_not(_tensor(input)._array))


def _no_grad_unary(numpy_function, name):
    def function(input):
        return _constant(numpy_function(_tensor(input)._array))

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` (no gradient)."
    return function


floor = _no_grad_unary(xp.floor, "floor")
ceil = _no_grad_unary(xp.ceil, "ceil")
trunc = _no_grad_unary(xp.trunc, "trunc")
isnan = _no_grad_unary(xp.isnan, "isnan")
isinf = _no_grad_unary(xp.isinf, "isinf")
isfinite = _no_grad_unary(xp.isfinite, "isfinite")


def round(input, decimals=0):
    return _constant(xp.round(_tensor(input)._array, decimals))


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    a, b = _tensor(input)._array, _tensor(other)._array
    return a.shape == b.shape and bool((a == b).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _constant(xp.isclose(_tensor(input)._array, _tensor(other)._array, rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(xp.allclose(_tensor(input)._array, _tensor(other)._array, rtol, atol, equal_nan))


def addcmul(input, tensor1, tensor2, value=1):
    """input + value·tensor1·tensor2."""
    return add(input, mul(mul(tensor1, tensor2), value))


def lerp(input, end, weight):
    """input + weight·(end − input)."""
    return add(input, mul(sub(end, input), weight))
