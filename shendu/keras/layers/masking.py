"""Masking: mark the time steps whose features all equal ``mask_value`` as padding for the layers after it."""

import numpy as np

from ...tensor import Tensor
from .base import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Zero the padded steps and attach a mask (steps where some feature differs from ``mask_value``).

    Recurrent layers skip masked steps; masked pooling, the loss and the metrics leave them out.

    Args:
        mask_value: the value of a padding step's features. Defaults to 0.

    Shape:
        (batch, steps, features) → the same, with a (batch, steps) mask.
    """

    supports_masking = True
    _creates_mask = True

    def __init__(self, mask_value=0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, previous_mask=None):
        return Tensor(np.any(inputs._array != self.mask_value, axis=-1))

    def call(self, inputs):
        keep = np.any(inputs._array != self.mask_value, axis=-1, keepdims=True)
        return inputs * Tensor(keep.astype(inputs._array.dtype))

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
