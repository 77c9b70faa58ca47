"""Masks as Keras 3 has them: Embedding(mask_zero=True) and Masking mark padding; recurrent layers skip it,
masked pooling averages without it, losses and metrics leave it out — same weights, Keras' numbers."""

import os
import warnings

import numpy as np
import pytest

from shendu import keras as skeras

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

IDS = np.array([[0, 0, 3, 4, 5], [1, 2, 3, 0, 0], [0, 0, 0, 0, 0], [5, 0, 2, 0, 1]])  # pre, post, all, mid padding

RNNS = {
    "LSTM": lambda k, **kw: k.layers.LSTM(4, **kw), "GRU": lambda k, **kw: k.layers.GRU(4, **kw),
    "SimpleRNN": lambda k, **kw: k.layers.SimpleRNN(4, **kw),
    "Bidirectional": lambda k, **kw: k.layers.Bidirectional(k.layers.LSTM(4, **kw)),
}  # fmt: skip


def _copy_weights(ours, theirs):
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])


def _theirs(model, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return model(x).detach().cpu().numpy()


OPTIONS = [{}, {"return_sequences": True}, {"return_sequences": True, "go_backwards": True}]


@pytest.mark.parametrize("kind,options", [(kind, options) for kind in sorted(RNNS) for options in OPTIONS
                                          if not (kind == "Bidirectional" and "go_backwards" in options)])  # fmt: skip
def test_recurrent_layers_skip_masked_steps_as_keras(kind, options):

    def build(k):
        inputs = k.Input((5,), dtype="int32")
        return k.Model(inputs, RNNS[kind](k, **options)(k.layers.Embedding(8, 3, mask_zero=True)(inputs)))

    ours, theirs = build(skeras), build(keras)
    _copy_weights(ours, theirs)
    np.testing.assert_allclose(ours(IDS).detach().numpy(), _theirs(theirs, IDS), rtol=1e-5, atol=1e-6)


def test_masking_layer_and_masked_average_pooling_equal_keras():
    x = np.random.default_rng(1).normal(size=(3, 4, 2)).astype(np.float32)
    x[0, 2:] = 0.0
    x[2, :1] = 0.0

    def build(k):
        inputs = k.Input((4, 2))
        masked = k.layers.Masking(mask_value=0.0)(inputs)
        return k.Model(inputs, [k.layers.GlobalAveragePooling1D()(masked), k.layers.LSTM(3)(masked)])

    ours, theirs = build(skeras), build(keras)
    _copy_weights(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = [t.detach().cpu().numpy() for t in theirs(x)]
    for mine, real in zip(ours(x), expected):
        np.testing.assert_allclose(mine.detach().numpy(), real, rtol=1e-5, atol=1e-6)


def test_masked_sequence_loss_and_accuracy_equal_keras():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 8, (32, 6))
    ids[:, :2] *= rng.integers(0, 2, (32, 2))
    ids[:8, 4:] = 0
    tags = rng.integers(0, 3, (32, 6))

    def build(k):
        inputs = k.Input((6,), dtype="int32")
        steps = k.layers.LSTM(5, return_sequences=True)(k.layers.Embedding(8, 4, mask_zero=True)(inputs))
        return k.Model(inputs, k.layers.Dense(3, activation="softmax")(steps))

    ours, theirs = build(skeras), build(keras)
    _copy_weights(ours, theirs)
    for model, k in ((ours, skeras), (theirs, keras)):
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = theirs.fit(ids, tags, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    history = ours.fit(ids, tags, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=2e-5, err_msg=key)


def test_mask_of_the_wrong_shape_is_refused():
    layer = skeras.layers.LSTM(2)
    with pytest.raises(ValueError, match=r"the mask must have shape \(batch, steps\) = \(2, 3\); got \(2, 4\)"):
        layer(np.zeros((2, 3, 1), np.float32), mask=np.ones((2, 4), bool))
