"""Weight initialisers by Keras name (``kernel_initializer="he_normal"``), over ``shendu.nn.init``.

They fill shendu's parameters in place. Fan-in and fan-out do not depend on the layout, so a
Glorot draw for a Dense kernel (in, out) is the same distribution as for nn.Linear's (out, in).

Example:
    >>> Dense(64, kernel_initializer="he_uniform", bias_initializer="zeros")
"""

import math

from ..nn import init

__all__ = [
    "get", "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal",
]  # fmt: skip


class Initializer:
    """Base class: ``initializer(param)`` fills ``param`` in place; ``get_config()`` gives its arguments."""

    def __call__(self, param):
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __call__(self, param):
        init.zeros_(param)


class Ones(Initializer):
    def __call__(self, param):
        init.ones_(param)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, param):
        init.constant_(param, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, param):
        init.normal_(param, self.mean, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, param):
        init.uniform_(param, self.minval, self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """N(mean, stddev²) cut at two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, param):
        init.trunc_normal_(param, self.mean, self.stddev, self.mean - 2 * self.stddev, self.mean + 2 * self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Seeded):
    """U(-r, r) with r = √(6 / (fan_in + fan_out)) — Keras' default kernel initialiser."""

    def __call__(self, param):
        init.xavier_uniform_(param)


class GlorotNormal(_Seeded):
    def __call__(self, param):
        fan_in, fan_out = init._calculate_fan_in_and_fan_out(param)
        std = math.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978  # truncated at 2σ, as Keras
        init.trunc_normal_(param, 0.0, std, -2 * std, 2 * std)


class HeUniform(_Seeded):
    def __call__(self, param):
        init.kaiming_uniform_(param, nonlinearity="relu")


class HeNormal(_Seeded):
    def __call__(self, param):
        fan_in, _ = init._calculate_fan_in_and_fan_out(param)
        std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
        init.trunc_normal_(param, 0.0, std, -2 * std, 2 * std)


class LecunUniform(_Seeded):
    def __call__(self, param):
        init.lecun_uniform_(param)


class LecunNormal(_Seeded):
    def __call__(self, param):
        init.lecun_normal_(param)


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, param):
        init.orthogonal_(param, self.gain)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_NAMES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
}  # fmt: skip


def get(identifier):
    """An initialiser from a name, an :class:`Initializer`, or a function ``fn(param)``."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _NAMES:
            aliases = {k.replace("_", ""): k for k in _NAMES}
            key = aliases.get(key, key)
        if key not in _NAMES:
            raise ValueError(f"Unknown initializer: {identifier!r}. Accepted names: {', '.join(sorted(_NAMES))}")
        return _NAMES[key]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return get(identifier["class_name"]) if not identifier.get("config") else _from_config(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"an initializer must be a name or an Initializer. Received: {identifier!r}")


def _from_config(spec):
    name = spec["class_name"]
    for key, klass in _NAMES.items():
        if klass.__name__ == name or key == name:
            return klass(**spec.get("config", {}))
    raise ValueError(f"Unknown initializer: {name!r}. Accepted names: {', '.join(sorted(_NAMES))}")


def serialize(initializer):
    """Plain data for ``get_config``: a name, or ``{"class_name": ..., "config": ...}`` with arguments."""
    for key, klass in _NAMES.items():
        if type(initializer) is klass:
            config = {k: v for k, v in initializer.get_config().items() if k != "seed" or v is not None}
            return key if not config else {"class_name": klass.__name__, "config": config}
    raise TypeError(f"cannot serialise the initializer {initializer!r}; use a name or a keras.initializers class")
