"""Linear (fully connected / Dense) layer: y = x Wᵀ + b."""

import math
import numbers

from .. import _dtype
from .._backend import xp
from ..ops.dtype_check import check_same_dtype
from ..ops.linalg import Linear as LinearFunction
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear"]


def _check_size(layer, name, value):
    """A layer size argument: a positive int, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an int. Received: {name}={value!r}")
    if value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _factory_dtype(device, dtype):
    """The NumPy dtype for a layer's parameters (``device`` is checked: only the CPU exists)."""
    if device is not None:
        from ..tensor import device as _device

        _device(device)
    numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
    if numpy_dtype.kind != "f":
        raise TypeError(f"parameters must have a floating-point dtype. Received: dtype={dtype!r}")
    return numpy_dtype


class Linear(Module):
    """Fully connected layer: y = x Wᵀ + b (the matrix form a = W x + b of every neuron at once).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Defaults to True.
        device: only ``'cpu'``. Defaults to None.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (*, in_features) → output (*, out_features).

    Attributes:
        weight: (out_features, in_features), initialised U(-1/√in, 1/√in) (kaiming_uniform_ with a=√5, as PyTorch).
        bias: (out_features,), initialised U(-1/√in, 1/√in).

    Example:
        >>> fc = Linear(784, 500)
        >>> fc(randn(100, 784)).shape
        shendu.Size([100, 500])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = _check_size("Linear", "in_features", in_features)
        self.out_features = _check_size("Linear", "out_features", out_features)
        numpy_dtype = _factory_dtype(device, dtype)
        self.weight = Parameter(xp.empty((self.out_features, self.in_features), numpy_dtype))
        if bias:
            self.bias = Parameter(xp.empty(self.out_features, numpy_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh weights and bias from PyTorch's default U(-1/√in, 1/√in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Linear expects a Tensor input; got {type(input).__name__} (wrap it with shendu.tensor)")
        shape = input._array.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(shape)}; "
                f"expected (*, {self.in_features})"
            )
        # NOTE: the input is checked above, so the fused op is called directly rather than through
        # linear(), which would check it again: this call runs for every layer of every step.
        parameters = self._parameters
        weight, bias = parameters["weight"], parameters["bias"]
        if input._array.dtype != weight._array.dtype:
            check_same_dtype("Linear", input, weight)
        return LinearFunction()(input, weight) if bias is None else LinearFunction()(input, weight, bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
