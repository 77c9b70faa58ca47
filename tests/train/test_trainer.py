"""fit / evaluate / predict: the seed MLP on the digits, data forms, modes, checkpoints and resuming."""

import math

import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.optim as optim
from shendu.train import CSVLogger, LambdaCallback, Trainer, evaluate, fit, predict
from shendu.utils.data import DataLoader, TensorDataset


def _blobs(n=240, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(classes, features))
    y = rng.integers(0, classes, n)
    x = (centres[y] + rng.normal(size=(n, features))).astype(np.float32)
    return x, y


def _net(features=6, classes=3, hidden=16, dropout=0.0):
    layers = [nn.Linear(features, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, classes))


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


@pytest.mark.slow
def test_seed_mlp_reaches_91_percent_on_the_embedded_digits_in_5_epochs():
    from shendu.vision.datasets import load_digits

    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), (x_train, y_train),
                  epochs=5, batch_size=100, metrics=["accuracy"], verbose=0, seed=0)  # fmt: skip
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = evaluate(model, (x_test, y_test), loss_fn=nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert result["accuracy"] >= 0.91, result


def test_history_has_train_validation_and_lr_curves():
    x, y = _blobs()
    model = _net()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
                  batch_size=32, validation_split=0.25, metrics=["accuracy", "f1"], verbose=0, seed=0)  # fmt: skip
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert history.history["lr"] == [0.1] * 3
    assert history.history["val_accuracy"][-1] > 0.8


def test_validation_split_holds_out_the_last_samples_like_keras():
    x, y = _blobs(n=100)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _net()

        def forward(self, inputs):
            if self.training:
                seen.append(inputs.numpy().copy())
            return self.inner(inputs)

    model = Spy()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=1, batch_size=10,
        validation_split=0.2, verbose=0)  # fmt: skip
    trained = np.concatenate(seen)
    assert len(trained) == 80
    assert sorted(map(tuple, trained)) == sorted(map(tuple, x[:80]))


def test_arrays_tensors_and_tensor_datasets_train_identically():
    x, y = _blobs()
    results = []
    for data in [(x, y), (shendu.tensor(x), shendu.tensor(y)), TensorDataset(shendu.tensor(x), shendu.tensor(y))]:
        shendu.manual_seed(0)
        model = _net()
        fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), data, epochs=2, batch_size=16,
            verbose=0, seed=3)  # fmt: skip
        results.append(_weights(model))
    _assert_same_weights(results[0], results[1])
    _assert_same_weights(results[0], results[2])


def test_a_dataloader_and_a_plain_dataset_can_be_trained_on():
    x, y = _blobs()
    dataset = TensorDataset(shendu.tensor(x), shendu.tensor(y))
    model = _net()
    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader, epochs=3,
                  validation_data=DataLoader(dataset, batch_size=64), metrics=["accuracy"], verbose=0)  # fmt: skip
    assert history.history["val_accuracy"][-1] > 0.8

    class Pairs:  # a map-style dataset without .tensors
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], y[i]

    assert evaluate(model, Pairs(), metrics=["accuracy"])["accuracy"] > 0.8


def test_several_model_inputs_are_passed_as_a_tuple():
    x, y = _blobs()

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 3), nn.Linear(6, 3)

        def forward(self, left, right):
            return self.a(left) + self.b(right)

    model = TwoInputs()
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), ((x, x), y), epochs=2, verbose=0)
    assert predict(model, (x, x)).shape == (len(x), 3)


def test_predict_is_batched_without_grad_and_restores_each_modules_mode():
    x, _ = _blobs(n=50)
    model = _net(dropout=0.5)
    model.train()
    model[0].eval()  # a mixed state must come back exactly
    out = predict(model, x, batch_size=7)
    assert isinstance(out, np.ndarray) and out.shape == (50, 3)
    assert np.allclose(out, predict(model, x, batch_size=50), atol=1e-6)  # dropout off while predicting
    assert [m.training for m in model] == [False, True, True, True]
    assert all(p.grad is None for p in model.parameters())


def test_evaluate_reports_loss_and_metrics_and_restores_train_mode():
    x, y = _blobs()
    model = _net()
    model.train()
    result = evaluate(model, (x, y), loss_fn=nn.CrossEntropyLoss(), metrics=["accuracy", "confusion_matrix"])
    assert set(result) == {"loss", "accuracy", "confusion_matrix"}
    assert result["confusion_matrix"].sum() == len(x)
    assert model.training


def test_evaluate_and_predict_take_verbose_like_fit(capsys):
    x, y = _blobs()
    model = _net()
    result = evaluate(model, (x, y), loss_fn=nn.CrossEntropyLoss(), metrics=["accuracy"], verbose=0)
    out = predict(model, x, verbose=0)
    assert capsys.readouterr() == ("", "")  # 0 (the default) is silent
    assert evaluate(model, (x, y), loss_fn=nn.CrossEntropyLoss(), metrics=["accuracy"], verbose=2) == result
    line = capsys.readouterr().out
    assert line.startswith(f"Evaluate ({len(x)} samples)") and f"accuracy: {result['accuracy']:.4f}" in line
    assert np.array_equal(predict(model, x, verbose=1), out)  # not a terminal here: the line, no bar
    assert capsys.readouterr().out.startswith(f"Predict ({len(x)} samples)")
    trainer = Trainer(model, nn.CrossEntropyLoss())
    assert trainer.evaluate((x, y), verbose=2)["loss"] == pytest.approx(result["loss"])
    assert "loss: " in capsys.readouterr().out
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        predict(model, x, verbose=3)


