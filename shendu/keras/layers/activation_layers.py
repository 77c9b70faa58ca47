"""Activation layers with parameters of their own: ReLU, LeakyReLU, ELU, Softmax (``keras.layers``)."""

import shendu
from shendu.nn import functional as F

from .base import Layer


class ReLU(Layer):
    """``min(max_value, x)`` for x ≥ threshold, ``negative_slope · (x - threshold)`` below it.

    Args:
        max_value: the ceiling (None: none). negative_slope: Defaults to 0. threshold: Defaults to 0.
    """

    supports_masking = True

    def __init__(self, max_value=None, negative_slope: float = 0.0, threshold=0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, float(negative_slope), float(threshold)

    def call(self, inputs):
        shifted = inputs - self.threshold
        out = shendu.where(inputs >= self.threshold, inputs, shifted * self.negative_slope)
        return out if self.max_value is None else shendu.clamp(out, max=float(self.max_value))

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}  # fmt: skip


class LeakyReLU(Layer):
    """``x`` for x ≥ 0, ``negative_slope · x`` below (Keras's default slope: 0.3)."""

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs) -> None:
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None or negative. Received: {negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """``x`` for x > 0, ``alpha · (exp(x) - 1)`` below."""

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """``exp(x) / Σ exp(x)`` along ``axis``; masked positions (``mask`` False) get probability 0."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = shendu.where(shendu.as_tensor(mask, dtype=shendu.bool), inputs, inputs - 1e9)
        axes = self.axis if isinstance(self.axis, list | tuple) else (self.axis,)
        if len(axes) == 1:
            return F.softmax(inputs, dim=axes[0])
        return shendu.exp(inputs - shendu.logsumexp(inputs, dim=tuple(axes), keepdim=True))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """``x`` for x ≥ 0, ``alpha · x`` below, with ``alpha`` learned (one per feature unless shared).

    Args:
        alpha_initializer: Defaults to "zeros".
        shared_axes: axes (1-based, batch excluded) along which one alpha is shared, e.g. [1, 2] for
            one per channel of (N, H, W, C) images. Defaults to None.

    Weights: ``alpha`` of the input's shape without the batch axis (1 along shared axes).
    """

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        if alpha_regularizer is not None or alpha_constraint is not None:
            raise ValueError("PReLU: alpha_regularizer and alpha_constraint are not supported by shendu")
        self.alpha_initializer = alpha_initializer
        self.shared_axes = None if shared_axes is None else (
            [shared_axes] if isinstance(shared_axes, int) else list(shared_axes))  # fmt: skip

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU ({self.name}): the input shape {input_shape} has an undefined axis that is not "
                             "in shared_axes")  # fmt: skip
        self.alpha = self.add_weight(shape=shape, initializer=self.alpha_initializer, name="alpha")

    def call(self, inputs):
        return shendu.where(inputs >= 0, inputs, inputs * self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer, "shared_axes": self.shared_axes}
