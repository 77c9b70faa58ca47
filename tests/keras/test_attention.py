"""MultiHeadAttention and Attention give Keras 3's outputs with the same weights: cross- and self-attention,
causal masks, Keras masks from Embedding(mask_zero=True), scaled and concat scores; a transformer block
trains to Keras' losses."""

import os
import warnings

import numpy as np
import pytest

from shendu import keras as skeras

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(0)
X = rng.normal(size=(2, 5, 8)).astype(np.float32)
Y = rng.normal(size=(2, 3, 6)).astype(np.float32)
V = rng.normal(size=(2, 3, 8)).astype(np.float32)
IDS = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])


def _cross(k):
    query, value = k.Input((5, 8)), k.Input((3, 6))
    return k.Model([query, value], k.layers.MultiHeadAttention(2, 4, value_dim=3, output_shape=7)(query, value))


def _causal(k):
    query = k.Input((5, 8))
    return k.Model(query, k.layers.MultiHeadAttention(2, 4)(query, query, use_causal_mask=True))


def _masked(k):
    ids = k.Input((5,), dtype="int32")
    embedded = k.layers.Embedding(8, 8, mask_zero=True)(ids)
    return k.Model(ids, k.layers.MultiHeadAttention(2, 4)(embedded, embedded))


def _dot(k):
    query, value = k.Input((5, 8)), k.Input((3, 8))
    return k.Model([query, value], k.layers.Attention(use_scale=True)([query, value]))


def _concat(k):
    query, value = k.Input((5, 8)), k.Input((3, 8))
    return k.Model([query, value], k.layers.Attention(score_mode="concat", use_scale=True)([query, value]))


def _masked_dot(k):
    ids = k.Input((5,), dtype="int32")
    embedded = k.layers.Embedding(8, 8, mask_zero=True)(ids)
    return k.Model(ids, k.layers.Attention()([embedded, embedded]))


CASES = [(_cross, [X, Y]), (_causal, X), (_masked, IDS), (_dot, [X, V]), (_concat, [X, V]), (_masked_dot, IDS)]


def _theirs(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return model(data).detach().cpu().numpy()


@pytest.mark.parametrize("build,data", CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_outputs_equal_keras(build, data):
    theirs, ours = build(keras), build(skeras)
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    np.testing.assert_allclose(ours(data).detach().numpy(), _theirs(theirs, data), rtol=1e-5, atol=1e-6)
    assert tuple(ours.output_shape) == tuple(theirs.output_shape)


def _token_and_position(k):
    class TokenAndPositionEmbedding(k.layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = k.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = k.layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = self.pos_emb(k.ops.arange(start=0, stop=k.ops.shape(x)[-1], step=1))
            return self.token_emb(x) + positions

    return TokenAndPositionEmbedding


def _transformer_classifier(k):
    """The model of the keras.io example "Text classification with Transformer" (small, dropout off)."""
    ids = k.Input((6,), dtype="int32")
    x = _token_and_position(k)(6, 20, 8)(ids)
    attended = k.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = k.layers.LayerNormalization(epsilon=1e-6)(x + attended)
    ffn = k.layers.Dense(8)(k.layers.Dense(16, activation="relu")(x))
    x = k.layers.LayerNormalization(epsilon=1e-6)(x + ffn)
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model(ids, k.layers.Dense(2, activation="softmax")(x))


def test_a_transformer_block_trains_to_keras_losses():
    data = np.random.default_rng(1).integers(0, 20, (32, 6))
    labels = (data[:, 0] > 9).astype(np.int64)
    theirs, ours = _transformer_classifier(keras), _transformer_classifier(skeras)
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])
    for model, k in ((ours, skeras), (theirs, keras)):
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = theirs.fit(data, labels, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    history = ours.fit(data, labels, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-4, err_msg=key)


def _arithmetic(k):
    inputs = k.Input((4, 3))
    x = k.layers.Dense(3)(inputs)
    x = 0.5 * (x + inputs) - 1.0  # residual arithmetic on symbolic tensors
    x = -x / 2.0
    last = x[:, -1, :]  # the last step
    return k.Model(inputs, k.layers.Dense(2)(last) ** 2)


def test_arithmetic_and_indexing_on_symbolic_tensors_equal_keras(tmp_path):
    data = np.random.default_rng(2).normal(size=(5, 4, 3)).astype(np.float32)
    theirs, ours = _arithmetic(keras), _arithmetic(skeras)
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])
    np.testing.assert_allclose(ours(data).detach().numpy(), _theirs(theirs, data), rtol=1e-5, atol=1e-6)
    assert tuple(ours.output_shape) == (None, 2)
    ours.save(tmp_path / "m.keras")
    again = skeras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(data, verbose=0), ours.predict(data, verbose=0), rtol=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        skeras.layers.MultiHeadAttention(0, 4)
    with pytest.raises(TypeError, match="needs query and value"):
        skeras.layers.MultiHeadAttention(2, 4)(X)
    with pytest.raises(ValueError, match="Invalid value for argument score_mode"):
        skeras.layers.Attention(score_mode="add")
