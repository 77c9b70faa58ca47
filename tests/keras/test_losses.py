"""Keras losses: values as Keras defines them, and the fused softmax/sigmoid + cross-entropy path of compiled models."""

import numpy as np
import pytest
import torch

import shendu
from shendu import keras
from shendu.keras import layers, losses
from shendu.keras.models import Sequential


def _value(t):
    return float(t.item()) if isinstance(t, shendu.Tensor) else float(t)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def logits(rng):
    return rng.standard_normal((6, 4)).astype(np.float32)


def test_categorical_crossentropy_on_probabilities_and_from_logits(logits, rng):
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    assert _value(losses.CategoricalCrossentropy()(y, _softmax(logits))) == pytest.approx(expected, rel=1e-5)
    assert _value(losses.CategoricalCrossentropy(from_logits=True)(y, logits)) == pytest.approx(expected, rel=1e-5)
    labels = y.argmax(axis=1)
    assert _value(losses.SparseCategoricalCrossentropy()(labels, _softmax(logits))) == pytest.approx(expected, rel=1e-5)
    per_sample = losses.categorical_crossentropy(y, _softmax(logits))
    assert tuple(per_sample.shape) == (6,)


def test_binary_crossentropy_matches_torch(rng):
    z = rng.standard_normal((8, 1)).astype(np.float32)
    y = rng.integers(0, 2, (8,))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z[:, 0]), torch.tensor(y, dtype=torch.float32)).item()
    assert _value(losses.BinaryCrossentropy()(y, 1 / (1 + np.exp(-z)))) == pytest.approx(expected, rel=1e-5)
    assert _value(losses.BinaryCrossentropy(from_logits=True)(y, z)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name,torch_fn", [
    ("mse", torch.nn.functional.mse_loss),
    ("mae", torch.nn.functional.l1_loss),
    ("huber", torch.nn.functional.huber_loss),
])  # fmt: skip
def test_regression_losses_match_torch_with_n_targets_against_n_by_1_outputs(rng, name, torch_fn):
    prediction = rng.standard_normal((10, 1)).astype(np.float32) * 2
    target = rng.standard_normal(10).astype(np.float32)
    expected = torch_fn(torch.tensor(prediction[:, 0]), torch.tensor(target)).item()
    assert _value(losses.get(name)(target, prediction)) == pytest.approx(expected, rel=1e-5)


def test_a_compiled_softmax_model_computes_cross_entropy_from_the_logits():
    # Logits (0, 200): softmax rounds to (0, 1) in float32, so from probabilities the loss of class 0 is only
    # -log(1e-7) = 16.1 (Keras' clipping); from the logits it is the exact 200.
    model = Sequential([layers.Dense(2, activation="softmax", input_shape=(1,))])
    model.set_weights([np.array([[0.0, 0.0]], np.float32), np.array([0.0, 200.0], np.float32)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = np.ones((4, 1), np.float32), np.array([[1.0, 0.0]] * 4, np.float32)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(200.0, rel=1e-5)
    probabilities = model.predict(x, verbose=0)
    assert _value(losses.CategoricalCrossentropy()(y, probabilities)) == pytest.approx(-np.log(1e-7), rel=1e-4)
    # and the gradient is the exact softmax(z) - y, not zero from a clipped probability
    model.train_on_batch(x, y)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(bias, [0.0 + 0.01, 200.0 - 0.01], rtol=1e-6)


def test_sigmoid_output_with_binary_crossentropy_is_fused(rng):
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = rng.standard_normal((5, 3)).astype(np.float32) * 50  # saturated outputs
    y = rng.integers(0, 2, 5)
    kernel, bias = model.get_weights()
    z = x @ kernel + bias
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z[:, 0]), torch.tensor(y, dtype=torch.float32)).item()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-4)


def test_loss_objects_and_functions_are_accepted_by_compile(rng):
    x = rng.standard_normal((16, 2)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)

    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(dim=-1)

    for loss in (keras.losses.Huber(delta=0.5), my_loss, "mean_squared_error"):
        model = Sequential([layers.Dense(1, input_shape=(2,))])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
        history = model.fit(x, y, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]


def test_class_weight_scales_each_sample_loss():
    model = Sequential([layers.Dense(2, activation="softmax", input_shape=(1,))])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    x, y = np.ones((2, 1), np.float32), np.array([0, 1])
    plain = model.fit(x, y, epochs=1, batch_size=2, verbose=0).history["loss"][0]
    weighted = model.fit(x, y, epochs=1, batch_size=2, verbose=0, class_weight={0: 0.0, 1: 2.0}).history["loss"][0]
    probabilities = model.predict(x, verbose=0)[0]
    assert plain == pytest.approx(-(np.log(probabilities[0]) + np.log(probabilities[1])) / 2, rel=1e-5)
    assert weighted == pytest.approx(-np.log(probabilities[1]), rel=1e-5)


def test_regularizer_penalty_is_added_to_the_loss():
    model = Sequential([layers.Dense(1, use_bias=False, kernel_regularizer=keras.regularizers.l2(0.5),
                                     input_shape=(2,))])  # fmt: skip
    model.set_weights([np.array([[1.0], [2.0]], np.float32)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((3, 2), np.float32), np.zeros((3, 1), np.float32)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.5 * (1 + 4))
