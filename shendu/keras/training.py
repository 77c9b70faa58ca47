"""``compile`` / ``fit`` / ``evaluate`` / ``predict`` for Keras models, on the core training loop.

Nothing here is a second training loop: :class:`shendu.train.Trainer` does the epochs, batches,
shuffling, validation split, metrics, callbacks and history. This module adds Keras'
conventions around it:

- ``compile`` resolves names (optimizer, loss, metrics) and keeps them; the optimiser is built
  over the trainable weights when training starts (the layers may not exist before);
- the loss sees the output layer's pre-activation logits as well as its output, so
  softmax + categorical cross-entropy (and sigmoid + binary cross-entropy) are fused and stable
  (see :mod:`shendu.keras.losses`); ``class_weight`` and layer regularisers are added here;
- inputs and labels are checked against the model and the loss before the first batch, with
  messages that say what to change (e.g. integer labels with categorical_crossentropy);
- ``evaluate`` returns Keras' scalar / list / dict, ``predict`` a NumPy array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor
from ..train.callbacks import History
from ..train.trainer import Trainer, _to_array
from . import losses as keras_losses
from . import optimizers as keras_optimizers
from .layers.base import format_shape

__all__ = ["TrainingMixin"]


class _Prediction(tuple):
    """What the model gives the loss during training: ``(outputs, pre_activations, activation_names)``.

    ``pre_activations`` and ``activation_names`` have one entry per output (None where the output
    layer has no activation step); the compiled loss uses them for the fused, stable losses.
    """


_RATE_CALLBACKS = ("ReduceLROnPlateau", "LearningRateScheduler")


def _sorted_logs(logs):
    """Keras orders its logs by name."""
    return {key: logs[key] for key in sorted(logs)}


class _KerasTrainer(Trainer):
    """The core Trainer with Keras' forward pass (pre-activations for the loss), metrics per output, and
    Keras' callback logs: running means at batch end, empty batch-begin logs, ``on_test_*`` during
    validation."""

    running_batch_logs = True

    def __init__(self, model, loss_fn, optimizer, compiled_metrics, callbacks=None, test_callbacks=None):
        super().__init__(model, loss_fn, optimizer, metrics=None, callbacks=callbacks)
        self.compiled_metrics = compiled_metrics
        self.metric_specs = compiled_metrics.all()
        self.test_callbacks = list(test_callbacks if test_callbacks is not None else self.callbacks)

    def _forward(self, inputs):
        x = list(inputs) if len(inputs) > 1 else inputs[0]
        return self.model._forward_for_loss(x)

    def _metrics(self):
        return self.compiled_metrics.all()

    def _loss(self, output, target):
        return self.loss_fn(output, target)  # the compiled loss: targets may be absent (add_loss only)

    def _update_metrics(self, metric_objects, target, output):
        size = len(target[0] if isinstance(target, tuple) else target)
        self.compiled_metrics.update(metric_objects, target, output, self.loss_fn, size)

    def _batch_begin_logs(self, batch, size):
        return {}

    def _epoch_end_logs(self, logs):
        lr = logs.pop("lr", None)
        if lr is not None and any(type(c).__name__ in _RATE_CALLBACKS for c in self.callbacks):
            logs["learning_rate"] = lr
        return _sorted_logs(logs)

    def _running_logs(self, metric_objects, total, count):
        logs = {"loss": total / count if count else 0.0}
        for metric in metric_objects:
            value = metric.compute()
            logs[metric.name] = float(value) if np.ndim(value) == 0 else value
        return _sorted_logs(logs)

    def _batch_end_logs(self, batch, size, loss_value, metric_objects, total, count):
        return self._running_logs(metric_objects, total, count)

    def _evaluation_batch(self, batch, metric_objects, total, count, end=False):
        for callback in self.test_callbacks:
            if end:
                _call(callback, "on_test_batch_end", batch, self._running_logs(metric_objects, total, count))
            else:
                _call(callback, "on_test_batch_begin", batch, {})

    def evaluate(self, data, batch_size=256, metrics=None, prefix="", verbose=0):
        for callback in self.test_callbacks:
            _call(callback, "on_test_begin", {})
        results = super().evaluate(data, batch_size=batch_size, metrics=self._metrics(), verbose=verbose)
        results = _sorted_logs(results)
        for callback in self.test_callbacks:
            _call(callback, "on_test_end", dict(results))
        return {prefix + key: value for key, value in results.items()}


class _Predictor(Trainer):
    """The core predict loop, calling on_predict_batch_begin/end; a dict of outputs is handed over as a tuple in
    the order of its keys."""

    def __init__(self, model, callbacks=()):
        super().__init__(model)
        self.predict_callbacks = list(callbacks)

    def _forward(self, inputs):
        out = self.model(*inputs)
        return tuple(out.values()) if isinstance(out, dict) else out

    def _prediction_batch(self, batch, outputs=None, end=False):
        for callback in self.predict_callbacks:
            if end:
                _call(callback, "on_predict_batch_end", batch, {"outputs": outputs})
            else:
                _call(callback, "on_predict_batch_begin", batch, {})


class _KerasBatches:
    """A data loader (PyDataset, DataLoader, generator) read the Keras way: each batch is ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``, with lists or dicts for several inputs/outputs; ``steps`` batches per pass, the
    iterator kept between passes (Keras' ``steps_per_epoch``)."""

    def __init__(self, model, loader, steps=None, keep_position=True):
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ValueError(f"steps must be a positive integer or None. Received: {steps!r}")
        self.model, self.loader, self.steps, self.keep_position = model, loader, steps, keep_position
        self._iterator = None

    def __len__(self):
        if self.steps is not None:
            return self.steps
        try:
            return len(self.loader)
        except TypeError:
            return 0

    def _batches(self):
        if self.steps is None:
            yield from self.loader
            return
        if self._iterator is None or not self.keep_position:
            self._iterator = iter(self.loader)
        for _ in range(self.steps):
            try:
                yield next(self._iterator)
            except StopIteration:  # a finite loader starts over
                self._iterator = iter(self.loader)
                try:
                    yield next(self._iterator)
                except StopIteration:
                    return

    def __iter__(self):
        for batch in self._batches():
            # Keras' unpacking: a tuple (or list) is (x, y, sample_weight) cut short; anything else is x alone
            x, y, weight = (tuple(batch) + (None, None))[:3] if isinstance(batch, (tuple, list)) else (batch, None, None)
            x = _arrays(x, "data x", self.model._input_names())
            x = x if isinstance(x, list) else [x]
            if y is None:
                yield (x,)
                continue
            targets = self.model._targets(y, "data y")
            if weight is not None:
                targets = targets + (_as_array(weight, "data sample_weight"),)
            yield x, targets


def _call(callback, hook, *args):
    method = getattr(callback, hook, None)
    if callable(method):
        method(*args)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) or verbose in (False, True):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


