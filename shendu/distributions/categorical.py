"""The categorical distribution over the classes 0 to K − 1."""

from .distribution import Distribution, as_float_tensor

__all__ = ["Categorical"]


class Categorical(Distribution):
    """P(k) = probs[..., k], given by ``probs`` (normalised along the last axis) or ``logits`` (log-softmaxed).

    log p(k) = logits[..., k] − logsumexp(logits); entropy = −Σ p log p.
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        from ..ops import log_softmax

        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = as_float_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            if validate_args is not False and not bool((probs._array >= 0).all()):
                raise ValueError(f"Expected parameter probs of Categorical to be non-negative; got {probs}")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=float(_tiny(self.probs))).log()
        else:
            logits = as_float_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = log_softmax(logits, dim=-1)
            self.probs = self.logits.exp()
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1], validate_args=validate_args)

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        import math

        from ..creation import full

        return full(tuple(self.batch_shape), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    def _sample(self, sample_shape):
        from ..creation import multinomial

        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        count = 1
        for n in sample_shape:
            count *= n
        rows = self.probs.reshape(-1, self._num_events)
        draws = multinomial(rows, count, replacement=True)  # (batch, count)
        return draws.t().reshape(*sample_shape, *self.batch_shape)

    def log_prob(self, value):
        from ..creation import tensor
        from ..ops import broadcast_tensors

        value = value if hasattr(value, "_array") else tensor(value)
        value = value.long().unsqueeze(-1)
        value, logits = broadcast_tensors(value, self.logits)
        return logits.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(-1)

    def enumerate_support(self, expand=True):
        from ..creation import arange

        values = arange(self._num_events).reshape(-1, *([1] * len(self.batch_shape)))
        return values.expand(-1, *self.batch_shape) if expand else values

    def __repr__(self):
        return f"Categorical(probs: {self.probs.shape}, logits: {self.logits.shape})"


def _tiny(t):
    import numpy as np

    return np.finfo(t._array.dtype).tiny
