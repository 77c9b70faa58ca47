"""Keras 3's own files in both directions: .keras archives and .weights.h5 written by Keras 3 load in shendu with
the same predictions, and those written by shendu load in Keras 3."""

import json
import os
import warnings
import zipfile

import numpy as np
import pytest

from shendu import keras as skeras

pytest.importorskip("h5py")
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(0)
IMAGES = rng.random((4, 8, 8, 1)).astype(np.float32)
SEQUENCES = rng.random((3, 5, 3)).astype(np.float32)
TABLE = rng.random((3, 5)).astype(np.float32)


def _cnn(k):
    model = k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(4, 3, activation="relu"), k.layers.BatchNormalization(),
                          k.layers.MaxPooling2D(), k.layers.Flatten(), k.layers.Dropout(0.5),
                          k.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, IMAGES


def _recurrent(k):
    inputs = k.Input((5, 3))
    x = k.layers.LSTM(4, return_sequences=True)(inputs)
    x = k.layers.Bidirectional(k.layers.GRU(2, return_sequences=True))(x)
    x = k.layers.MultiHeadAttention(2, 3)(x, x)
    return k.Model(inputs, k.layers.TimeDistributed(k.layers.Dense(2))(x)), SEQUENCES


def _branches(k):
    inputs = k.Input((5,), name="inp")
    hidden = k.layers.Dense(4, name="h")(inputs)
    merged = k.layers.add([hidden, k.layers.Dense(4, name="skip")(inputs)])
    return k.Model(inputs, {"score": k.layers.Dense(1, name="o")(merged), "hidden": hidden}), TABLE


BUILDERS = [_cnn, _recurrent, _branches]


def _predict(model, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.predict(x, verbose=0)
    return [out[k] for k in sorted(out)] if isinstance(out, dict) else [out]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__.strip("_"))
def test_keras_archives_load_in_shendu_and_back(build, tmp_path):
    theirs, x = build(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.save(tmp_path / "keras.keras")
    ours = skeras.models.load_model(tmp_path / "keras.keras")
    for mine, real in zip(_predict(ours, x), _predict(theirs, x)):
        np.testing.assert_allclose(mine, real, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "shendu.keras")
    assert zipfile.ZipFile(tmp_path / "shendu.keras").namelist() == ["metadata.json", "config.json", "model.weights.h5"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = keras.models.load_model(tmp_path / "shendu.keras")
    for mine, real in zip(_predict(ours, x), _predict(again, x)):
        np.testing.assert_allclose(mine, real, rtol=1e-5, atol=1e-6)


def test_compile_settings_travel_both_ways(tmp_path):
    ours, x = _cnn(skeras)
    ours.save(tmp_path / "m.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = keras.models.load_model(tmp_path / "m.keras")
    assert theirs.compiled and theirs.loss == "sparse_categorical_crossentropy"
    reloaded = skeras.models.load_model(tmp_path / "m.keras")
    assert reloaded.compiled and reloaded.evaluate(x, np.array([0, 1, 2, 0]), verbose=0)[0] > 0


def test_weights_h5_files_both_ways(tmp_path):
    theirs, x = _cnn(keras)
    ours, _ = _cnn(skeras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.save_weights(tmp_path / "keras.weights.h5")
    ours.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(_predict(ours, x)[0], _predict(theirs, x)[0], rtol=1e-5, atol=1e-6)
    ours.layers[-1].set_weights([w * 2 for w in ours.layers[-1].get_weights()])
    ours.save_weights(tmp_path / "shendu.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.load_weights(tmp_path / "shendu.weights.h5")
    np.testing.assert_allclose(_predict(ours, x)[0], _predict(theirs, x)[0], rtol=1e-5, atol=1e-6)


def test_model_checkpoint_writes_keras_archives(tmp_path):
    model, x = _cnn(skeras)
    y = np.array([0, 1, 2, 0])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        skeras.callbacks.ModelCheckpoint(str(tmp_path / "m_{epoch}.keras")),
        skeras.callbacks.ModelCheckpoint(str(tmp_path / "w_{epoch}.weights.h5"), save_weights_only=True)])  # fmt: skip
    assert sorted(os.listdir(tmp_path)) == ["m_1.keras", "m_2.keras", "w_1.weights.h5", "w_2.weights.h5"]
    loaded = skeras.models.load_model(tmp_path / "m_2.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_bad_archives_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps({"module": "keras", "class_name": "Sequential",
                                               "config": {"layers": [{"class_name": "Evil", "config": {}}]}}))  # fmt: skip
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="layer class 'Evil' is not one shendu has"):
        skeras.models.load_model(path)
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="not a Keras model archive \\(no config.json\\)"):
        skeras.models.load_model(tmp_path / "empty.keras")
