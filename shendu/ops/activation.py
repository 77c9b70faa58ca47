"""Activation functions and their derivatives, computed stably.

sigmoid σ(x) = 1/(1+e⁻ˣ), σ' = σ(1-σ); tanh, tanh' = 1 - tanh²; relu, relu' = [x > 0];
softmax along a dim and log_softmax, both shifted by the max so large logits never overflow.
"""

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


def _float_tensor(x):
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x if x._array.dtype.kind == "f" else x.float()


def stable_sigmoid(x):
    """σ(x) without overflow: e = exp(-|x|); σ = 1/(1+e) for x ≥ 0, e/(1+e) otherwise."""
    e = xp.exp(-xp.abs(x))
    positive = 1 / (1 + e)
    return xp.where(x >= 0, positive, e * positive).astype(x.dtype, copy=False)


class Sigmoid(Function):
    differentiable_backward = True

    def forward(self, x):
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, gy):
        y = self.output_value(self.y)
        return gy * y * (1 - y)


class Tanh(Function):
    differentiable_backward = True

    def forward(self, x):
        self.y = xp.tanh(x)
        return self.y

    def backward(self, gy):
        y = self.output_value(self.y)
        return gy * (1 - y * y)


class ReLU(Function):
    """max(x, 0); the gradient at exactly 0 is 0 (as PyTorch)."""

    differentiable_backward = True

    def forward(self, x):
        self.y = xp.maximum(x, 0)
        return self.y

    def backward(self, gy):
        mask = self.y > 0
        if isinstance(gy, Tensor):
            return gy * Tensor._from_op(mask.astype(gy._array.dtype), False)
        return gy * mask


class Softmax(Function):
    """softmax(x)ᵢ = exp(xᵢ - m) / Σ exp(x - m); backward y ⊙ (gy - Σ gy ⊙ y)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        e = xp.exp(shifted)
        e /= e.sum(axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x) = x - m - log Σ exp(x - m); backward gy - softmax · Σ gy."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, gy):
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def _axis(dim, x):
    ndim = max(x.ndim, 1)
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def relu(input, inplace=False):
    """max(x, 0)."""
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
