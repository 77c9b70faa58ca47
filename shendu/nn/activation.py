"""Activation layers: each applies its function from :mod:`shendu.ops.activation` elementwise (or along a dim).

Every module has PyTorch's name, arguments and defaults; the docstring gives the formula and its
derivative, which the op's backward computes. The arguments are checked when the module is built,
with messages naming the argument and the value received.
"""

from collections.abc import Callable
from typing import Any

from .. import _dtype
from .._backend import xp
from ..ops import activation as F
from .module import Module
from .parameter import Parameter
from ..tensor import Tensor

__all__ = [
    "Sigmoid", "ReLU", "Tanh", "Softmax", "LogSoftmax", "Softmin", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU",
    "Softplus", "SiLU", "Swish", "GELU", "ReLU6", "Hardtanh", "Mish", "Hardsigmoid", "Hardswish", "Tanhshrink",
    "Softsign", "LogSigmoid", "Softshrink", "Hardshrink", "Threshold",
]  # fmt: skip


class _Activation(Module):
    """Base of the activation modules: keeps the constructor's arguments and applies the functional form.

    A subclass names its function (``function``) and the attributes passed to it by keyword
    (``arguments``); ``forward`` and ``extra_repr`` follow from those.
    """

    function: Callable[..., Any]  # set by each subclass
    arguments: tuple[str, ...] = ()
    inplace = False

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, **{name: getattr(self, name) for name in self.arguments})

    def extra_repr(self):
        parts = [f"{name}={getattr(self, name)!r}" for name in self.arguments if name != "inplace"]
        if self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


class _InplaceActivation(_Activation):
    """An activation that PyTorch lets work in place: ``inplace`` is accepted (and shown) for
    compatibility; ReLU honours it when no graph is recorded, the others return a new tensor."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def _check_dim(layer, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise TypeError(f"{layer}: dim must be an integer or None. Received: dim={dim!r}")
    return dim


class Sigmoid(_Activation):
    """Logistic sigmoid: y = σ(x) = 1/(1 + e⁻ˣ); dy/dx = σ(x)·(1 − σ(x)). Stable for any x.

    Example:
        >>> Sigmoid()(shendu.tensor([0.0]))
        tensor([0.5])
    """

    function = staticmethod(F.sigmoid)


class Tanh(_Activation):
    """Hyperbolic tangent: y = tanh(x) = 2σ(2x) − 1; dy/dx = 1 − tanh²(x).

    Example:
        >>> Tanh()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.tanh)


class ReLU(_InplaceActivation):
    """Rectified linear unit: y = max(x, 0); dy/dx = 1 for x > 0, else 0 (0 at x = 0, as PyTorch).

    Args:
        inplace: overwrite the input when no graph is recorded (under ``no_grad``); with autograd on, the
            result is a new tensor. Defaults to False.

    Example:
        >>> ReLU()(shendu.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    function = staticmethod(F.relu)
    arguments = ("inplace",)


class _AlongDim(_Activation):
    arguments = ("dim",)

    def __init__(self, dim=None) -> None:
        super().__init__()
        self.dim = _check_dim(type(self).__name__, dim)


class Softmax(_AlongDim):
    """Softmax along ``dim``: yᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), shifted by the max so it never overflows.

    Jacobian ∂yᵢ/∂xⱼ = yᵢ·(δᵢⱼ − yⱼ).

    Args:
        dim: the dimension whose entries sum to 1. Defaults to None (PyTorch's legacy choice: 0 for
            inputs of rank 0, 1 or 3, else 1).

    Example:
        >>> Softmax(dim=-1)(shendu.tensor([0.0, 0.0]))
        tensor([0.5, 0.5])
    """

    function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed as x − logsumexp(x); ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ.

    Args:
        dim: the dimension to normalise over. Defaults to None (PyTorch's legacy choice).

    Example:
        >>> LogSoftmax(dim=-1)(shendu.tensor([0.0, 0.0])).exp()
        tensor([0.5, 0.5])
    """

    function = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    """Softmin along ``dim``: softmax(−x), weights that favour the smallest entries.

    Args:
        dim: the dimension whose entries sum to 1. Defaults to None (PyTorch's legacy choice).

    Example:
        >>> Softmin(dim=-1)(shendu.tensor([1.0, 1.0]))
        tensor([0.5, 0.5])
    """

    function = staticmethod(F.softmin)


class LeakyReLU(_InplaceActivation):
    """Leaky rectifier: y = x if x > 0 else α·x; dy/dx = 1 or α (α at x = 0, as PyTorch).

    The slope α is fixed; :class:`PReLU` learns it.

    Args:
        negative_slope: α, the slope for x ≤ 0. Defaults to 0.01.
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> LeakyReLU(0.5)(shendu.tensor([-2.0, 3.0]))
        tensor([-1.,  3.])
    """

    function = staticmethod(F.leaky_relu)
    arguments = ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        F._real("LeakyReLU", "negative_slope", negative_slope)
        self.negative_slope = negative_slope


