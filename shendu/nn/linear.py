"""Linear (fully connected / Dense) layer: y = x Wᵀ + b."""

import math

from .. import _dtype
from .._backend import xp
from ..ops.linalg import linear
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear"]


class Linear(Module):
    """Applies y = x Wᵀ + b.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Defaults to True.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (*, in_features) → output (*, out_features).

    Attributes:
        weight: (out_features, in_features), initialised U(-1/√in, 1/√in) (kaiming_uniform with a=√5, as PyTorch).
        bias: (out_features,), initialised U(-1/√in, 1/√in).

    Example:
        >>> fc = Linear(784, 500)
        >>> fc(randn(100, 784)).shape
        shendu.Size([100, 500])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer. Received: {name}={value!r}")
        self.in_features, self.out_features = in_features, out_features
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.weight = Parameter(xp.empty((out_features, in_features), numpy_dtype))
        self.bias = Parameter(xp.empty(out_features, numpy_dtype)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(input.shape)}; "
                f"expected (*, {self.in_features})"
            )
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
