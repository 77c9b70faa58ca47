"""The normal distribution N(μ, σ²)."""

import math

from ..ops import broadcast_tensors
from .distribution import Distribution, as_float_tensor

__all__ = ["Normal"]


class Normal(Distribution):
    """N(loc, scale²), batched by broadcasting ``loc`` and ``scale``.

    log p(x) = −(x − μ)²/(2σ²) − log σ − ½ log 2π; entropy = ½ + ½ log 2π + log σ;
    ``rsample`` = μ + σ·ε with ε ~ N(0, 1), differentiable in μ and σ.
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc = as_float_tensor(loc, scale)
        scale = as_float_tensor(scale, loc)
        self.loc, self.scale = broadcast_tensors(loc, scale)
        if validate_args is not False and not bool((self.scale._array > 0).all()):
            raise ValueError(f"Expected parameter scale of Normal to be positive; got {self.scale}")
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self.scale.pow(2)

    @property
    def stddev(self):
        return self.scale

    def rsample(self, sample_shape=()):
        from ..creation import randn

        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = as_float_tensor(value, self.loc)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        from ..ops import erf

        value = as_float_tensor(value, self.loc)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def __repr__(self):
        return f"Normal(loc: {self.loc}, scale: {self.scale})"