def test_scheduler_is_stepped_each_epoch():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, verbose=0,
                  scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))  # fmt: skip
    assert np.allclose(history.history["lr"], [0.1, 0.05, 0.025])


def test_reduce_lr_on_plateau_is_fed_the_monitored_value():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fed = []

    class Recording(optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics, epoch=None):
            fed.append(metrics)
            return super().step(metrics, epoch)

    scheduler = Recording(opt, factor=0.5, patience=0)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, validation_split=0.25, verbose=0,
                  scheduler=scheduler)  # fmt: skip
    assert fed == history.history["val_loss"]


def test_grad_clip_limits_the_update():
    x, y = _blobs()
    model = _net()
    before = _weights(model)
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), (x[:8], y[:8]), epochs=1, batch_size=8,
        verbose=0, grad_clip=1e-3, shuffle=False)  # fmt: skip
    change = math.sqrt(sum(float(((v - before[k]) ** 2).sum()) for k, v in _weights(model).items()))
    assert change <= 1e-3 * 1.001


def test_bad_arguments_are_reported():
    x, y = _blobs()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), batch_size=0)
    with pytest.raises(ValueError, match="different numbers of samples"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y[:-1]), verbose=0)
    with pytest.raises(ValueError, match="not both"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), validation_data=(x, y), validation_split=0.1)
    with pytest.raises(ValueError, match="no targets"):
        fit(model, nn.CrossEntropyLoss(), opt, x)
    with pytest.raises(TypeError, match="Module"):
        Trainer(object())
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, "hinge", opt, (x, y))


def test_losses_can_be_named():
    x, y = _blobs()
    model = _net()
    history = fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=0.01), (x, y), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


# ----- checkpoints and resuming ---------------------------------------------------------------
def _resumable_run(tmp_path, epochs, resume_from=None, checkpoint=None, callbacks=()):
    """Adam + dropout + StepLR + validation: every source of state a resume must restore."""
    x, y = _blobs(n=200)
    shendu.manual_seed(0)
    model = _net(dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=epochs, batch_size=16, validation_split=0.2,
                  metrics=["accuracy"], scheduler=scheduler, verbose=0, seed=7, resume_from=resume_from,
                  checkpoint=checkpoint, callbacks=list(callbacks))  # fmt: skip
    return model, history


def test_an_interrupted_then_resumed_run_ends_with_bit_identical_weights(tmp_path):
    full_model, full_history = _resumable_run(tmp_path, epochs=5)

    class Crash(Exception):
        pass

    def crash(batch, logs):
        if len(crash.history.epoch) == 3 and batch == 4:
            raise Crash  # dies in the middle of the 4th epoch, after the 3rd epoch's checkpoint

    ckpt = tmp_path / "run.safetensors"
    log = tmp_path / "log.csv"
    crash.history = None

    class Watch(LambdaCallback):
        def on_train_begin(self, logs=None):
            crash.history = self.trainer.history

    with pytest.raises(Crash):
        _resumable_run(tmp_path, epochs=5, checkpoint=ckpt,
                       callbacks=[Watch(on_batch_end=crash), CSVLogger(log)])  # fmt: skip
    assert shendu.load(ckpt)["epoch"] == 3
    resumed_model, resumed_history = _resumable_run(tmp_path, epochs=5, resume_from=ckpt, checkpoint=ckpt,
                                                    callbacks=[CSVLogger(log)])  # fmt: skip
    _assert_same_weights(_weights(full_model), _weights(resumed_model))
    assert resumed_history.history == full_history.history
    rows = log.read_text().strip().splitlines()
    assert rows[0].startswith("epoch,loss,accuracy,val_loss,val_accuracy,lr")
    assert [int(r.split(",")[0]) for r in rows[1:]] == [0, 1, 2, 3, 4]  # appended on resume, nothing repeated


def test_resuming_a_finished_run_trains_only_the_new_epochs(tmp_path):
    ckpt = tmp_path / "c.safetensors"
    _resumable_run(tmp_path, epochs=2, checkpoint=ckpt)
    model, history = _resumable_run(tmp_path, epochs=4, resume_from=ckpt, checkpoint=ckpt)
    full_model, full_history = _resumable_run(tmp_path, epochs=4)
    _assert_same_weights(_weights(model), _weights(full_model))
    assert history.epoch == [0, 1, 2, 3]


def test_resume_from_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume_from"):
        _resumable_run(tmp_path, epochs=1, resume_from=tmp_path / "none.safetensors")


def test_a_checkpoint_is_not_a_pickle_and_holds_every_part(tmp_path):
    ckpt = tmp_path / "c.safetensors"
    _resumable_run(tmp_path, epochs=1, checkpoint=ckpt)
    with open(ckpt, "rb") as handle:
        assert handle.read(8) != b"\x80\x04\x95"  # not a pickle stream: a safetensors header length
    state = shendu.load(ckpt)
    assert {"model", "optimizer", "scheduler", "epoch", "history", "rng"} <= set(state)
    assert {"shendu", "data"} <= set(state["rng"])


def test_a_shuffled_map_style_dataset_resumes_identically(tmp_path):
    x, y = _blobs(n=96)

    class Pairs:
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], y[i]

    def run(epochs, **kwargs):
        shendu.manual_seed(0)
        model = _net(dropout=0.2)
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9), Pairs(),
            epochs=epochs, batch_size=8, verbose=0, seed=1, **kwargs)  # fmt: skip
        return _weights(model)

    full = run(3)
    run(1, checkpoint=tmp_path / "c.safetensors")
    _assert_same_weights(full, run(3, resume_from=tmp_path / "c.safetensors"))
    assert not all(np.array_equal(full[k], run(3, shuffle=False)[k]) for k in full)  # the order was shuffled
