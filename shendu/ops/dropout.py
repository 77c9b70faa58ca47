"""Dropout: zero random elements (or whole channels) while training, scaling the rest by 1/(1-p).

Inverted dropout: the kept values are scaled up during training, so evaluation is the
identity and the expected activation is the same in both modes. The mask drawn in forward is
kept, and backward multiplies by that same mask: ∂L/∂x = mask · ∂L/∂y.
"""

import numbers

from .._backend import xp
from ..autograd import Function
from ..random import resolve_generator
from ..tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


class Dropout(Function):
    """y = x · mask, where ``mask`` holds 0 (dropped) or 1/(1-p) (kept), broadcast over x."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask


def check_probability(p, owner="dropout"):
    """Return ``p`` as a float, or raise ValueError unless 0 <= p <= 1 (PyTorch's rule)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: dropout probability has to be between 0 and 1, but got p={p!r}")
    return float(p)


def _active_probability(input, p, training, owner):
    """``p`` checked, or None when the dropout leaves ``input`` as it is (eval mode, p = 0); the input checked."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner} expects a Tensor input; got {type(input).__name__}")
    p = check_probability(p, owner)
    if not training or p == 0.0:
        return None
    if input._array.dtype.kind != "f":
        raise TypeError(f"{owner} needs a floating-point input; got dtype {input.dtype}")
    return p


def _dropout(input, p, training, mask_shape, generator, owner):
    p = _active_probability(input, p, training, owner)
    if p is None:
        return input
    dtype = input._array.dtype
    if p == 1.0:
        mask = xp.zeros(mask_shape, dtype)
    else:
        draw = resolve_generator(generator).random(mask_shape, dtype=xp.float64 if dtype.itemsize > 4 else xp.float32)
        mask = xp.multiply(draw >= p, 1.0 / (1.0 - p), dtype=dtype)
    return Dropout(mask)(input)


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (when ``training``).

    Args:
        input: any shape.
        p: probability of an element being zeroed, in [0, 1]. Defaults to 0.5.
        training: apply dropout; False returns the input unchanged. Defaults to True.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.
        generator: where the mask comes from. Defaults to shendu's global generator.

    Example:
        >>> h = dropout(h, p=0.2, training=model.training)
    """
    return _dropout(input, p, training, tuple(input.shape) if isinstance(input, Tensor) else (), generator, "dropout")


def _feature_dropout(input, p, training, generator, name, batched_ndim, layout):
    """Drop whole channels: one draw per (sample, channel), broadcast over the remaining dims."""
    if isinstance(input, Tensor) and input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"{name}: expected input of shape {layout}; got shape {tuple(input.shape)}")
    mask_shape = ()
    if isinstance(input, Tensor):
        channel_dims = 2 if input.ndim == batched_ndim else 1
        mask_shape = tuple(input.shape[:channel_dims]) + (1,) * (input.ndim - channel_dims)
    return _dropout(input, p, training, mask_shape, generator, name)


def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p``; scale the rest by 1/(1-p)."""
    return _feature_dropout(input, p, training, generator, "dropout1d", 3, "(N, C, L) or (C, L)")


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of an (N, C, H, W) input with probability ``p``; scale the rest by 1/(1-p).

    A 3-D input is taken as (N, C, L), as PyTorch currently does.
    """
    if isinstance(input, Tensor) and input.ndim == 3:
        return _feature_dropout(input, p, training, generator, "dropout2d", 3, "(N, C, H, W) or (N, C, L)")
    return _feature_dropout(input, p, training, generator, "dropout2d", 4, "(N, C, H, W) or (N, C, L)")


def dropout3d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    return _feature_dropout(input, p, training, generator, "dropout3d", 5, "(N, C, D, H, W) or (C, D, H, W)")


#: SELU's saturation value −λα: where alpha dropout sets the dropped units
_SELU_SATURATION = -1.0507009873554805 * 1.6732632423543772


def _alpha_dropout(input, p, training, mask_shape, generator, owner):
    """y = a·(x·m + α′·(1 − m)) + b, m ~ Bernoulli(1 − p), α′ = −λα; a, b keep zero mean and unit variance:
    a = (q + α′²·q·(1 − q))^(−½), b = −a·α′·(1 − q) with q = 1 − p. ∂L/∂x = a·m·∂L/∂y."""
    from .arithmetic import add

    p = _active_probability(input, p, training, owner)
    if p is None:
        return input
    dtype = input._array.dtype
    if p == 1.0:
        return input * 0.0
    q = 1.0 - p
    keep = resolve_generator(generator).random(mask_shape) >= p
    a = (q + _SELU_SATURATION**2 * q * (1 - q)) ** -0.5
    b = -a * _SELU_SATURATION * (1 - q)
    scaled = Dropout(xp.multiply(keep, a, dtype=dtype))(input)
    return add(scaled, Tensor._from_op(xp.asarray(a * _SELU_SATURATION * (~keep) + b, dtype=dtype), False))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout for SELU networks: dropped units take SELU's saturation value and an affine map keeps the
    mean and variance (training only; note PyTorch's functional default ``training=False``)."""
    return _alpha_dropout(input, p, training, tuple(input.shape) if isinstance(input, Tensor) else (), None, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (one draw per sample and channel)."""
    shape = ()
    if isinstance(input, Tensor):
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if input.ndim > 2 else tuple(input.shape)
    return _alpha_dropout(input, p, training, shape, None, "feature_alpha_dropout")
