"""Activations by name, as Keras spells them (``activation="relu"``), over shendu's own functions.

Each name maps to the engine's differentiable function; nothing is re-implemented here. Note
Keras' own defaults where they differ from PyTorch's: ``leaky_relu`` has slope 0.2 and
``softmax`` works along the last axis.

Example:
    >>> get("relu")(tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

from ..nn import functional as F
from ..ops import exp

__all__ = ["get", "serialize", "ACTIVATIONS", "linear", "relu", "sigmoid", "softmax", "tanh"]


def linear(x):
    """The identity (Keras' ``activation=None``)."""
    return x


def relu(x):
    return F.relu(x)


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / Σ exp(x) along the last axis (Keras' default)."""
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def swish(x):
    """x·σ(x) (also called SiLU)."""
    return F.silu(x)


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    return exp(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, as Keras 3."""
    return F.hardsigmoid(x)


def hard_silu(x):
    return F.hardswish(x)


def relu6(x):
    return F.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    """max(x, 0.2·x): Keras' slope 0.2 (PyTorch's default is 0.01)."""
    return F.leaky_relu(x, negative_slope)


def mish(x):
    return F.mish(x)


ACTIVATIONS = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "softmax": softmax, "tanh": tanh, "elu": elu, "selu": selu,
    "softplus": softplus, "softsign": softsign, "swish": swish, "silu": swish, "gelu": gelu,
    "exponential": exponential, "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_silu,
    "relu6": relu6, "leaky_relu": leaky_relu, "mish": mish, "log_softmax": log_softmax,
}  # fmt: skip


def get(identifier):
    """The activation function for a name, None (the identity) or a callable.

    Raises:
        ValueError: an unknown name; the message lists the accepted ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        function = ACTIVATIONS.get(identifier.lower())
        if function is None:
            raise ValueError(
                f"Unknown activation: {identifier!r}. Accepted names: {', '.join(sorted(ACTIVATIONS))} "
                "(or None, or a function of a tensor)"
            )
        return function
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, None or a function. Received: activation={identifier!r}")


def serialize(function):
    """The name of an activation (for ``get_config``); a user function is named by its ``__name__``."""
    for name, known in ACTIVATIONS.items():
        if known is function:
            return name
    return getattr(function, "__name__", repr(function))
