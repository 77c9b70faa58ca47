"""Keras losses by name or as objects, computed with shendu's differentiable ops.

Keras' ``loss(y_true, y_pred)`` takes the *outputs of the model* — for
``categorical_crossentropy`` that is the probabilities of a softmax layer. Taking the log of
probabilities is where precision is lost (a probability that rounds to 0 gives log 0 = -inf), so
Keras clips them to [1e-7, 1 - 1e-7]. shendu does better when it can: when the model's output
layer ends in softmax (or sigmoid) the compiled model hands the loss the *pre-activation logits*
too, and the loss is computed from them with the fused, stable log-softmax + NLL (or
BCE-with-logits) of the engine — exact for any logits, with the simple gradient
softmax(x) − y. Calling a loss object directly (``loss(y_true, y_pred)``) uses the probabilities,
clipped as Keras does.

Each loss returns the mean over the batch of per-sample losses (Keras' ``sum_over_batch_size``).

Example:
    >>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    >>> model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
"""

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor

__all__ = [
    "Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "KLDivergence",
    "Poisson", "Hinge", "SquaredHinge", "get", "LOSSES", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "huber",
]  # fmt: skip

EPSILON = 1e-7


def _tensor(value, dtype=None):
    if isinstance(value, Tensor):
        return value if dtype is None or value._array.dtype == dtype else Tensor(value._array.astype(dtype))
    array = np.asarray(value)
    return Tensor(array if dtype is None else array.astype(dtype))


def _float_target(y_true, y_pred):
    """The target as floats of the prediction's dtype and shape ((N,) against (N, 1) is reshaped)."""
    target = _tensor(y_true, y_pred._array.dtype)
    if tuple(target.shape) != tuple(y_pred.shape) and target._array.size == y_pred._array.size:
        target = target.reshape(*y_pred.shape)
    return target


def _class_axis_first(x):
    """(N, ..., C) → (N, C, ...): the engine's cross-entropy reads classes on axis 1 (PyTorch's layout)."""
    return x if x.ndim <= 2 else x.movedim(-1, 1)


def _indices(y_true, y_pred):
    """Integer class ids of shape y_pred.shape[:-1] (a trailing axis of size 1 is dropped)."""
    array = y_true._array if isinstance(y_true, Tensor) else np.asarray(y_true)
    if array.ndim == len(y_pred.shape) and array.shape[-1] == 1:
        array = array.reshape(array.shape[:-1])
    return array.astype(np.int64, copy=False)


class Loss:
    """Base class: ``loss(y_true, y_pred)`` → the batch mean of ``call(y_true, y_pred)`` (per-sample losses).

    A subclass defines ``call``; it may also define ``_from_pre_activation(y_true, logits,
    activation)`` to compute the same per-sample losses from the output layer's pre-activation
    (returning None when it cannot).
    """

    name = "loss"

    def __init__(self, reduction="sum_over_batch_size", name=None):
        if reduction not in ("sum_over_batch_size", "auto", "sum", "none", None):
            raise ValueError(f"{type(self).__name__}: reduction must be 'sum_over_batch_size', 'sum' or 'none'. "
                             f"Received: reduction={reduction!r}")  # fmt: skip
        self.reduction = reduction
        if name is not None:
            self.name = name

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def _from_pre_activation(self, y_true, logits, activation):
        return None

    def _reduce(self, losses, sample_weight=None):
        if sample_weight is not None:
            losses = losses * _tensor(sample_weight, losses._array.dtype).reshape(*losses.shape)
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        return losses.mean() if losses.ndim else losses

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred)
        return self._reduce(self.call(y_true, y_pred), sample_weight)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self):
        return f"{type(self).__name__}()"


