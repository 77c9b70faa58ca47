"""Callbacks: code the training loop calls at fixed points, to stop, save, log or watch.

Every callback may define ``on_train_begin / on_epoch_begin / on_batch_begin / on_batch_end /
on_epoch_end / on_train_end``. ``self.trainer`` is the running :class:`~shendu.train.Trainer`
(``self.model`` its model); setting ``self.trainer.stop_training = True`` ends training after
the current batch or epoch, as ``model.stop_training = True`` does in Keras. A callback with
state that matters for resuming defines ``state_dict()`` / ``load_state_dict()``; training
checkpoints store it.

The failures 000 §4.3.3 names each have a watcher: :class:`EarlyStopping` (over-fitting),
:class:`TerminateOnNaN` (NaN/inf losses), :class:`GradientMonitor` (vanishing/exploding
gradients); :class:`History` keeps the curves and plots train against validation.
"""

import csv
import math
import os
import sys
import time
import warnings

import numpy as np

from ..io.atomic import atomic_open, atomic_write

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "TerminateOnNaN",
    "CSVLogger",
    "TensorBoard",
    "ProgressBar",
    "GradientMonitor",
    "GradientWarning",
    "LambdaCallback",
]


class Callback:
    """Base class: override the hooks you need; each receives the current ``logs`` dict.

    A callback whose class sets ``rank_zero_only = True`` (those that print or write files:
    progress, CSV logs, checkpoints, TensorBoard) runs only in the process of rank 0 when
    training runs on several processes.
    """

    trainer = None
    rank_zero_only = False

    @property
    def model(self):
        return None if self.trainer is None else self.trainer.model

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self):
        """State needed to resume (plain data and arrays), or None if there is none."""
        return None

    def load_state_dict(self, state):
        pass


