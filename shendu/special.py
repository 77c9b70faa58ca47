"""``shendu.special``: PyTorch's ``torch.special`` functions that programs reach for, each built from shendu's
differentiable ops (so their gradients come from autograd).

expit/logit, erf/erfc, ndtr (the standard normal CDF) and log_ndtr, xlogy/xlog1py, entr (−x·log x), exp2,
expm1/log1p, sinc, softmax/log_softmax/logsumexp, round.
"""

import math

from . import creation, ops
from .tensor import Tensor

__all__ = [
    "expit", "logit", "erf", "erfc", "ndtr", "log_ndtr", "xlogy", "xlog1py", "entr", "exp2", "expm1", "log1p",
    "sinc", "softmax", "log_softmax", "logsumexp", "round",
]  # fmt: skip

erf, erfc, logit, xlogy, expm1, log1p, logsumexp, round = (
    ops.erf, ops.erfc, ops.logit, ops.xlogy, ops.expm1, ops.log1p, ops.logsumexp, ops.round,
)  # fmt: skip


def _tensor(x):
    return x if isinstance(x, Tensor) else creation.tensor(x)


def expit(input):
    """1 / (1 + e^−x), the logistic sigmoid."""
    return ops.sigmoid(input)


def ndtr(input):
    """Φ(x) = ½·erfc(−x/√2), the standard normal distribution function (accurate in the lower tail)."""
    return ops.erfc(input * (-1.0 / math.sqrt(2.0))) * 0.5


def log_ndtr(input):
    """log Φ(x); for x < −1 as log(½·erfc(−x/√2)), which keeps precision in the lower tail."""
    lower = ops.log(ndtr(input))
    upper = ops.log1p(-ops.erfc(input * (1.0 / math.sqrt(2.0))) * 0.5)
    return ops.where(input < -1.0, lower, upper)


def xlog1py(input, other):
    """x·log(1 + y), 0 where x = 0."""
    input, other = _tensor(input), _tensor(other)
    product = input * ops.log1p(other)
    return ops.where(input == 0, creation.zeros_like(product), product)


def entr(input):
    """−x·log x for x > 0, 0 at 0, −∞ for x < 0."""
    safe = ops.where(input > 0, input, creation.ones_like(input))
    value = -input * ops.log(safe)
    value = ops.where(input == 0, creation.zeros_like(value), value)
    return ops.where(input < 0, creation.full_like(value, -math.inf), value)


def exp2(input):
    """2^x."""
    return ops.exp(input * math.log(2.0))


def sinc(input):
    """sin(πx)/(πx), 1 at 0."""
    scaled = input * math.pi
    safe = ops.where(scaled == 0, creation.ones_like(scaled), scaled)
    return ops.where(scaled == 0, creation.ones_like(scaled), ops.sin(safe) / safe)


def softmax(input, dim, dtype=None):
    return ops.softmax(input, dim)


def log_softmax(input, dim, dtype=None):
    return ops.log_softmax(input, dim)
