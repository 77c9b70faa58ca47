"""The training loop of 000 §4.3.1 / 002 §2 as a library: fit, evaluate, predict.

``fit`` repeats, for each epoch and each mini-batch: forward, loss, backward, update; then it
measures the validation data, steps the learning-rate schedule, calls the callbacks and
(optionally) writes a training checkpoint. A checkpoint holds everything the rest of the run
depends on — model, optimiser, scheduler, epoch, history, callback state and both random
streams (shendu's global generator and the one that orders the data) — so
``fit(..., resume_from=path)`` continues an interrupted run to bit-identical weights.

Example:
    >>> model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    >>> opt = shendu.optim.Adam(model.parameters(), lr=1e-3)
    >>> history = fit(model, nn.CrossEntropyLoss(), opt, (x_train, y_train), epochs=5, batch_size=100,
    ...               validation_data=(x_test, y_test), metrics=["accuracy"])
    >>> evaluate(model, (x_test, y_test), metrics=["accuracy"])
    {'accuracy': 0.93...}
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor
from .callbacks import CallbackList, History, ProgressBar, shows_progress_bars
from .data_parallel import DataParallelRun
from .metrics import get_metric

if TYPE_CHECKING:
    from ..nn.module import Module

__all__ = ["Trainer", "fit", "evaluate", "predict", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "shendu.checkpoint"
_CHECKPOINT_VERSION = 1


# ----- data ------------------------------------------------------------------------------
def _to_array(x, what):
    if isinstance(x, Tensor):
        return x._array
    if isinstance(x, np.ndarray):
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what}: cannot turn a {type(x).__name__} into an array ({error})") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{what}: expected numbers; got an array of dtype {array.dtype}")
    return array


def _cast(array, float_dtype):
    """Floating data in the model's dtype, integer data (labels, token ids) as int64."""
    if float_dtype is None:
        return array
    if array.dtype.kind == "f" and array.dtype != float_dtype:
        return array.astype(float_dtype)
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        return array.astype(np.int64)
    return array


class _ArraySource:
    """Mini-batches from in-memory arrays: ``inputs`` (a tuple of arrays) and ``target`` (an array, or a
    tuple of arrays for several targets)."""

    def __init__(self, inputs, target, batch_size, float_dtype=None):
        self.inputs = tuple(_cast(a, float_dtype) for a in inputs)
        if isinstance(target, tuple):
            self.target = tuple(_cast(t, float_dtype) for t in target)
        else:
            self.target = None if target is None else _cast(target, float_dtype)
        self.batch_size = batch_size
        n = len(self.inputs[0])
        for array in self.inputs[1:] + self._targets():
            if len(array) != n:
                raise ValueError(f"inputs and targets have different numbers of samples: {n} and {len(array)}")
        self.num_samples = n

    def _targets(self):
        return () if self.target is None else self.target if isinstance(self.target, tuple) else (self.target,)

    def _target_at(self, index):
        if isinstance(self.target, tuple):
            return tuple(t[index] for t in self.target)
        return None if self.target is None else self.target[index]

    def __len__(self):
        return math.ceil(self.num_samples / self.batch_size)

    def split(self, fraction):
        """Keras' validation_split: the last ``fraction`` of the samples, before any shuffling."""
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be in (0, 1). Received: validation_split={fraction!r}")
        cut = int(self.num_samples * (1 - fraction))
        if cut == 0 or cut == self.num_samples:
            raise ValueError(f"validation_split={fraction} leaves an empty split of {self.num_samples} samples")
        head = _ArraySource([a[:cut] for a in self.inputs], self._target_at(slice(None, cut)), self.batch_size, None)
        tail = _ArraySource([a[cut:] for a in self.inputs], self._target_at(slice(cut, None)), self.batch_size, None)
        return head, tail

    def batches(self, rng=None):
        order = rng.permutation(self.num_samples) if rng is not None else None
        for start in range(0, self.num_samples, self.batch_size):
            index = order[start : start + self.batch_size] if order is not None else slice(start, start + self.batch_size)
            yield self.batch(index)

    def batch(self, index):
        """(input tensors, target tensor(s) or None, size) of the samples at ``index``."""
        inputs = tuple(Tensor(a[index]) for a in self.inputs)
        target = self._target_at(index)
        if isinstance(target, tuple):
            target = tuple(Tensor(t) for t in target)
        elif target is not None:
            target = Tensor(target)
        return inputs, target, len(inputs[0])


