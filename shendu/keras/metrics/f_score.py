"""F-β and F1 scores per class over a stream of batches (targets one-hot or multi-label, shape (N, C))."""

import numpy as np

from ...tensor import Tensor
from .base import Metric, to_numpy

__all__ = ["FBetaScore", "F1Score"]

EPSILON = 1e-7


class FBetaScore(Metric):
    """F_β = (1 + β²)·P·R / (β²·P + R) from per-class true/false positives and false negatives.

    Args:
        average: None (one score per class), "micro" (from the pooled counts), "macro" (mean over
            classes) or "weighted" (weighted by each class's support). Defaults to None.
        beta: β. Defaults to 1.
        threshold: predictions above it are positive; None marks each row's highest score. Defaults to None.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(dtype=dtype, name=name)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average}")  # fmt: skip
        if not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float > 0. Received: beta={beta}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"Invalid `threshold` argument value. It should be a Python float in the range ]0, 1]. "
                             f"Received: threshold={threshold}")  # fmt: skip
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = to_numpy(y_true, np.float64), to_numpy(y_pred, np.float64)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                             f"shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}.")  # fmt: skip
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = 1.0 if sample_weight is None else to_numpy(sample_weight, np.float64).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        if self._counts is None:
            shape = () if self.average == "micro" else (y_pred.shape[-1],)
            names = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")
            self._counts = [self.add_variable(shape=shape, name=n) for n in names]
        updates = (predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true)
        for variable, update in zip(self._counts, updates):
            variable.assign_add(np.sum(update * weight, axis=axis))

    def result(self):
        if self._counts is None:
            return Tensor(np.asarray(0.0, np.float32))
        tp, fp, fn, support = (v._array.astype(np.float64) for v in self._counts)
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            score = np.sum(score * support / (support.sum() + EPSILON))
        elif self.average is not None:
            score = np.mean(score)
        return Tensor(np.asarray(score, np.float32))

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 = 2·P·R / (P + R) (see :class:`FBetaScore`)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
