"""KerasClassifier / KerasRegressor: scikit-learn estimators around a Keras model-building function."""

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402

from shendu.keras.layers import Dense  # noqa: E402
from shendu.keras.models import Sequential  # noqa: E402
from shendu.keras.wrappers import KerasClassifier, KerasRegressor  # noqa: E402


def build(units=8, activation="relu"):
    """An uncompiled model: the wrapper compiles it (optimizer/loss/learning_rate are wrapper parameters)."""
    return Sequential([Dense(units, activation=activation, input_shape=(4,)), Dense(3, activation="softmax")])


@pytest.fixture
def data(rng):
    centers = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]], np.float32)
    labels = rng.integers(0, 3, 150)
    x = centers[labels] + rng.standard_normal((150, 4)).astype(np.float32) * 0.5
    return x, np.array(["cat", "dog", "eel"])[labels]


def test_parameters_route_to_the_builder_fit_and_compile(data):
    x, y = data
    clf = KerasClassifier(model=build, units=5, activation="tanh", optimizer="adam", learning_rate=0.05, epochs=6,
                          batch_size=16)  # fmt: skip
    clf.fit(x, y)
    assert clf.model_.layers[0].units == 5 and clf.model_.layers[0]._activation_name == "tanh"
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.05)
    assert clf.model_._loss_object.name == "sparse_categorical_crossentropy"
    assert len(clf.history_["loss"]) == 6
    assert set(clf.predict(x[:10])) <= {"cat", "dog", "eel"} and clf.score(x, y) > 0.9
    probabilities = clf.predict_proba(x[:4])
    assert probabilities.shape == (4, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_get_set_params_and_clone_follow_sklearn(data):
    clf = KerasClassifier(build_fn=build, units=4, epochs=1)
    assert clf.get_params()["units"] == 4
    clf.set_params(activation="sigmoid", units=6)
    twin = clone(clf)
    assert twin.get_params()["activation"] == "sigmoid" and twin.get_params()["units"] == 6
    assert twin is not clf and not hasattr(twin, "model_")


def test_an_illegal_parameter_is_named(data):
    x, y = data
    with pytest.raises(ValueError, match="unit is not a legal parameter of KerasClassifier"):
        KerasClassifier(model=build, unit=3).fit(x, y)


def test_regressor_and_cross_validation(rng):
    x = rng.standard_normal((120, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], np.float32)

    def linear_model():
        return Sequential([Dense(1, input_shape=(3,))])

    reg = KerasRegressor(model=linear_model, optimizer="adam", learning_rate=0.1, epochs=20, batch_size=16)
    scores = cross_val_score(reg, x, y, cv=3)
    assert scores.mean() > 0.9
    assert reg.fit(x, y).predict(x[:7]).shape == (7,)


def test_a_fitted_estimator_pickles_its_model_as_data(data):
    x, y = data
    clf = KerasClassifier(model=build, epochs=1).fit(x, y)
    blob = pickle.dumps(clf)
    assert b"shendu.keras.models" not in blob  # config + safetensors bytes, not pickled shendu objects
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.predict_proba(x[:5]), clf.predict_proba(x[:5]), rtol=1e-6)


def test_one_hot_labels_as_in_seed_004_grid_search(data):
    """004 one-hot encodes y_train with to_categorical, then calls GridSearchCV(...).fit(x_train, y_train):
    Keras 2's wrapper took one-hot rows (classes_ = 0..k-1); predict gives class ids, score accuracy."""
    from sklearn.model_selection import GridSearchCV

    from shendu.keras.utils import to_categorical

    x, names = data
    ids = np.unique(names, return_inverse=True)[1]
    onehot = to_categorical(ids, 3)

    def create(activation="relu", optimizer="adam"):
        model = build(activation=activation)
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    grid = GridSearchCV(KerasClassifier(build_fn=create, epochs=8, batch_size=16, learning_rate=0.05, verbose=0),
                        param_grid={"activation": ["relu", "tanh"]}, cv=3)  # fmt: skip
    grid.fit(x, onehot)
    assert grid.best_params_["activation"] in ("relu", "tanh") and grid.best_score_ > 0.8
    clf = grid.best_estimator_
    assert list(clf.classes_) == [0, 1, 2] and set(clf.predict(x[:10])) <= {0, 1, 2}
    assert clf.score(x, onehot) == pytest.approx(clf.score(x, ids))
