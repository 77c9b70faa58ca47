"""The base class: batch shapes, ``sample``/``rsample`` sizes and argument checks shared by the distributions."""

import numbers

from ..tensor import Tensor

__all__ = ["Distribution"]


def as_float_tensor(value, like=None):
    """``value`` as a floating tensor (numbers take ``like``'s dtype, float32 otherwise)."""
    if isinstance(value, Tensor):
        return value if value.is_floating_point() else value.float()
    from ..creation import tensor

    dtype = like.dtype if isinstance(like, Tensor) and like.is_floating_point() else None
    return tensor(float(value) if isinstance(value, numbers.Number) else value, dtype=dtype)


class Distribution:
    """A batch of distributions of shape ``batch_shape``, each over events of shape ``event_shape``."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        from ..tensor import Size

        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = validate_args is not False

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        return sample_shape + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside the autograd graph."""
        from ..autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape).detach() if self.has_rsample else self._sample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample); use sample()")

    def _sample(self, sample_shape):
        raise NotImplementedError

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}()"
