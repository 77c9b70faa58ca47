"""Keras layers equal the shendu.nn layers they wrap (same weights), with Keras' layouts and conventions."""

import numpy as np
import pytest
import torch

import shendu
from shendu import nn
from shendu.keras import layers
from shendu.keras.layers.base import KerasTensor


def _np(t):
    return t.detach().numpy() if isinstance(t, shendu.Tensor) else np.asarray(t)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ----- Dense ---------------------------------------------------------------------------------------
def test_dense_equals_linear_with_transposed_kernel(rng):
    dense = layers.Dense(7, activation="relu")
    x = rng.standard_normal((5, 4)).astype(np.float32)
    out = dense(x)
    kernel, bias = dense.get_weights()
    assert kernel.shape == (4, 7) and bias.shape == (7,)
    linear = nn.Linear(4, 7)
    linear.weight._array[...] = kernel.T
    linear.bias._array[...] = bias
    np.testing.assert_allclose(_np(out), _np(nn.functional.relu(linear(shendu.tensor(x)))), rtol=1e-6, atol=1e-6)


def test_dense_set_weights_keras_layout_and_shape_error(rng):
    dense = layers.Dense(3, input_shape=(2,))
    dense._maybe_build((None, 2))
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    dense.set_weights([kernel, np.ones(3, np.float32)])
    np.testing.assert_array_equal(_np(dense(np.array([[1.0, 0.0]], np.float32))), [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"weight 0 has shape \(2, 3\), but the provided weight has shape \(3, 2\)"):
        dense.set_weights([kernel.T, np.ones(3)])
    with pytest.raises(ValueError, match="expects 2 weight"):
        dense.set_weights([kernel])


def test_dense_default_initialisation_is_glorot_uniform_and_zero_bias():
    dense = layers.Dense(300)
    dense._maybe_build((None, 200))
    kernel, bias = dense.get_weights()
    limit = np.sqrt(6 / (200 + 300))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert np.all(bias == 0)


def test_dense_on_3d_input_applies_to_last_axis(rng):
    dense = layers.Dense(2)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    out = _np(dense(x))
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-6)


