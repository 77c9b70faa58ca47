"""``shendu.keras.metrics`` gives real Keras 3's values: the same batches (with and without sample weights)
fed to both sides' metric objects, streaming over two updates, then reset."""

import os
import re

import numpy as np
import pytest

from shendu.keras import metrics, ops

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(3)
N, C = 12, 4
PROBS = rng.dirichlet(np.ones(C), size=(2, N)).astype(np.float32)
ONE_HOT = np.eye(C, dtype=np.float32)[rng.integers(0, C, (2, N))]
LABELS = rng.integers(0, C, (2, N)).astype(np.float32)
SCORES = rng.uniform(0, 1, (2, N, 1)).astype(np.float32)
BINARY = rng.integers(0, 2, (2, N, 1)).astype(np.float32)
MULTI_LABEL = rng.integers(0, 2, (2, N, C)).astype(np.float32)
MULTI_SCORES = rng.uniform(0, 1, (2, N, C)).astype(np.float32)
REG_TRUE = rng.uniform(0.5, 3, (2, N, 3)).astype(np.float32)
REG_PRED = (REG_TRUE + rng.normal(0, 0.4, (2, N, 3))).astype(np.float32)
WEIGHTS = rng.uniform(0, 2, (2, N)).astype(np.float32)

CASES = [
    ("Accuracy", {}, LABELS, np.round(LABELS + (rng.uniform(0, 1, LABELS.shape) > 0.6))),
    ("BinaryAccuracy", {}, BINARY, SCORES), ("BinaryAccuracy", {"threshold": 0.3}, BINARY, SCORES),
    ("CategoricalAccuracy", {}, ONE_HOT, PROBS), ("SparseCategoricalAccuracy", {}, LABELS, PROBS),
    ("TopKCategoricalAccuracy", {"k": 2}, ONE_HOT, PROBS), ("SparseTopKCategoricalAccuracy", {"k": 2}, LABELS, PROBS),
    ("TruePositives", {}, BINARY, SCORES), ("FalsePositives", {}, BINARY, SCORES),
    ("TrueNegatives", {}, BINARY, SCORES), ("FalseNegatives", {"thresholds": [0.2, 0.5, 0.8]}, BINARY, SCORES),
    ("Precision", {}, BINARY, SCORES), ("Recall", {}, BINARY, SCORES), ("Precision", {}, ONE_HOT, PROBS),
    ("Recall", {}, ONE_HOT, PROBS), ("Precision", {"thresholds": [0.1, 0.4, 0.7]}, BINARY, SCORES),
    ("Precision", {"class_id": 2}, ONE_HOT, PROBS), ("Recall", {"top_k": 2}, ONE_HOT, PROBS),
    ("Precision", {"top_k": 1}, ONE_HOT, PROBS),
    ("AUC", {}, BINARY, SCORES), ("AUC", {"curve": "PR"}, BINARY, SCORES),
    ("AUC", {"summation_method": "minoring", "num_thresholds": 50}, BINARY, SCORES),
    ("AUC", {"multi_label": True}, MULTI_LABEL, MULTI_SCORES), ("AUC", {"from_logits": True}, BINARY, SCORES * 8 - 4),
    ("F1Score", {}, ONE_HOT, PROBS), ("F1Score", {"average": "macro"}, ONE_HOT, PROBS),
    ("F1Score", {"average": "micro", "threshold": 0.3}, ONE_HOT, PROBS),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}, ONE_HOT, PROBS),
    ("MeanSquaredError", {}, REG_TRUE, REG_PRED), ("MeanAbsoluteError", {}, REG_TRUE, REG_PRED),
    ("MeanAbsolutePercentageError", {}, REG_TRUE, REG_PRED), ("MeanSquaredLogarithmicError", {}, REG_TRUE, REG_PRED),
    ("RootMeanSquaredError", {}, REG_TRUE, REG_PRED), ("CosineSimilarity", {}, REG_TRUE, REG_PRED),
    ("LogCoshError", {}, REG_TRUE, REG_PRED), ("R2Score", {}, REG_TRUE, REG_PRED),
    ("BinaryCrossentropy", {}, BINARY, SCORES), ("CategoricalCrossentropy", {}, ONE_HOT, PROBS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROBS), ("KLDivergence", {}, ONE_HOT, PROBS),
    ("Poisson", {}, REG_TRUE, REG_PRED), ("Hinge", {}, BINARY * 2 - 1, SCORES * 2 - 1),
    ("SquaredHinge", {}, BINARY * 2 - 1, SCORES * 2 - 1), ("CategoricalHinge", {}, ONE_HOT, PROBS),
]  # fmt: skip


