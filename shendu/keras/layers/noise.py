"""Regularisation layers active only in training: SpatialDropout1D/2D, GaussianNoise, GaussianDropout,
ActivityRegularization (``keras.layers``)."""

import math


from ... import random as _random
from ...tensor import Tensor
from .base import Layer

__all__ = ["SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"]


def _rate(layer, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"{layer}: Invalid value received for argument `rate`. Expected a float value between 0 and "
                         f"1. Received: rate={rate!r}")  # fmt: skip
    return float(rate)


class _SpatialDropout(Layer):
    supports_masking = True

    def __init__(self, rate, data_format=None, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate, self.seed = _rate(type(self).__name__, rate), seed
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__}: data_format must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")  # fmt: skip

    def call(self, inputs):
        if not self.training or self.rate == 0:
            return inputs
        shape = [1] * inputs.ndim
        shape[0] = inputs.shape[0]
        shape[-1 if self.data_format == "channels_last" else 1] = inputs.shape[-1 if self.data_format == "channels_last" else 1]
        keep = _random.default_generator().random(shape) >= self.rate
        return inputs * Tensor((keep / (1 - self.rate)).astype(inputs._array.dtype))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole feature maps: one mask per (sample, channel) shared by every step of (N, steps, C)."""


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps: one mask per (sample, channel) shared over H×W of (N, H, W, C)."""

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class GaussianNoise(Layer):
    """Adds N(0, stddev²) noise in training (an identity at inference)."""

    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a float value >= 0. Received: "
                             f"stddev={stddev!r}")  # fmt: skip
        self.stddev, self.seed = float(stddev), seed

    def call(self, inputs):
        if not self.training or self.stddev == 0:
            return inputs
        noise = _random.default_generator().standard_normal(inputs.shape) * self.stddev
        return inputs + Tensor(noise.astype(inputs._array.dtype))

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies by N(1, rate/(1 − rate)) noise in training (an identity at inference)."""

    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate, self.seed = _rate("GaussianDropout", rate), seed

    def call(self, inputs):
        if not self.training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = 1.0 + _random.default_generator().standard_normal(inputs.shape) * stddev
        return inputs * Tensor(noise.astype(inputs._array.dtype))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class ActivityRegularization(Layer):
    """An identity that adds l1·Σ|x| + l2·Σx² of its input (divided by the batch size) to the loss."""

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        from ..regularizers import L1L2

        self.penalty = L1L2(l1, l2)
        self.l1, self.l2 = self.penalty.l1, self.penalty.l2

    def call(self, inputs):
        if self.l1 or self.l2:
            self.add_loss(self.penalty(inputs) / float(inputs.shape[0]))
        return inputs

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


