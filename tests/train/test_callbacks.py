"""Callbacks: early stopping, checkpoints, NaN termination, LR schedules, logs, progress, gradient watch."""

import csv
import math
import os

import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.optim as optim
from shendu.train import (
    CSVLogger, EarlyStopping, GradientMonitor, GradientWarning, LambdaCallback, LearningRateScheduler,
    ModelCheckpoint, TensorBoard, TerminateOnNaN, fit,
)  # fmt: skip


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def _fit(model, epochs=3, callbacks=(), lr=0.1, **kwargs):
    x, y = _data()
    kwargs.setdefault("verbose", 0)
    return fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), (x, y), epochs=epochs,
               batch_size=20, callbacks=list(callbacks), seed=0, **kwargs)  # fmt: skip


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


class _ScriptedValLoss(LambdaCallback):
    """Overrides val_loss with a scripted sequence and records the weights at each epoch end."""

    def __init__(self, values):
        super().__init__()
        self.values, self.snapshots = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.snapshots.append(_weights(self.trainer.model))


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    model = _model()
    script = _ScriptedValLoss([5.0, 3.0, 4.0, 3.5, 3.2, 1.0, 1.0, 1.0])
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = _fit(model, epochs=8, callbacks=[script, stopper])
    assert history.epoch == [0, 1, 2, 3]  # best at epoch 1, two epochs of patience, stop after epoch 3
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 1 and stopper.best == 3.0
    best = script.snapshots[1]
    assert all(np.array_equal(v, best[k]) for k, v in _weights(model).items())
    assert not all(np.array_equal(v, script.snapshots[3][k]) for k, v in _weights(model).items())


def test_early_stopping_min_delta_and_max_mode():
    class Accuracy(_ScriptedValLoss):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = self.values[epoch]

    stopper = EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.01)
    history = _fit(_model(), epochs=5, callbacks=[Accuracy([0.50, 0.505, 0.509, 0.6, 0.6]), stopper])
    assert stopper.mode == "max"
    assert history.epoch == [0, 1, 2]  # +0.005 and +0.009 are below min_delta


def test_early_stopping_names_a_missing_monitor():
    with pytest.raises(ValueError, match="val_loss.*validation_data"):
        _fit(_model(), epochs=2, callbacks=[EarlyStopping()])


class _InjectInf:
    """A loss that becomes +inf at the given call."""

    def __init__(self, at_call):
        self.at_call, self.calls, self.loss = at_call, 0, nn.CrossEntropyLoss()

    def __call__(self, output, target):
        self.calls += 1
        loss = self.loss(output, target)
        return loss * math.inf if self.calls == self.at_call else loss


def test_terminate_on_nan_stops_at_the_first_inf_and_keeps_the_last_good_checkpoint(tmp_path):
    x, y = _data()
    model = _model()
    loss_fn = _InjectInf(at_call=6 + 3)  # 6 batches per epoch: the 4th batch of the 2nd epoch
    before = []
    recorder = LambdaCallback(on_batch_end=lambda batch, logs: before.append(_weights(model)))
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, monitor="loss", save_weights_only=True)
    history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5, batch_size=20,
                  callbacks=[TerminateOnNaN(), checkpoint, recorder], verbose=0)  # fmt: skip
    assert loss_fn.calls == 9  # no batch after the inf
    # As Keras: the History records the broken epoch, with its non-finite loss
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert math.isfinite(history.history["loss"][0]) and history.history["loss"][1] == math.inf
    saved = shendu.load(path)
    assert all(np.all(np.isfinite(v.numpy())) for v in saved.values())
    assert all(np.array_equal(saved[k].numpy(), before[5][k]) for k in saved)  # end of epoch 0
    # the update of the infinite batch was not applied: weights are those after the last good batch
    assert all(np.array_equal(v, before[8][k]) for k, v in _weights(model).items())


def test_terminate_on_nan_in_the_first_epoch_records_it_as_keras_does(tmp_path):
    # keras/src/callbacks/terminate_on_nan_test.py: len(history.history["loss"]) == 1, and it is NaN or inf
    x, y = _data()
    model = _model()
    start = _weights(model)
    path = tmp_path / "ckpt.safetensors"
    logged = []
    csv_path = tmp_path / "log.csv"
    history = fit(model, _InjectInf(at_call=1), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5,
                  batch_size=20, validation_data=(x, y), checkpoint=path,
                  callbacks=[TerminateOnNaN(), CSVLogger(csv_path),
                             LambdaCallback(on_epoch_end=lambda epoch, logs: logged.append(epoch))],
                  verbose=0)  # fmt: skip
    loss = history.history["loss"]
    assert len(loss) == 1 and (math.isnan(loss[0]) or math.isinf(loss[0]))
    assert history.epoch == [0]
    assert logged == [] and csv_path.read_text() == ""  # only the History hears of the broken epoch
    assert not path.exists()  # no checkpoint of it
    assert all(np.array_equal(v, start[k]) for k, v in _weights(model).items())  # the update was not applied


def test_terminate_on_nan_does_not_overwrite_the_last_good_training_checkpoint(tmp_path):
    x, y = _data()
    model = _model()
    path = tmp_path / "ckpt.safetensors"
    history = fit(model, _InjectInf(at_call=6 * 2 + 1), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5,
                  batch_size=20, checkpoint=path, callbacks=[TerminateOnNaN()], verbose=0)  # fmt: skip
    assert history.epoch == [0, 1, 2] and history.history["loss"][2] == math.inf
    state = shendu.load(path)
    assert int(state["epoch"]) == 2  # written after epoch 1 (the second), not for the broken third
    assert state["history"]["epoch"] == [0, 1] and all(math.isfinite(v) for v in state["history"]["history"]["loss"])
    assert all(np.array_equal(state["model"][k].numpy(), v) for k, v in _weights(model).items())