class PReLU(Module):
    """Parametric rectifier: y = x if x > 0 else a·x with a learnable slope a (one, or one per channel).

    dy/dx = 1 or a; dy/da = x for x ≤ 0, else 0. Channels are dim 1 of the input.

    Args:
        num_parameters: 1 (one slope shared) or the number of input channels. Defaults to 1.
        init: the initial slope. Defaults to 0.25.
        dtype: parameter dtype. Defaults to float32.

    Attributes:
        weight: (num_parameters,), filled with ``init``.

    Example:
        >>> PReLU()(shendu.tensor([-4.0, 3.0])).tolist()
        [-1.0, 3.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters <= 0:
            raise ValueError(
                f"PReLU: num_parameters must be a positive integer. Received: num_parameters={num_parameters!r}"
            )
        self.num_parameters = num_parameters  # type: ignore[method-assign,assignment]  # PyTorch names this attribute so
        self.init = F._real("PReLU", "init", init)
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.weight = Parameter(xp.empty(num_parameters, numpy_dtype))
        self.reset_parameters()

    def reset_parameters(self):
        self.weight._array[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(_InplaceActivation):
    """Exponential linear unit: y = x if x > 0 else α·(eˣ − 1); dy/dx = 1 or α·eˣ.

    Args:
        alpha: α, the value approached as x → −∞ is −α. Defaults to 1.0.
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> ELU()(shendu.tensor([0.0, 2.0]))
        tensor([0., 2.])
    """

    function = staticmethod(F.elu)
    arguments = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        F._real("ELU", "alpha", alpha)
        self.alpha = alpha


class SELU(_InplaceActivation):
    """Scaled ELU: y = scale·(x if x > 0 else α·(eˣ − 1)), α ≈ 1.6733, scale ≈ 1.0507; dy/dx = scale or scale·α·eˣ.

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> SELU()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.selu)


class CELU(_InplaceActivation):
    """Continuously differentiable ELU: y = max(0, x) + min(0, α·(e^(x/α) − 1)); dy/dx = 1 or e^(x/α).

    Args:
        alpha: α (non-zero). Defaults to 1.0.
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> CELU()(shendu.tensor([0.0, 2.0]))
        tensor([0., 2.])
    """

    function = staticmethod(F.celu)
    arguments = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        F._check_nonzero("CELU", "alpha", alpha)
        self.alpha = alpha


class Softplus(_Activation):
    """Smooth rectifier: y = log(1 + e^(βx))/β, and x itself where βx > threshold; dy/dx = σ(βx).

    Computed as (max(βx, 0) + log1p(e^−|βx|))/β, finite for any x.

    Args:
        beta: β (non-zero). Defaults to 1.0.
        threshold: above βx > threshold the function is linear. Defaults to 20.0.

    Example:
        >>> Softplus()(shendu.tensor([0.0, 1000.0]))
        tensor([6.9315e-01, 1.0000e+03])
    """

    function = staticmethod(F.softplus)
    arguments = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold=20.0) -> None:
        super().__init__()
        F._check_nonzero("Softplus", "beta", beta)
        F._real("Softplus", "threshold", threshold)
        self.beta, self.threshold = beta, threshold


class SiLU(_InplaceActivation):
    """Sigmoid linear unit (Swish with β = 1): y = x·σ(x); dy/dx = σ(x)·(1 + x·(1 − σ(x))).

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> SiLU()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.silu)


class Swish(Module):
    """Swish: y = x·σ(βx) with β fixed or learnable; β = 1 is SiLU, β = 0 gives x/2.

    dy/dx = s·(1 + βx·(1 − s)) and dy/dβ = x²·s·(1 − s), with s = σ(βx).

    Args:
        beta: β, the initial value when trainable. Defaults to 1.0.
        trainable: learn β (a scalar Parameter ``beta``). Defaults to False. ``learnable=`` is accepted too.

    Example:
        >>> Swish(beta=0.0)(shendu.tensor([4.0]))
        tensor([2.])
    """

    def __init__(self, beta: float = 1.0, trainable: bool = False, learnable=None) -> None:
        super().__init__()
        if learnable is not None:
            trainable = learnable
        beta = F._real("Swish", "beta", beta)
        if not isinstance(trainable, bool):
            raise TypeError(f"Swish: trainable must be True or False. Received: trainable={trainable!r}")
        self.trainable = trainable
        self.beta = Parameter(xp.asarray(beta, dtype=_dtype.default_float.numpy_dtype)) if trainable else beta

    def forward(self, input: Tensor) -> Tensor:
        return F.swish(input, self.beta)

    def extra_repr(self):
        beta = float(self.beta.item()) if self.trainable else self.beta
        return f"beta={beta}, trainable={self.trainable}"


class GELU(_Activation):
    """Gaussian error linear unit: y = x·Φ(x), Φ the standard normal CDF; dy/dx = Φ(x) + x·φ(x).

    With ``approximate='tanh'``: y = ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))).

    Args:
        approximate: 'none' (exact, via erf) or 'tanh'. Defaults to 'none'.

    Example:
        >>> GELU()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.gelu)
    arguments = ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = F._check_approximate("GELU", approximate)


