"""Regression and probabilistic metrics: running means of per-sample errors and losses, R², cosine similarity.

The per-sample functions are those of :mod:`shendu.keras.losses` (mean over the last axis), so a
metric and the loss of the same name agree.
"""

import numpy as np

from ...tensor import Tensor
from .. import losses
from .base import MeanMetricWrapper, Metric, same_rank, to_numpy

__all__ = [
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "CosineSimilarity", "LogCoshError", "R2Score", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "Hinge", "SquaredHinge",
    "CategoricalHinge", "cosine_similarity", "log_cosh", "categorical_hinge",
]  # fmt: skip


def _per_sample(loss_class, **config):
    """The per-sample function of a Keras loss class."""

    def fn(y_true, y_pred, **kwargs):
        loss = loss_class(**config, **kwargs)
        return loss.call(y_true, losses._tensor(to_numpy(y_pred).astype(np.float32, copy=False)))

    fn.__name__ = getattr(loss_class, "name", loss_class.__name__)
    return fn


def _loss_metric(loss_class, default_name, doc, mode="min"):
    class LossMetric(MeanMetricWrapper):
        def __init__(self, name=default_name, dtype=None, **kwargs):
            super().__init__(_per_sample(loss_class), name=name, dtype=dtype, **kwargs)

    LossMetric.mode = mode
    LossMetric.__name__ = LossMetric.__qualname__ = loss_class.__name__
    LossMetric.__doc__ = doc
    return LossMetric


MeanSquaredError = _loss_metric(losses.MeanSquaredError, "mean_squared_error", "The running mean of mean((y − ŷ)²).")
MeanAbsoluteError = _loss_metric(losses.MeanAbsoluteError, "mean_absolute_error", "The running mean of mean(|y − ŷ|).")
MeanAbsolutePercentageError = _loss_metric(
    losses.MeanAbsolutePercentageError, "mean_absolute_percentage_error", "The running mean of 100·mean(|y − ŷ| / |y|)."
)
MeanSquaredLogarithmicError = _loss_metric(
    losses.MeanSquaredLogarithmicError, "mean_squared_logarithmic_error",
    "The running mean of mean((log(1 + y) − log(1 + ŷ))²).",
)  # fmt: skip
BinaryCrossentropy = _loss_metric(losses.BinaryCrossentropy, "binary_crossentropy", "The running mean of the BCE.")
CategoricalCrossentropy = _loss_metric(
    losses.CategoricalCrossentropy, "categorical_crossentropy", "The running mean of the categorical cross-entropy."
)
SparseCategoricalCrossentropy = _loss_metric(
    losses.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy",
    "The running mean of the sparse categorical cross-entropy.",
)  # fmt: skip
KLDivergence = _loss_metric(losses.KLDivergence, "kl_divergence", "The running mean of Σ y·log(y / ŷ).")
Poisson = _loss_metric(losses.Poisson, "poisson", "The running mean of mean(ŷ − y·log ŷ).")
Hinge = _loss_metric(losses.Hinge, "hinge", "The running mean of mean(max(1 − y·ŷ, 0)).")
SquaredHinge = _loss_metric(losses.SquaredHinge, "squared_hinge", "The running mean of mean(max(1 − y·ŷ, 0)²).")


def _pair(y_true, y_pred):
    y_pred, y_true = same_rank(to_numpy(y_pred, np.float64), to_numpy(y_true, np.float64))
    return y_true, y_pred


def cosine_similarity(y_true, y_pred, axis=-1):
    """Σ y·ŷ / (‖y‖·‖ŷ‖) along ``axis`` (each vector L2-normalised with ε = 1e-12)."""
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true / np.sqrt(np.maximum(np.sum(y_true**2, axis=axis, keepdims=True), 1e-12))
    p = y_pred / np.sqrt(np.maximum(np.sum(y_pred**2, axis=axis, keepdims=True), 1e-12))
    return Tensor(np.sum(t * p, axis=axis).astype(np.float32))


def log_cosh(y_true, y_pred):
    """mean over the last axis of log(cosh(ŷ − y)), computed as x + softplus(−2x) − log 2 (no overflow)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return Tensor(np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1).astype(np.float32))


def categorical_hinge(y_true, y_pred):
    """max(0, 1 + max((1 − y)·ŷ) − Σ y·ŷ) for one-hot targets."""
    y_true, y_pred = _pair(y_true, y_pred)
    positive = np.sum(y_true * y_pred, axis=-1)
    negative = np.max((1.0 - y_true) * y_pred, axis=-1)
    return Tensor(np.maximum(negative - positive + 1.0, 0.0).astype(np.float32))


class CosineSimilarity(MeanMetricWrapper):
    """The running mean of the cosine similarity between targets and predictions."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """The running mean of log(cosh(ŷ − y))."""

    mode = "min"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The running mean of the categorical hinge loss."""

    mode = "min"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class RootMeanSquaredError(MeanSquaredError):  # type: ignore[valid-type,misc]  # a class made by _loss_metric
    """√(running mean of the squared errors)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        return Tensor(np.sqrt(to_numpy(super().result())).astype(np.float32))


class R2Score(Metric):
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output, from running sums.

    Args:
        class_aggregation: "uniform_average" (mean over outputs), "variance_weighted_average" or None
            (one value per output). Defaults to "uniform_average".
        num_regressors: p of the adjusted R², 1 − (1 − R²)(n − 1)/(n − p − 1). Defaults to 0.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(dtype=dtype, name=name)
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of {'uniform_average', "
                             f"'variance_weighted_average', None}}. Received: class_aggregation={class_aggregation}")  # fmt: skip
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        self.num_samples = self.add_variable(name="num_samples")
        self._sums = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        if y_true.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        weight = np.ones((len(y_true), 1)) if sample_weight is None else to_numpy(sample_weight, np.float64)
        weight = np.broadcast_to(weight.reshape(len(y_true), -1), y_true.shape)
        if self._sums is None:
            names = ("squared_sum", "sum", "total_mse", "count")
            self._sums = [self.add_variable(shape=(y_true.shape[-1],), name=n) for n in names]
        updates = ((weight * y_true**2).sum(0), (weight * y_true).sum(0), (weight * (y_true - y_pred) ** 2).sum(0),
                   weight.sum(0))  # fmt: skip
        for variable, update in zip(self._sums, updates):
            variable.assign_add(update)
        self.num_samples.assign_add(len(y_true))

    def result(self):
        if self._sums is None:
            return Tensor(np.asarray(0.0, np.float32))
        squared_sum, total, residual, count = (v._array.astype(np.float64) for v in self._sums)
        mean = total / count
        variance = squared_sum - total * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(variance != 0, 1 - residual / np.where(variance != 0, variance, 1.0), 0.0)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(raw * variance / variance.sum())
        else:
            score = raw
        n, p = float(self.num_samples._array), self.num_regressors
        if p and n - p - 1 > 0:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return Tensor(np.asarray(score, np.float32))
