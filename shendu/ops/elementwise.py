"""More elementwise functions (PyTorch's): ``erf``, ``erfc``, ``atan``, ``atan2``, ``sinh``, ``cosh``, ``hypot``,
``logaddexp``, ``xlogy``, ``logit``, ``fmod``, ``frac``, ``clamp_min``, ``clamp_max``, ``deg2rad``, ``rad2deg``.

``erf`` and ``atan``/``atan2`` are Functions with their derivatives (2/√π·e^(−x²), 1/(1 + x²),
(x·dy − y·dx)/(x² + y²)); the others are compositions of differentiable ops.
"""

import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_array
from .activation import _normal_cdf

__all__ = ["erf", "erfc", "atan", "atan2", "arctan", "arctan2", "sinh", "cosh", "hypot", "logaddexp", "xlogy", "logit",
           "fmod", "frac", "clamp_min", "clamp_max", "deg2rad", "rad2deg", "float_power", "heaviside"]  # fmt: skip


def _float(value):
    x = value if isinstance(value, Tensor) else Tensor(as_array(value))
    return x if x._array.dtype.kind == "f" else x.float()


class Erf(Function):
    """erf(x) = 2Φ(x√2) − 1; derivative 2/√π·e^(−x²)."""

    def forward(self, x):
        return (2 * _normal_cdf(x * math.sqrt(2.0)) - 1).astype(x.dtype)

    def backward(self, gy):
        (x,) = self.input_values()
        return gy * (2 / math.sqrt(math.pi)) * np.exp(-x * x)


class Atan(Function):
    """arctan(x); derivative 1/(1 + x²)."""

    def forward(self, x):
        return np.arctan(x)

    def backward(self, gy):
        (x,) = self.input_values()
        return gy / (1 + x * x)


class Atan2(Function):
    """atan2(y, x); ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²)."""

    def forward(self, y, x):
        return np.arctan2(y, x)

    def backward(self, gy):
        from ..autograd import sum_to

        y, x = self.input_values()
        r2 = x * x + y * y
        need_y, need_x = self.needs_input_grad
        return (sum_to(gy * x / r2, y.shape) if need_y else None, sum_to(-gy * y / r2, x.shape) if need_x else None)


def erf(input):
    """The error function."""
    return Erf()(_float(input))


class Erfc(Function):
    """erfc(x) = 1 − erf(x) = 2Φ(−x√2), computed from the tail (no cancellation for large x); derivative −2/√π·e^(−x²)."""

    def forward(self, x):
        return (2 * _normal_cdf(-x * math.sqrt(2.0))).astype(x.dtype)

    def backward(self, gy):
        (x,) = self.input_values()
        return gy * (-2 / math.sqrt(math.pi)) * np.exp(-x * x)


def erfc(input):
    """1 − erf(x), accurate where it is tiny (large x)."""
    return Erfc()(_float(input))


def atan(input):
    """arctan(x)."""
    return Atan()(_float(input))


def atan2(input, other):
    """The angle of the point (other, input): atan2(y, x), in (−π, π]."""
    y, x = _float(input), _float(other)
    return Atan2()(y, x if x._array.dtype == y._array.dtype else x.to(y.dtype))


arctan, arctan2 = atan, atan2


def sinh(input):
    """(eˣ − e⁻ˣ)/2."""
    x = _float(input)
    return (x.exp() - (-x).exp()) * 0.5


def cosh(input):
    """(eˣ + e⁻ˣ)/2."""
    x = _float(input)
    return (x.exp() + (-x).exp()) * 0.5


def hypot(input, other):
    """√(x² + y²)."""
    x, y = _float(input), _float(other)
    return (x * x + y * y).sqrt()


def logaddexp(input, other):
    """log(eˣ + eʸ) = max(x, y) + log1p(e^−|x − y|), finite for any finite x, y."""
    from .arithmetic import maximum

    x, y = _float(input), _float(other)
    return maximum(x, y) + (-(x - y).abs()).exp().log1p()


def xlogy(input, other):
    """x·log(y), 0 where x = 0 (even for y ≤ 0); ∂/∂x = log(y), as PyTorch."""
    from .arithmetic import where

    x, y = _float(input), _float(other)
    unsafe = Tensor((x._array == 0) & ~(y._array > 0))  # 0·log(y) would be NaN there: take y = 1
    return x * where(unsafe, Tensor(np.ones((), y._array.dtype)), y).log()


def logit(input, eps=None):
    """log(p/(1 − p)), with p clamped to [eps, 1 − eps] when ``eps`` is given."""
    p = _float(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return p.log() - (1 - p).log()


def fmod(input, other):
    """The remainder of x/y with the sign of x (C's fmod): x − y·trunc(x/y)."""
    x = input if isinstance(input, Tensor) else Tensor(as_array(input))
    if x._array.dtype.kind != "f":
        return Tensor(np.fmod(x._array, other._array if isinstance(other, Tensor) else other))
    return x - (x / other).trunc().detach() * other


def frac(input):
    """x − trunc(x)."""
    x = _float(input)
    return x - x.trunc().detach()


def clamp_min(input, min):
    """max(x, min)."""
    return input.clamp(min=min)


def clamp_max(input, max):
    """min(x, max)."""
    return input.clamp(max=max)


def deg2rad(input):
    """Degrees to radians."""
    return _float(input) * (math.pi / 180)


def rad2deg(input):
    """Radians to degrees."""
    return _float(input) * (180 / math.pi)


def float_power(input, exponent):
    """xʸ computed in float64, as PyTorch."""
    x = input if isinstance(input, Tensor) else Tensor(as_array(input))
    return x.to("float64") ** (exponent.to("float64") if isinstance(exponent, Tensor) else exponent)


def heaviside(input, values):
    """0 for x < 0, ``values`` at x = 0, 1 for x > 0 (no gradient)."""
    x = input._array
    v = values._array if isinstance(values, Tensor) else np.asarray(values)
    return Tensor(np.heaviside(x, v).astype(x.dtype))
