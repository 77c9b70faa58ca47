"""Activation and rearranging layers give real Keras 3's outputs and shapes (same inputs)."""

import os

import numpy as np
import pytest

from shendu.keras import Sequential
from shendu.keras import layers as ours

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

X = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32) * 3

CASES = [
    ("ReLU", {}), ("ReLU", {"max_value": 2.0}), ("ReLU", {"negative_slope": 0.1, "threshold": 0.5}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}), ("ELU", {"alpha": 0.7}), ("Softmax", {}),
    ("Softmax", {"axis": 1}), ("Identity", {}), ("Rescaling", {"scale": 1 / 255, "offset": -0.5}),
    ("Permute", {"dims": (2, 1)}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_keras(name, kwargs):
    expected = getattr(keras.layers, name)(**kwargs)(X).detach().numpy()
    got = getattr(ours, name)(**kwargs)(X).detach().numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    model = Sequential([ours.Input((3, 5)), getattr(ours, name)(**kwargs)])
    assert model.output_shape == keras.Sequential([keras.Input((3, 5)), getattr(keras.layers, name)(**kwargs)]).output_shape


def test_repeat_vector_lambda_and_softmax_mask():
    flat = X[:, 0]
    np.testing.assert_array_equal(ours.RepeatVector(3)(flat).numpy(), keras.layers.RepeatVector(3)(flat).detach().numpy())
    model = Sequential([ours.Input((5,)), ours.RepeatVector(2), ours.Lambda(lambda t: t[..., :2] * 2)])
    assert model.output_shape == (None, 2, 2)
    np.testing.assert_allclose(model.predict(flat, verbose=0), np.repeat(flat[:, None, :2] * 2, 2, axis=1), rtol=1e-6)
    mask = np.array([[True, True, False, True, False]] * 4)
    expected = keras.layers.Softmax()(flat, mask=mask).detach().numpy()
    np.testing.assert_allclose(ours.Softmax()(flat, mask=mask).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative value. Received: -1"):
        ours.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="must be consecutive and start from 1"):
        ours.Permute((0, 1))
    with pytest.raises(TypeError, match="Expected an integer value for `n`. Received: n=2.5"):
        ours.RepeatVector(2.5)
    with pytest.raises(TypeError, match="Lambda: function must be callable"):
        ours.Lambda(3)
