"""scikit-learn's own estimator checks (``parametrize_with_checks``) on the four scikit-learn estimators.

Each estimator is given the training budget its checks need (``check_classifiers_train`` wants 83 %
accuracy on unscaled blobs), as scikit-learn's own test suite gives ``MLPClassifier`` ``max_iter=100``.
The one check marked as an expected failure is the one scikit-learn marks so for its own
mini-batch SGD estimators (``SGDClassifier``, ``Perceptron``, ``MLPRegressor(solver="sgd")``): with
stochastic mini-batches a weight of 2 is not the same as a repeated sample.
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

from shendu import keras, nn  # noqa: E402
from shendu.keras.wrappers import KerasClassifier, KerasRegressor  # noqa: E402
from shendu.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

SGD_WEIGHTS = "sample_weight is not equivalent to removing/repeating samples (scikit-learn's reason for SGDClassifier)"


class TwoLayerNet(nn.Module):
    """A user's module for ``module=``: its width comes from ``module__`` parameters."""

    def __init__(self, in_features=2, hidden=16, out_features=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.Tanh(), nn.Linear(hidden, out_features))

    def forward(self, x):
        return self.body(x)


def build_classifier(meta):
    """scikeras' way: the building function reads the data's shape from ``meta``."""
    model = keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(meta["n_classes_"], activation="softmax")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def build_regressor(meta):
    model = keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(meta["n_outputs_"])])  # fmt: skip
    model.compile(optimizer="adam", loss="mse")
    return model


ESTIMATORS = [
    NeuralNetClassifier(epochs=5, random_state=0),
    NeuralNetRegressor(epochs=100, learning_rate=1e-2, random_state=0),
    KerasClassifier(model=build_classifier, epochs=100, random_state=0),
    KerasRegressor(model=build_regressor, epochs=50, random_state=0),
]


def expected_failures(estimator):
    if isinstance(estimator, (KerasClassifier, KerasRegressor)):  # the two whose fit takes sample_weight
        return {"check_sample_weight_equivalence_on_dense_data": SGD_WEIGHTS}
    return {}


def every_check():
    """parametrize_with_checks' cases, with ids that name the estimator's class (its repr holds addresses)."""
    for estimator in ESTIMATORS:
        checks = estimator_checks_generator(estimator, legacy=True, expected_failed_checks=expected_failures(estimator),
                                            mark="xfail")  # fmt: skip
        for number, case in enumerate(checks):
            (instance, check), marks = (case.values, case.marks) if hasattr(case, "marks") else (case, ())
            name = getattr(check, "func", check).__name__
            yield pytest.param(instance, check, marks=marks, id=f"{type(estimator).__name__}-{number}-{name}")


@pytest.mark.parametrize(("estimator", "check"), list(every_check()))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# ----- skorch's module=, scikeras' meta ---------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    labels = rng.integers(0, 3, 240)
    return (centers[labels] + rng.normal(scale=0.6, size=(240, 2))).astype(np.float32), np.array(["a", "b", "c"])[labels]


def test_any_module_class_is_trained_with_module_parameters(blobs):
    x, y = blobs
    clf = NeuralNetClassifier(module=TwoLayerNet, module__hidden=8, epochs=20, learning_rate=0.05, random_state=0)
    assert clf.get_params()["module__hidden"] == 8
    clf.fit(x, y)
    assert isinstance(clf.model_, TwoLayerNet) and clf.model_.body[0].out_features == 8
    assert clf.score(x, y) > 0.9 and set(clf.predict(x[:5])) <= {"a", "b", "c"}


def test_a_grid_search_over_module_parameters_in_two_processes_pickles_the_weights(blobs):
    import pickle

    from sklearn.model_selection import GridSearchCV

    x, y = blobs
    search = GridSearchCV(NeuralNetClassifier(module=TwoLayerNet, epochs=5, learning_rate=0.05, random_state=0),
                          {"module__hidden": [2, 16], "optimizer__betas": [(0.9, 0.999)]}, cv=2, n_jobs=2)  # fmt: skip
    search.fit(x, y)
    assert search.best_params_["module__hidden"] in (2, 16)
    blob = pickle.dumps(search.best_estimator_)
    assert b"shendu.nn" not in blob  # weights as safetensors bytes; TwoLayerNet travels by its name only
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict_proba(x[:9]), search.best_estimator_.predict_proba(x[:9]))


def test_a_module_instance_is_copied_not_changed_by_fit(blobs):
    x, y = blobs
    net = TwoLayerNet(hidden=4)
    before = net.body[0].weight.detach().numpy().copy()
    clf = NeuralNetClassifier(module=net, epochs=2).fit(x, y)
    assert clf.model_ is not net and np.array_equal(net.body[0].weight.detach().numpy(), before)


def test_a_module_with_the_wrong_number_of_outputs_is_named(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="the module returns 2 values per sample but y has 3 classes"):
        NeuralNetClassifier(module=TwoLayerNet, module__out_features=2).fit(x, y)


def test_bad_module_criterion_and_routed_parameters_are_named(blobs):
    x, y = blobs
    with pytest.raises(TypeError, match="module must be a shendu.nn.Module class or instance"):
        NeuralNetClassifier(module="mlp").fit(x, y)
    with pytest.raises(ValueError, match="module__hidden given but no module="):
        NeuralNetClassifier(module__hidden=3).fit(x, y)
    with pytest.raises(ValueError, match="module__ parameters need module= to be a class"):
        NeuralNetClassifier(module=TwoLayerNet(), module__hidden=3).fit(x, y)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        NeuralNetClassifier(optimizer="adamax").fit(x, y)


def test_not_fitted_sparse_and_continuous_targets_fail_as_scikit_learn_says(blobs):
    from scipy import sparse
    from sklearn.exceptions import NotFittedError

    x, y = blobs
    for estimator in (NeuralNetClassifier(), KerasClassifier(model=build_classifier)):
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            estimator.predict(x)
        with pytest.raises(TypeError, match="Sparse data was passed"):
            estimator.fit(sparse.csr_matrix(x), y)
        with pytest.raises(ValueError, match="Unknown label type: continuous"):
            estimator.fit(x, x[:, 0] + 0.5)


def test_the_building_function_receives_scikeras_meta(blobs):
    x, y = blobs
    seen = {}

    def build(meta, compile_kwargs, hidden=5):
        seen.update(meta=meta, compile_kwargs=compile_kwargs)
        return build_classifier(meta)

    clf = KerasClassifier(model=build, hidden=7, loss="sparse_categorical_crossentropy", epochs=1).fit(x, y)
    meta = seen["meta"]
    assert meta["n_features_in_"] == 2 and meta["n_classes_"] == 3 and list(meta["classes_"]) == ["a", "b", "c"]
    assert meta["target_type_"] == "multiclass" and meta["X_shape_"] == (240, 2) and meta["n_outputs_expected_"] == 1
    assert seen["compile_kwargs"] == {"loss": "sparse_categorical_crossentropy"}
    assert clf.n_classes_ == 3 and not hasattr(KerasClassifier(model=build), "n_classes_")


def test_warm_start_continues_the_same_model(blobs):
    x, y = blobs
    clf = KerasClassifier(model=build_classifier, epochs=1, warm_start=True, random_state=0).fit(x, y)
    first = clf.model_
    clf.fit(x, y)
    assert clf.model_ is first
    assert clf.set_params(warm_start=False).fit(x, y).model_ is not first
