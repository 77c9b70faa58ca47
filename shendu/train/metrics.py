"""Metrics: functions on whole arrays, and streaming :class:`Metric` objects for the training loop.

The functions follow scikit-learn's argument order and conventions (``metric(y_true, y_pred)``,
confusion-matrix rows are true classes, macro averages over the classes present in either
array, a zero denominator gives 0). Class predictions may be given as labels, as scores /
probabilities / logits of shape ``(N, C)`` (the arg-max is taken), or as probabilities of the
positive class of shape ``(N,)`` or ``(N, 1)`` (thresholded at 0.5); targets may be labels or
one-hot rows.

A :class:`Metric` accumulates over batches (``update(y_true, y_pred)``) and reports the value
for everything it has seen (``compute()``), so an epoch's F1 or R² is exact, not an average of
per-batch values. :func:`get_metric` turns names such as ``"accuracy"``, ``"top5_accuracy"``,
``"f1"``, ``"mae"`` or ``"r2"`` into metric objects.
"""

import re

import numpy as np

from ..tensor import Tensor

__all__ = [
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision",
    "recall",
    "f1_score",
    "precision_recall_f1",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "r2_score",
    "Metric",
    "Accuracy",
    "TopKAccuracy",
    "ConfusionMatrix",
    "Precision",
    "Recall",
    "F1Score",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RootMeanSquaredError",
    "R2Score",
    "FunctionMetric",
    "get_metric",
]


def _array(x):
    if isinstance(x, Tensor):
        return x._array
    return np.asarray(x)


