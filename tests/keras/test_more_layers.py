"""Layers of Keras 3's list beyond the first wave — transposed, depthwise and separable convolutions, resampling,
padding, cropping, PReLU, TimeDistributed, Normalization, Resizing, CenterCrop — give real Keras' outputs with
the same weights; the noise layers are identities at inference and have Keras' statistics in training."""

import os
import warnings

import numpy as np
import pytest

import shendu
from shendu import keras as skeras

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(11)
IMAGES = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
SEQUENCE = rng.normal(size=(2, 9, 4)).astype(np.float32)

CASES = [
    ("Conv2DTranspose", (4, 3), {}, IMAGES), ("Conv2DTranspose", (4, 3), {"strides": 2, "padding": "same"}, IMAGES),
    ("Conv2DTranspose", (2, 4), {"strides": 2, "padding": "valid"}, IMAGES),
    ("Conv2DTranspose", (2, 4), {"strides": 2, "padding": "same"}, IMAGES),
    ("Conv2DTranspose", (3, (3, 2)), {"strides": (2, 3), "output_padding": (1, 2), "activation": "relu"}, IMAGES),
    ("Conv2DTranspose", (2, 3), {"strides": 2, "padding": "same", "output_padding": 1}, IMAGES),
    ("Conv2DTranspose", (2, 3), {"dilation_rate": 2, "padding": "same"}, IMAGES),
    ("Conv1DTranspose", (5, 3), {"strides": 2, "padding": "same"}, SEQUENCE),
    ("Conv1DTranspose", (5, 4), {"strides": 3}, SEQUENCE),
    ("DepthwiseConv2D", (3,), {"depth_multiplier": 2, "padding": "same"}, IMAGES),
    ("DepthwiseConv2D", ((2, 3),), {"strides": 2}, IMAGES),
    ("SeparableConv2D", (5, 3), {"padding": "same", "activation": "relu"}, IMAGES),
    ("SeparableConv2D", (4, 3), {"strides": 2, "depth_multiplier": 2}, IMAGES),
    ("UpSampling2D", (), {"size": (2, 3)}, IMAGES), ("UpSampling2D", (), {"interpolation": "bilinear"}, IMAGES),
    ("UpSampling1D", (3,), {}, SEQUENCE),
    ("ZeroPadding2D", (), {"padding": ((1, 2), (0, 3))}, IMAGES), ("ZeroPadding1D", ((2, 1),), {}, SEQUENCE),
    ("Cropping2D", (), {"cropping": ((1, 2), (2, 1))}, IMAGES), ("Cropping1D", ((2, 3),), {}, SEQUENCE),
    ("PReLU", (), {"alpha_initializer": "glorot_uniform"}, IMAGES),
    ("PReLU", (), {"alpha_initializer": "glorot_uniform", "shared_axes": [1, 2]}, IMAGES),
    ("Resizing", (4, 5), {}, IMAGES), ("Resizing", (14, 3), {"interpolation": "nearest"}, IMAGES),
    ("CenterCrop", (4, 3), {}, IMAGES),
    ("Normalization", (), {"mean": [0.5, -1.0, 2.0], "variance": [4.0, 0.25, 1.0]}, IMAGES),
    ("Normalization", (), {"mean": [0.5, -1.0, 2.0], "variance": [4.0, 0.25, 1.0], "invert": True}, IMAGES),
]  # fmt: skip


