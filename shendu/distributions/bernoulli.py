"""The Bernoulli distribution over {0, 1}."""

from .distribution import Distribution, as_float_tensor

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """P(1) = probs, or sigmoid(logits).

    log p(x) = −BCE-with-logits(logits, x) = x·logits − softplus(logits); entropy = BCE(logits, probs).
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        from ..ops import sigmoid

        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = as_float_tensor(probs)
            if validate_args is not False and not bool(((self.probs._array >= 0) & (self.probs._array <= 1)).all()):
                raise ValueError(f"Expected parameter probs of Bernoulli to be in [0, 1]; got {self.probs}")
            eps = float(_eps(self.probs))
            clamped = self.probs.clamp(eps, 1 - eps)
            self.logits = clamped.log() - (1 - clamped).log()
        else:
            self.logits = as_float_tensor(logits)
            self.probs = sigmoid(self.logits)
        super().__init__(self.probs.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def _sample(self, sample_shape):
        from ..creation import bernoulli

        return bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value):
        from ..nn.functional import binary_cross_entropy_with_logits
        from ..ops import broadcast_tensors

        logits, value = broadcast_tensors(self.logits, as_float_tensor(value, self.logits))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        from ..nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


def _eps(t):
    import numpy as np

    return np.finfo(t._array.dtype).eps