def class_labels(y, threshold=0.5):
    """Labels from labels, one-hot rows, scores of shape (N, C) or positive-class probabilities."""
    y = _array(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        return y.argmax(axis=-1).reshape(-1)
    y = y.reshape(-1)
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        return (y >= threshold).astype(np.int64)  # probabilities of the positive class
    return y.astype(np.int64)  # labels (also integral labels stored as floats)


def _check_lengths(y_true, y_pred, name):
    if len(y_true) != len(y_pred):
        raise ValueError(f"{name}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}")


def accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of samples whose predicted class equals the true class.

    Example:
        >>> accuracy([0, 1, 2], [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
        0.6666666666666666
    """
    t, p = class_labels(y_true, threshold), class_labels(y_pred, threshold)
    _check_lengths(t, p, "accuracy")
    return float(np.mean(t == p)) if len(t) else 0.0


def _top_k_hits(y_true, y_score, k):
    y_score = _array(y_score)
    if y_score.ndim != 2:
        raise ValueError(f"top_k_accuracy: y_score must have shape (N, C); got {y_score.shape}")
    if not 1 <= k:
        raise ValueError(f"top_k_accuracy: k must be a positive integer. Received: k={k!r}")
    t = class_labels(y_true)
    _check_lengths(t, y_score, "top_k_accuracy")
    # NOTE: the same stable ordering as scikit-learn, so ties are broken identically.
    top = np.argsort(y_score, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return (top == t[:, None]).any(axis=1)


def top_k_accuracy(y_true, y_score, k=5):
    """Fraction of samples whose true class is among the ``k`` highest scores."""
    hits = _top_k_hits(y_true, y_score, k)
    return float(hits.mean()) if len(hits) else 0.0


def confusion_matrix(y_true, y_pred, num_classes=None):
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``."""
    t, p = class_labels(y_true), class_labels(y_pred)
    _check_lengths(t, p, "confusion_matrix")
    if len(t) and min(t.min(), p.min()) < 0:
        raise ValueError("confusion_matrix: class labels must be non-negative integers")
    n = num_classes if num_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if len(t) and max(t.max(), p.max()) >= n:
        raise ValueError(f"confusion_matrix: a label is >= num_classes={n}")
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n).astype(np.int64)


def _scores_from_confusion(matrix, average, present=None):
    matrix = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(predicted > 0, tp / predicted, 0.0)
        r = np.where(actual > 0, tp / actual, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    if average is None:
        return p, r, f
    if present is None:
        present = (predicted + actual) > 0
    if average == "macro":
        return tuple(float(v[present].mean()) if present.any() else 0.0 for v in (p, r, f))
    if average == "weighted":
        total = actual.sum()
        return tuple(float((v * actual).sum() / total) if total else 0.0 for v in (p, r, f))
    if average == "micro":
        total, correct = matrix.sum(), tp.sum()
        value = float(correct / total) if total else 0.0
        return value, value, value
    raise ValueError(f"average must be 'macro', 'micro', 'weighted' or None. Received: average={average!r}")


def precision_recall_f1(y_true, y_pred, average="macro", num_classes=None):
    """(precision, recall, F1): floats for an average, per-class arrays for ``average=None``."""
    return _scores_from_confusion(confusion_matrix(y_true, y_pred, num_classes), average)


def precision(y_true, y_pred, average="macro", num_classes=None):
    """Of the samples predicted as a class, the fraction that belong to it (macro-averaged by default)."""
    return precision_recall_f1(y_true, y_pred, average, num_classes)[0]


def recall(y_true, y_pred, average="macro", num_classes=None):
    """Of the samples of a class, the fraction predicted as it (macro-averaged by default)."""
    return precision_recall_f1(y_true, y_pred, average, num_classes)[1]


def f1_score(y_true, y_pred, average="macro", num_classes=None):
    """Harmonic mean of precision and recall, per class then averaged (macro by default)."""
    return precision_recall_f1(y_true, y_pred, average, num_classes)[2]


def _regression_arrays(y_true, y_pred, name):
    t, p = _array(y_true).astype(np.float64), _array(y_pred).astype(np.float64)
    if t.size != p.size:
        raise ValueError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}")
    if t.ndim <= 1 or p.ndim <= 1:
        t, p = t.reshape(-1), p.reshape(-1)
    else:
        t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    return t, p


def mean_absolute_error(y_true, y_pred):
    """mean |y - ŷ|."""
    t, p = _regression_arrays(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(t - p)))


def mean_squared_error(y_true, y_pred):
    """mean (y - ŷ)²."""
    t, p = _regression_arrays(y_true, y_pred, "mean_squared_error")
    return float(np.mean((t - p) ** 2))


def root_mean_squared_error(y_true, y_pred):
    """√MSE."""
    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def _r2_from_sums(n, sum_y, sum_y2, sse):
    sst = sum_y2 - sum_y**2 / max(n, 1)
    sst = np.maximum(sst, 0.0)
    # scikit-learn's convention for a constant target: 1 for a perfect fit, else 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1.0), np.where(sse == 0, 1.0, 0.0))
    return float(np.mean(r2))


def r2_score(y_true, y_pred):
    """Coefficient of determination 1 - Σ(y-ŷ)²/Σ(y-ȳ)², averaged over outputs."""
    t, p = _regression_arrays(y_true, y_pred, "r2_score")
    return _r2_from_sums(len(t), t.sum(axis=0), (t**2).sum(axis=0), ((t - p) ** 2).sum(axis=0))


# ----- streaming metrics -----------------------------------------------------------------
class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(y_true, y_pred)``, ``compute()``.

    Attributes:
        name: the key used in logs and history.
        mode: ``"max"`` if higher is better, else ``"min"``.
    """

    name = "metric"
    mode = "max"

    def reset(self):
        raise NotImplementedError

    def update(self, y_true, y_pred):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred):
        """Compute the metric on one pair of arrays (resets the accumulated state)."""
        self.reset()
        self.update(y_true, y_pred)
        return self.compute()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Fraction of correct class predictions (see :func:`accuracy`)."""

    def __init__(self, name="accuracy", threshold=0.5):
        self.name, self.threshold = name, threshold
        self.reset()

    def reset(self):
        self.correct, self.total = 0, 0

    def update(self, y_true, y_pred):
        t, p = class_labels(y_true, self.threshold), class_labels(y_pred, self.threshold)
        _check_lengths(t, p, self.name)
        self.correct += int((t == p).sum())
        self.total += len(t)

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class TopKAccuracy(Metric):
    """Fraction of samples whose true class is among the top ``k`` scores."""

    def __init__(self, k=5, name=None):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive integer. Received: k={k!r}")
        self.k, self.name = k, name or f"top{k}_accuracy"
        self.reset()

    def reset(self):
        self.correct, self.total = 0, 0

    def update(self, y_true, y_pred):
        hits = _top_k_hits(y_true, y_pred, self.k)
        self.correct += int(hits.sum())
        self.total += len(hits)

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class ConfusionMatrix(Metric):
    """The confusion matrix of everything seen (grows as new classes appear)."""

    def __init__(self, num_classes=None, name="confusion_matrix"):
        self.num_classes, self.name = num_classes, name
        self.reset()

    def reset(self):
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), dtype=np.int64)

    def update(self, y_true, y_pred):
        t, p = class_labels(y_true), class_labels(y_pred)
        _check_lengths(t, p, self.name)
        n = max(len(self.matrix), int(max(t.max(initial=-1), p.max(initial=-1)) + 1))
        if self.num_classes is not None and n > self.num_classes:
            raise ValueError(f"{self.name}: a label is >= num_classes={self.num_classes}")
        if n > len(self.matrix):
            grown = np.zeros((n, n), dtype=np.int64)
            grown[: len(self.matrix), : len(self.matrix)] = self.matrix
            self.matrix = grown
        self.matrix += confusion_matrix(t, p, n)

    def compute(self):
        return self.matrix.copy()


