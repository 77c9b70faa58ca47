"""Keras 3's neural-network ops (``keras.ops.nn``): activations, one-hot, losses, moments.

Each is differentiable through shendu's autograd; the formulas are Keras's (e.g. ``hard_sigmoid``
is relu6(x + 3) / 6, ``gelu`` approximates with tanh by default).
"""

import numpy as np

import shendu
import shendu.nn.functional as F

from .core import convert_to_tensor, keras_dtype
from .numpy import _floating, clip, log, mean, var


def _activation(name, function, formula):
    def activation(x):
        return function(_floating(x))

    activation.__name__ = name
    activation.__doc__ = formula
    return activation


relu = _activation("relu", F.relu, "max(x, 0).")
relu6 = _activation("relu6", F.relu6, "min(max(x, 0), 6).")
sigmoid = _activation("sigmoid", shendu.sigmoid, "1 / (1 + exp(-x)).")
softplus = _activation("softplus", F.softplus, "log(1 + exp(x)).")
softsign = _activation("softsign", F.softsign, "x / (1 + |x|).")
silu = swish = _activation("silu", F.silu, "x · sigmoid(x).")
log_sigmoid = _activation("log_sigmoid", F.logsigmoid, "log(sigmoid(x)) = -softplus(-x).")
selu = _activation("selu", F.selu, "scale · elu(x, alpha) with the self-normalising constants.")


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope · x (Keras's default slope is 0.2)."""
    return F.leaky_relu(_floating(x), negative_slope)


hard_sigmoid = _activation("hard_sigmoid", F.hardsigmoid, "relu6(x + 3) / 6.")
hard_silu = _activation("hard_silu", F.hardswish, "x · hard_sigmoid(x).")
hard_swish = hard_silu


def elu(x, alpha=1.0):
    """x if x > 0 else alpha · (exp(x) - 1)."""
    return F.elu(_floating(x), alpha)


def gelu(x, approximate=True):
    """x · Φ(x); the tanh approximation by default (as Keras)."""
    return F.gelu(_floating(x), approximate="tanh" if approximate else "none")


def softmax(x, axis=-1):
    """exp(x) / Σ exp(x) along ``axis`` (all axes when None)."""
    x = _floating(x)
    if axis is None:
        return F.softmax(x.reshape(-1), dim=0).reshape(tuple(x.shape))
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    x = _floating(x)
    if axis is None:
        return F.log_softmax(x.reshape(-1), dim=0).reshape(tuple(x.shape))
    return F.log_softmax(x, dim=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Rows with a 1 at each label (labels cast to int; negative labels give all-zero rows)."""
    labels = np.asarray(convert_to_tensor(x).numpy()).astype(np.int64)
    encoded = (labels[..., None] == np.arange(num_classes)).astype(keras_dtype(dtype or "float32").numpy_dtype)
    return convert_to_tensor(np.moveaxis(encoded, -1, axis))


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """One row per sample with a 1 at each of its labels."""
    encoded = one_hot(inputs, num_classes, dtype=dtype)
    return convert_to_tensor(np.moveaxis(encoded.numpy().max(axis=-2), -1, axis))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-Σ target · log(p) along ``axis``, p clipped to [ε, 1-ε] (as Keras)."""
    target, output = _floating(target), _floating(output)
    if from_logits:
        return -(target * log_softmax(output, axis)).sum(dim=axis)
    probabilities = clip(output / output.sum(dim=axis, keepdim=True), 1e-7, 1.0 - 1e-7)
    return -(target * log(probabilities)).sum(dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy with integer labels."""
    output = _floating(output)
    return categorical_crossentropy(one_hot(target, output.shape[axis], dtype=output.dtype.name), output, from_logits, axis)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -[t · log p + (1 - t) · log(1 - p)], p clipped to [ε, 1-ε] (as Keras)."""
    target, output = _floating(target), _floating(output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = clip(output, 1e-7, 1.0 - 1e-7)
    return -(target * log(output) + (1.0 - target) * log(1.0 - output))


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, biased variance) over ``axes``."""
    return mean(x, axes, keepdims), var(x, axes, keepdims)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis``."""
    from .linalg import norm

    x = _floating(x)
    return x / shendu.clamp(norm(x, ord=order, axis=axis, keepdims=True), min=epsilon or 1e-12)

