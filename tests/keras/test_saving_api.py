"""keras.saving as Keras 3 has it: registered custom layers save and load, custom_objects and
custom_object_scope, serialize/deserialize, from_config(custom_objects=), dict outputs."""

import numpy as np
import pytest

from shendu import keras
from shendu.keras import layers, ops


@keras.saving.register_keras_serializable(package="Tests")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.offset = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="offset")

    def call(self, inputs):
        return inputs * self.factor + self.offset

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(layers.Layer):
    def call(self, inputs):
        return ops.square(inputs)


X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


def test_a_registered_custom_layer_saves_and_loads(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(Scale(3.0)(inputs)))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert isinstance(loaded.layers[1], Scale) and loaded.layers[1].factor == 3.0
    assert Scale._registered_name == "Tests>Scale"
    assert keras.saving.get_registered_object("Tests>Scale") is Scale


def test_custom_objects_and_custom_object_scope_admit_unregistered_classes(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, Unregistered()(inputs))
    config = model.get_config()
    rebuilt = keras.Model.from_config(config, custom_objects={"Unregistered": Unregistered})
    assert rebuilt.layers[1] is not model.layers[1]  # the new model has its own layers
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), X**2, rtol=1e-6)
    with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
        model.save(tmp_path / "m.keras")
        again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(X, verbose=0), X**2, rtol=1e-6)


def test_serialize_and_deserialize_round_trip_layers_losses_metrics():
    dense = layers.Dense(4, activation="relu", name="d")
    config = keras.layers.serialize(dense)
    assert config["class_name"] == "keras.Dense"
    copy = keras.layers.deserialize(config)
    assert isinstance(copy, layers.Dense) and copy.units == 4 and copy.name == "d"
    loss = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(keras.losses.Huber()))
    assert isinstance(loss, keras.losses.Huber)
    metric = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(keras.metrics.AUC(curve="PR")))
    assert isinstance(metric, keras.metrics.AUC) and metric.curve == "PR"
    with pytest.raises(ValueError, match="Could not locate class 'Nope'"):
        keras.saving.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_dict_outputs_name_the_outputs_and_predictions():
    inputs = keras.Input((3,))
    hidden = layers.Dense(4)(inputs)
    model = keras.Model(inputs, {"score": layers.Dense(1)(hidden), "kind": layers.Dense(2, activation="softmax")(hidden)})
    assert model.output_names == ["score", "kind"]
    model.compile("adam", loss={"score": "mse", "kind": "sparse_categorical_crossentropy"}, metrics={"kind": ["accuracy"]})
    history = model.fit(X, {"score": X[:, :1], "kind": np.array([0, 1, 0, 1, 1])}, epochs=1, verbose=0)
    assert {"loss", "score_loss", "kind_loss", "kind_accuracy"} <= set(history.history)
    predictions = model.predict(X, verbose=0)
    assert set(predictions) == {"score", "kind"} and predictions["kind"].shape == (5, 2)


def test_weights_behave_as_keras_variables():
    import os
    import warnings

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras as real

    def build(k):
        inputs = k.Input((3,))
        x = k.layers.Dense(4, name="dense")(inputs)
        x = k.layers.BatchNormalization(name="bn")(x)
        return k.Model(inputs, k.layers.Dense(2, name="out")(x))

    ours, theirs = build(keras), build(real)
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = [(w.path, tuple(w.shape), bool(w.trainable), w.numpy()) for w in theirs.weights]
    got = [(w.path, tuple(w.shape), bool(w.trainable), w.numpy()) for w in ours.weights]
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for (_, _, _, mine), (_, _, _, real_value) in zip(got, expected):
        np.testing.assert_array_equal(mine, real_value)
    kernel = ours.get_layer("dense").weights[0]
    assert kernel.name == "kernel" and kernel.shape == (3, 4) and ours.weights[0] is kernel
    kernel.assign(np.ones((3, 4)))
    kernel.assign_add(np.ones((3, 4)))
    np.testing.assert_array_equal(ours.get_layer("dense").get_weights()[0], np.full((3, 4), 2.0))
    assert kernel.value is ours.get_layer("dense").linear.weight  # the parameter behind, shendu's (out, in) layout
    with pytest.raises(ValueError, match="cannot assign a value of shape \\(4, 3\\) to a variable of shape \\(3, 4\\)"):
        kernel.assign(np.ones((4, 3)))
    assert layers.Dense(2).weights == []  # unbuilt: no weights yet