class CallbackList(Callback):
    """Calls the same hook on each callback, in order."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be shendu.train.Callback instances; got {type(callback).__name__}")

    def set_trainer(self, trainer):
        self.trainer = trainer
        for callback in self.callbacks:
            callback.set_trainer(trainer)

    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


def _is_scalar(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _infer_mode(monitor, mode, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower()
    higher = ("acc", "f1", "precision", "recall", "r2", "auc")
    return "max" if any(h in name for h in higher) else "min"


def _monitored(logs, monitor, who):
    if not logs or monitor not in logs:
        available = ", ".join(sorted(logs or {})) or "none"
        hint = " (pass validation_data or validation_split to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{who}: monitor {monitor!r} is not in the logs; available: {available}{hint}")
    return float(logs[monitor])


class History(Callback):
    """Per-epoch logs: ``history.history["loss"]``, ``history.history["val_accuracy"]``, ...

    ``fit`` returns it. ``plot(path)`` draws train and validation curves side by side.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(int(epoch))
        count = len(self.epoch)
        for key, value in (logs or {}).items():
            if _is_scalar(value):
                values = self.history.setdefault(key, [])
                values.extend([math.nan] * (count - 1 - len(values)))
                values.append(float(value))
        for values in self.history.values():
            values.extend([math.nan] * (count - len(values)))

    def state_dict(self):
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state):
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"

    def plot(self, path, keys=None, title=None):
        """Save train-vs-validation curves as a PNG (one panel per quantity; needs matplotlib).

        Args:
            path: the PNG file to write (atomically).
            keys: the quantities to draw (``"loss"``, ``"accuracy"``, ...). Defaults to every
                logged quantity that is not a validation one or the learning rate.
            title: the figure title (cut to 120 characters). Defaults to None.

        Returns:
            the path.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install 'shendu[plot]'") from None
        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k != "lr"]
            keys += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in self.history]
        if not keys:
            raise ValueError("History.plot: nothing to plot (no epochs recorded)")
        # The object-oriented API with the Agg canvas: no global backend switch, no GUI.
        figure = Figure(figsize=(5 * len(keys), 4), dpi=100)
        FigureCanvasAgg(figure)
        epochs = [e + 1 for e in self.epoch]
        for index, key in enumerate(keys):
            axes = figure.add_subplot(1, len(keys), index + 1)
            for name, label, style in ((key, "train", "-o"), (f"val_{key}", "validation", "-s")):
                if name in self.history:
                    axes.plot(epochs, self.history[name], style, label=label, markersize=3)
            axes.set_xlabel("epoch")
            axes.set_ylabel(key)
            axes.set_title(key)
            axes.grid(True, alpha=0.3)
            axes.legend()
        if title:
            title = str(title)
            figure.suptitle(title if len(title) <= 120 else title[:119] + "…")  # a huge title would stall the layout
        figure.tight_layout()
        import io

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        atomic_write(os.fspath(path), buffer.getvalue())
        return path


class EarlyStopping(Callback):
    """Stop when a monitored quantity has stopped improving (000 §4.3.4, against over-fitting).

    Args:
        monitor: the log key to watch. Defaults to ``"val_loss"``.
        patience: epochs without improvement after which training stops (0 and 1 both stop at
            the first epoch that does not improve). Defaults to 0.
        min_delta: smallest change that counts as an improvement. Defaults to 0.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names). Defaults to "auto".
        restore_best_weights: at the end of training, load the weights of the best epoch.
            Defaults to False.
        baseline: stop if the quantity does not beat this within ``patience`` epochs. Defaults to None.
        verbose: print a line when stopping. Defaults to 0.

    Example:
        >>> fit(model, loss_fn, opt, (x, y), epochs=100, validation_split=0.2,
        ...     callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto", restore_best_weights=False,
                 baseline=None, verbose=0):  # fmt: skip
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative integer. Received: patience={patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(float(min_delta))
        self.mode = _infer_mode(monitor, mode, "EarlyStopping")
        self.restore_best_weights, self.baseline, self.verbose = restore_best_weights, baseline, verbose
        self._reset()

    def _reset(self):
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best = self.baseline if self.baseline is not None else (math.inf if self.mode == "min" else -math.inf)
        self.best_weights = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        if not (self.trainer is not None and self.trainer.resumed):
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v._array.copy() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping ({self.monitor} best {self.best:.6g} at epoch {self.best_epoch + 1 if self.best_epoch is not None else '-'})")  # noqa: E501

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of the best epoch ({self.best_epoch + 1}).")

    def state_dict(self):
        state = {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch}
        if self.best_weights is not None:
            state["best_weights"] = dict(self.best_weights)
        return state

    def load_state_dict(self, state):
        self.wait, self.best = int(state["wait"]), float(state["best"])
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {k: np.asarray(v) for k, v in weights.items()}


class ModelCheckpoint(Callback):
    """Save the model at the end of epochs, optionally only when the monitored quantity improves.

    ``filepath`` may contain format fields filled from the epoch (1-based) and the logs, e.g.
    ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}"``. A path ending in ``.safetensors`` (or
    ``save_weights_only=True``) stores the ``state_dict``; otherwise a model directory is written
    with :func:`shendu.save_model` (the model must be built from registered layers). Writes are
    atomic, so the last good checkpoint survives a crash or a NaN.

    Args:
        filepath: where to save.
        monitor: the quantity for ``save_best_only``. Defaults to ``"val_loss"``.
        save_best_only: save only when ``monitor`` improves. Defaults to False.
        mode: ``"min"``, ``"max"`` or ``"auto"``. Defaults to "auto".
        save_weights_only: store only the ``state_dict``. Defaults to False.
        verbose: print a line on each save. Defaults to 0.
    """

    rank_zero_only = True

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto", save_weights_only=False,
                 verbose=0):  # fmt: skip
        self.filepath, self.monitor, self.save_best_only = os.fspath(filepath), monitor, save_best_only
        self.mode = _infer_mode(monitor, mode, "ModelCheckpoint")
        self.save_weights_only = save_weights_only or self.filepath.endswith(".safetensors")
        self.verbose = verbose
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not (math.isfinite(value) and better):
                return
            self.best = value
        fields = {k: v for k, v in logs.items() if _is_scalar(v)}
        path = self.filepath.format(epoch=epoch + 1, **fields)
        self._save(path, fields)
        self.last_saved = path
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved {path}")

    def _save(self, path, fields):
        if self.save_weights_only:
            from ..io import save

            save(self.model.state_dict(), path)
        else:
            from ..io import save_model

            save_model(self.model, path, metrics=fields, input_shape=getattr(self.trainer, "input_shape", None))

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = float(state["best"])


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr) -> new lr``.

    Example:
        >>> LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch and epoch % 10 == 0 else lr)
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable; got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        groups = self.trainer.optimizer.param_groups
        lr = self.schedule(epoch, float(groups[0]["lr"]))
        if not (_is_scalar(lr) and math.isfinite(float(lr)) and float(lr) >= 0):
            raise ValueError(f"LearningRateScheduler: schedule returned {lr!r}; expected a non-negative number")
        for group in groups:
            group["lr"] = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {float(lr):.6g}")