def _value(result):
    return np.asarray(result.detach().cpu().numpy() if hasattr(result, "detach") and hasattr(result, "cpu")
                      else result.numpy() if hasattr(result, "numpy") else result, dtype=np.float64)  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,kwargs,y_true,y_pred", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_streaming_values_equal_keras(name, kwargs, y_true, y_pred, weighted):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for batch in range(2):
        weight = WEIGHTS[batch] if weighted else None
        ours.update_state(y_true[batch], y_pred[batch], sample_weight=weight)
        theirs.update_state(y_true[batch], y_pred[batch], sample_weight=weight)
        np.testing.assert_allclose(_value(ours.result()), _value(theirs.result()), rtol=2e-5, atol=2e-6)
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeated names
    ours.reset_state()
    theirs.reset_state()
    ours.update_state(y_true[0], y_pred[0])
    theirs.update_state(y_true[0], y_pred[0])
    np.testing.assert_allclose(_value(ours.result()), _value(theirs.result()), rtol=2e-5, atol=2e-6)


def test_precision_and_recall_are_binary_not_averaged_over_classes():
    # Keras judges every entry against the threshold: the class-averaged numbers would be different.
    y_true, y_pred = np.array([[0, 1], [1, 0], [0, 1]], np.float32), np.array([[0.6, 0.4], [0.8, 0.2], [0.3, 0.7]], np.float32)
    precision = metrics.Precision()
    precision.update_state(y_true, y_pred)
    assert float(precision.result()) == pytest.approx(2 / 3)
    recall = metrics.Recall()
    recall.update_state(y_true, y_pred)
    assert float(recall.result()) == pytest.approx(2 / 3)


def test_mean_and_sum_with_weights_equal_keras():
    values, weights = np.array([1.0, 3.0, 5.0, 7.0]), np.array([1.0, 1.0, 0.0, 0.0])
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        ours.update_state(values, sample_weight=weights)
        theirs.update_state(values, sample_weight=weights)
        ours.update_state(values[:2])
        theirs.update_state(values[:2])
        assert float(ours.result()) == pytest.approx(float(_value(theirs.result())))


class CategoricalTruePositives(metrics.Metric):
    """The subclassed metric of the Keras guide "Training & evaluation with the built-in methods"."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_a_subclassed_metric_streams_and_resets():
    metric = CategoricalTruePositives()
    labels = np.array([[0], [1], [2]])
    probs = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.7], [0.0, 0.1, 0.9]], np.float32)
    assert float(metric(labels, probs)) == 2.0  # calling updates and returns the result, as Keras
    metric.update_state(labels, probs)
    assert float(metric.result()) == 4.0
    assert [v.path for v in metric.variables] == ["categorical_true_positives/ctp"]
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_a_subclassed_metric_in_fit_is_logged_per_epoch():
    from shendu import keras as skeras

    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = ((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)).reshape(-1, 1)
    model = skeras.Sequential([skeras.Input((5,)), skeras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[CategoricalTruePositives()])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    assert 0 < history.history["categorical_true_positives"][-1] <= 64  # reset at each epoch
    assert model.evaluate(x, y, verbose=0)[1] == float(np.sum(predicted == y[:, 0]))


def test_get_resolves_names_classes_and_functions_as_keras():
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("AUC"), metrics.AUC) and isinstance(metrics.get("auc"), metrics.AUC)
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    wrapped = metrics.get(lambda y_true, y_pred: ops.abs(y_true - y_pred))
    wrapped.update_state(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    assert float(wrapped.result()) == 0.5
    with pytest.raises(ValueError, match="Could not interpret metric identifier: prec"):
        metrics.get("prec")


def test_bad_arguments_are_refused_with_keras_messages():
    with pytest.raises(ValueError, match="Threshold values must be in \\[0, 1\\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match='Invalid AUC curve value: "ROCX"'):
        metrics.AUC(curve="ROCX")
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="FBetaScore expects 2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))
