"""Differentiable operations. Each is a :class:`~shendu.autograd.Function` plus a lowercase function."""

from ..tensor import Tensor
from .activation import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .arrangement import *  # noqa: F401,F403
from .counting import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .triangular import *  # noqa: F401,F403
from .accumulate import *  # noqa: F401,F403
from .order_statistics import *  # noqa: F401,F403
from .arrangement import unfold_windows
from . import (accumulate, activation, arithmetic, arrangement, counting, elementwise, indexing, linalg, order_statistics,
               reduction, shape, triangular)

__all__ = (accumulate.__all__ + order_statistics.__all__ + activation.__all__ + arithmetic.__all__ + arrangement.__all__ + counting.__all__ + elementwise.__all__
           + indexing.__all__ + linalg.__all__ + reduction.__all__ + shape.__all__ + triangular.__all__)

_METHODS = [
    "add", "sub", "mul", "div", "true_divide", "neg", "pow", "exp", "log", "log2", "log10", "log1p", "expm1",
    "sqrt", "rsqrt", "square", "reciprocal", "abs", "sign", "sin", "cos", "clamp", "clip", "maximum", "minimum",
    "floor", "ceil", "round", "trunc", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
    "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "equal", "allclose", "isclose", "addcmul", "lerp",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "prod", "argmax", "argmin", "logsumexp", "norm",
    "all", "any", "count_nonzero", "cumsum", "topk", "sort", "argsort", "reshape", "permute", "transpose",
    "swapaxes", "squeeze", "unsqueeze", "flatten", "unflatten", "expand", "split", "chunk", "unbind", "flip",
    "repeat", "tile", "narrow", "t", "movedim", "gather", "masked_fill", "index_select", "nonzero", "relu",
    "sigmoid", "tanh", "softmax", "log_softmax", "matmul", "mm", "bmm", "dot", "outer", "broadcast_to", "scatter",
    "tril", "triu", "diagonal", "diag", "trace", "roll", "repeat_interleave", "masked_select", "kron", "addmm",
    "baddbmm", "mv", "inner", "isin", "bincount", "unique", "nan_to_num", "erf", "erfc", "atan", "atan2", "arctan",
    "sinh", "cosh", "hypot", "logaddexp", "xlogy", "logit", "fmod", "frac", "clamp_min", "clamp_max", "deg2rad",
    "rad2deg", "diag_embed", "cumprod", "logcumsumexp", "cummax", "cummin", "index_add", "scatter_add", "median",
    "kthvalue", "quantile", "nanquantile", "aminmax", "nansum", "nanmean", "rot90", "flipud", "fliplr", "cross", "sgn",
    "signbit", "copysign",
]  # fmt: skip

for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])

from .inplace import INPLACE_METHODS  # noqa: E402

for _name, _method in INPLACE_METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _method)

multiply, subtract, divide, greater, less, negative = mul, sub, div, gt, lt, neg


def _view(self, *shape):
    """``view(*shape)`` reshapes; ``view(dtype)`` reinterprets is not supported (use ``to``)."""
    return reshape(self, *shape)


def _where(self, condition, other):
    return where(condition, self, other)


Tensor.view = _view
Tensor.where = _where
Tensor.expand_as = lambda self, other: expand(self, *other.shape)
Tensor.view_as = Tensor.reshape_as = lambda self, other: reshape(self, *other.shape)
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.subtract, Tensor.multiply, Tensor.divide = sub, mul, div
Tensor.greater, Tensor.less = gt, lt
Tensor.unfold = unfold_windows  # Tensor.unfold(dimension, size, step); F.unfold (im2col) is another function

