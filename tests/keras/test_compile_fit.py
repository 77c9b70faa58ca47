"""compile/fit/evaluate as real Keras 3 runs them: several inputs and outputs, losses and metrics per output,
dict data, sample and class weights, add_loss, and the logs callbacks see — same weights, same batches,
same numbers."""

import os
import warnings

import numpy as np
import pytest

from shendu import keras as skeras

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

rng = np.random.default_rng(7)
X1 = rng.normal(size=(40, 4)).astype(np.float32)
X2 = rng.normal(size=(40, 3)).astype(np.float32)
Y_CLASS = rng.integers(0, 3, 40)
Y_REG = rng.normal(size=(40, 1)).astype(np.float32)
WEIGHTS = rng.uniform(0.2, 2.0, 40).astype(np.float32)


def _two_headed(k):
    first, second = k.Input((4,), name="feat"), k.Input((3,), name="aux")
    hidden = k.layers.Dense(8, activation="tanh", name="hidden")(k.layers.Concatenate(name="join")([first, second]))
    classes = k.layers.Dense(3, activation="softmax", name="cls")(hidden)
    value = k.layers.Dense(1, name="reg")(hidden)
    return k.Model([first, second], [classes, value])


def _pair(build):
    ours, theirs = build(skeras), build(keras)
    ours.set_weights([w.value.detach().cpu().numpy() for w in theirs.weights])
    return ours, theirs


class Recorder:
    """Records every hook with its logs (a Keras callback on both sides)."""

    def __init__(self):
        self.events = []

    def _log(self, name, *args):
        *index, logs = args
        self.events.append((name, *index, dict(logs or {})))


def _recorder_class(base):
    class _Recorder(base, Recorder):
        def __init__(self):
            base.__init__(self)
            Recorder.__init__(self)

        def on_train_batch_begin(self, batch, logs=None):
            self._log("train_batch_begin", batch, logs)

        def on_train_batch_end(self, batch, logs=None):
            self._log("train_batch_end", batch, logs)

        def on_test_begin(self, logs=None):
            self._log("test_begin", logs)

        def on_test_batch_end(self, batch, logs=None):
            self._log("test_batch_end", batch, logs)

        def on_test_end(self, logs=None):
            self._log("test_end", logs)

        def on_epoch_end(self, epoch, logs=None):
            self._log("epoch_end", epoch, logs)

    return _Recorder()


def _assert_logs_equal(ours, theirs, rtol=2e-4):
    assert [e[:-1] for e in ours] == [e[:-1] for e in theirs]
    for mine, real in zip(ours, theirs):
        assert list(mine[-1]) == list(real[-1]), (mine[0], list(mine[-1]), list(real[-1]))
        for key in real[-1]:
            np.testing.assert_allclose(mine[-1][key], real[-1][key], rtol=rtol, atol=1e-5, err_msg=f"{mine[:-1]} {key}")


COMPILE = {
    "loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"}, "loss_weights": {"cls": 1.0, "reg": 0.5},
    "metrics": {"cls": ["accuracy"], "reg": ["mae"]},
}  # fmt: skip


@pytest.mark.parametrize("data", ["dict", "list"])
def test_two_inputs_two_outputs_fit_logs_equal_keras(data):
    ours, theirs = _pair(_two_headed)
    ours.compile(optimizer=skeras.optimizers.SGD(0.1), **COMPILE)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), **COMPILE)
    if data == "dict":
        x, y = {"feat": X1, "aux": X2}, {"cls": Y_CLASS, "reg": Y_REG}
    else:
        x, y = [X1, X2], [Y_CLASS, Y_REG]
    recorders = _recorder_class(skeras.callbacks.Callback), _recorder_class(keras.callbacks.Callback)
    histories = [model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[recorder],
                           validation_data=([X1[:24], X2[:24]], [Y_CLASS[:24], Y_REG[:24]]))
                 for model, recorder in zip((ours, theirs), recorders)]  # fmt: skip
    _assert_logs_equal(recorders[0].events, recorders[1].events)
    assert list(histories[0].history) == list(histories[1].history)
    results = [m.evaluate([X1, X2], [Y_CLASS, Y_REG], verbose=0) for m in (ours, theirs)]
    np.testing.assert_allclose(results[0], results[1], rtol=2e-4)
    assert ours.metrics_names[:3] == ["loss", "cls_loss", "reg_loss"]
    with warnings.catch_warnings():  # Keras' own predict warns under NumPy 2
        warnings.simplefilter("ignore", DeprecationWarning)
        predictions = [m.predict([X1, X2], verbose=0) for m in (ours, theirs)]
    for mine, real in zip(*predictions):
        np.testing.assert_allclose(mine, real, rtol=1e-4, atol=1e-5)


def _classifier(k):
    inputs = k.Input((4,))
    return k.Model(inputs, k.layers.Dense(3, activation="softmax")(k.layers.Dense(6, activation="relu")(inputs)))


