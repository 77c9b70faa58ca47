"""Augmentation layers: with a fixed factor the geometric ones give Keras 3's images (fill modes and
interpolation included); random ones stay in their ranges; all are identities at inference."""

import os
import warnings

import numpy as np
import pytest

from shendu import keras as skeras

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(0)
IMAGES = (rng.random((2, 7, 6, 3)) * 255).astype(np.float32)

FIXED = [
    ("RandomRotation", {"factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (-0.25, -0.25), "fill_mode": "constant", "fill_value": 3.0}),
    ("RandomRotation", {"factor": (0.05, 0.05), "interpolation": "nearest", "fill_mode": "wrap"}),
    ("RandomZoom", {"height_factor": (0.3, 0.3)}),
    ("RandomZoom", {"height_factor": (-0.2, -0.2), "width_factor": (0.1, 0.1), "fill_mode": "nearest"}),
    ("RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (-0.3, -0.3)}),
    ("RandomTranslation", {"height_factor": (0.5, 0.5), "width_factor": (0.0, 0.0), "fill_mode": "wrap"}),
]


@pytest.mark.parametrize("name,kwargs", FIXED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FIXED)])
def test_fixed_geometric_transforms_equal_keras(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = getattr(keras.layers, name)(**kwargs)(IMAGES, training=True).detach().cpu().numpy()
    got = getattr(skeras.layers, name)(**kwargs)(IMAGES, training=True).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=5e-4)


@pytest.mark.parametrize("layer", [
    skeras.layers.RandomFlip(), skeras.layers.RandomRotation(0.2), skeras.layers.RandomZoom(0.3),
    skeras.layers.RandomTranslation(0.1, 0.1), skeras.layers.RandomContrast(0.5), skeras.layers.RandomBrightness(0.2),
], ids=lambda layer: type(layer).__name__)  # fmt: skip
def test_identity_at_inference(layer):
    np.testing.assert_array_equal(layer(IMAGES).detach().numpy(), IMAGES)


def test_random_draws_stay_in_their_ranges():
    flips = skeras.layers.RandomFlip("horizontal")(np.repeat(IMAGES[:1], 200, axis=0), training=True).detach().numpy()
    flipped = np.all(flips == IMAGES[:1, :, ::-1], axis=(1, 2, 3))
    kept = np.all(flips == IMAGES[:1], axis=(1, 2, 3))
    assert np.all(flipped | kept) and 0.35 < flipped.mean() < 0.65
    bright = skeras.layers.RandomBrightness(0.1)(np.full((50, 2, 2, 1), 100.0, np.float32), training=True).detach().numpy()
    assert bright.min() >= 100 - 25.5 - 1e-3 and bright.max() <= 100 + 25.5 + 1e-3 and bright.std() > 1
    contrast = skeras.layers.RandomContrast(0.5)(IMAGES, training=True).detach().numpy()
    np.testing.assert_allclose(contrast.mean(axis=(1, 2)), IMAGES.mean(axis=(1, 2)), rtol=0.05)  # clipping aside
    crop = skeras.layers.RandomCrop(4, 3)
    assert crop(IMAGES, training=True).shape == (2, 4, 3, 3)
    np.testing.assert_array_equal(crop(IMAGES).detach().numpy(), IMAGES[:, 1:5, 1:4])  # inference: the centre


def test_augmentation_inside_a_model_trains_and_predicts():
    model = skeras.Sequential([skeras.Input((7, 6, 3)), skeras.layers.RandomFlip("horizontal"),
                               skeras.layers.RandomRotation(0.1), skeras.layers.Rescaling(1 / 255),
                               skeras.layers.Flatten(), skeras.layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(np.repeat(IMAGES, 8, axis=0), np.arange(16) % 2, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    first, second = model.predict(IMAGES, verbose=0), model.predict(IMAGES, verbose=0)
    np.testing.assert_array_equal(first, second)  # no augmentation at inference


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Unknown `fill_mode` mirror"):
        skeras.layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="received an unknown mode argument diagonal"):
        skeras.layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="smaller than the crop"):
        skeras.layers.RandomCrop(9, 9)(IMAGES)
