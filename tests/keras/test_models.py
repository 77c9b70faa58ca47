"""Keras models: Sequential / functional / subclassed, compile-fit-evaluate-predict, summary, saving, errors."""

import math

import numpy as np
import pytest

import shendu
from shendu import keras, nn
from shendu.keras import callbacks, layers
from shendu.keras.models import Model, Sequential, load_model
from shendu.keras.utils import to_categorical


@pytest.fixture
def blobs(rng):
    """Three well-separated Gaussian classes in 6-D: (x, integer labels)."""
    centers = rng.standard_normal((3, 6)) * 3
    y = rng.integers(0, 3, 240)
    x = (centers[y] + rng.standard_normal((240, 6))).astype(np.float32)
    return x, y


def _mlp(activation="softmax", units=3):
    return Sequential([layers.Dense(16, activation="relu", input_shape=(6,)), layers.Dense(units, activation=activation)])


def _summary(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


# ----- summary ----------------------------------------------------------------------------------------------
def test_summary_of_seed_003_network_counts_45360_parameters():
    model = Sequential([
        layers.Dense(50, activation="sigmoid", input_shape=(784,)),
        layers.Dense(100, activation="sigmoid"),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    text = _summary(model)
    assert "Total params: 45,360 (177.19 KB)" in text
    assert "Trainable params: 45,360" in text and "Non-trainable params: 0" in text
    rows = [line.split() for line in text.splitlines() if "(Dense)" in line]
    assert [(r[2:-1], r[-1]) for r in rows] == [(["(None,", "50)"], "39,250"), (["(None,", "100)"], "5,100"),
                                               (["(None,", "10)"], "1,010")]  # fmt: skip
    assert model.count_params() == 45360


def test_summary_of_functional_model_with_frozen_embedding_counts_non_trainable():
    inputs = keras.Input(shape=(20,))
    x = layers.Embedding(100, 8, trainable=False)(inputs)
    outputs = layers.Dense(2, activation="softmax")(layers.LSTM(4)(x))
    model = Model(inputs=inputs, outputs=outputs)
    text = _summary(model)
    assert "(InputLayer)" in text and "(None, 20, 8)" in text
    assert "Non-trainable params: 800" in text
    assert f"Trainable params: {4 * 4 * (8 + 4 + 1) + 4 * 2 + 2:,}" in text


def test_summary_before_build_explains_how_to_build():
    model = Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    model.build((None, 5))
    assert "Total params: 18" in _summary(model)


# ----- compile / fit / evaluate / predict ------------------------------------------------------------------
def test_fit_evaluate_predict_learn_separable_classes(blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, to_categorical(y, 3), epochs=8, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # sorted, as Keras 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, to_categorical(y, 3), verbose=0)
    assert accuracy > 0.9
    probabilities = model.predict(x[:5], verbose=0)
    assert isinstance(probabilities, np.ndarray) and probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_validation_split_holds_out_the_last_fraction(blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1, validation_split=0.25, shuffle=True, verbose=0)
    tail = model.evaluate(x[180:], y[180:], return_dict=True, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(tail["loss"], rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(tail["accuracy"])


def test_evaluate_returns_scalar_list_or_dict(blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"])  # fmt: skip
    assert model.metrics_names == ["loss", "accuracy", "sparse_top_k_categorical_accuracy"]
    loss, accuracy, top_k = model.evaluate(x, y, verbose=0)
    assert top_k == 1.0 and 0 <= accuracy <= 1 and loss > 0
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == set(model.metrics_names)


def test_binary_sigmoid_output_with_integer_labels(rng):
    x = rng.standard_normal((200, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=15, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


def test_sequential_without_input_shape_builds_on_first_batch(blobs):
    x, y = blobs
    model = Sequential()
    model.add(layers.Dense(8, activation="relu"))
    model.add(layers.Dense(3, activation="softmax"))
    assert not model.built
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.count_params() == 6 * 8 + 8 + 8 * 3 + 3


def test_functional_model_with_two_inputs_and_concatenate(rng):
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    merged = layers.concatenate([layers.Dense(4, activation="tanh")(a), b])
    model = Model(inputs=[a, b], outputs=layers.Dense(1)(merged))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    xa, xb = rng.standard_normal((64, 3)).astype(np.float32), rng.standard_normal((64, 2)).astype(np.float32)
    target = xb[:, :1] * 2
    history = model.fit([xa, xb], target, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.predict([xa, xb], verbose=0).shape == (64, 1)
    assert "Connected to" in _summary(model)


def test_subclassed_model_trains(blobs):
    x, y = blobs

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = Net()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.85


def test_the_layers_inside_are_the_pytorch_dialect_layers():
    model = _mlp()
    assert isinstance(model, nn.Module) and isinstance(model.layers[0].linear, nn.Linear)
    first, second = (layer.name for layer in model.layers)
    assert [name for name, _ in model.named_parameters()] == [
        f"{first}.linear.weight", f"{first}.linear.bias", f"{second}.linear.weight", f"{second}.linear.bias",
    ]  # fmt: skip


# ----- weights and saving ------------------------------------------------------------------------------------
def test_get_set_weights_copy_a_model(blobs):
    x, _ = blobs
    a, b = _mlp(), _mlp()
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)
    assert [w.shape for w in a.get_weights()] == [(6, 16), (16,), (16, 3), (3,)]


def test_save_and_load_model_keeps_weights_and_compile_settings(tmp_path, blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x, to_categorical(y, 3), epochs=2, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert loaded.optimizer.learning_rate == pytest.approx(0.003)
    assert loaded.evaluate(x, to_categorical(y, 3), verbose=0)[1] == pytest.approx(
        model.evaluate(x, to_categorical(y, 3), verbose=0)[1])  # fmt: skip
    loaded.fit(x, to_categorical(y, 3), epochs=1, verbose=0)  # trains on
    assert not load_model(tmp_path / "model.keras", compile=False).compiled


def test_save_and_load_functional_text_model_keeps_frozen_embedding(tmp_path, rng):
    inputs = keras.Input(shape=(12,))
    x = layers.Embedding(50, 6, weights=[rng.standard_normal((50, 6)).astype(np.float32)], trainable=False)(inputs)
    outputs = layers.Dense(4, activation="softmax")(layers.GRU(5)(x))
    model = Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    tokens = rng.integers(0, 50, (10, 12))
    model.save(tmp_path / "text")
    loaded = shendu.load_model(tmp_path / "text")
    np.testing.assert_allclose(loaded.predict(tokens, verbose=0), model.predict(tokens, verbose=0), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.get_layer(model.layers[1].name).trainable_weights == []


def test_save_weights_and_load_weights(tmp_path, blobs):
    x, _ = blobs
    a, b = _mlp(), _mlp()
    a.save_weights(tmp_path / "w.weights.h5")
    b.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


# ----- callbacks ------------------------------------------------------------------------------------------------
def test_callback_stops_training_through_model_stop_training(blobs):
    x, y = blobs

    class StopAfterOne(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.seen = sorted(logs)
            self.model.stop_training = True

    stopper = StopAfterOne()
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, callbacks=[stopper], verbose=0)
    assert history.epoch == [0] and stopper.seen == ["accuracy", "loss"]  # as Keras: no learning rate in the logs
    assert stopper.params == {"epochs": 5, "steps": 8, "verbose": 0}
    assert len(model.fit(x, y, epochs=2, verbose=0).epoch) == 2  # the flag is reset by the next fit


def test_keras_callbacks_early_stopping_reduce_lr_scheduler_csv(tmp_path, blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    history = model.fit(
        x, y, epochs=6, validation_split=0.2, verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)),
                   callbacks.CSVLogger(str(tmp_path / "log.csv")),
                   callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)],
    )  # fmt: skip
    assert history.epoch == [0, 1]  # the second epoch does not improve by 10
    assert history.history["learning_rate"] == [0.1, 0.05]
    assert (tmp_path / "log.csv").read_text().splitlines()[0].startswith("epoch,learning_rate,loss,val_loss")  # sorted keys, as Keras
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[reducer])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


def test_model_checkpoint_saves_a_loadable_model(tmp_path, blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, validation_split=0.2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), save_best_only=True)])  # fmt: skip
    best = load_model(tmp_path / "best.keras")
    assert best.predict(x[:3], verbose=0).shape == (3, 3)


# ----- bad input -------------------------------------------------------------------------------------------------
def test_fit_before_compile_says_to_call_compile(blobs):
    x, y = blobs
    with pytest.raises(RuntimeError, match=r"You must call `compile\(\)` before using the model"):
        _mlp().fit(x, y)
    with pytest.raises(RuntimeError, match=r"call `compile\(\)`"):
        _mlp().evaluate(x, y)


@pytest.mark.parametrize("argument,value,accepted", [
    ("optimizer", "adamax", r"Unknown optimizer: 'adamax'\. Accepted names: adagrad, adam, adamw, rmsprop, sgd"),
    ("loss", "crossentropy", r"Unknown loss: 'crossentropy'\. Accepted names: .*binary_crossentropy.*categorical_crossentropy.*mse"),
    ("metrics", ["acuracy"], r"Could not interpret metric identifier: acuracy\. Known names: .*accuracy"),
])  # fmt: skip
def test_unknown_names_list_the_accepted_ones(argument, value, accepted):
    settings = {"optimizer": "adam", "loss": "mse", argument: value}
    with pytest.raises(ValueError, match=accepted):
        _mlp().compile(**settings)


def test_input_shape_incompatible_with_the_model_names_layer_and_shapes():
    model = Sequential([layers.Conv2D(4, 3, input_shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10)],
                       name="cnn")  # fmt: skip
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((10, 784), np.float32)
    message = r'Input 0 of layer "cnn" is incompatible with the layer: expected shape=\(None, 28, 28, 1\), found shape=\(10, 784\)'
    with pytest.raises(ValueError, match=message):
        model.fit(x, np.zeros((10, 10)))
    with pytest.raises(ValueError, match=message):
        model.predict(x)


def test_integer_labels_with_categorical_crossentropy_suggest_sparse(blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"expects one-hot targets of shape \(240, 3\), but y has shape \(240,\) "
                                         r"\(integer class labels\)\. For integer labels use "
                                         r"loss='sparse_categorical_crossentropy', or one-hot encode them with "
                                         r"keras\.utils\.to_categorical\(y, 3\)"):  # fmt: skip
        model.fit(x, y)


def test_one_hot_targets_with_sparse_loss_suggest_categorical(blobs):
    x, y = blobs
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot rows\?\)\. For one-hot targets use loss='categorical_crossentropy'"):
        model.fit(x, to_categorical(y, 3))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model.fit(x, y + 1)


def test_sequential_rejects_torch_modules_and_duplicate_names():
    with pytest.raises(TypeError, match="shendu.nn module belongs in shendu.nn.Sequential"):
        Sequential([nn.Linear(3, 2)])
    with pytest.raises(ValueError, match='Name "same" is already the name of a layer'):
        Sequential([layers.Dense(2, name="same"), layers.Dense(2, name="same")])


def test_sequential_takes_a_leading_input_and_casts_float64_and_integer_inputs():
    model = Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    assert model.built and model.layers[0].input_shape == (None, 4)
    for x in (np.ones((3, 4)), np.ones((3, 4), np.int64), shendu.tensor(np.ones((3, 4)))):
        out = model(x)
        assert out.dtype == shendu.float32 and tuple(out.shape) == (3, 2)


def test_load_model_on_a_file_says_what_it_reads(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n")
    with pytest.raises(ValueError, match="is neither a Keras 3 .keras archive nor a model directory written by model.save"):
        load_model(path)


def test_every_layer_kind_saves_and_loads(tmp_path, rng):
    inputs = keras.Input(shape=(10,))
    x = layers.Embedding(30, 8)(inputs)
    x = layers.Conv1D(6, 3, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.GRU(5, return_sequences=True)(x)
    x = layers.SimpleRNN(3, return_sequences=True, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(0.2)(layers.LayerNormalization()(layers.Dense(4, activation="gelu")(x)))
    images = keras.Input(shape=(8, 8, 2))
    y = layers.Conv2D(3, 3, strides=2, padding="same")(images)
    y = layers.AveragePooling2D(2)(layers.MaxPooling2D(1)(y))
    y = layers.Reshape((-1,))(layers.Activation("swish")(y))
    outputs = layers.Dense(2, activation="softmax")(layers.Concatenate()([x, layers.Flatten()(y)]))
    model = Model([inputs, images], outputs)
    model.compile(optimizer="adamw", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tokens, pictures = rng.integers(0, 30, (16, 10)), rng.standard_normal((16, 8, 8, 2)).astype(np.float32)
    model.fit([tokens, pictures], rng.integers(0, 2, 16), epochs=1, verbose=0)
    model.save(tmp_path / "zoo")
    loaded = load_model(tmp_path / "zoo")
    np.testing.assert_allclose(loaded.predict([tokens, pictures], verbose=0), model.predict([tokens, pictures], verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert _summary(loaded) == _summary(model)


def test_model_checkpoint_of_a_two_input_model(tmp_path, rng):
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    model = Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    xa, xb = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    model.fit([xa, xb], np.zeros((8, 1)), epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "ckpt"), monitor="loss")])  # fmt: skip
    np.testing.assert_allclose(load_model(tmp_path / "ckpt").predict([xa, xb], verbose=0),
                               model.predict([xa, xb], verbose=0), rtol=1e-6)  # fmt: skip


def test_fit_evaluate_predict_accept_a_shendu_dataloader(blobs):
    from shendu.utils.data import DataLoader, TensorDataset

    x, y = blobs
    loader = DataLoader(TensorDataset(shendu.tensor(x), shendu.tensor(y)), batch_size=32, shuffle=True)
    model = Sequential([layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(loader, epochs=3, validation_data=loader, verbose=0)
    assert len(history.history["val_accuracy"]) == 3 and model.built
    assert model.evaluate(loader, verbose=0, return_dict=True)["accuracy"] > 0.5
    assert model.predict(loader).shape == (240, 3)


def test_terminate_on_nan_stops_before_the_update(blobs, capsys):
    x, y = blobs

    def nan_loss(y_true, y_pred):
        return y_pred.sum(dim=-1) * float("nan")

    model = _mlp()
    before = model.get_weights()
    model.compile(optimizer="sgd", loss=nan_loss)
    history = model.fit(x, y, epochs=3, callbacks=[callbacks.TerminateOnNaN()], verbose=0)
    # As Keras' own test: the broken epoch is recorded, its loss NaN
    assert history.epoch == [0] and len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    assert "invalid loss" in capsys.readouterr().err
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_layer_names_count_per_session_and_clear_session_restarts_them():
    keras.backend.clear_session()
    assert [layers.Dense(1).name, layers.Dense(1).name, layers.Conv2D(1, 1).name] == ["dense", "dense_1", "conv2d"]
    assert layers.MaxPooling2D().name == "max_pooling2d" and layers.SimpleRNN(1).name == "simple_rnn"
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_class_weight_scales_training_loss_but_not_val_loss_as_keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from shendu.keras import layers as shendu_layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    ours = Sequential([shendu_layers.Input((4,)), shendu_layers.Dense(2, activation="softmax")])
    ours.set_weights([w.value.detach().numpy() for w in theirs.weights])
    for model in (theirs, ours):
        model.compile(optimizer=keras.optimizers.SGD(0.1) if model is theirs else "sgd", loss="sparse_categorical_crossentropy")
    ours.optimizer.learning_rate = 0.1
    weights = {0: 1.0, 1: 20.0}
    kwargs = {"epochs": 1, "batch_size": 32, "class_weight": weights, "validation_data": (x, y), "verbose": 0}
    history_theirs, history_ours = theirs.fit(x, y, **kwargs).history, ours.fit(x, y, **kwargs).history
    np.testing.assert_allclose(history_ours["loss"], history_theirs["loss"], rtol=1e-5)
    np.testing.assert_allclose(history_ours["val_loss"], history_theirs["val_loss"], rtol=1e-5)
    assert history_ours["val_loss"][0] == pytest.approx(ours.evaluate(x, y, verbose=0), rel=1e-6)