def _as_array(value, what):
    array = _to_array(value, what)
    if array.dtype == object:
        raise ValueError(f"{what}: expected a rectangular array of numbers (ragged lists? pad them with "
                         "keras.preprocessing.sequence.pad_sequences)")  # fmt: skip
    return array


def _arrays(x, what, names=None):
    """An array, or a list of arrays for a model with several inputs (a dict is ordered by ``names``)."""
    if isinstance(x, dict):
        if names is None or set(x) != set(names):
            raise ValueError(f"{what}: the dict's keys {sorted(x)} do not match the model's input names {names}")
        x = [x[name] for name in names]
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor)) for v in x):
        arrays = [_as_array(v, what) for v in x]
        return arrays if len(arrays) > 1 else arrays[0]
    return _as_array(x, what)


def _is_loader(x):
    return not isinstance(x, (np.ndarray, Tensor, list, tuple, dict)) and x is not None and hasattr(x, "__iter__")


def _integral(array):
    return array.dtype.kind in "biu" or (array.dtype.kind == "f" and bool(np.all(np.mod(array, 1) == 0)))


def check_targets(loss, y, output_shape):
    """Labels against the loss and the model's output shape; ValueError that says what to use instead."""
    if not isinstance(output_shape, tuple) or not isinstance(y, np.ndarray):
        return
    classes = output_shape[-1]
    name = getattr(loss, "name", type(loss).__name__)
    if isinstance(loss, keras_losses.CategoricalCrossentropy):
        one_hot_shape = format_shape((len(y),) + tuple(output_shape[1:]))
        if y.ndim == len(output_shape) - 1 or (y.ndim == len(output_shape) and y.shape[-1] == 1 and classes != 1):
            kind = "integer class labels" if _integral(y) else "one value per sample"
            raise ValueError(
                f"loss='{name}' expects one-hot targets of shape {one_hot_shape}, but y has shape {y.shape} "
                f"({kind}). For integer labels use loss='sparse_categorical_crossentropy', or one-hot encode them "
                f"with keras.utils.to_categorical(y, {classes})."
            )
        if y.ndim != len(output_shape) or any(o is not None and o != s for o, s in zip(output_shape[1:], y.shape[1:])):
            raise ValueError(f"loss='{name}': targets of shape {y.shape} do not match the model's output shape "
                             f"{format_shape(output_shape)}")  # fmt: skip
    elif isinstance(loss, keras_losses.SparseCategoricalCrossentropy):
        if y.ndim == len(output_shape) and classes not in (None, 1) and y.shape[-1] == classes:
            raise ValueError(
                f"loss='{name}' expects integer class labels of shape ({len(y)},), but y has shape {y.shape} "
                "(one-hot rows?). For one-hot targets use loss='categorical_crossentropy', or turn them into "
                "labels with y.argmax(axis=-1)."
            )
        if not _integral(y):
            raise ValueError(f"loss='{name}' expects integer class labels; y holds non-integer values")
        if classes is not None and y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(f"loss='{name}': labels must be in [0, {classes}) for a model with {classes} outputs; "
                             f"found labels from {int(y.min())} to {int(y.max())}")  # fmt: skip
    elif isinstance(loss, keras_losses.BinaryCrossentropy) and not loss.from_logits:
        if y.size and (y.min() < 0 or y.max() > 1):
            hint = (" For several classes use a softmax output with loss='sparse_categorical_crossentropy'."
                    if _integral(y) else "")  # fmt: skip
            raise ValueError(f"loss='{name}' expects targets in [0, 1]; y holds values from {y.min()} to {y.max()}.{hint}")
    per_sample = int(np.prod([d for d in output_shape[1:] if d is not None])) if None not in output_shape[1:] else None
    if per_sample is not None and len(y) and y[0].size != per_sample and not isinstance(
        loss, (keras_losses.SparseCategoricalCrossentropy, keras_losses._FunctionLoss)
    ):
        raise ValueError(f"loss='{name}': each target has {y[0].size} value(s) but the model outputs "
                         f"{format_shape(output_shape)} per batch ({per_sample} per sample)")  # fmt: skip