class _LoaderSource:
    """Mini-batches from a DataLoader (or any iterable of ``(x, y)`` batches); it orders them itself."""

    def __init__(self, loader, float_dtype, has_target=True):
        self.loader, self.float_dtype, self.has_target = loader, float_dtype, has_target
        self.num_samples = len(loader.dataset) if hasattr(loader, "dataset") and hasattr(loader.dataset, "__len__") else None

    def __len__(self):
        try:
            return len(self.loader)
        except TypeError:
            return 0

    def _tensor(self, x):
        if isinstance(x, Tensor):
            return x if not (x._array.dtype.kind == "f" and x._array.dtype != self.float_dtype) else Tensor(
                x._array.astype(self.float_dtype)
            )
        return Tensor(_cast(_to_array(x, "batch"), self.float_dtype))

    def batches(self, rng=None):
        for batch in self.loader:
            if isinstance(batch, (tuple, list)):
                if self.has_target and len(batch) >= 2:
                    x, y = batch[0], batch[1]
                else:
                    x, y = batch[0], None
            else:
                x, y = batch, None
            inputs = tuple(self._tensor(a) for a in x) if isinstance(x, (tuple, list)) else (self._tensor(x),)
            if isinstance(y, tuple):  # several targets (a dialect's structured batches)
                target = tuple(self._tensor(t) for t in y)
            else:
                target = None if y is None else self._tensor(y)
            yield inputs, target, len(inputs[0])


def _float_dtype(model):
    for param in model.parameters():
        if param._array.dtype.kind == "f":
            return param._array.dtype
    from .. import _dtype

    return _dtype.default_float.numpy_dtype


def _make_source(data, batch_size, float_dtype, what, has_target=True, shuffle=False, generator=None):
    """Normalise (X, y) arrays/tensors, a Dataset, or a DataLoader into a batch source.

    A map-style Dataset is read lazily through a DataLoader that shuffles (if asked) with
    ``generator``, the trainer's data-order generator, so checkpoints capture its order too.
    """
    if data is None:
        return None
    if not has_target and isinstance(data, (tuple, list)):
        if isinstance(data, tuple) and data and all(isinstance(d, (np.ndarray, Tensor)) for d in data):
            return _ArraySource([_to_array(d, what) for d in data], None, batch_size, float_dtype)  # several inputs
        return _ArraySource([_to_array(data, what)], None, batch_size, float_dtype)
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{what} must be (inputs, targets), a Dataset or a DataLoader; got a sequence of {len(data)}")
        x, y = data
        inputs = [_to_array(a, what) for a in x] if isinstance(x, (tuple, list)) else [_to_array(x, what)]
        if y is None:  # inputs only (a model whose loss needs no targets)
            return _ArraySource(inputs, None, batch_size, float_dtype)
        if isinstance(y, tuple) and y and all(isinstance(t, (np.ndarray, Tensor)) for t in y):
            return _ArraySource(inputs, tuple(_to_array(t, what) for t in y), batch_size, float_dtype)  # several
        return _ArraySource(inputs, _to_array(y, what), batch_size, float_dtype)
    if isinstance(data, (np.ndarray, Tensor)):
        if has_target:
            raise ValueError(f"{what} has inputs but no targets: pass (inputs, targets)")
        return _ArraySource([_to_array(data, what)], None, batch_size, float_dtype)
    tensors = getattr(data, "tensors", None)  # TensorDataset: slice its arrays directly (fast)
    if isinstance(tensors, (tuple, list)) and tensors and hasattr(data, "__getitem__"):
        arrays = [_to_array(t, what) for t in tensors]
        if has_target and len(arrays) >= 2:
            return _ArraySource(arrays[:-1], arrays[-1], batch_size, float_dtype)
        return _ArraySource(arrays[:1] if not has_target else arrays, None, batch_size, float_dtype)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "batch_size"):
        from ..utils.data import DataLoader

        if len(data) == 0:
            raise ValueError(f"{what} is empty")
        loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator if shuffle else None)
        return _LoaderSource(loader, float_dtype, has_target)
    if hasattr(data, "__iter__"):
        return _LoaderSource(data, float_dtype, has_target)
    raise TypeError(f"{what} must be (inputs, targets) arrays or tensors, a Dataset or a DataLoader; got {type(data).__name__}")