def _theirs(model, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return model(x).detach().cpu().numpy()


def _pair(build):
    theirs, ours = build(keras), build(skeras)
    weights = [w.value.detach().cpu().numpy() for w in theirs.weights]
    ours.set_weights(weights)
    return ours, theirs


@pytest.mark.parametrize("name,args,kwargs,x", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_outputs_equal_keras(name, args, kwargs, x):
    def build(k):
        inputs = k.Input(x.shape[1:])
        return k.Model(inputs, getattr(k.layers, name)(*args, **kwargs)(inputs))

    ours, theirs = _pair(build)
    expected = _theirs(theirs, x)
    got = ours(x).detach().numpy()
    assert got.shape == expected.shape
    assert tuple(ours.output_shape[1:]) == tuple(theirs.output_shape[1:])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]


def test_time_distributed_dense_and_conv_equal_keras():
    frames = rng.normal(size=(2, 3, 5, 5, 2)).astype(np.float32)

    def build(k):
        inputs = k.Input((3, 5, 5, 2))
        x = k.layers.TimeDistributed(k.layers.Conv2D(4, 3))(inputs)
        x = k.layers.TimeDistributed(k.layers.Flatten())(x)
        return k.Model(inputs, k.layers.TimeDistributed(k.layers.Dense(2))(x))

    ours, theirs = _pair(build)
    np.testing.assert_allclose(ours(frames).detach().numpy(), _theirs(theirs, frames), rtol=1e-4, atol=1e-5)
    assert ours.count_params() == theirs.count_params()


def test_normalization_adapt_equals_keras():
    data = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    ours, theirs = skeras.layers.Normalization(), keras.layers.Normalization()
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_allclose(ours(data[:5]).detach().numpy(), _theirs(theirs, data[:5]), rtol=1e-4, atol=1e-5)
    names = [w.name for w in ours.weights]
    assert names == ["mean", "variance", "count"] and int(ours.count.numpy()) == 50


def test_transposed_convolution_gradients_match_finite_differences():
    layer = skeras.layers.Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64")
    x = shendu.tensor(rng.normal(size=(1, 3, 3, 2)), dtype=shendu.float64, requires_grad=True)
    layer(x)
    assert shendu.autograd.gradcheck(lambda t: layer(t), (x,))


@pytest.mark.parametrize("name,kwargs", [("SpatialDropout1D", {"rate": 0.5}), ("SpatialDropout2D", {"rate": 0.5}),
                                         ("GaussianNoise", {"stddev": 0.3}), ("GaussianDropout", {"rate": 0.4})])  # fmt: skip
def test_noise_layers_are_identities_at_inference_and_noisy_in_training(name, kwargs):
    x = np.ones((64, 6, 5, 8), np.float32) if name.endswith("2D") else np.ones((64, 6, 8), np.float32)
    layer = getattr(skeras.layers, name)(**kwargs)
    np.testing.assert_array_equal(layer(x).detach().numpy(), x)
    noisy = layer(x, training=True).detach().numpy()
    if name.startswith("Spatial"):
        per_map = noisy.reshape(64, -1, 8)
        assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # one decision per (sample, channel)
        assert abs((per_map[:, 0] == 0).mean() - 0.5) < 0.1 and set(np.unique(noisy)) == {0.0, 2.0}
    elif name == "GaussianNoise":
        assert abs(np.std(noisy - x) - 0.3) < 0.02
    else:
        assert abs(np.std(noisy) - np.sqrt(0.4 / 0.6)) < 0.03 and abs(noisy.mean() - 1) < 0.03


def test_activity_regularization_adds_its_penalty_to_the_loss():
    layer = skeras.layers.ActivityRegularization(l1=0.1, l2=0.01)
    x = np.array([[1.0, -2.0], [3.0, 0.0]], np.float32)
    layer(x)
    assert float(layer.losses[0]) == pytest.approx((0.1 * 6 + 0.01 * 14) / 2)


def test_bad_arguments_are_refused_with_the_argument_named():
    with pytest.raises(ValueError, match="output_padding must be smaller than the stride"):
        skeras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        skeras.layers.ZeroPadding2D(padding=-1)
    with pytest.raises(ValueError, match=r"cropping \(\(4, 4\), \(0, 0\)\) leaves nothing"):
        skeras.layers.Cropping2D(cropping=((4, 4), (0, 0)))(IMAGES)
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        skeras.layers.Normalization(mean=[1.0])
    with pytest.raises(ValueError, match="smaller than the crop"):
        skeras.layers.CenterCrop(10, 10)(IMAGES)
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed` layer"):
        skeras.layers.TimeDistributed("dense")