class TerminateOnNaN(Callback):
    """Stop training at the first NaN or infinite loss, before that batch's update is applied.

    As in Keras, the History records the broken epoch (its ``loss`` NaN or inf; other keys NaN);
    no other callback's ``on_epoch_end`` runs for it and no checkpoint is written of it, so the
    last good checkpoint stays intact and the model keeps the weights of the last good batch.
    """

    def __init__(self):
        self.stopped_batch = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_batch = batch
            self.trainer.stop_training = True
            print(f"Batch {batch}: invalid loss {loss}, terminating training", file=sys.stderr)


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the logs).

    Args:
        filename: the CSV file.
        separator: the field separator. Defaults to ",".
        append: keep an existing file and add rows to it. When training resumes from a
            checkpoint the logger always appends, after dropping rows of epochs that are being
            redone. Defaults to False.
    """

    rank_zero_only = True

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        resumed = self.trainer is not None and self.trainer.resumed
        self._keys = None
        if (self.append or resumed) and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle, delimiter=self.separator))
            if rows:
                self._keys = rows[0][1:]
                if resumed:  # drop the epochs the resumed run will log again
                    start = self.trainer.initial_epoch
                    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) < start]
                    if len(kept) != len(rows):
                        with atomic_open(self.filename, "w") as handle:
                            csv.writer(handle, delimiter=self.separator).writerows(kept)
            self._file = open(self.filename, "a", newline="", encoding="utf-8")
        else:
            self._file = open(self.filename, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: v for k, v in (logs or {}).items() if _is_scalar(v)}
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(repr(float(logs[k])) if k in logs else "" for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TensorBoard(Callback):
    """Write the epoch logs (and optionally weight histograms) as TensorBoard event files.

    Needs the ``tensorboard`` extra (tensorboardX). Train and validation values of a quantity
    go to ``<name>/train`` and ``<name>/validation`` so TensorBoard draws them together; epoch
    values are written at step = epoch index (0 for the first), as Keras counts them.

    Args:
        log_dir: the directory for event files. Defaults to "logs" (Keras' default; the command line's
            model folders are under ``runs/``).
        histogram_freq: write weight histograms every this many epochs (0: never). Defaults to 0.
    """

    rank_zero_only = True

    def __init__(self, log_dir="logs", histogram_freq=0):
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.writer = None

    def on_train_begin(self, logs=None):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("the TensorBoard callback needs tensorboardX: pip install 'shendu[tensorboard]'") from None
        self.writer = SummaryWriter(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if _is_scalar(value):
                name = f"{key[4:]}/validation" if key.startswith("val_") else f"{key}/train"
                self.writer.add_scalar(name, float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:  # epochs 0, f, 2f, ... as Keras
            for name, param in self.model.named_parameters():
                self.writer.add_histogram(name, param._array, epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def in_notebook():
    """True inside a Jupyter (IPython kernel) session, where tqdm.auto draws a widget bar."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return "ipykernel" in sys.modules and callable(get) and type(get()).__name__ == "ZMQInteractiveShell"


def shows_progress_bars(stream):
    """Progress bars go to terminals and to notebooks (their output is not a terminal, but tqdm.auto draws there)."""
    return (hasattr(stream, "isatty") and stream.isatty()) or (stream in (sys.stderr, sys.stdout) and in_notebook())