def test_without_terminate_on_nan_training_goes_on():
    model = _model()
    loss_fn = _InjectInf(at_call=2)
    x, y = _data()
    with np.errstate(all="ignore"):  # inf - inf in the backward pass
        history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1, batch_size=20,
                      verbose=0)  # fmt: skip
    assert loss_fn.calls == 6
    assert not math.isfinite(history.history["loss"][0])


def test_model_checkpoint_saves_only_improvements_as_model_directories(tmp_path):
    model = _model()
    script = _ScriptedValLoss([3.0, 2.0, 2.5, 1.0])
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}", monitor="val_loss", save_best_only=True)
    _fit(model, epochs=4, callbacks=[script, checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01", "ckpt-02", "ckpt-04"]
    loaded, info = shendu.io.load_model(tmp_path / "ckpt-02", with_metadata=True)
    assert info["metrics"]["val_loss"] == 2.0
    assert all(np.array_equal(v.numpy(), script.snapshots[1][k]) for k, v in loaded.state_dict().items())


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = _model()
    history = _fit(model, epochs=3, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert np.allclose(history.history["lr"], [0.1, 0.05, 0.1 / 3])
    with pytest.raises(ValueError, match="non-negative"):
        _fit(_model(), epochs=1, callbacks=[LearningRateScheduler(lambda epoch, lr: -1.0)])


def test_csv_logger_writes_one_row_per_epoch_and_appends_on_request(tmp_path):
    path = tmp_path / "log.csv"
    _fit(_model(), epochs=2, callbacks=[CSVLogger(path)], metrics=["accuracy"])
    _fit(_model(), epochs=1, callbacks=[CSVLogger(path, append=True)], metrics=["accuracy"])
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["0", "1", "0"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "lr"}
    assert 0 <= float(rows[1]["accuracy"]) <= 1


def _read_scalars(directory):
    """(tag, step, value) of every scalar in the TFRecord event files of ``directory``."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    scalars = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as handle:
            data = handle.read()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 12 + length + 4
            scalars += [(v.tag, event.step, v.simple_value) for v in event.summary.value if v.HasField("simple_value")]
    return scalars


def test_tensorboard_writes_event_files(tmp_path):
    history = _fit(_model(), epochs=2, callbacks=[TensorBoard(tmp_path / "runs", histogram_freq=1)],
                   validation_split=0.2)  # fmt: skip
    assert all(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "runs"))
    scalars = _read_scalars(tmp_path / "runs")
    assert {tag for tag, _, _ in scalars} >= {"loss/train", "loss/validation", "lr/train"}
    train_loss = [(step, value) for tag, step, value in scalars if tag == "loss/train"]
    assert [step for step, _ in train_loss] == [0, 1]  # Keras' count: step = epoch index
    assert np.allclose([v for _, v in train_loss], history.history["loss"])


def test_tensorboard_logs_outside_the_command_lines_runs_folder():
    assert TensorBoard().log_dir == "logs"


def test_progress_is_silent_with_verbose_0_and_one_line_per_epoch_otherwise(capsys):
    _fit(_model(), epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    _fit(_model(), epochs=2, verbose=1)  # not a terminal here: no bar, epoch lines only
    out, err = capsys.readouterr()
    assert out.count("Epoch ") == 2 and "Epoch 2/2" in out and "loss:" in out
    assert err == ""


def test_the_progress_bar_is_drawn_on_a_terminal():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    from shendu.train import ProgressBar

    stream = Terminal()
    bar = ProgressBar(verbose=1, stream=stream)
    _fit(_model(), epochs=1, verbose=0, callbacks=[bar])
    assert "Epoch 1/1:" in stream.getvalue() and "/6 [" in stream.getvalue()


def test_gradient_monitor_records_per_layer_norms():
    monitor = GradientMonitor()
    _fit(_model(), epochs=2, callbacks=[monitor])
    assert set(monitor.norms) == {"0", "2"}
    assert all(len(v) == 2 and all(n > 0 for n in v) for v in monitor.norms.values())
    assert all(m >= n for m, n in zip(monitor.max_norms["0"], monitor.norms["0"]))


def test_gradient_monitor_warns_on_vanishing_gradients():
    model = _model()
    with shendu.no_grad():
        model[2].weight.zero_()  # nothing flows back into the first layer
    monitor = GradientMonitor()
    with pytest.warns(GradientWarning, match="vanishing gradients in layer '0'"):
        _fit(model, epochs=1, callbacks=[monitor], lr=0.0)
    assert monitor.norms["0"] == [0.0]


def test_gradient_monitor_warns_on_exploding_gradients():
    x, y = _data()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    monitor = GradientMonitor()
    with pytest.warns(GradientWarning, match="exploding gradients"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (x * 1e5, y), epochs=1,
            callbacks=[monitor], verbose=0)  # fmt: skip
    assert max(monitor.max_norms["0"]) > 1e3


def test_history_plot_writes_a_png(tmp_path):
    history = _fit(_model(), epochs=3, validation_split=0.25, metrics=["accuracy"])
    path = history.plot(tmp_path / "curves.png", title="train vs validation")
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(path) > 10_000


def test_callbacks_must_be_callback_objects():
    with pytest.raises(TypeError, match="Callback"):
        _fit(_model(), epochs=1, callbacks=[lambda: None])


def test_setting_model_stop_training_stops_like_keras():
    model = _model()
    stopper = LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    assert _fit(model, epochs=5, callbacks=[stopper]).epoch == [0, 1]
    assert _fit(model, epochs=2).epoch == [0, 1]  # the flag is cleared when the next fit starts
