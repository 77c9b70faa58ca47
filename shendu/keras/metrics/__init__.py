"""Keras metrics: classes with Keras' state (``update_state`` / ``result`` / ``reset_state``), their
per-sample functions, and the names ``compile(metrics=[...])`` accepts.

``"accuracy"`` (or ``"acc"``) in ``compile`` becomes binary, sparse categorical or categorical
accuracy from the shapes of the targets and the outputs, as Keras chooses; the value in the logs
is named as you wrote it.
"""

from ..backend import snake_case
from .accuracy import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy, accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)  # fmt: skip
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .f_score import F1Score, FBetaScore
from .regression import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge, KLDivergence,
    LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
    Poisson, R2Score, RootMeanSquaredError, SparseCategoricalCrossentropy, SquaredHinge, categorical_hinge,
    cosine_similarity, log_cosh,
)  # fmt: skip

_CLASSES = [
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, Mean, Sum, MeanMetricWrapper, TruePositives, FalsePositives, TrueNegatives,
    FalseNegatives, Precision, Recall, AUC, F1Score, FBetaScore, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError,
    R2Score, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge,
]  # fmt: skip
_FUNCTIONS = [
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, cosine_similarity, log_cosh, categorical_hinge,
]  # fmt: skip
_ALIASES = {
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "bce": BinaryCrossentropy, "rmse": RootMeanSquaredError,
}  # fmt: skip
NAMES = {**{cls.__name__: cls for cls in _CLASSES}, **{snake_case(cls.__name__): cls for cls in _CLASSES},
         **{k: v for k, v in _ALIASES.items()}, **{k.upper(): v for k, v in _ALIASES.items() if k != "rmse"}}  # fmt: skip
NAMES.update({"auc": AUC, "AUC": AUC, "logcosh": LogCoshError, "f_beta_score": FBetaScore})

__all__ = sorted({cls.__name__ for cls in _CLASSES} | {fn.__name__ for fn in _FUNCTIONS} | {"get", "serialize",
                  "deserialize"})  # fmt: skip


def get(identifier):
    """A metric object from a name (``"mae"``, ``"precision"``, ``"AUC"``, ...), a class, a metric object, a
    config dict, or a function ``fn(y_true, y_pred)`` (wrapped as the running mean of its values).

    ``"accuracy"``/``"acc"`` give :class:`Accuracy` here; ``compile`` picks the kind from the data.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = "accuracy" if identifier.lower() in ("acc", "accuracy") else identifier
        if key not in NAMES:
            raise ValueError(f"Could not interpret metric identifier: {identifier}. Known names: "
                             f"{', '.join(sorted(k for k in NAMES if k.islower()))}")  # fmt: skip
        return NAMES[key]()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    """``{"class_name", "config"}`` for a built-in metric."""
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config, custom_objects=None):
    name = config.get("class_name")
    classes = {**NAMES, **(custom_objects or {})}
    if name not in classes:
        raise ValueError(f"Could not interpret metric identifier: {name!r}")
    return classes[name].from_config(config.get("config", {}))


def resolve(identifier, y_true_shape, y_pred_shape):
    """The metric ``compile`` uses for ``identifier`` given the target and output shapes (Keras' rule for
    "accuracy": one output unit → binary; targets of lower rank or width 1 → sparse; else categorical)."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if y_pred_shape[-1] == 1:
            metric = BinaryAccuracy(name=identifier)
        elif len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] != 1):
            metric = SparseCategoricalAccuracy(name=identifier)
        else:
            metric = CategoricalAccuracy(name=identifier)
        return metric
    metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric
