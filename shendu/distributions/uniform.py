"""The continuous uniform distribution on [low, high)."""

from ..ops import broadcast_tensors
from .distribution import Distribution, as_float_tensor

__all__ = ["Uniform"]


class Uniform(Distribution):
    """U(low, high): log p(x) = −log(high − low) inside, −∞ outside; ``rsample`` = low + (high − low)·u."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        low = as_float_tensor(low, high)
        high = as_float_tensor(high, low)
        self.low, self.high = broadcast_tensors(low, high)
        if validate_args is not False and not bool((self.low._array < self.high._array).all()):
            raise ValueError("Expected parameter low of Uniform to be less than high")
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        from ..creation import rand

        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        from ..ops import where

        value = as_float_tensor(value, self.low)
        inside = (value >= self.low).logical_and(value < self.high)
        return where(inside, -(self.high - self.low).log(), float("-inf"))

    def entropy(self):
        return (self.high - self.low).log()