class TrainingMixin:
    """compile / fit / evaluate / predict / train_on_batch for :class:`shendu.keras.Model`."""

    if TYPE_CHECKING:  # what the Model class it is mixed into provides
        output_names: list[str]
        eval: Callable[[], Any]
        _build_for_data: Callable[..., Any]
        _check_input_data: Callable[..., Any]

    # ----- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool | None = None, steps_per_execution: Any = None, jit_compile: Any = None, auto_scale_loss: Any = None, **kwargs) -> None:  # fmt: skip
        """Configure the model for training.

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"``) or a
                ``keras.optimizers`` instance. Defaults to "rmsprop".
            loss: a name (``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``,
                ``"binary_crossentropy"``, ``"mse"``, ``"mae"``, ``"huber"``, ...), a ``keras.losses``
                object or a function ``fn(y_true, y_pred)``; for several outputs a list (by position) or a
                dict (by output name). None when the model's loss comes from ``add_loss``.
            metrics: names such as ``["accuracy"]``, metric objects or functions; for several outputs a
                list of lists or a dict by output name. Defaults to none.
            loss_weights: the weight of each output's loss in the total (a list or dict). Defaults to 1 each.
            weighted_metrics: metrics that take ``sample_weight`` / ``class_weight`` into account.

        Raises:
            ValueError: an unknown optimizer, loss or metric name (the message lists the accepted ones).
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected argument(s) {sorted(kwargs)}")
        from .compile_utils import CompiledLoss, CompiledMetrics

        names = self.output_names if hasattr(self, "output_names") else ["output_0"]
        self.optimizer = keras_optimizers.get(optimizer)
        self.loss = loss
        self._compiled_loss = CompiledLoss(self, loss, loss_weights, names)
        self._compiled_metrics = CompiledMetrics(metrics, weighted_metrics, names)
        self._compiled_metrics.check()  # an unknown name fails here, not after the first epoch
        self._loss_object = self._compiled_loss.losses[0] if len(names) == 1 else None
        self.compiled = True
        self._compile_args = {"optimizer": optimizer, "loss": loss, "metrics": metrics, "loss_weights": loss_weights,
                              "weighted_metrics": weighted_metrics}  # fmt: skip

    def _require_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must call `compile()` before using the model: {what}() needs an optimizer and "
                               "a loss, e.g. model.compile(optimizer='adam', loss='categorical_crossentropy', "
                               "metrics=['accuracy'])")  # fmt: skip

    def get_compile_config(self):
        """The compile settings as plain data (None when they cannot be stored: a user loss function)."""
        if not getattr(self, "compiled", False):
            return None
        losses = self._compiled_loss.losses
        if len(losses) != 1:
            return None
        loss = keras_losses.serialize(losses[0]) if losses[0] is not None else None
        if losses[0] is not None and loss is None:
            return None
        metrics = self._compile_args.get("metrics")
        if isinstance(self._compile_args.get("loss"), str):  # kept as given, as Keras keeps it
            loss = self._compile_args["loss"]
        return {
            "optimizer": keras_optimizers.serialize(self.optimizer),
            "loss": loss,
            "metrics": [m for m in (metrics or []) if isinstance(m, str)] if isinstance(metrics, (list, tuple)) else [],
        }

    def compile_from_config(self, config):
        self.compile(optimizer=keras_optimizers.get(config["optimizer"]),
                     loss=None if config.get("loss") is None else keras_losses.get(config["loss"]),
                     metrics=config.get("metrics") or None)  # fmt: skip

    @property
    def metrics_names(self):
        names = ["loss"]
        compiled = getattr(self, "_compiled_metrics", None)
        if compiled is not None:
            names += compiled.keys(self._compiled_loss)
        return names

    @property
    def metrics(self):
        """The compiled metrics (after the first fit or evaluate, as in Keras)."""
        compiled = getattr(self, "_compiled_metrics", None)
        return [] if compiled is None or compiled.objects is None else [m.metric for m in compiled.objects]

    # ----- preparing data -------------------------------------------------------------------------
    def _input_names(self):
        graph = getattr(self, "_graph", None)
        return [t.node.layer.name for t in graph["inputs"]] if graph is not None else None

    def _targets(self, y, what):
        """A tuple of target arrays, one per output (a dict is ordered by the output names)."""
        names = self.output_names
        if isinstance(y, dict):
            missing = [name for name in names if name not in y and self._compiled_loss.losses[names.index(name)]]
            if missing or set(y) - set(names):
                raise ValueError(f"{what}: the dict's keys {sorted(y)} do not match the model's output names {names}")
            y = [y.get(name) for name in names]
        if isinstance(y, (list, tuple)) and len(names) > 1:
            if len(y) != len(names):
                raise ValueError(f"{what}: {len(y)} target arrays for a model with {len(names)} outputs {names}")
            first = next(t for t in y if t is not None)
            return tuple(_as_array(t if t is not None else np.zeros(len(first)), what) for t in y)
        if isinstance(y, (list, tuple)) and y and all(isinstance(t, (np.ndarray, Tensor)) for t in y) and len(y) == 1:
            y = y[0]
        return (_as_array(y, what),)

    def _prepare(self, x, y, what, need_targets=True, sample_weight=None, steps=None):
        """(inputs, target tuple or None) checked against the model and the loss; builds the model if needed.

        The target tuple is ``(y_0, ..., y_k)`` plus the sample weights when they are given.
        """
        if x is None:
            raise ValueError(f"{what}: x is required")
        if _is_loader(x):
            if y is not None:
                raise ValueError(f"{what}: y must be None when x is a Dataset or DataLoader (it yields (x, y))")
            if sample_weight is not None:
                raise ValueError(f"{what}: sample_weight must be None when x is a Dataset or DataLoader (it yields "
                                 "(x, y, sample_weight))")  # fmt: skip
            self._build_from_loader(x)
            return _KerasBatches(self, x, steps), None
        x = _arrays(x, f"{what} x", self._input_names())
        if need_targets and y is None and not self._compiled_loss_is_model_losses():
            raise ValueError(f"{what}: y is required when x is an array")
        first = x[0] if isinstance(x, list) else x
        if len(first) == 0:
            raise ValueError(f"{what}: the data is empty")
        self._build_for_data(x)
        self._check_input_data(x)
        if y is None:
            return x, None
        targets = self._targets(y, f"{what} y")
        for target in targets:
            if len(target) != len(first):
                raise ValueError(f"{what}: x and y have different numbers of samples: {len(first)} and {len(target)}")
        output_shapes = self._output_shape_for_data(x)
        output_shapes = output_shapes if isinstance(output_shapes, list) else [output_shapes]
        for loss, target, shape in zip(self._compiled_loss.losses, targets, output_shapes):
            if loss is not None:
                check_targets(loss, target, shape)
        self._compiled_metrics.build([t.shape for t in targets], [tuple(s) for s in output_shapes],
                                     self._compiled_loss)  # fmt: skip
        if sample_weight is not None:
            weights = _as_array(sample_weight, f"{what} sample_weight")
            if len(weights) != len(first):
                raise ValueError(f"{what}: sample_weight has {len(weights)} values for {len(first)} samples")
            targets = targets + (weights,)
        return x, targets

    def _compiled_loss_is_model_losses(self):
        return not self._compiled_loss.any

    def _build_from_loader(self, loader):
        batch = next(iter(loader))
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        x = _arrays(x, "data", self._input_names())
        if not self.built:
            self._build_for_data(x)
        if isinstance(batch, (tuple, list)) and len(batch) >= 2 and getattr(self, "_compiled_metrics", None):
            targets = self._targets(batch[1], "data y")
            shapes = self._output_shape_for_data(x)
            shapes = shapes if isinstance(shapes, list) else [shapes]
            self._compiled_metrics.build([t.shape for t in targets], [tuple(s) for s in shapes], self._compiled_loss)

    def _ensure_optimizer(self):
        if not self.optimizer.built:
            self.optimizer.build([p for p in self.parameters() if p.requires_grad])

    def _make_trainer(self, class_weight=None, callbacks=None, training=True):
        loss = self._compiled_loss
        loss.class_weight = class_weight
        return _KerasTrainer(self, loss, self.optimizer if training else None, self._compiled_metrics,
                             callbacks=callbacks)  # fmt: skip

    # ----- fit -----------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1, verbose: int | str = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict[int, float] | None = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None, validation_batch_size: int | None = None, validation_freq: int = 1) -> History:  # fmt: skip
        """Train the model for ``epochs`` epochs; returns a ``History`` (``history.history["val_accuracy"]``, ...).

        Args:
            x: inputs (an array, a list or a dict of arrays for several inputs, or a shendu Dataset/DataLoader).
            y: targets (a list or a dict by output name for several outputs).
            batch_size: samples per update. Defaults to 32.
            epochs: the epoch to stop after. Defaults to 1.
            verbose: "auto"/1 (progress and a line per epoch), 2 (a line per epoch) or 0. Defaults to "auto".
            callbacks: ``keras.callbacks`` objects. Defaults to none.
            validation_split: the fraction of the data held out — the *last* samples, before shuffling.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``, measured after each epoch.
            shuffle: reshuffle the training data every epoch. Defaults to True.
            class_weight: ``{class: weight}`` scaling each training sample's loss. Defaults to None.
            sample_weight: one weight per training sample. Defaults to None.
            initial_epoch: the epoch to start from. Defaults to 0.

        Raises:
            RuntimeError: the model is not compiled.
            ValueError: inputs or labels that do not fit the model or the loss.
        """
        self._require_compiled("fit")
        if validation_freq != 1:
            raise ValueError(f"fit: only validation_freq=1 is supported. Received: validation_freq={validation_freq!r}")
        if steps_per_epoch is not None and not _is_loader(x):
            raise ValueError("fit: steps_per_epoch is for data loaders; with arrays every epoch sees all the data")
        if class_weight is not None and not isinstance(class_weight, dict):
            raise ValueError(f"fit: class_weight must be a dict {{class: weight}}. Received: {class_weight!r}")
        if class_weight is not None and len(self.output_names) > 1:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        batch_size = 32 if batch_size is None else batch_size
        x, y = self._prepare(x, y, "fit", sample_weight=sample_weight, steps=steps_per_epoch)
        validation = None
        if validation_data is not None:
            if _is_loader(validation_data):
                validation = self._prepare(validation_data, None, "fit validation_data", steps=validation_steps)[0]
                validation.keep_position = False  # as Keras: validation starts over every epoch
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight_val)")
                val_weight = validation_data[2] if len(validation_data) == 3 else None
                if (val_weight is None) != (sample_weight is None):
                    raise ValueError("fit: give sample weights for both the training and the validation data, or for "
                                     "neither")  # fmt: skip
                validation = self._prepare(validation_data[0], validation_data[1], "fit validation_data",
                                           sample_weight=val_weight)  # fmt: skip
        self._ensure_optimizer()
        callbacks = list(callbacks or [])
        verbose = _verbosity(verbose)
        trainer = self._make_trainer(class_weight, callbacks)
        trainer.validation_batch_size = validation_batch_size or batch_size
        data = x if _is_loader(x) else (x, y)
        first = x[0] if isinstance(x, list) else x
        steps = None if _is_loader(x) else int(np.ceil(len(first) * (1 - validation_split) / batch_size))
        for callback in callbacks:
            if hasattr(callback, "set_params"):
                callback.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        self._active_trainer = trainer
        self.stop_training = False  # a callback sets it (Keras' way); the core loop reads it
        try:
            history = trainer.fit(data, epochs=epochs, batch_size=batch_size, validation_data=validation,
                                  validation_split=validation_split, shuffle=shuffle, verbose=verbose,
                                  initial_epoch=initial_epoch or None)  # fmt: skip
        finally:
            self._active_trainer = None
            self._compiled_loss.class_weight = None
            self.eval()
        _keras_history(history, callbacks)
        history.params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        self.history = history
        return history

    # ----- evaluate / predict ------------------------------------------------------------------------
    def _results(self, results, return_dict):
        if return_dict:
            return results
        order = ["loss"] + [k for k in self.metrics_names[1:] if k.endswith("_loss")]
        order += [k for k in self.metrics_names[1:] if k not in order]
        values = [results[name] for name in order if name in results]
        return values[0] if len(values) == 1 else values

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, return_dict: bool = False) -> Any:  # fmt: skip
        """The loss and metrics on ``(x, y)``, in inference mode.

        Returns:
            the loss (a float) without metrics, ``[loss, metric, ...]`` with metrics (for several
            outputs: the total loss, each output's loss, then the metrics), or a dict with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y, "evaluate", sample_weight=sample_weight, steps=steps)
        trainer = self._make_trainer(callbacks=list(callbacks or []), training=False)
        results = trainer.evaluate(x if _is_loader(x) else (x, y), batch_size=32 if batch_size is None else batch_size)
        if _verbosity(verbose):
            print(" - ".join(f"{k}: {float(v):.4f}" for k, v in results.items() if np.ndim(v) == 0), flush=True)
        return self._results(results, return_dict)

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", steps: int | None = None, callbacks: Any = None) -> Any:
        """The model's outputs for ``x`` as a NumPy array (a list of arrays for several outputs), in inference mode."""
        if _is_loader(x):
            self._build_from_loader(x)
            x = _KerasBatches(self, x, steps)
        else:
            x = _arrays(x, "predict x", self._input_names())
            self._build_for_data(x)
            self._check_input_data(x)
            if isinstance(x, list):
                x = tuple(x)
        callbacks = list(callbacks or [])
        for callback in callbacks:
            _call(callback, "on_predict_begin", {})
        out = _Predictor(self, callbacks).predict(x, batch_size=32 if batch_size is None else batch_size)
        for callback in callbacks:
            _call(callback, "on_predict_end", {})
        if isinstance(out, tuple) and len(self.output_names) == len(out) and self._graph_output_keys():
            return dict(zip(self.output_names, out))
        return list(out) if isinstance(out, tuple) else out

    def _graph_output_keys(self):
        graph = getattr(self, "_graph", None)
        return graph.get("output_keys") if graph is not None else None

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(x[0] if isinstance(x, (list, tuple)) else x), verbose=0)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One update on one batch; returns the loss (and metrics) measured on it before the update."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y, "train_on_batch", sample_weight=sample_weight)
        self._ensure_optimizer()
        trainer = self._make_trainer(class_weight)
        first = x[0] if isinstance(x, list) else x
        try:
            history = trainer.fit((x, y), epochs=1, batch_size=len(first), shuffle=False, verbose=0)
        finally:
            self._compiled_loss.class_weight = None
            self.eval()
        results = {k: v[-1] for k, v in history.history.items() if k != "lr"}
        return self._results(results, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        first = x[0] if isinstance(x, (list, tuple)) else x
        return self.evaluate(x, y, batch_size=len(first), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)  # fmt: skip


def _keras_history(history, callbacks):
    """Keras' keys: no per-epoch ``lr`` (a callback that changes the rate records ``learning_rate``)."""
    if isinstance(history, History):
        history.history.pop("lr", None)