def _loader_rng(source):
    """The private numpy Generator a DataLoader shuffles with, if it has one (to checkpoint it)."""
    if not isinstance(source, _LoaderSource):
        return None
    sampler = getattr(source.loader, "sampler", None)
    get_rng = getattr(sampler, "_rng", None)
    rng = get_rng() if callable(get_rng) else None
    if isinstance(rng, np.random.Generator) and rng is not _random.default_generator():
        return rng
    return None


# ----- losses and schedulers by name ------------------------------------------------------
_LOSSES = {
    "cross_entropy": "CrossEntropyLoss", "crossentropy": "CrossEntropyLoss", "ce": "CrossEntropyLoss",
    "mse": "MSELoss", "mean_squared_error": "MSELoss", "mae": "L1Loss", "l1": "L1Loss",
    "mean_absolute_error": "L1Loss", "bce": "BCELoss", "binary_cross_entropy": "BCELoss",
    "bce_with_logits": "BCEWithLogitsLoss", "huber": "HuberLoss", "nll": "NLLLoss",
}  # fmt: skip


def _resolve_loss(loss_fn):
    if loss_fn is None or callable(loss_fn):
        return loss_fn
    if isinstance(loss_fn, str) and loss_fn.lower() in _LOSSES:
        from .. import nn

        return getattr(nn, _LOSSES[loss_fn.lower()])()
    raise ValueError(f"unknown loss {loss_fn!r}; pass a callable or one of {sorted(_LOSSES)}")


def _is_plateau(scheduler):
    """A scheduler whose ``step`` needs the monitored value (ReduceLROnPlateau)."""
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        return True
    try:
        parameters = list(inspect.signature(scheduler.step).parameters.values())
    except (TypeError, ValueError):
        return False
    return bool(parameters) and parameters[0].default is inspect.Parameter.empty and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    )  # fmt: skip


def _check_verbose(verbose, who):
    if isinstance(verbose, bool) or verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError(f"{who}: verbose must be 0, 1 or 2. Received: verbose={verbose!r}")


class _Progress:
    """evaluate/predict's ``verbose``: 1 a tqdm bar over the batches (on a terminal or in a notebook) and a
    summary line on stdout; 2 the summary line only; 0 nothing."""

    def __init__(self, verbose, total, desc):
        self.verbose, self.bar, self.start = verbose, None, time.perf_counter()
        if verbose == 1 and shows_progress_bars(sys.stderr):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total or None, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
                            unit="batch")  # fmt: skip

    def update(self):
        if self.bar is not None:
            self.bar.update(1)

    def close(self, line):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose:
            print(f"{line} - {time.perf_counter() - self.start:.1f}s", flush=True)


