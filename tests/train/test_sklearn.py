"""shendu.sklearn estimators under scikit-learn's machinery: clone, GridSearchCV with n_jobs=2, cross_val_score."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shendu.sklearn import NeuralNetClassifier, NeuralNetRegressor


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return (x[:450] / 16.0).astype(np.float32), y[:450]


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.normal(size=200)
    return x, y


def test_params_are_constructor_arguments_and_clone_works():
    model = NeuralNetClassifier(hidden_sizes=(32, 16), activation="tanh", optimizer="rmsprop", learning_rate=0.01)
    params = model.get_params()
    assert params["hidden_sizes"] == (32, 16) and params["optimizer"] == "rmsprop"
    copy = clone(model.set_params(epochs=3))
    assert copy.get_params() == model.get_params() and copy is not model


def test_classifier_fits_predicts_probabilities_and_scores(digits):
    x, y = digits
    model = NeuralNetClassifier(hidden_sizes=(32,), epochs=15, learning_rate=0.01, random_state=0)
    assert model.fit(x, y) is model
    probabilities = model.predict_proba(x[:20])
    assert probabilities.shape == (20, 10) and np.allclose(probabilities.sum(1), 1)
    assert set(model.predict(x)) <= set(model.classes_)
    assert model.score(x, y) > 0.9
    assert model.n_features_in_ == 64 and len(model.history_["loss"]) == 15


def test_string_labels_come_back_as_given(digits):
    x, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    model = NeuralNetClassifier(hidden_sizes=(16,), epochs=5, learning_rate=0.01, random_state=0).fit(x, names[y])
    assert set(model.predict(x[:10])) <= set(names)


def test_same_random_state_gives_the_same_model(digits):
    x, y = digits
    a = NeuralNetClassifier(hidden_sizes=(8,), epochs=2, random_state=3).fit(x, y).predict_proba(x)
    b = NeuralNetClassifier(hidden_sizes=(8,), epochs=2, random_state=3).fit(x, y).predict_proba(x)
    assert np.array_equal(a, b)


def test_regressor_fits_and_scores_r2(regression):
    x, y = regression
    model = NeuralNetRegressor(hidden_sizes=(32,), epochs=40, learning_rate=0.01, random_state=0).fit(x, y)
    assert model.predict(x).shape == (200,)
    assert model.score(x, y) > 0.9
    two = NeuralNetRegressor(hidden_sizes=(8,), epochs=2, random_state=0).fit(x, np.stack([y, -y], 1))
    assert two.predict(x).shape == (200, 2)


def test_grid_search_over_a_2x2x2_grid_with_cv_3_in_two_processes(digits):
    x, y = digits
    grid = {"optimizer": ["adam", "rmsprop"], "activation": ["relu", "tanh"], "learning_rate": [0.001, 0.01]}
    search = GridSearchCV(NeuralNetClassifier(hidden_sizes=(16,), epochs=3, batch_size=32, random_state=0), grid,
                          cv=3, n_jobs=2)  # fmt: skip
    search.fit(x, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["learning_rate"] == 0.01  # 3 epochs: the larger rate clearly wins
    assert search.best_score_ > 0.6
    assert search.best_estimator_.score(x, y) > 0.6


def test_cross_val_score_and_pipelines(digits):
    x, y = digits
    pipeline = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_sizes=(16,), epochs=5, learning_rate=0.01,
                                                                    random_state=0))
    scores = cross_val_score(pipeline, x, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7


def test_a_fitted_estimator_pickles_its_network_as_data(digits):
    x, y = digits
    model = NeuralNetClassifier(hidden_sizes=(8,), epochs=2, random_state=0).fit(x, y)
    blob = pickle.dumps(model)
    assert b"shendu.nn" not in blob  # the network went as config + safetensors bytes, not as pickled objects
    restored = pickle.loads(blob)
    assert np.array_equal(restored.predict_proba(x), model.predict_proba(x))


def test_errors_are_clear(digits):
    x, y = digits
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        NeuralNetClassifier(activation="swishy").fit(x, y)
    with pytest.raises(ValueError, match="unknown optimizer"):
        NeuralNetClassifier(optimizer="lbfgs").fit(x, y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NeuralNetClassifier().predict(x)
    model = NeuralNetClassifier(hidden_sizes=(4,), epochs=1).fit(x, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(x[:, :3])
    with pytest.raises(ValueError, match="2D array"):
        model.predict(x[0])
