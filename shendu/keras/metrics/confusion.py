"""Metrics from confusion counts at thresholds: TruePositives ... FalseNegatives, Precision, Recall, AUC.

Keras' binary semantics: every value of ``y_pred`` is a score for "positive", compared with each
threshold (positive when ``ŷ > threshold``); every value of ``y_true`` is a label (non-zero is
positive). A one-hot target and a softmax output are therefore judged entry by entry, not per class
— ``class_id`` picks one column, ``top_k`` keeps only the k best scores of each row.
"""

import numpy as np

from ...tensor import Tensor
from .base import Metric, same_rank, to_numpy

__all__ = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC"]

EPSILON = 1e-7


def _thresholds(thresholds, default):
    if thresholds is None:
        return np.array([default], dtype=np.float64), True
    single = np.ndim(thresholds) == 0
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if np.any((values < 0) | (values > 1)):
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {list(values)}")
    return values, single


def _prepared(y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """(labels as bool, scores, weights) flattened per label column: arrays of shape (n, labels)."""
    y_pred, y_true = same_rank(to_numpy(y_pred, np.float64), to_numpy(y_true))
    y_true = np.broadcast_to(y_true, y_pred.shape)
    weight = np.ones(y_pred.shape) if sample_weight is None else to_numpy(sample_weight, np.float64)
    if sample_weight is not None:
        weight = weight.reshape(weight.shape + (1,) * (y_pred.ndim - weight.ndim))
        weight = np.broadcast_to(weight, y_pred.shape)
    if top_k is not None:
        kth = -np.sort(-y_pred, axis=-1)[..., min(top_k, y_pred.shape[-1]) - 1 : min(top_k, y_pred.shape[-1])]
        keep = y_pred >= kth
        # ties at the k-th value: keep only the first k by position, as top_k does
        rank = np.cumsum(keep, axis=-1)
        y_pred = np.where(keep & (rank <= top_k), y_pred, -np.inf)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {y_pred.shape}")  # fmt: skip
        y_true, y_pred, weight = y_true[..., class_id], y_pred[..., class_id], weight[..., class_id]
    return y_true.reshape(-1) != 0, y_pred.reshape(-1), weight.reshape(-1)


def confusion_counts(labels, scores, weights, thresholds):
    """(tp, fp, tn, fn) per threshold: weighted counts with positive meaning ``score > threshold``."""
    order = np.argsort(scores, kind="stable")
    scores, labels, weights = scores[order], labels[order], weights[order]
    above = len(scores) - np.searchsorted(scores, thresholds, side="right")  # how many scores are > threshold
    positive_weight = np.concatenate([[0.0], np.cumsum((weights * labels)[::-1])])
    negative_weight = np.concatenate([[0.0], np.cumsum((weights * ~labels)[::-1])])
    tp, fp = positive_weight[above], negative_weight[above]
    return tp, fp, negative_weight[-1] - fp, positive_weight[-1] - tp


class _ConfusionMetric(Metric):
    _default_threshold = 0.5

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.thresholds, self._single = _thresholds(thresholds, self._default_threshold)
        self._thresholds_given = thresholds is not None
        self.top_k, self.class_id = None, None
        self._init_variables(len(self.thresholds))

    def _init_variables(self, n):
        self.accumulator = self.add_variable(shape=(n,), name="accumulator")

    def _counts(self, y_true, y_pred, sample_weight):
        labels, scores, weights = _prepared(y_true, y_pred, sample_weight, self.top_k, self.class_id)
        given = self.top_k is None or self._thresholds_given  # with top_k alone, every kept score is positive
        thresholds = self.thresholds if given else np.full_like(self.thresholds, -np.inf)
        return confusion_counts(labels, scores, weights, thresholds)

    def _value(self, array):
        return Tensor(np.asarray(array[0] if self._single else array, np.float32))

    def get_config(self):
        thresholds = float(self.thresholds[0]) if self._single else self.thresholds.tolist()
        return {**super().get_config(), "thresholds": thresholds}


class _Count(_ConfusionMetric):
    _default_threshold = 0.5
    _index = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.accumulator.assign_add(self._counts(y_true, y_pred, sample_weight)[self._index])

    def result(self):
        return self._value(self.accumulator._array)


class TruePositives(_Count):
    """The weighted number of true positives (label positive, ŷ > threshold)."""

    _index = 0

    def __init__(self, thresholds=None, name="true_positives", dtype=None):
        super().__init__(thresholds, name, dtype)


class FalsePositives(_Count):
    """The weighted number of false positives (label negative, ŷ > threshold)."""

    _index = 1

    def __init__(self, thresholds=None, name="false_positives", dtype=None):
        super().__init__(thresholds, name, dtype)


class TrueNegatives(_Count):
    """The weighted number of true negatives (label negative, ŷ ≤ threshold)."""

    _index = 2

    def __init__(self, thresholds=None, name="true_negatives", dtype=None):
        super().__init__(thresholds, name, dtype)


class FalseNegatives(_Count):
    """The weighted number of false negatives (label positive, ŷ ≤ threshold)."""

    _index = 3

    def __init__(self, thresholds=None, name="false_negatives", dtype=None):
        super().__init__(thresholds, name, dtype)


def _divide_no_nan(a, b):
    b = np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros_like(b), where=b != 0)


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, name, dtype)
        self.top_k, self.class_id = top_k, class_id

    def _init_variables(self, n):
        self.true_positives = self.add_variable(shape=(n,), name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), name="false_positives")
        self.false_negatives = self.add_variable(shape=(n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = self._counts(y_true, y_pred, sample_weight)
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.false_negatives.assign_add(fn)

    def get_config(self):
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """TP / (TP + FP): of the entries scored positive, the fraction that are positive.

    Args:
        thresholds: a threshold or a list (the result is then one value per threshold). Defaults to 0.5.
        top_k: only the k best scores of each row can be positive. Defaults to None.
        class_id: judge only this column. Defaults to None.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives._array.astype(np.float64)
        return self._value(_divide_no_nan(tp, tp + self.false_positives._array))


class Recall(_PrecisionRecall):
    """TP / (TP + FN): of the positive entries, the fraction scored positive (arguments as :class:`Precision`)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives._array.astype(np.float64)
        return self._value(_divide_no_nan(tp, tp + self.false_negatives._array))


class AUC(Metric):
    """The area under the ROC or precision-recall curve, from confusion counts at ``num_thresholds`` thresholds.

    Args:
        num_thresholds: evenly spaced thresholds in (0, 1), plus -ε and 1+ε. Defaults to 200.
        curve: "ROC" (TPR over FPR) or "PR" (precision over recall). Defaults to "ROC".
        summation_method: "interpolation" (trapezoids; for PR the Davis & Goadrich interpolation),
            "minoring" or "majoring". Defaults to "interpolation".
        multi_label: one curve per label column, averaged. Defaults to False (all entries together).
        from_logits: apply a sigmoid to the scores first. Defaults to False.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):  # fmt: skip
        super().__init__(dtype=dtype, name=name)
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
        else:
            if int(num_thresholds) <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method = str(curve).upper(), str(summation_method).lower()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]')
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             '["interpolation", "majoring", "minoring"]')  # fmt: skip
        self.multi_label, self.from_logits = bool(multi_label), bool(from_logits)
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        self._labels = num_labels
        if not self.multi_label or num_labels is not None:
            self._build(num_labels)

    def _build(self, labels):
        shape = (self.num_thresholds, labels) if self.multi_label else (self.num_thresholds,)
        self._labels = labels
        self.true_positives = self.add_variable(shape=shape, name="true_positives")
        self.false_positives = self.add_variable(shape=shape, name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_numpy(y_pred, np.float64)
        if self.from_logits:
            y_pred = 0.5 * (1 + np.tanh(0.5 * y_pred))  # sigmoid, without overflow
        if self.multi_label:
            if "true_positives" not in self.__dict__:
                self._build(y_pred.shape[-1])
            columns = [_prepared(to_numpy(y_true)[..., i], y_pred[..., i], sample_weight) for i in range(y_pred.shape[-1])]
            counts = np.stack([np.stack(confusion_counts(*c, self.thresholds), axis=-1) for c in columns], axis=-1)
            counts = np.moveaxis(counts, 1, 0)  # (4, thresholds, labels)
        else:
            counts = confusion_counts(*_prepared(y_true, y_pred, sample_weight), self.thresholds)
        for variable, count in zip((self.true_positives, self.false_positives, self.true_negatives,
                                    self.false_negatives), counts):  # fmt: skip
            variable.assign_add(count)

    def _areas(self):
        tp, fp = self.true_positives._array.astype(np.float64), self.false_positives._array.astype(np.float64)
        tn, fn = self.true_negatives._array.astype(np.float64), self.false_negatives._array.astype(np.float64)
        if self.curve == "PR" and self.summation_method == "interpolation":
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            dp = p[:-1] - p[1:]
            slope = _divide_no_nan(dtp, np.maximum(dp, 0))
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
            return _divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return (x[:-1] - x[1:]) * heights

    def result(self):
        if "true_positives" not in self.__dict__:
            return Tensor(np.asarray(0.0, np.float32))
        areas = self._areas()
        if not self.multi_label:
            return Tensor(np.asarray(areas.sum(), np.float32))
        per_label = areas.sum(axis=0)
        if self.label_weights is None:
            return Tensor(np.asarray(per_label.mean(), np.float32))
        return Tensor(np.asarray(_divide_no_nan(np.sum(per_label * self.label_weights), self.label_weights.sum()),
                                 np.float32))  # fmt: skip

    def reset_state(self):
        if "true_positives" in self.__dict__:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "multi_label": self.multi_label,
                "from_logits": self.from_logits}  # fmt: skip