class CategoricalCrossentropy(Loss):
    """−Σ y·log(p) over the classes, for one-hot (or probability) targets.

    Args:
        from_logits: ``y_pred`` holds logits, not probabilities. Defaults to False.
        label_smoothing: ε; the target becomes (1 − ε)·y + ε/C. Defaults to 0.
        axis: the class axis; only -1. Defaults to -1.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        if axis != -1:
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported. Received: axis={axis!r}")
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def _logit_loss(self, target, logits):
        losses = F.cross_entropy(_class_axis_first(logits), _class_axis_first(target), reduction="none",
                                 label_smoothing=self.label_smoothing)  # fmt: skip
        return losses

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        if self.from_logits:
            return self._logit_loss(target, y_pred)
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + self.label_smoothing / y_pred.shape[-1]
        probabilities = y_pred / y_pred.sum(dim=-1, keepdim=True)
        return -(target * probabilities.clamp(EPSILON, 1 - EPSILON).log()).sum(dim=-1)

    def _from_pre_activation(self, y_true, logits, activation):
        if self.from_logits or activation != "softmax":
            return None
        return self._logit_loss(_float_target(y_true, logits), logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(Loss):
    """−log p[y] for integer class targets y (shape (N,) or (N, 1)).

    Args:
        from_logits: ``y_pred`` holds logits. Defaults to False.
        ignore_class: a class id that contributes no loss. Defaults to None.
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        self.from_logits, self.ignore_class = bool(from_logits), ignore_class

    def _logit_loss(self, y_true, logits):
        ignore = -100 if self.ignore_class is None else int(self.ignore_class)
        return F.cross_entropy(_class_axis_first(logits), Tensor(_indices(y_true, logits)), reduction="none",
                               ignore_index=ignore)  # fmt: skip

    def call(self, y_true, y_pred):
        if self.from_logits:
            return self._logit_loss(y_true, y_pred)
        log_p = _class_axis_first(y_pred).clamp(EPSILON, 1 - EPSILON).log()
        ignore = -100 if self.ignore_class is None else int(self.ignore_class)
        return F.nll_loss(log_p, Tensor(_indices(y_true, y_pred)), reduction="none", ignore_index=ignore)

    def _from_pre_activation(self, y_true, logits, activation):
        if self.from_logits or activation != "softmax":
            return None
        return self._logit_loss(y_true, logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class BinaryCrossentropy(Loss):
    """−[y·log p + (1 − y)·log(1 − p)], averaged over the last axis.

    Args:
        from_logits: ``y_pred`` holds logits. Defaults to False.
        label_smoothing: ε; targets become y·(1 − ε) + ε/2. Defaults to 0.
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def _target(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return target

    def call(self, y_true, y_pred):
        target = self._target(y_true, y_pred)
        if self.from_logits:
            losses = F.binary_cross_entropy_with_logits(y_pred, target, reduction="none")
        else:
            p = y_pred.clamp(EPSILON, 1 - EPSILON)
            losses = -(target * p.log() + (1 - target) * (1 - p).log())
        return losses.mean(dim=-1) if losses.ndim > 1 else losses

    def _from_pre_activation(self, y_true, logits, activation):
        if self.from_logits or activation != "sigmoid":
            return None
        losses = F.binary_cross_entropy_with_logits(logits, self._target(y_true, logits), reduction="none")
        return losses.mean(dim=-1) if losses.ndim > 1 else losses

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


def _last_axis_mean(losses):
    return losses.mean(dim=-1) if losses.ndim > 1 else losses


class MeanSquaredError(Loss):
    """mean((y − p)²) over the last axis."""

    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        diff = y_pred - _float_target(y_true, y_pred)
        return _last_axis_mean(diff * diff)


class MeanAbsoluteError(Loss):
    """mean(|y − p|) over the last axis."""

    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return _last_axis_mean((y_pred - _float_target(y_true, y_pred)).abs())


class MeanAbsolutePercentageError(Loss):
    """100 · mean(|y − p| / max(|y|, ε)) over the last axis."""

    name = "mean_absolute_percentage_error"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        return _last_axis_mean((target - y_pred).abs() / target.abs().clamp(EPSILON, None) * 100.0)


class MeanSquaredLogarithmicError(Loss):
    """mean((log(1 + max(y, ε)) − log(1 + max(p, ε)))²) over the last axis."""

    name = "mean_squared_logarithmic_error"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        diff = (y_pred.clamp(EPSILON, None) + 1.0).log() - (target.clamp(EPSILON, None) + 1.0).log()
        return _last_axis_mean(diff * diff)


class Huber(Loss):
    """½e² where |e| ≤ δ, δ(|e| − ½δ) beyond, averaged over the last axis (e = y − p).

    Args:
        delta: δ. Defaults to 1.0.
    """

    name = "huber_loss"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta <= 0:
            raise ValueError(f"Huber: delta must be a positive number. Received: delta={delta!r}")
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return _last_axis_mean(F.huber_loss(y_pred, _float_target(y_true, y_pred), reduction="none", delta=self.delta))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class KLDivergence(Loss):
    """Σ y·log(y / p) over the last axis (both clipped to [ε, 1])."""

    name = "kl_divergence"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred).clamp(EPSILON, 1.0)
        return (target * (target.log() - y_pred.clamp(EPSILON, 1.0).log())).sum(dim=-1)


class Poisson(Loss):
    """mean(p − y·log(p + ε)) over the last axis."""

    name = "poisson"

    def call(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        return _last_axis_mean(y_pred - target * (y_pred + EPSILON).log())


class Hinge(Loss):
    """mean(max(1 − y·p, 0)) over the last axis; 0/1 targets are mapped to −1/1."""

    name = "hinge"

    def _signed(self, y_true, y_pred):
        target = _float_target(y_true, y_pred)
        if np.all(np.isin(target._array, (0.0, 1.0))):
            target = target * 2.0 - 1.0
        return target

    def call(self, y_true, y_pred):
        return _last_axis_mean((1.0 - self._signed(y_true, y_pred) * y_pred).clamp(0.0, None))


class SquaredHinge(Hinge):
    """mean(max(1 − y·p, 0)²) over the last axis."""

    name = "squared_hinge"

    def call(self, y_true, y_pred):
        margin = (1.0 - self._signed(y_true, y_pred) * y_pred).clamp(0.0, None)
        return _last_axis_mean(margin * margin)


LOSSES = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge,
}  # fmt: skip
_BY_CLASS = {klass.__name__: klass for klass in set(LOSSES.values())}


def get(identifier):
    """A :class:`Loss` from a Keras name (``"categorical_crossentropy"``, ``"mse"``, ...), a class name,
    a Loss object or a function ``fn(y_true, y_pred)``.

    Raises:
        ValueError: an unknown name; the message lists the accepted ones.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        klass = LOSSES.get(identifier.lower()) or _BY_CLASS.get(identifier)
        if klass is None:
            raise ValueError(f"Unknown loss: {identifier!r}. Accepted names: {', '.join(sorted(LOSSES))} "
                             "(or a keras.losses.Loss object, or a function fn(y_true, y_pred))")  # fmt: skip
        return klass()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_CLASS:
        config = {k: v for k, v in identifier.get("config", {}).items() if k not in ("name", "reduction")}
        return _BY_CLASS[identifier["class_name"]](**config)
    if callable(identifier):
        return _FunctionLoss(identifier)
    raise ValueError(f"Unknown loss: {identifier!r}. Accepted names: {', '.join(sorted(LOSSES))}")


class _FunctionLoss(Loss):
    """A user's ``fn(y_true, y_pred)`` (per-sample or scalar) — or a shendu.nn loss module ``fn(output, target)``."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.name = getattr(fn, "__name__", None) or type(fn).__name__
        from ..nn.module import Module

        self._torch_order = isinstance(fn, Module)

    def call(self, y_true, y_pred):
        if self._torch_order:
            return self.fn(y_pred, _tensor(y_true))
        result = self.fn(_tensor(y_true), y_pred)
        return result if isinstance(result, Tensor) else _tensor(result)


def serialize(loss):
    """Plain data naming a loss (for saved compile settings), or None for a user function."""
    if isinstance(loss, _FunctionLoss) or not isinstance(loss, Loss):
        return None
    config = {k: v for k, v in loss.get_config().items() if k not in ("name", "reduction")}
    return {"class_name": type(loss).__name__, "config": config}


# ----- the function forms (per-sample losses, as keras.losses.categorical_crossentropy) -----------
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    return CategoricalCrossentropy(from_logits, label_smoothing).call(y_true, _tensor(y_pred))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits).call(y_true, _tensor(y_pred))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    return BinaryCrossentropy(from_logits, label_smoothing).call(y_true, _tensor(y_pred))


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, _tensor(y_pred))


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, _tensor(y_pred))


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta).call(y_true, _tensor(y_pred))


mse, mae = mean_squared_error, mean_absolute_error
