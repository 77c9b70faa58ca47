"""Weight penalties added to the training loss: ``Dense(64, kernel_regularizer=l2(0.01))``.

``L2(l2)`` adds ``l2 · Σ w²`` and ``L1(l1)`` adds ``l1 · Σ |w|`` to the loss of every batch (the
"regularisation" hyper-parameter of 000 §4.3.2), exactly as Keras does.
"""

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor`` penalty."""

    def __call__(self, weight):
        raise NotImplementedError

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """``l1 · Σ|w| + l2 · Σ w²``.

    Args:
        l1: the L1 factor. Defaults to 0.
        l2: the L2 factor. Defaults to 0.
    """

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a non-negative number. Received: {name}={value!r}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = None
        if self.l1:
            penalty = weight.abs().sum() * self.l1
        if self.l2:
            term = (weight * weight).sum() * self.l2
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else (weight * 0.0).sum()

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 · Σ|w|``. Defaults to l1=0.01."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 · Σ w²``. Defaults to l2=0.01."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1=0.01):  # noqa: E743
    return L1(l1)


def l2(l2=0.01):
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """A regularizer from None, a name (``"l2"``), a config dict or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in _NAMES:
            raise ValueError(f"Unknown regularizer: {identifier!r}. Accepted names: {', '.join(sorted(_NAMES))}")
        return _NAMES[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    raise TypeError(f"a regularizer must be None, a name or a keras.regularizers object. Received: {identifier!r}")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
