"""Metrics match scikit-learn's; streaming metrics over batches equal the metric of the whole."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from shendu.train import metrics as M


@pytest.fixture
def classes():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 300)
    scores = rng.normal(size=(300, 5)).astype(np.float32)
    scores[np.arange(300), y_true] += 1.0  # better than chance, not perfect
    return y_true, scores


def test_accuracy_from_scores_labels_and_one_hot(classes):
    y_true, scores = classes
    y_pred = scores.argmax(1)
    expected = skm.accuracy_score(y_true, y_pred)
    assert M.accuracy(y_true, scores) == pytest.approx(expected)
    assert M.accuracy(y_true, y_pred) == pytest.approx(expected)
    assert M.accuracy(np.eye(5)[y_true], shendu.tensor(scores)) == pytest.approx(expected)


def test_binary_accuracy_thresholds_probabilities():
    y_true = np.array([0, 1, 1, 0, 1])
    probabilities = np.array([0.2, 0.7, 0.4, 0.6, 0.9])
    assert M.accuracy(y_true, probabilities) == pytest.approx(skm.accuracy_score(y_true, probabilities >= 0.5))
    assert M.accuracy(y_true, probabilities.reshape(-1, 1)) == pytest.approx(0.6)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy(classes, k):
    y_true, scores = classes
    expected = skm.top_k_accuracy_score(y_true, scores, k=k, labels=np.arange(5))
    assert M.top_k_accuracy(y_true, scores, k=k) == pytest.approx(expected)
    assert M.TopKAccuracy(k)(y_true, scores) == pytest.approx(expected)


def test_confusion_matrix(classes):
    y_true, scores = classes
    y_pred = scores.argmax(1)
    np.testing.assert_array_equal(M.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    assert M.confusion_matrix([0, 1], [1, 1], num_classes=4).shape == (4, 4)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_precision_recall_f1(classes, average):
    y_true, scores = classes
    y_pred = scores.argmax(1)
    p, r, f = M.precision_recall_f1(y_true, y_pred, average=average)
    np.testing.assert_allclose(p, skm.precision_score(y_true, y_pred, average=average))
    np.testing.assert_allclose(r, skm.recall_score(y_true, y_pred, average=average))
    np.testing.assert_allclose(f, skm.f1_score(y_true, y_pred, average=average))
    np.testing.assert_allclose(M.f1_score(y_true, y_pred, average=average), f)


def test_a_class_never_predicted_scores_zero_like_sklearn():
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 0, 2, 2])
    with pytest.warns(skm._classification.UndefinedMetricWarning):
        expected = skm.precision_score(y_true, y_pred, average="macro")
    assert M.precision(y_true, y_pred) == pytest.approx(expected)
    assert M.f1_score(y_true, y_pred, average=None).tolist() == pytest.approx([2 / 3, 0.0, 1.0])


@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(200, 3))
    y_pred = y_true + rng.normal(scale=0.5, size=(200, 3))
    return y_true, y_pred


def test_regression_metrics(regression):
    y_true, y_pred = regression
    assert M.mean_absolute_error(y_true, y_pred) == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert M.mean_squared_error(y_true, y_pred) == pytest.approx(skm.mean_squared_error(y_true, y_pred))
    assert M.root_mean_squared_error(y_true, y_pred) == pytest.approx(np.sqrt(skm.mean_squared_error(y_true, y_pred)))
    assert M.r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred))
    assert M.r2_score(y_true[:, 0], y_pred[:, 0]) == pytest.approx(skm.r2_score(y_true[:, 0], y_pred[:, 0]))
    assert M.r2_score(y_true[:, :1], y_pred[:, 0]) == pytest.approx(skm.r2_score(y_true[:, 0], y_pred[:, 0]))


def test_r2_of_a_constant_target_follows_sklearn():
    assert M.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == skm.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0])
    assert M.r2_score([2.0, 2.0, 2.0], [1.0, 2.0, 2.0]) == skm.r2_score([2.0, 2.0, 2.0], [1.0, 2.0, 2.0])


def _batches(n, sizes):
    edges = np.cumsum([0] + sizes)
    return [(a, b) for a, b in zip(edges, edges[1:]) if b <= n]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=8), st.integers(0, 10_000))
def test_streaming_metrics_equal_the_metric_of_everything(sizes, seed):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    y_true, scores = rng.integers(0, 4, n), rng.normal(size=(n, 4))
    r_true, r_pred = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    streaming = {
        "accuracy": (M.Accuracy(), M.accuracy(y_true, scores)),
        "top2": (M.TopKAccuracy(2), M.top_k_accuracy(y_true, scores, 2)),
        "precision": (M.Precision(), M.precision(y_true, scores)),
        "recall": (M.Recall(), M.recall(y_true, scores)),
        "f1": (M.F1Score(), M.f1_score(y_true, scores)),
    }
    regression = {
        "mae": (M.MeanAbsoluteError(), M.mean_absolute_error(r_true, r_pred)),
        "mse": (M.MeanSquaredError(), M.mean_squared_error(r_true, r_pred)),
        "r2": (M.R2Score(), M.r2_score(r_true, r_pred)),
    }
    for a, b in _batches(n, sizes):
        for metric, _ in streaming.values():
            metric.update(y_true[a:b], scores[a:b])
        for metric, _ in regression.values():
            metric.update(r_true[a:b], r_pred[a:b])
    for name, (metric, expected) in {**streaming, **regression}.items():
        assert metric.compute() == pytest.approx(expected, abs=1e-9), name


def test_streaming_confusion_matrix_grows_with_new_classes():
    metric = M.ConfusionMatrix()
    metric.update([0, 1], [0, 0])
    metric.update([3], [2])
    np.testing.assert_array_equal(metric.compute(), skm.confusion_matrix([0, 1, 3], [0, 0, 2], labels=[0, 1, 2, 3]))


def test_get_metric_by_name_object_or_function():
    assert isinstance(M.get_metric("accuracy"), M.Accuracy)
    assert M.get_metric("top3_accuracy").k == 3
    assert M.get_metric("top_k_accuracy").k == 5
    assert M.get_metric("mae").mode == "min"
    custom = M.get_metric(lambda t, p: float(np.max(np.abs(t - p))))
    assert custom([1.0, 2.0], [1.5, 2.0]) == 0.5
    with pytest.raises(ValueError, match="unknown metric 'accurasy'"):
        M.get_metric("accurasy")


def test_mismatched_lengths_are_reported():
    with pytest.raises(ValueError, match="3 samples but y_pred has 2"):
        M.accuracy([0, 1, 1], [0, 1])
