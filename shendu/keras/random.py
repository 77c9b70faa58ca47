"""Keras 3's random ops (``keras.random``) on NumPy generators.

``seed`` is None (shendu's global generator, reproducible under :func:`shendu.manual_seed`), an int
(the same numbers every call, as Keras) or a :class:`SeedGenerator` (a new draw every call).
Values differ from Keras's own generators; shapes, dtypes and distributions are Keras's.
"""

import numpy as np

from .. import random as _random
from .ops.core import convert_to_tensor, keras_dtype

__all__ = [
    "SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "dropout", "shuffle", "categorical",
    "gamma", "beta", "binomial",
]  # fmt: skip


class SeedGenerator:
    """A stateful source of seeds: each draw advances it, so successive calls give new numbers."""

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and not isinstance(seed, int | np.integer):
            raise ValueError(f"SeedGenerator seed must be an int or None; got {seed!r}")
        self.name = name or "seed_generator"
        self._generator = np.random.default_rng(seed if seed is not None else _random.default_generator().integers(2**63))

    def next(self):
        """The generator for the next draw."""
        return self._generator


def _generator(seed):
    if seed is None:
        return _random.default_generator()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int | np.integer):
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed must be None, an int or a SeedGenerator; got {type(seed).__name__}")


def _float(dtype):
    dtype = keras_dtype(dtype or "float32")
    if not dtype.is_floating_point:
        raise ValueError(f"Expected a float dtype; got {dtype.name}")
    return dtype.numpy_dtype


def _shape(shape):
    return tuple(int(n) for n in np.atleast_1d(shape)) if np.ndim(shape) else (int(shape),)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²)."""
    values = _generator(seed).normal(mean, stddev, _shape(shape))
    return convert_to_tensor(values.astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval)."""
    values = _generator(seed).uniform(minval, maxval, _shape(shape))
    return convert_to_tensor(values.astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval)."""
    values = _generator(seed).integers(minval, maxval, _shape(shape))
    return convert_to_tensor(values.astype(keras_dtype(dtype).numpy_dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev²) samples redrawn until within two standard deviations."""
    generator, shape = _generator(seed), _shape(shape)
    values = generator.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return convert_to_tensor((mean + stddev * values).astype(_float(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate)."""
    if not 0 <= rate < 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}")
    inputs = convert_to_tensor(inputs)
    shape = tuple(inputs.shape) if noise_shape is None else tuple(n or s for n, s in zip(noise_shape, inputs.shape, strict=True))
    keep = _generator(seed).random(shape) >= rate
    return inputs * convert_to_tensor((keep / (1.0 - rate)).astype(inputs.dtype.numpy_dtype))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    x = convert_to_tensor(x)
    order = _generator(seed).permutation(x.shape[axis])
    return x.index_select(axis, convert_to_tensor(order.astype(np.int64)))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class draws per row of ``logits`` (unnormalised log-probabilities)."""
    logits = np.asarray(convert_to_tensor(logits).detach().numpy(), dtype=np.float64)
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    generator = _generator(seed)
    draws = np.stack([generator.choice(p.size, num_samples, p=p) for p in probabilities])
    return convert_to_tensor(draws.astype(keras_dtype(dtype).numpy_dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of Gamma(alpha, 1)."""
    return convert_to_tensor(_generator(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of Beta(alpha, beta)."""
    return convert_to_tensor(_generator(seed).beta(alpha, beta, _shape(shape)).astype(_float(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of Binomial(counts, probabilities), as floats (Keras's default dtype)."""
    return convert_to_tensor(_generator(seed).binomial(counts, probabilities, _shape(shape)).astype(_float(dtype)))
