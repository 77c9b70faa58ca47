"""Keras 3 data inputs and logging: PyDataset and generators yielding (x, y[, sample_weight]) with lists or
dicts, steps_per_epoch / validation_steps, layers called on several symbolic tensors, Keras' TensorBoard layout."""

import math

import numpy as np
import pytest

from shendu import keras
from shendu.keras import layers, ops

rng = np.random.default_rng(5)
X = rng.normal(size=(100, 4)).astype(np.float32)
Y = (X.sum(axis=1) > 0).astype(np.int64)


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, weights=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.weights, self.epochs_seen = x, y, batch_size, weights, 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.weights is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.weights[part]

    def on_epoch_end(self):
        self.epochs_seen += 1


def _model():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_py_dataset_trains_like_the_same_arrays():
    first, second = _model(), _model()
    second.set_weights(first.get_weights())
    data = Batches(X, Y, 16)
    from_dataset = first.fit(data, epochs=2, shuffle=False, verbose=0, validation_data=Batches(X, Y, 50)).history
    from_arrays = second.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(X, Y)).history
    for key in from_arrays:
        np.testing.assert_allclose(from_dataset[key], from_arrays[key], rtol=1e-5, err_msg=key)
    assert data.epochs_seen == 2
    np.testing.assert_allclose(first.evaluate(Batches(X, Y, 32), verbose=0), second.evaluate(X, Y, verbose=0), rtol=1e-5)
    assert first.predict(Batches(X, Y, 32), verbose=0).shape == (100, 2)


def test_sample_weights_from_the_dataset_equal_fit_sample_weight():
    weights = rng.uniform(0.1, 2, 100).astype(np.float32)
    first, second = _model(), _model()
    second.set_weights(first.get_weights())
    a = first.fit(Batches(X, Y, 20, weights), epochs=1, shuffle=False, verbose=0).history["loss"]
    b = second.fit(X, Y, sample_weight=weights, batch_size=20, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_steps_per_epoch_continues_the_iterator_and_validation_steps_restart():
    model = _model()
    recorded = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            recorded.append(batch)

    model.fit(Batches(X, Y, 10), epochs=3, steps_per_epoch=4, validation_data=Batches(X, Y, 10), validation_steps=2,
              verbose=0, callbacks=[Count()])  # fmt: skip
    assert recorded == [0, 1, 2, 3] * 3
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        model.fit(Batches(X, Y, 10), steps_per_epoch=0, verbose=0)


def test_generators_of_dicts_feed_named_inputs_and_outputs():
    first, second = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    model = keras.Model([first, second], layers.Dense(1, name="out")(layers.concatenate([first, second])))
    model.compile("sgd", "mse")

    class Stream:
        def __iter__(self):
            for i in range(5):
                part = slice(i * 20, (i + 1) * 20)
                yield {"a": X[part], "b": X[part, :2]}, {"out": Y[part].astype(np.float32)}

    history = model.fit(Stream(), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and history.history["loss"][1] < history.history["loss"][0]


def test_a_layer_called_on_two_symbolic_tensors_adds_its_loss():
    class LogisticEndpoint(layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return ops.softmax(logits)

    inputs, targets = keras.Input((3,), name="inputs"), keras.Input((10,), name="targets")
    predictions = LogisticEndpoint(name="predictions")(targets, layers.Dense(10)(inputs))
    model = keras.Model([inputs, targets], predictions)
    model.compile(optimizer="adam")
    history = model.fit({"inputs": rng.random((8, 3)), "targets": rng.random((8, 10))}, epochs=3, verbose=0)
    assert list(history.history) == ["loss"] and history.history["loss"][2] < history.history["loss"][0]


def _scalars(folder):
    """{tag: [steps]} from the TFRecord event files in ``folder`` (read with tensorboardX's protobufs)."""
    import struct

    from tensorboardX.proto import event_pb2

    found = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(event.step)
    return found


def test_tensorboard_writes_keras_train_and_validation_runs(tmp_path):
    pytest.importorskip("tensorboardX")
    model = _model()
    model.fit(X, Y, epochs=2, batch_size=25, validation_split=0.2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path), update_freq=2)])  # fmt: skip
    train, validation = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    assert train["epoch_loss"] == [0, 1] and train["epoch_accuracy"] == [0, 1]
    assert train["batch_loss"] == [2, 4, 6, 8]  # 4 batches per epoch (80 samples), counted across epochs
    assert validation["epoch_loss"] == [0, 1] and "epoch_val_loss" not in validation


def test_call_receives_training_as_keras_passes_it():
    seen = []

    class Probe(layers.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    probe = Probe()
    probe(X[:2])
    probe(X[:2], training=True)
    model = keras.Sequential([keras.Input((4,)), probe, layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen.clear()
    model.fit(X[:10], Y[:10], batch_size=10, epochs=1, verbose=0)
    model.predict(X[:2], verbose=0)
    assert seen == [True, False]


def test_a_sequential_model_has_inputs_and_outputs_for_feature_extraction():
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, name="first"), layers.Conv2D(3, 3, name="second")])
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    features = extractor(np.ones((1, 8, 8, 1), np.float32))
    assert [tuple(f.shape) for f in features] == [(1, 6, 6, 2), (1, 4, 4, 3)]
    np.testing.assert_allclose(features[1].detach().numpy(), model(np.ones((1, 8, 8, 1), np.float32)).detach().numpy())
    middle = keras.Model(inputs=model.inputs, outputs=model.get_layer(name="first").output)
    assert tuple(middle.output_shape) == (None, 6, 6, 2)
    with pytest.raises(ValueError, match="has no defined input"):
        _ = keras.Sequential([layers.Dense(2)]).inputs
