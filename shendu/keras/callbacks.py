"""Keras callbacks — Keras' names and arguments over the core callbacks of :mod:`shendu.train.callbacks`.

The training loop is the core one, so a callback here is a core callback: ``self.model`` is the
Keras model being trained, ``self.model.stop_training = True`` ends training, ``self.params``
holds ``epochs``, ``steps`` and ``verbose``. Keras' ``on_train_batch_begin/end`` are called for
``on_batch_begin/end``.

Example:
    >>> model.fit(x, y, epochs=50, validation_split=0.2,
    ...           callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
"""

import inspect
import math

import numpy as np
import sys

from ..train import callbacks as core
from ..train.callbacks import CSVLogger, History, TerminateOnNaN  # noqa: F401  (same in both dialects)

__all__ = [
    "Callback", "History", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN",
    "LearningRateScheduler", "LambdaCallback", "TensorBoard",
]  # fmt: skip


class Callback(core.Callback):
    """Base class of Keras callbacks: override ``on_epoch_end(epoch, logs)``, ``on_train_batch_end(batch, logs)``, ...

    Attributes:
        model: the Keras model being trained. params: ``{"epochs", "steps", "verbose"}``.
    """

    params = None
    _model = None

    @property
    def model(self):
        if self._model is not None:
            return self._model
        return None if self.trainer is None else self.trainer.model

    @model.setter
    def model(self, model):
        self._model = model

    def set_model(self, model):
        self._model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


class EarlyStopping(core.EarlyStopping):
    """Stop training when ``monitor`` has stopped improving (Keras' arguments).

    Args:
        monitor: Defaults to "val_loss".
        min_delta: the smallest change that counts as an improvement. Defaults to 0.
        patience: epochs without improvement before stopping. Defaults to 0.
        verbose: Defaults to 0.
        mode: "auto", "min" or "max". Defaults to "auto".
        baseline: a value to beat. Defaults to None.
        restore_best_weights: load the best epoch's weights at the end. Defaults to False.
        start_from_epoch: epochs to wait before watching. Defaults to 0.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):  # fmt: skip
        super().__init__(monitor=monitor, patience=patience, min_delta=min_delta, mode=mode,
                         restore_best_weights=restore_best_weights, baseline=baseline, verbose=verbose)  # fmt: skip
        self.start_from_epoch = int(start_from_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        super().on_epoch_end(epoch, logs)


class ModelCheckpoint(core.ModelCheckpoint):
    """Save the model (or its weights) after every epoch, or only when ``monitor`` improves.

    As ``model.save``/``save_weights``: a path ending in ``.keras`` gets a Keras 3 archive, one ending in
    ``.weights.h5`` Keras' weight file (both readable by Keras 3), ``.safetensors`` a safetensors file;
    any other path a shendu model directory. ``keras.models.load_model`` reads each back, compiled.

    Args:
        filepath: may hold fields such as ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``.
        monitor: Defaults to "val_loss".
        verbose: Defaults to 0.
        save_best_only: Defaults to False.
        save_weights_only: Defaults to False.
        mode: Defaults to "auto".
        save_freq: only "epoch".
        initial_value_threshold: the value the first saved epoch must beat. Defaults to None.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):  # fmt: skip
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported. Received: save_freq={save_freq!r}")
        weights_only = save_weights_only or str(filepath).endswith(".weights.h5")
        super().__init__(filepath, monitor=monitor, save_best_only=save_best_only, mode=mode,
                         save_weights_only=weights_only, verbose=verbose)  # fmt: skip
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)

    def _save(self, path, fields):
        if self.save_weights_only:
            self.model.save_weights(path)
        elif path.endswith(".keras"):
            self.model.save(path)
        else:
            super()._save(path, fields)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: Defaults to "val_loss".
        factor: Defaults to 0.1.
        patience: Defaults to 10.
        verbose: Defaults to 0.
        mode: "auto", "min" or "max". Defaults to "auto".
        min_delta: the smallest change that counts as an improvement. Defaults to 1e-4.
        cooldown: epochs to wait after a reduction. Defaults to 0.
        min_lr: the lowest rate. Defaults to 0.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):  # fmt: skip
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected argument(s) {sorted(kwargs)}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor!r}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), int(patience), verbose
        self.mode = core._infer_mode(monitor, mode, "ReduceLROnPlateau")
        self.min_delta, self.cooldown, self.min_lr = abs(float(min_delta)), int(cooldown), float(min_lr)
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.cooldown_counter = 0, 0

    def _better(self, value):
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        if not (self.trainer is not None and self.trainer.resumed):
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        value = core._monitored(logs, self.monitor, "ReduceLROnPlateau")
        groups = self.trainer.optimizer.param_groups
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(value):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(groups[0]["lr"])
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    for group in groups:
                        group["lr"] = new
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:g}.", file=sys.stdout)
                self.cooldown_counter, self.wait = self.cooldown, 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state):
        self.best, self.wait, self.cooldown_counter = float(state["best"]), int(state["wait"]), int(state["cooldown_counter"])


class LearningRateScheduler(core.LearningRateScheduler):
    """Set the learning rate at each epoch's start from ``schedule(epoch, lr)`` (or ``schedule(epoch)``)."""

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable; got {type(schedule).__name__}")
        try:
            takes_lr = len(inspect.signature(schedule).parameters) >= 2
        except (TypeError, ValueError):
            takes_lr = True
        super().__init__(schedule if takes_lr else (lambda epoch, lr: schedule(epoch)), verbose)


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin/end(epoch, logs)``, ``on_train_batch_begin/end(batch, logs)``,
    ``on_batch_begin/end(batch, logs)``, ``on_train_begin/end(logs)``."""

    _HOOKS = {"on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_begin", "on_train_end",
              "on_train_batch_begin", "on_train_batch_end"}  # fmt: skip

    def __init__(self, **hooks):
        unknown = set(hooks) - self._HOOKS
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {sorted(unknown)}; expected some of {sorted(self._HOOKS)}")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class TensorBoard(Callback):
    """TensorBoard logs in Keras' layout: ``log_dir/train`` and ``log_dir/validation`` event files with
    ``epoch_loss``, ``epoch_accuracy``, ... at step = epoch, and ``batch_*`` values every ``update_freq``
    batches at step = batches seen since training began (Keras' count). Needs the ``tensorboard`` extra.

    Args:
        log_dir: Defaults to "logs" (Keras' default; the CLI writes to ``runs/``).
        histogram_freq: weight histograms every this many epochs (0: never). Defaults to 0.
        update_freq: "epoch", "batch" or an integer number of batches. Defaults to "epoch".
        write_graph, write_images, write_steps_per_second, profile_batch, embeddings_freq, embeddings_metadata:
            accepted; shendu writes scalars and histograms only.
    """

    rank_zero_only = True

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):  # fmt: skip
        import os

        if update_freq != "epoch" and update_freq != "batch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer. Received: "
                             f"update_freq={update_freq!r}")  # fmt: skip
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers, self._step = {}, 0

    def _writer(self, kind):
        if kind not in self._writers:
            import os

            try:
                from tensorboardX import SummaryWriter
            except ImportError:
                raise ImportError("the TensorBoard callback needs tensorboardX: pip install 'shendu[tensorboard]'") from None
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.update_freq != "epoch" and self._step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                if isinstance(value, (int, float)):
                    self._writer("train").add_scalar(f"batch_{key}", float(value), self._step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                kind, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
                self._writer(kind).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for weight in self.model.weights:
                self._writer("train").add_histogram(getattr(weight, "path", None) or f"weight_{id(weight)}", np.asarray(weight), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