# ----- the trainer -----------------------------------------------------------------------
class _Modes:
    """Remember each sub-module's train/eval flag and put them back (eval mode restored afterwards)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self

    def __exit__(self, *exc):
        for module, training in self.saved:
            object.__setattr__(module, "training", training)
        return False


class Trainer:
    """Trains, evaluates and predicts with any ``nn.Module``.

    Args:
        model: the module.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``, or a name (``"cross_entropy"``,
            ``"mse"``, ...). Needed for fit. Defaults to None.
        optimizer: a ``shendu.optim`` optimiser over the model's parameters. Needed for fit.
        metrics: names (``"accuracy"``, ``"f1"``, ``"mae"``, ...), :class:`~shendu.train.metrics.Metric`
            objects or functions ``fn(y_true, y_pred)``. Defaults to none.
        callbacks: :class:`~shendu.train.callbacks.Callback` objects. Defaults to none.
        scheduler: a learning-rate scheduler; ``ReduceLROnPlateau`` is stepped with the
            monitored value. Defaults to None.
        scheduler_interval: step the scheduler each ``"epoch"`` or each ``"batch"``. Defaults to "epoch".
        scheduler_monitor: the value given to ReduceLROnPlateau. Defaults to ``"val_loss"`` when
            there is validation data, else ``"loss"``.
        grad_clip: clip the global gradient norm to this value before each update. Defaults to None.
    """

    def __init__(self, model: Module, loss_fn: Any = None, optimizer: Any = None, metrics: Any = None, callbacks: Any = None, scheduler: Any = None,
                 scheduler_interval: str = "epoch", scheduler_monitor: str | None = None, grad_clip: float | None = None) -> None:  # fmt: skip
        from ..nn.module import Module

        if not isinstance(model, Module):
            raise TypeError(f"Trainer expects a shendu.nn.Module; got {type(model).__name__}")
        if scheduler_interval not in ("epoch", "batch"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'batch'. Received: {scheduler_interval!r}")
        self.model, self.loss_fn, self.optimizer = model, _resolve_loss(loss_fn), optimizer
        self.metric_specs = list(metrics or [])
        self.callbacks = list(callbacks or [])
        self.scheduler, self.scheduler_interval, self.scheduler_monitor = scheduler, scheduler_interval, scheduler_monitor
        self.grad_clip = grad_clip
        self.history = History()
        self.stop_training = False
        self.stopped_on_nonfinite = False
        self.resumed = False
        self.epoch = 0  # epochs completed
        self.initial_epoch = 0
        self.epochs = 0
        self.steps_per_epoch = 0
        self.input_shape: list[int] | None = None
        self._data_rng: Any = None
        self._loader_rng = None

    @property
    def stop_training(self):
        """Set it (or ``model.stop_training``, the Keras way) to True to end training."""
        return self._stop_training or getattr(self.model, "stop_training", False) is True

    @stop_training.setter
    def stop_training(self, value):
        self._stop_training = bool(value)
        if not value and "stop_training" in vars(self.model):
            self.model.stop_training = False

    # ----- helpers -------------------------------------------------------------------------
    def _metrics(self):
        return [get_metric(spec) for spec in self.metric_specs]

    def _forward(self, inputs):
        return self.model(*inputs)

    def _loss(self, output, target):
        if self.loss_fn is None:
            raise ValueError("no loss function: pass loss_fn to fit / Trainer")
        if target is None:
            raise ValueError("the data has no targets; the loss needs (inputs, targets)")
        return self.loss_fn(output, target)

    # Hooks a dialect may override (the Keras trainer does): what callbacks see, how metrics are fed.
    running_batch_logs = False  # True: batch-end logs hold running means (Keras), not the batch's own loss

    def _batch_begin_logs(self, batch, size):
        return {"batch": batch, "size": size}

    def _batch_end_logs(self, batch, size, loss_value, metric_objects, total, count):
        return {"batch": batch, "size": size, "loss": loss_value}

    def _update_metrics(self, metric_objects, target, output):
        for metric in metric_objects:
            metric.update(target, _first(output).detach())

    validation_batch_size = None  # None: max(batch_size, 256)

    def _epoch_end_logs(self, logs):
        return logs

    def _prediction_batch(self, batch, outputs=None, end=False):
        """Called before and after each prediction batch; the Keras trainer calls on_predict_batch_*."""

    def _evaluation_batch(self, batch, metric_objects, total, count, end=False):
        """Called before (``end=False``) and after each evaluation batch; the Keras trainer calls on_test_batch_*."""

    def _lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    # ----- evaluate / predict ----------------------------------------------------------------
    def evaluate(self, data: Any, batch_size: int = 256, metrics: Any = None, prefix: str = "", verbose: int = 0) -> dict[str, float]:
        """Loss (if there is a loss function) and metrics over ``data``, in eval mode, without grad.

        Args:
            verbose: 0 silent, 1 a progress bar (on a terminal) and a line with the results,
                2 the line only. Defaults to 0.

        Returns:
            a dict such as ``{"loss": 0.21, "accuracy": 0.94}`` (keys prefixed with ``prefix``).
        """
        source = data if isinstance(data, (_ArraySource, _LoaderSource)) else _make_source(
            data, batch_size, _float_dtype(self.model), "evaluation data"
        )  # fmt: skip
        verbose = _check_verbose(verbose, "evaluate")
        metric_objects = [get_metric(m) for m in metrics] if metrics is not None else self._metrics()
        for metric in metric_objects:
            metric.reset()
        total, count = 0.0, 0
        progress = _Progress(verbose, len(source), "Evaluate")
        with _Modes(self.model), no_grad():
            for batch, (inputs, target, size) in enumerate(source.batches()):
                progress.update()
                self._evaluation_batch(batch, metric_objects, total, count)
                output = self._forward(inputs)
                if self.loss_fn is not None and target is not None:
                    total += float(self._loss(output, target).item()) * size
                count += size
                if target is not None:
                    self._update_metrics(metric_objects, target, output)
                self._evaluation_batch(batch, metric_objects, total, count, end=True)
        results = {}
        if self.loss_fn is not None and count:
            results[prefix + "loss"] = total / count
        for metric in metric_objects:
            value = metric.compute()
            results[prefix + metric.name] = float(value) if np.ndim(value) == 0 else value
        parts = [f"{k}: {float(v):.4f}" for k, v in results.items() if np.ndim(v) == 0]
        progress.close(" - ".join([f"Evaluate ({count} samples)"] + parts))
        return results

    def predict(self, x: Any, batch_size: int = 256, verbose: int = 0) -> Any:
        """Model outputs for ``x`` as a NumPy array (a tuple of arrays for several outputs).

        Runs in eval mode without recording gradients; each module's mode is restored afterwards.
        ``verbose``: 0 silent, 1 a progress bar (on a terminal) and a summary line, 2 the line
        only. Defaults to 0.
        """
        source = _make_source(x, batch_size, _float_dtype(self.model), "predict input", has_target=False)
        verbose = _check_verbose(verbose, "predict")
        outputs, count = [], 0
        progress = _Progress(verbose, len(source), "Predict")
        with _Modes(self.model), no_grad():
            for batch, (inputs, _, size) in enumerate(source.batches()):
                progress.update()
                self._prediction_batch(batch)
                out = self._forward(inputs)
                outputs.append(tuple(o._array for o in out) if isinstance(out, (tuple, list)) else out._array)
                self._prediction_batch(batch, outputs[-1], end=True)
                count += size
        progress.close(f"Predict ({count} samples)")
        if not outputs:
            raise ValueError("predict: no input samples")
        if isinstance(outputs[0], tuple):
            return tuple(np.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0])))
        return np.concatenate(outputs)

    # ----- checkpoints -----------------------------------------------------------------------
    def state_dict(self):
        """Everything a resumed run needs, as nested plain data and arrays (see :func:`shendu.save`)."""
        callbacks = {}
        for index, callback in enumerate(self.callbacks):
            state = callback.state_dict()
            if state is not None:
                callbacks[f"{index}:{type(callback).__name__}"] = state
        rng = {"shendu": _random.get_rng_state()}
        if self._data_rng is not None:
            rng["data"] = self._data_rng.bit_generator.state
        if self._loader_rng is not None:
            rng["loader"] = self._loader_rng.bit_generator.state
        return {
            "format": CHECKPOINT_FORMAT,
            "version": _CHECKPOINT_VERSION,
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "history": self.history.state_dict(),
            "rng": rng,
            "callbacks": callbacks,
        }

    def save_checkpoint(self, path):
        """Write a training checkpoint (atomically; safetensors + JSON, no pickle)."""
        from ..io import save

        return save(self.state_dict(), path, metadata={"shendu.kind": "training-checkpoint"})

    def load_checkpoint(self, path):
        """Restore a checkpoint written by :meth:`save_checkpoint`; training continues after its epoch."""
        from ..io import load

        state = load(path)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a shendu training checkpoint")
        if int(state.get("version", 0)) > _CHECKPOINT_VERSION:
            raise ValueError(f"{path}: checkpoint version {state.get('version')} is newer than this shendu reads")
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None:
            if self.optimizer is None:
                raise ValueError(f"{path} holds optimizer state but no optimizer was given")
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scheduler") is not None and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history.load_state_dict(state["history"])
        self.epoch = int(state["epoch"])
        rng = state["rng"]
        _random.set_rng_state(rng["shendu"])
        self._restored_rng = rng
        saved = state.get("callbacks", {})
        for index, callback in enumerate(self.callbacks):
            key = f"{index}:{type(callback).__name__}"
            if key in saved:
                callback.load_state_dict(saved[key])
        return state

    # ----- fit ---------------------------------------------------------------------------------
    def fit(self, train_data: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None, validation_split: float = 0.0, shuffle: bool = True,
            verbose: int = 1, seed: int | None = None, resume_from: Any = None, checkpoint: Any = None, checkpoint_every: int = 1, initial_epoch: int | None = None) -> History:  # fmt: skip
        """Train for ``epochs`` epochs; returns the :class:`History`.

        Args:
            train_data: ``(inputs, targets)`` arrays or tensors (inputs may be a tuple for
                several model inputs), a Dataset, or a DataLoader (which then does its own batching).
            epochs: the epoch to stop after (counted from 0, including resumed epochs). Defaults to 1.
            batch_size: samples per update. Defaults to 32.
            validation_data: measured after every epoch (``val_`` keys). Defaults to None.
            validation_split: fraction of array data held out for validation (the last samples,
                as Keras). Defaults to 0.
            shuffle: reshuffle array data every epoch. Defaults to True.
            verbose: 0 silent, 1 progress bar (on a terminal) and epoch lines, 2 epoch lines.
                Defaults to 1.
            seed: seed shendu's generator and the data order, for a repeatable run. Defaults to
                None (the order then follows shendu's global generator).
            resume_from: a checkpoint path to continue from. Defaults to None.
            checkpoint: write a training checkpoint here every ``checkpoint_every`` epochs. Defaults to None.
            checkpoint_every: epochs between checkpoints. Defaults to 1.
            initial_epoch: the epoch to start at. Defaults to 0, or the checkpoint's epoch.
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative integer. Received: epochs={epochs!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"fit: batch_size must be a positive integer. Received: batch_size={batch_size!r}")
        if self.optimizer is None:
            raise ValueError("fit: no optimizer given")
        self.loss_fn = _resolve_loss(self.loss_fn)
        float_dtype = _float_dtype(self.model)
        parallel = DataParallelRun(self.model)  # several processes: shards, averaged gradients and logs
        if seed is not None:
            _random.manual_seed(int(seed))
        data_seed = int(seed) if seed is not None else int(_random.default_generator().integers(2**63))
        self._data_rng = np.random.default_rng(parallel.agree_seed(data_seed))
        train = _make_source(train_data, batch_size, float_dtype, "train_data", shuffle=shuffle, generator=self._data_rng)
        if validation_data is not None and validation_split:
            raise ValueError("fit: pass validation_data or validation_split, not both")
        if validation_split:
            if not isinstance(train, _ArraySource):
                raise ValueError("fit: validation_split needs array data; pass validation_data for a DataLoader")
            train, validation = train.split(validation_split)
        else:
            validation = _make_source(validation_data, self.validation_batch_size or max(batch_size, 256), float_dtype,
                                      "validation_data")  # fmt: skip
        if isinstance(train, _ArraySource):
            self.input_shape = list(train.inputs[0].shape[1:]) if len(train.inputs) == 1 else None
        train = parallel.shard(train)

        self._loader_rng = _loader_rng(train)
        self.resumed = False
        if resume_from is not None and os.path.exists(resume_from):
            self._restored_rng = None
            self.load_checkpoint(resume_from)
            if self._restored_rng.get("data") is not None:
                self._data_rng.bit_generator.state = self._restored_rng["data"]
            if self._loader_rng is not None and self._restored_rng.get("loader") is not None:
                self._loader_rng.bit_generator.state = self._restored_rng["loader"]
            self.resumed = True
        elif resume_from is not None:
            raise FileNotFoundError(f"fit: resume_from={resume_from!r} does not exist")
        else:
            self.history = History()
            self.epoch = 0
        if initial_epoch is not None:
            self.epoch = int(initial_epoch)
        self.initial_epoch = self.epoch
        self.epochs = epochs
        self.steps_per_epoch = len(train)
        self.stop_training = False
        self.stopped_on_nonfinite = False
        plateau = self.scheduler is not None and _is_plateau(self.scheduler)
        monitor = self.scheduler_monitor or ("val_loss" if validation is not None else "loss")

        callbacks = parallel.callbacks(self.callbacks)
        if verbose and parallel.is_writer:
            callbacks.append(ProgressBar(verbose))
        callbacks.append(self.history)
        callback_list = CallbackList(callbacks)
        callback_list.set_trainer(self)
        metric_objects = self._metrics()

        callback_list.on_train_begin({})
        logs = {}
        try:
            for epoch in range(self.epoch, epochs):
                if self.stop_training:
                    break
                self.model.train()
                parallel.begin_epoch(train, epoch)
                callback_list.on_epoch_begin(epoch, {})
                lr = self._lr()
                for metric in metric_objects:
                    metric.reset()
                total, count = 0.0, 0
                rng = self._data_rng if (shuffle and hasattr(train, "inputs")) else None
                for batch, (inputs, target, size) in enumerate(train.batches(rng)):
                    callback_list.on_batch_begin(batch, self._batch_begin_logs(batch, size))
                    self.optimizer.zero_grad()
                    output = self._forward(inputs)
                    loss = self._loss(output, target)
                    local_loss = float(loss.item())
                    loss_value = parallel.mean(local_loss)  # every process decides alike on a NaN
                    batch_logs = {"batch": batch, "size": size, "loss": loss_value}
                    finite = math.isfinite(loss_value)
                    if not finite:
                        # NOTE: reported before the update, so TerminateOnNaN can stop with the weights intact.
                        callback_list.on_batch_end(batch, batch_logs)
                        if self.stop_training:
                            self.stopped_on_nonfinite = True
                            break
                    if loss.requires_grad:  # a model with nothing trainable trains nothing
                        loss.backward()
                    parallel.average_gradients()
                    if self.grad_clip is not None:
                        from ..nn.utils import clip_grad_norm_

                        clip_grad_norm_(self.model.parameters(), self.grad_clip)
                    self.optimizer.step()
                    if self.scheduler is not None and self.scheduler_interval == "batch" and not plateau:
                        self.scheduler.step()
                    total += local_loss * size
                    count += size
                    if target is not None:
                        self._update_metrics(metric_objects, target, output)
                    if finite:
                        batch_logs = self._batch_end_logs(batch, size, loss_value, metric_objects, total, count)
                        callback_list.on_batch_end(batch, batch_logs)
                    if self.stop_training:
                        break
                if self.stopped_on_nonfinite:
                    # As Keras: the History records the broken epoch, its loss the running mean that
                    # includes the non-finite batch (so NaN or inf); other keys are padded with NaN.
                    # Only the History: no other callback's on_epoch_end, no checkpoint of this epoch,
                    # and self.epoch stays at the last finished one (the weights are still its weights).
                    logs = {"loss": (total + loss_value * size) / (count + size)}
                    if lr is not None:
                        logs["lr"] = lr
                    self.history.on_epoch_end(epoch, logs)
                    break
                logs = {"loss": total / count if count else math.nan}
                for metric in metric_objects:
                    value = metric.compute()
                    logs[metric.name] = float(value) if np.ndim(value) == 0 else value
                logs = parallel.weighted_means(logs, count)
                if validation is not None:
                    logs.update(self.evaluate(validation, metrics=self.metric_specs, prefix="val_"))
                if lr is not None:
                    logs["lr"] = lr
                if self.scheduler is not None:
                    if plateau:
                        if monitor not in logs:
                            raise ValueError(f"ReduceLROnPlateau: monitor {monitor!r} is not in the logs {sorted(logs)}")
                        self.scheduler.step(float(logs[monitor]))
                    elif self.scheduler_interval == "epoch":
                        self.scheduler.step()
                # NOTE: an optimiser may keep its state rescaled and normalise it when saved (shendu's Adam
                # does); taking that snapshot at every epoch end, checkpointed or not, keeps a resumed run
                # bit-identical to an uninterrupted one.
                if callable(getattr(self.optimizer, "state_dict", None)):
                    self.optimizer.state_dict()
                self.epoch = epoch + 1
                logs = self._epoch_end_logs(logs)
                callback_list.on_epoch_end(epoch, logs)
                if checkpoint is not None and parallel.is_writer and (self.epoch % checkpoint_every == 0 or self.stop_training):
                    self.save_checkpoint(checkpoint)
        finally:
            callback_list.on_train_end(logs)
        return self.history


def _first(output):
    return output[0] if isinstance(output, (tuple, list)) else output


def fit(model: Module, loss_fn: Any, optimizer: Any, train_data: Any, epochs: int = 1, batch_size: int = 32, validation_data: Any = None, validation_split: float = 0.0,
        metrics: Any = None, callbacks: Any = None, scheduler: Any = None, verbose: int = 1, seed: int | None = None, resume_from: Any = None, checkpoint: Any = None,
        **kwargs) -> History:  # fmt: skip
    """Train ``model`` (see :class:`Trainer` and :meth:`Trainer.fit` for every argument); returns the History.

    Example:
        >>> history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
        ...               (x, y), epochs=5, batch_size=100, validation_split=0.1, metrics=["accuracy"])
        >>> history.history["val_accuracy"][-1]
    """
    trainer_keys = {"scheduler_interval", "scheduler_monitor", "grad_clip"}
    trainer_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in trainer_keys}
    trainer = Trainer(model, loss_fn, optimizer, metrics=metrics, callbacks=callbacks, scheduler=scheduler,
                      **trainer_kwargs)  # fmt: skip
    return trainer.fit(train_data, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                       validation_split=validation_split, verbose=verbose, seed=seed, resume_from=resume_from,
                       checkpoint=checkpoint, **kwargs)  # fmt: skip


def evaluate(model: Module, data: Any, loss_fn: Any = None, metrics: Any = None, batch_size: int = 256, verbose: int = 0) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data`` ((inputs, targets), Dataset or DataLoader) as a dict.

    ``verbose``: 0 silent, 1 a progress bar (on a terminal) and a line with the results, 2 the
    line only. Defaults to 0.
    """
    return Trainer(model, loss_fn).evaluate(data, batch_size=batch_size, metrics=metrics or [], verbose=verbose)


def predict(model: Module, x: Any, batch_size: int = 256, verbose: int = 0) -> Any:
    """Outputs of ``model`` for ``x`` as a NumPy array, in eval mode without grad (modes restored).

    ``verbose``: 0 silent, 1 a progress bar (on a terminal) and a summary line, 2 the line only.
    Defaults to 0.
    """
    return Trainer(model).predict(x, batch_size=batch_size, verbose=verbose)

