"""Accuracy metrics: exact match, binary (thresholded), categorical (arg-max), sparse and top-k.

Each function returns one value per sample (a tensor); each class is the running mean of its
function (a :class:`~shendu.keras.metrics.base.MeanMetricWrapper`), as in Keras.
"""

import numpy as np

from ...tensor import Tensor
from .base import MeanMetricWrapper, same_rank, to_numpy

__all__ = [
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
]  # fmt: skip


def _result(values):
    return Tensor(np.asarray(values, dtype=np.float32))


def accuracy(y_true, y_pred):
    """1 where the prediction equals the target exactly, else 0."""
    y_pred, y_true = same_rank(to_numpy(y_pred), to_numpy(y_true))
    return _result(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """mean over the last axis of [y == (ŷ > threshold)]."""
    y_pred, y_true = same_rank(to_numpy(y_pred), to_numpy(y_true))
    return _result(np.mean(y_true == (y_pred > threshold), axis=-1))


def _sparse_hits(labels, y_pred):
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels.astype(np.int64) == np.argmax(y_pred, axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where arg-max(ŷ) is the hot index of the one-hot target."""
    return _result(_sparse_hits(np.argmax(to_numpy(y_true), axis=-1), to_numpy(y_pred)))


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where arg-max(ŷ) equals the integer label."""
    return _result(_sparse_hits(to_numpy(y_true), to_numpy(y_pred)))


def _in_top_k(labels, y_pred, k):
    # Keras' rule: a hit when the target's score is at least the k-th highest score (ties count).
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1).astype(np.int64)
    k = min(int(k), scores.shape[-1])
    kth = np.partition(scores, scores.shape[-1] - k, axis=-1)[:, scores.shape[-1] - k]
    return (scores[np.arange(len(labels)), labels] >= kth).reshape(y_pred.shape[:-1])


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the hot index of the target is among the k highest scores."""
    return _result(_in_top_k(np.argmax(to_numpy(y_true), axis=-1), to_numpy(y_pred), k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the k highest scores (or the first k ids, with from_sorted_ids)."""
    labels, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if from_sorted_ids:
        labels = labels.reshape(len(y_pred), -1)[:, :1]
        return _result(np.any(y_pred[:, :k] == labels, axis=-1))
    return _result(_in_top_k(labels, y_pred, k))


class Accuracy(MeanMetricWrapper):
    """How often predictions equal targets exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (ŷ > threshold) equals the binary target."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often arg-max(ŷ) matches the one-hot target."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often arg-max(ŷ) matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is in the top ``k`` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)