# ----- Conv2D and pooling --------------------------------------------------------------------------------
@pytest.mark.parametrize("strides,padding", [(1, "valid"), (1, "same"), (2, "valid"), (2, "same")])
def test_conv2d_channels_last_equals_torch_conv_on_nchw(rng, strides, padding):
    conv = layers.Conv2D(6, (3, 3), strides=strides, padding=padding, activation="tanh")
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    out = _np(conv(x))
    kernel, bias = conv.get_weights()
    assert kernel.shape == (3, 3, 3, 6)
    weight = torch.tensor(kernel.transpose(3, 2, 0, 1))
    xt = torch.tensor(x).permute(0, 3, 1, 2)
    if padding == "same":  # TensorFlow's SAME: the extra row/column goes after
        pads = []
        for size in (9, 8):
            total = max((-(-size // strides) - 1) * strides + 3 - size, 0)
            pads.append((total // 2, total - total // 2))
        xt = torch.nn.functional.pad(xt, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    expected = torch.tanh(torch.nn.functional.conv2d(xt, weight, torch.tensor(bias), stride=strides)).permute(0, 2, 3, 1)
    assert out.shape == tuple(expected.shape) == conv.compute_output_shape((2, 9, 8, 3))
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_gradients_match_torch(rng):
    conv = layers.Conv2D(4, 3, input_shape=(6, 6, 2))
    x = rng.standard_normal((2, 6, 6, 2)).astype(np.float32)
    xs = shendu.tensor(x, requires_grad=True)
    conv(xs).sum().backward()
    kernel, bias = conv.get_weights()
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    torch.nn.functional.conv2d(xt.permute(0, 3, 1, 2), wt, torch.tensor(bias)).sum().backward()
    np.testing.assert_allclose(_np(xs.grad), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(conv.conv.weight.grad), wt.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layer,torch_fn", [
    (lambda: layers.MaxPooling2D(pool_size=(2, 2)), lambda x: torch.nn.functional.max_pool2d(x, 2)),
    (lambda: layers.AveragePooling2D(pool_size=3, strides=2), lambda x: torch.nn.functional.avg_pool2d(x, 3, 2)),
])  # fmt: skip
def test_pooling_equals_torch_on_nchw(rng, layer, torch_fn):
    x = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    pool = layer()
    expected = torch_fn(torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    out = _np(pool(x))
    assert out.shape == expected.shape == pool.compute_output_shape((2, 7, 9, 3))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_same_pooling_averages_only_real_elements():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    avg = _np(layers.AveragePooling2D(2, padding="same")(x))[0, :, :, 0]
    np.testing.assert_allclose(avg, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]])
    mx = _np(layers.MaxPooling2D(2, padding="same")(-x))[0, :, :, 0]
    np.testing.assert_allclose(mx, [[0.0, -2.0], [-6.0, -8.0]])


def test_flatten_keeps_channels_last_order(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(_np(layers.Flatten()(x)), x.reshape(2, -1))


# ----- normalization, dropout, activation -----------------------------------------------------------------
def test_batch_normalization_channels_last_equals_batchnorm2d(rng):
    bn = layers.BatchNormalization()
    x = rng.standard_normal((8, 5, 5, 3)).astype(np.float32) * 3 + 1
    out = _np(bn(x, training=True))
    ref = nn.BatchNorm2d(3, eps=1e-3, momentum=0.01)
    expected = _np(ref(shendu.tensor(x.transpose(0, 3, 1, 2)))).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_allclose(mean, _np(ref.running_mean), rtol=1e-6)  # Keras' momentum 0.99 == nn's 0.01
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2


def test_dropout_is_active_only_in_training():
    x = np.ones((200, 50), np.float32)
    drop = layers.Dropout(0.5)
    np.testing.assert_array_equal(_np(drop(x)), x)  # a fresh layer is in eval mode outside fit
    trained = _np(drop(x, training=True))
    assert set(np.unique(trained)) <= {0.0, 2.0} and 0.4 < (trained == 0).mean() < 0.6


def test_activation_by_name_and_unknown_name_lists_accepted():
    x = np.array([[-2.0, 0.5]], np.float32)
    np.testing.assert_allclose(_np(layers.Activation("sigmoid")(x)), _sigmoid(x), rtol=1e-6)
    np.testing.assert_allclose(_np(layers.Activation("leaky_relu")(x)), [[-0.4, 0.5]], rtol=1e-6)  # Keras' slope 0.2
    with pytest.raises(ValueError, match=r"Unknown activation: 'relu7'\. Accepted names: .*relu.*sigmoid.*softmax"):
        layers.Dense(3, activation="relu7")


# ----- Embedding --------------------------------------------------------------------------------------------
def test_embedding_from_weights_matrix_frozen_and_input_length():
    matrix = np.arange(12, dtype=np.float32).reshape(6, 2)
    emb = layers.Embedding(6, 2, weights=[matrix], input_length=3, trainable=False)
    out = _np(emb(np.array([[0, 5, 1]])))
    np.testing.assert_array_equal(out, matrix[[[0, 5, 1]]])
    assert emb.embedding.weight.requires_grad is False
    assert emb.trainable_weights == [] and len(emb.non_trainable_weights) == 1
    assert emb._batch_input_shape == (None, 3)
    np.testing.assert_array_equal(_np(emb(np.array([[2.0, 3.0]]))), matrix[[[2, 3]]])  # float ids (Keras Input default)
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(5, 2\); expected \(input_dim, output_dim\) = \(6, 2\)"):
        layers.Embedding(6, 2, weights=[matrix[:5]])


# ----- recurrent: Keras' equations (numpy) on Keras-layout weights ---------------------------------------------
def _keras_lstm(x, kernel, recurrent, bias):
    n, t, _ = x.shape
    units = recurrent.shape[0]
    h, c = np.zeros((n, units)), np.zeros((n, units))
    outs = []
    for step in range(t):
        z = x[:, step] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1), h, c


def _keras_gru(x, kernel, recurrent, bias):
    n, t, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((n, units))
    outs = []
    split = lambda m: [m[..., k * units : (k + 1) * units] for k in range(3)]  # noqa: E731  (z, r, h)
    for step in range(t):
        xz, xr, xh = split(x[:, step] @ kernel + bias[0])
        hz, hr, hh = split(h @ recurrent + bias[1])
        z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
        h = z * h + (1 - z) * np.tanh(xh + r * hh)  # reset_after=True
        outs.append(h)
    return np.stack(outs, 1), h


def _random_weights(layer, rng):
    layer.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in layer.get_weights()])
    return layer.get_weights()


def test_lstm_follows_keras_equations_on_keras_weights(rng):
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    lstm(x)
    kernel, recurrent, bias = _random_weights(lstm, rng)
    assert kernel.shape == (2, 16) and recurrent.shape == (4, 16) and bias.shape == (16,)
    seq, h, c = lstm(x)
    ref_seq, ref_h, ref_c = _keras_lstm(x.astype(np.float64), kernel, recurrent, bias)
    for mine, ref in ((seq, ref_seq), (h, ref_h), (c, ref_c)):
        np.testing.assert_allclose(_np(mine), ref, rtol=1e-4, atol=1e-5)
    assert lstm.count_params() == 4 * 4 * (2 + 4 + 1)  # one bias, as Keras


def test_gru_follows_keras_equations_with_gate_order_z_r_h(rng):
    gru = layers.GRU(3, return_sequences=True)
    x = rng.standard_normal((2, 4, 5)).astype(np.float32)
    gru(x)
    kernel, recurrent, bias = _random_weights(gru, rng)
    assert kernel.shape == (5, 9) and recurrent.shape == (3, 9) and bias.shape == (2, 9)
    np.testing.assert_allclose(_np(gru(x)), _keras_gru(x.astype(np.float64), kernel, recurrent, bias)[0],
                               rtol=1e-4, atol=1e-5)  # fmt: skip


def test_lstm_equals_nn_lstm_batch_first_with_same_weights(rng):
    lstm = layers.LSTM(6)
    x = rng.standard_normal((4, 7, 3)).astype(np.float32)
    out = _np(lstm(x))
    kernel, recurrent, bias = lstm.get_weights()
    ref = nn.LSTM(3, 6, batch_first=True)
    ref.weight_ih_l0._array[...] = kernel.T
    ref.weight_hh_l0._array[...] = recurrent.T
    ref.bias_ih_l0._array[...] = bias
    ref.bias_hh_l0._array[...] = 0
    _, (h, _) = ref(shendu.tensor(x))
    np.testing.assert_allclose(out, _np(h)[0], rtol=1e-6, atol=1e-6)


def test_simple_rnn_go_backwards_and_unit_forget_bias(rng):
    rnn = layers.SimpleRNN(3, go_backwards=True)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    out = _np(rnn(x))
    kernel, recurrent, bias = rnn.get_weights()
    h = np.zeros((2, 3))
    for step in reversed(range(4)):
        h = np.tanh(x[:, step] @ kernel + h @ recurrent + bias)
    np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-6)
    lstm = layers.LSTM(2)
    lstm(x)
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # forget gate starts at 1


def test_recurrent_rejects_what_the_fused_op_cannot_do():
    with pytest.raises(ValueError, match="recurrent_dropout is not supported"):
        layers.LSTM(4, recurrent_dropout=0.2)
    with pytest.raises(ValueError, match=r"activation must be one of \('tanh',\)"):
        layers.GRU(4, activation="relu")


# ----- symbolic calls, building, configs ------------------------------------------------------------------------
def test_symbolic_call_infers_shapes_lazily():
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same", strides=2)(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    out = layers.Dense(10, activation="softmax")(x)
    assert isinstance(out, KerasTensor)
    assert x.shape == (None, 7 * 7 * 8) and out.shape == (None, 10)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(out)


def test_layer_rejects_input_of_the_wrong_width_naming_layer_and_shapes():
    dense = layers.Dense(3, name="hidden")
    dense(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r'layer "hidden" is incompatible with the layer: expected axis -1 of input '
                                         r"shape to have value 4, but received input with shape \(2, 5\)"):
        dense(np.zeros((2, 5), np.float32))


def test_get_config_round_trips_through_from_config():
    for layer in (layers.Dense(5, activation="tanh", use_bias=False), layers.Conv2D(4, (3, 2), padding="same"),
                  layers.LSTM(3, return_sequences=True), layers.Embedding(10, 4, mask_zero=True),
                  layers.BatchNormalization(momentum=0.9), layers.Dropout(0.3)):  # fmt: skip
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_unknown_keyword_argument_is_rejected():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Dense: {'unit': 3}"):
        layers.Dense(3, unit=3)


def test_a_users_own_layer_with_add_weight_trains_inside_a_sequential(rng):
    from shendu.keras import Sequential

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="ones", name="w")

        def call(self, x):
            return x @ self.w

    model = Sequential([Scale(input_shape=(3,))])
    lines = []
    model.summary(print_fn=lines.append)  # the output shape comes from running call once (no compute_output_shape)
    assert any("(Scale)" in line and "(None, 1)" in line and line.endswith(" 3") for line in lines)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[2.0], [-1.0], [0.5]], np.float32)
    model.compile(optimizer=shendu.keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, epochs=30, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [2.0, -1.0, 0.5], atol=0.05)