class ProgressBar(Callback):
    """A tqdm bar per epoch (only on a terminal) and a summary line per epoch.

    Args:
        verbose: 0 silent; 1 a bar on a terminal plus one line per epoch; 2 one line per epoch.
            Defaults to 1.
        stream: where the bar goes. Defaults to ``sys.stderr``.
    """

    rank_zero_only = True

    def __init__(self, verbose=1, stream=None):
        self.verbose, self.stream = verbose, stream
        self.bar, self._start, self._loss_sum, self._count = None, None, 0.0, 0

    def _bar_wanted(self):
        return self.verbose == 1 and shows_progress_bars(self.stream or sys.stderr)

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._loss_sum, self._count = time.perf_counter(), 0.0, 0
        if self._bar_wanted():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.trainer.steps_per_epoch, desc=f"Epoch {epoch + 1}/{self.trainer.epochs}",
                            file=self.stream or sys.stderr, leave=False, dynamic_ncols=True, unit="batch")  # fmt: skip

    def on_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        loss, size = (logs or {}).get("loss"), (logs or {}).get("size", 1)
        if getattr(self.trainer, "running_batch_logs", False):  # the logs already hold the running mean
            self._loss_sum, self._count = (float(loss), 1) if loss is not None else (0.0, 0)
        elif loss is not None and math.isfinite(float(loss)):
            self._loss_sum += float(loss) * size
            self._count += size
        self.bar.update(1)
        if self._count and (batch % 10 == 0 or batch + 1 == self.trainer.steps_per_epoch):
            self.bar.set_postfix(loss=f"{self._loss_sum / self._count:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose:
            seconds = time.perf_counter() - self._start if self._start else 0.0
            parts = [f"{k}: {float(v):.4f}" for k, v in (logs or {}).items() if _is_scalar(v) and k != "lr"]
            print(f"Epoch {epoch + 1}/{self.trainer.epochs} - {seconds:.1f}s - " + " - ".join(parts), flush=True)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class GradientWarning(RuntimeWarning):
    """Gradients of a layer are vanishing or exploding."""


class GradientMonitor(Callback):
    """Record per-layer gradient norms and warn when they vanish or explode (000 §4.3.3).

    After each backward pass (every ``every`` batches) the L2 norm of each layer's gradients
    (all its parameters together) is taken. ``norms[layer]`` keeps one value per epoch (the
    mean over the epoch's measured batches); ``max_norms[layer]`` the largest. At the end of
    an epoch a :class:`GradientWarning` is issued, once per layer and kind, when a layer's
    mean norm is below ``vanishing`` or its largest norm is above ``exploding``.

    Args:
        vanishing: threshold under which gradients count as vanishing. Defaults to 1e-7.
        exploding: threshold over which gradients count as exploding. Defaults to 1e3.
        every: measure every this many batches. Defaults to 1.
        warn: issue warnings (else only record). Defaults to True.
    """

    rank_zero_only = True

    def __init__(self, vanishing=1e-7, exploding=1e3, every=1, warn=True):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientMonitor: every must be a positive integer. Received: every={every!r}")
        self.vanishing, self.exploding, self.every, self.warn = float(vanishing), float(exploding), every, warn
        self.norms, self.max_norms, self.warned = {}, {}, set()
        self._sums, self._maxima, self._counts = {}, {}, {}

    def _layers(self):
        layers = {}
        for name, param in self.model.named_parameters():
            layer = name.rpartition(".")[0] or type(self.model).__name__
            layers.setdefault(layer, []).append(param)
        return layers

    def on_train_begin(self, logs=None):
        if not (self.trainer is not None and self.trainer.resumed):
            self.norms, self.max_norms, self.warned = {}, {}, set()

    def on_epoch_begin(self, epoch, logs=None):
        self._sums, self._maxima, self._counts = {}, {}, {}

    def on_batch_end(self, batch, logs=None):
        if batch % self.every:
            return
        for layer, params in self._layers().items():
            grads = [p.grad._array for p in params if p.grad is not None]
            if not grads:
                continue
            norm = math.sqrt(sum(float(np.vdot(g, g).real) for g in grads))
            self._sums[layer] = self._sums.get(layer, 0.0) + norm
            self._maxima[layer] = max(self._maxima.get(layer, 0.0), norm)
            self._counts[layer] = self._counts.get(layer, 0) + 1

    def on_epoch_end(self, epoch, logs=None):
        for layer, total in self._sums.items():
            mean, largest = total / self._counts[layer], self._maxima[layer]
            self.norms.setdefault(layer, []).append(mean)
            self.max_norms.setdefault(layer, []).append(largest)
            if not self.warn:
                continue
            if mean < self.vanishing and (layer, "vanishing") not in self.warned:
                self.warned.add((layer, "vanishing"))
                warnings.warn(
                    f"vanishing gradients in layer {layer!r}: mean norm {mean:.3g} < {self.vanishing:g} "
                    f"(epoch {epoch + 1}); consider ReLU-family activations, better initialisation or normalisation",
                    GradientWarning,
                    stacklevel=2,
                )
            if largest > self.exploding and (layer, "exploding") not in self.warned:
                self.warned.add((layer, "exploding"))
                warnings.warn(
                    f"exploding gradients in layer {layer!r}: norm {largest:.3g} > {self.exploding:g} "
                    f"(epoch {epoch + 1}); consider gradient clipping or a lower learning rate",
                    GradientWarning,
                    stacklevel=2,
                )


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks):
        allowed = {"on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end"}
        unknown = set(hooks) - allowed
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {sorted(unknown)}; expected some of {sorted(allowed)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)
