"""Keras metrics: the names ``compile(metrics=[...])`` accepts, and metric classes, over :mod:`shendu.train.metrics`.

``"accuracy"`` (or ``"acc"``) works for every classification setup — one-hot targets, integer
labels and a single sigmoid output (thresholded at 0.5) — as Keras chooses for you. The value in
``history.history`` is named as you wrote it.
"""

from ..train import metrics as core

__all__ = [
    "get", "Metric", "Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "BinaryAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Precision", "Recall", "F1Score", "MeanAbsoluteError",
    "MeanSquaredError", "RootMeanSquaredError", "R2Score",
]  # fmt: skip

Metric = core.Metric


def _named(base, default):
    def make(name=None, **kwargs):
        return base(name=name or default, **kwargs)

    make.__name__ = default
    return make


Accuracy = _named(core.Accuracy, "accuracy")
CategoricalAccuracy = _named(core.Accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _named(core.Accuracy, "sparse_categorical_accuracy")
BinaryAccuracy = _named(core.Accuracy, "binary_accuracy")
Precision = _named(core.Precision, "precision")
Recall = _named(core.Recall, "recall")
F1Score = _named(core.F1Score, "f1_score")
MeanAbsoluteError = _named(core.MeanAbsoluteError, "mean_absolute_error")
MeanSquaredError = _named(core.MeanSquaredError, "mean_squared_error")
RootMeanSquaredError = _named(core.RootMeanSquaredError, "root_mean_squared_error")
R2Score = _named(core.R2Score, "r2_score")


def TopKCategoricalAccuracy(k=5, name="top_k_categorical_accuracy"):  # noqa: N802
    return core.TopKAccuracy(k, name=name)


def SparseTopKCategoricalAccuracy(k=5, name="sparse_top_k_categorical_accuracy"):  # noqa: N802
    return core.TopKAccuracy(k, name=name)


def get(identifier):
    """A metric object from a name (``"accuracy"``, ``"mae"``, ...), a metric object or a function ``fn(y_true, y_pred)``."""
    return core.get_metric(identifier)