@pytest.mark.parametrize("shape", [(16, 6), (4, 5, 5, 3)])
def test_batch_normalization_moving_statistics_match_real_keras(shape, rng):
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    theirs, ours = keras.layers.BatchNormalization(momentum=0.9), layers.BatchNormalization(momentum=0.9)
    for step in range(3):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        expected = theirs(x, training=True).detach().numpy()
        np.testing.assert_allclose(_np(ours(x, training=True)), expected, rtol=1e-5, atol=1e-5)
    for got, want in zip(ours.get_weights(), [w.value.detach().numpy() for w in theirs.weights], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # moving variance: the biased batch variance
    np.testing.assert_allclose(_np(ours(x, training=False)), theirs(x, training=False).detach().numpy(), rtol=1e-5, atol=1e-5)


def _custom_linear(keras_module, ops):
    class CustomLinear(keras_module.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
            self.total = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            return ops.matmul(x, self.w) + self.b

    return CustomLinear


def test_self_attribute_add_weight_counts_once_as_keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from shendu import keras as shendu_keras

    theirs = _custom_linear(keras, keras.ops)()
    ours = _custom_linear(shendu_keras, shendu_keras.ops)()
    assert ours.weights == [] and theirs.weights == []
    x = np.ones((2, 3), np.float32)
    theirs(x), ours(x)
    assert ours.count_params() == theirs.count_params() == 17
    for attribute in ("weights", "trainable_weights", "non_trainable_weights"):
        assert len(getattr(ours, attribute)) == len(getattr(theirs, attribute)), attribute
    assert sorted(ours.state_dict()) == ["b", "total", "w"]
    ours.set_weights([w.value.detach().numpy() for w in theirs.weights])
    np.testing.assert_allclose(_np(ours(x)), theirs(x).detach().numpy(), rtol=1e-6)
    ours.trainable = True
    assert [w.requires_grad for w in ours.weights] == [True, True, False]