class Hardtanh(_InplaceActivation):
    """Hard tanh: y = clip(x, min_val, max_val); dy/dx = 1 strictly between the bounds, else 0 (as PyTorch).

    Args:
        min_val: lower bound. Defaults to -1.0.
        max_val: upper bound, greater than min_val. Defaults to 1.0.
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> Hardtanh()(shendu.tensor([-3.0, 0.5, 3.0]))
        tensor([-1. ,  0.5,  1. ])
    """

    function = staticmethod(F.hardtanh)
    arguments = ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        F._check_hardtanh_bounds(type(self).__name__, min_val, max_val)
        self.min_val, self.max_val = min_val, max_val


class ReLU6(Hardtanh):
    """ReLU capped at 6: y = min(max(x, 0), 6); dy/dx = 1 for 0 < x < 6, else 0.

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> ReLU6()(shendu.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Mish(_InplaceActivation):
    """Mish: y = x·tanh(softplus(x)); dy/dx = t + x·σ(x)·(1 − t²) with t = tanh(softplus(x)).

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> Mish()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.mish)


class Hardsigmoid(_InplaceActivation):
    """Hard sigmoid: y = clip(x/6 + 1/2, 0, 1); dy/dx = 1/6 for -3 < x < 3, else 0.

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> Hardsigmoid()(shendu.tensor([-6.0, 0.0, 6.0]))
        tensor([0. , 0.5, 1. ])
    """

    function = staticmethod(F.hardsigmoid)


class Hardswish(_InplaceActivation):
    """Hard swish: y = x·relu6(x + 3)/6; dy/dx = 0 (x ≤ -3), x/3 + 1/2 (-3 < x < 3), 1 (x ≥ 3).

    Args:
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> Hardswish()(shendu.tensor([-6.0, 6.0]))
        tensor([-0.,  6.])
    """

    function = staticmethod(F.hardswish)


class Tanhshrink(_Activation):
    """y = x − tanh(x); dy/dx = tanh²(x).

    Example:
        >>> Tanhshrink()(shendu.tensor([0.0]))
        tensor([0.])
    """

    function = staticmethod(F.tanhshrink)


class Softsign(_Activation):
    """y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)².

    Example:
        >>> Softsign()(shendu.tensor([1.0]))
        tensor([0.5])
    """

    function = staticmethod(F.softsign)


class LogSigmoid(_Activation):
    """y = log σ(x) = −softplus(−x), finite for any x; dy/dx = 1 − σ(x).

    Example:
        >>> LogSigmoid()(shendu.tensor([-1000.0]))
        tensor([-1000.])
    """

    function = staticmethod(F.logsigmoid)


class _Shrink(_Activation):
    arguments = ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        F._check_lambd(type(self).__name__, lambd)
        self.lambd = lambd


class Softshrink(_Shrink):
    """Soft shrinkage: y = x − λ·sign(x) if |x| > λ else 0; dy/dx = 1 if |x| > λ else 0.

    Args:
        lambd: λ ≥ 0. Defaults to 0.5.

    Example:
        >>> Softshrink(1.0)(shendu.tensor([-3.0, 0.5]))
        tensor([-2.,  0.])
    """

    function = staticmethod(F.softshrink)


class Hardshrink(_Shrink):
    """Hard shrinkage: y = x if |x| > λ else 0; dy/dx = 1 if |x| > λ else 0.

    Args:
        lambd: λ ≥ 0. Defaults to 0.5.

    Example:
        >>> Hardshrink(1.0)(shendu.tensor([-3.0, 0.5]))
        tensor([-3.,  0.])
    """

    function = staticmethod(F.hardshrink)


class Threshold(_InplaceActivation):
    """y = x if x > threshold else value; dy/dx = 1 if x > threshold else 0.

    Args:
        threshold: the cut-off.
        value: what replaces the entries at or below it.
        inplace: accepted for PyTorch compatibility (the result is always a new tensor). Defaults to False.

    Example:
        >>> Threshold(0.5, -1.0)(shendu.tensor([0.2, 2.0]))
        tensor([-1.,  2.])
    """

    function = staticmethod(F.threshold)
    arguments = ("threshold", "value")

    def __init__(self, threshold, value, inplace: bool = False) -> None:
        super().__init__(inplace)
        F._real("Threshold", "threshold", threshold)
        F._real("Threshold", "value", value)
        self.threshold, self.value = threshold, value