class _ConfusionScore(ConfusionMatrix):
    _index = 0

    def __init__(self, average="macro", num_classes=None, name=None):
        if average not in ("macro", "micro", "weighted", None):
            raise ValueError(f"average must be 'macro', 'micro', 'weighted' or None. Received: average={average!r}")
        self.average = average
        super().__init__(num_classes, name or self._default_name)

    def compute(self):
        present = None
        if self.num_classes is not None:
            present = np.ones(len(self.matrix), dtype=bool)
        return _scores_from_confusion(self.matrix, self.average, present)[self._index]


class Precision(_ConfusionScore):
    """Precision over everything seen; macro-averaged by default, per class with ``average=None``."""

    _default_name, _index = "precision", 0


class Recall(_ConfusionScore):
    """Recall over everything seen; macro-averaged by default, per class with ``average=None``."""

    _default_name, _index = "recall", 1


class F1Score(_ConfusionScore):
    """F1 over everything seen; macro-averaged by default, per class with ``average=None``."""

    _default_name, _index = "f1", 2


class _RegressionMetric(Metric):
    mode = "min"

    def __init__(self, name=None):
        self.name = name or self._default_name
        self.reset()

    def reset(self):
        self.n, self.sum_abs, self.sum_sq = 0, 0.0, 0.0

    def update(self, y_true, y_pred):
        t, p = _regression_arrays(y_true, y_pred, self.name)
        diff = (t - p).reshape(-1)
        self.n += diff.size
        self.sum_abs += float(np.abs(diff).sum())
        self.sum_sq += float((diff**2).sum())


class MeanAbsoluteError(_RegressionMetric):
    """mean |y - ŷ| over everything seen."""

    _default_name = "mae"

    def compute(self):
        return self.sum_abs / self.n if self.n else 0.0


class MeanSquaredError(_RegressionMetric):
    """mean (y - ŷ)² over everything seen."""

    _default_name = "mse"

    def compute(self):
        return self.sum_sq / self.n if self.n else 0.0


class RootMeanSquaredError(_RegressionMetric):
    """√MSE over everything seen."""

    _default_name = "rmse"

    def compute(self):
        return float(np.sqrt(self.sum_sq / self.n)) if self.n else 0.0


class R2Score(Metric):
    """R² over everything seen (per output, then averaged), from running sums."""

    def __init__(self, name="r2"):
        self.name = name
        self.reset()

    def reset(self):
        self.n, self.sum_y, self.sum_y2, self.sse = 0, 0.0, 0.0, 0.0

    def update(self, y_true, y_pred):
        t, p = _regression_arrays(y_true, y_pred, self.name)
        self.n += len(t)
        self.sum_y = self.sum_y + t.sum(axis=0)
        self.sum_y2 = self.sum_y2 + (t**2).sum(axis=0)
        self.sse = self.sse + ((t - p) ** 2).sum(axis=0)

    def compute(self):
        return _r2_from_sums(self.n, np.asarray(self.sum_y), np.asarray(self.sum_y2), np.asarray(self.sse))


class FunctionMetric(Metric):
    """Any ``fn(y_true, y_pred) -> float``, applied once to everything seen in an epoch."""

    def __init__(self, fn, name=None, mode="max"):
        if not callable(fn):
            raise TypeError(f"FunctionMetric expects a callable; got {type(fn).__name__}")
        self.fn, self.name, self.mode = fn, name or getattr(fn, "__name__", "metric"), mode
        self.reset()

    def reset(self):
        self.trues, self.preds = [], []

    def update(self, y_true, y_pred):
        self.trues.append(np.array(_array(y_true)))
        self.preds.append(np.array(_array(y_pred)))

    def compute(self):
        if not self.trues:
            return 0.0
        return self.fn(np.concatenate(self.trues), np.concatenate(self.preds))


_NAMED = {
    "accuracy": Accuracy, "acc": Accuracy, "categorical_accuracy": Accuracy,
    "sparse_categorical_accuracy": Accuracy, "binary_accuracy": Accuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "confusion_matrix": ConfusionMatrix,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "r2": R2Score, "r2_score": R2Score,
}  # fmt: skip
_TOP_K = re.compile(r"^(?:top_?(\d+)_accuracy|top_k_accuracy|sparse_top_k_categorical_accuracy|top_k_categorical_accuracy)$")


def get_metric(spec):
    """A :class:`Metric` from a name, a Metric, or a function ``fn(y_true, y_pred)``.

    Names: accuracy (acc), top5_accuracy / top_k_accuracy (k=5) / top3_accuracy, precision,
    recall, f1, confusion_matrix, mae, mse, rmse, r2.
    """
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key in _NAMED:
            return _NAMED[key](name=spec)
        match = _TOP_K.match(key)
        if match:
            return TopKAccuracy(int(match.group(1) or 5), name=spec)
        raise ValueError(f"unknown metric {spec!r}; known: {sorted(_NAMED) + ['top5_accuracy', 'top_k_accuracy']}")
    if callable(spec):
        return FunctionMetric(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function; got {type(spec).__name__}")