@pytest.mark.parametrize("weighting", ["sample_weight", "class_weight"])
def test_sample_and_class_weights_equal_keras(weighting):
    ours, theirs = _pair(_classifier)
    settings = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"], "weighted_metrics": ["accuracy"]}
    ours.compile(optimizer=skeras.optimizers.SGD(0.1), **settings)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), **settings)
    extra = {"sample_weight": WEIGHTS} if weighting == "sample_weight" else {"class_weight": {0: 0.5, 1: 2.0, 2: 1.0}}
    histories = [m.fit(X1, Y_CLASS, batch_size=8, epochs=2, shuffle=False, verbose=0, **extra).history
                 for m in (ours, theirs)]  # fmt: skip
    assert sorted(histories[0]) == sorted(histories[1])
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=2e-4, err_msg=key)
    evaluated = [m.evaluate(X1, Y_CLASS, sample_weight=WEIGHTS, verbose=0, return_dict=True) for m in (ours, theirs)]
    for key in evaluated[1]:
        np.testing.assert_allclose(evaluated[0][key], evaluated[1][key], rtol=2e-4, err_msg=key)


def test_class_weight_does_not_weigh_the_validation_loss():
    model = _classifier(skeras)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(X1, Y_CLASS, epochs=1, verbose=0, class_weight={0: 100.0, 1: 0.01, 2: 0.01},
                        validation_data=(X1, Y_CLASS))  # fmt: skip
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(X1, Y_CLASS, verbose=0), rel=1e-5)


class ActivityPenalty:
    """A layer that adds 0.01·mean(x²) of its input to the loss, as in the Keras guide on custom layers."""

    @staticmethod
    def build(k):
        class Penalty(k.layers.Layer):
            def call(self, inputs):
                self.add_loss(0.01 * k.ops.mean(k.ops.square(inputs)))
                return inputs

        return Penalty


def _penalised(k):
    inputs = k.Input((4,))
    hidden = ActivityPenalty.build(k)(name="penalty")(k.layers.Dense(5, name="dense_a")(inputs))
    return k.Model(inputs, k.layers.Dense(1, name="dense_b")(hidden))


def test_add_loss_terms_join_the_training_loss_as_keras():
    ours, theirs = _pair(_penalised)
    ours.compile(optimizer=skeras.optimizers.SGD(0.05), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    histories = [m.fit(X1, Y_REG, batch_size=10, epochs=2, shuffle=False, verbose=0).history for m in (ours, theirs)]
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=2e-4)
    ours(X1[:3])
    assert len(ours.losses) == 1 and len(ours.get_layer("penalty").losses) == 1
    ours(X1[:3])
    assert len(ours.losses) == 1  # renewed at every call, not accumulated


@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")  # Keras' notice about dense_b
def test_fit_with_only_add_loss_and_no_compiled_loss():
    ours, theirs = _pair(_penalised)
    ours.compile(optimizer=skeras.optimizers.SGD(0.5))
    theirs.compile(optimizer=keras.optimizers.SGD(0.5))
    histories = [m.fit(X1, epochs=3, batch_size=20, shuffle=False, verbose=0).history for m in (ours, theirs)]
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=2e-4)
    assert histories[0]["loss"][-1] < histories[0]["loss"][0]


def test_fit_with_nothing_trainable_trains_nothing():
    model = _classifier(skeras)
    model.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(X1, Y_CLASS, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_evaluate_and_predict_call_their_callbacks():
    model = _classifier(skeras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = _recorder_class(skeras.callbacks.Callback)
    model.evaluate(X1, Y_CLASS, batch_size=20, verbose=0, callbacks=[recorder])
    assert [e[0] for e in recorder.events] == ["test_begin", "test_batch_end", "test_batch_end", "test_end"]
    assert list(recorder.events[-1][-1]) == ["accuracy", "loss"]
    seen = []

    class PredictProbe(skeras.callbacks.Callback):
        def on_predict_begin(self, logs=None):
            seen.append("begin")

        def on_predict_batch_end(self, batch, logs=None):
            seen.append((batch, logs["outputs"].shape))

        def on_predict_end(self, logs=None):
            seen.append("end")

    model.predict(X1, batch_size=30, verbose=0, callbacks=[PredictProbe()])
    assert seen == ["begin", (0, (30, 3)), (1, (10, 3)), "end"]


def test_mismatched_structures_are_refused_with_the_names():
    model = _two_headed(skeras)
    with pytest.raises(ValueError, match=r"names output\(s\) \['value'\] that the model does not have; its outputs "
                                         r"are \['cls', 'reg'\]"):  # fmt: skip
        model.compile(optimizer="adam", loss={"cls": "mse", "value": "mse"})
    with pytest.raises(ValueError, match=r"`metrics` should contain metrics objects and either be a dict or a list "
                                         r"matching the output names"):  # fmt: skip
        model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"], metrics=["accuracy"])
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match=r"the dict's keys \['cls'\] do not match the model's output names"):
        model.fit([X1, X2], {"cls": Y_CLASS}, verbose=0)
    with pytest.raises(ValueError, match=r"the dict's keys \['aux', 'x'\] do not match the model's input names"):
        model.fit({"x": X1, "aux": X2}, [Y_CLASS, Y_REG], verbose=0)
