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

import numpy as np

from ..tensor import Tensor
from ..train.callbacks import History
from ..train.trainer import Trainer, _to_array
from . import losses as keras_losses
from . import metrics as keras_metrics
from . import optimizers as keras_optimizers
from .layers.base import format_shape

__all__ = ["TrainingMixin"]


class _Prediction(tuple):
    """What the model gives the loss during training: ``(y_pred, pre_activation, activation_name)``.

    The core loop hands ``y_pred`` (the first item) to the metrics and the whole to the loss.
    """


class _CompiledLoss:
    """The training objective: the Keras loss (fused with the output activation when possible), weighted by
    ``class_weight``, plus the layers' regularisation penalties."""

    def __init__(self, model, loss, class_weight=None):
        self.model, self.loss, self.class_weight = model, loss, class_weight

    def __call__(self, output, target):
        if isinstance(output, _Prediction):
            y_pred, pre, activation = output
        else:
            y_pred, pre, activation = output, None, None
        losses = None
        if pre is not None:
            losses = self.loss._from_pre_activation(target, pre, activation)
        if losses is None:
            losses = self.loss.call(target, y_pred)
        if self.class_weight is not None and self.model.training:  # Keras weights training batches only
            losses = losses * Tensor(self._sample_weights(target, losses))
        loss = self.loss._reduce(losses)
        if loss.ndim:
            loss = loss.mean()
        for penalty in self.model._regularization_penalties():
            loss = loss + penalty
        return loss

    def _sample_weights(self, target, losses):
        labels = target._array
        if labels.ndim > 1 and labels.shape[-1] > 1:
            labels = labels.argmax(axis=-1)
        labels = labels.reshape(losses.shape).astype(np.int64)
        weights = np.ones(labels.shape, dtype=losses._array.dtype)
        for cls, weight in self.class_weight.items():
            weights[labels == int(cls)] = weight
        return weights


class _KerasTrainer(Trainer):
    """The core Trainer, with the forward pass that also returns the output layer's pre-activation."""

    def _forward(self, inputs):
        x = list(inputs) if len(inputs) > 1 else inputs[0]
        return self.model._forward_for_loss(x)


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


def _arrays(x, what):
    """An array, or a list of arrays for a model with several inputs."""
    if isinstance(x, dict):
        raise ValueError(f"{what}: a dict of named inputs is not supported; pass a list in the order of model.inputs")
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor)) for v in x):
        return [_as_array(v, what) for v in x]
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

    # ----- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, auto_scale_loss=None, **kwargs):  # fmt: skip
        """Configure the model for training.

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"``) or a
                ``keras.optimizers`` instance. Defaults to "rmsprop".
            loss: a name (``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``,
                ``"binary_crossentropy"``, ``"mse"``, ``"mae"``, ``"huber"``, ...), a ``keras.losses``
                object or a function ``fn(y_true, y_pred)``.
            metrics: names such as ``["accuracy"]``, or metric objects. Defaults to none.

        Raises:
            ValueError: an unknown optimizer, loss or metric name (the message lists the accepted ones).
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected argument(s) {sorted(kwargs)}")
        if isinstance(loss, (list, dict)) or isinstance(metrics, dict) or loss_weights is not None:
            raise ValueError("compile(): one loss for a single-output model is supported; got a list/dict of losses")
        self.optimizer = keras_optimizers.get(optimizer)
        self.loss = loss
        self._loss_object = None if loss is None else keras_losses.get(loss)
        specs = list(metrics or []) + list(weighted_metrics or [])
        for spec in specs:
            keras_metrics.get(spec)  # an unknown name fails here, not after the first epoch
        self._metric_specs = specs
        self.compiled = True
        self._compile_args = {"optimizer": optimizer, "loss": loss, "metrics": specs}

    def _require_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must call `compile()` before using the model: {what}() needs an optimizer and "
                               "a loss, e.g. model.compile(optimizer='adam', loss='categorical_crossentropy', "
                               "metrics=['accuracy'])")  # fmt: skip
        if self._loss_object is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    def get_compile_config(self):
        """The compile settings as plain data (None when they cannot be stored: a user loss function)."""
        if not getattr(self, "compiled", False):
            return None
        loss = keras_losses.serialize(self._loss_object) if self._loss_object is not None else None
        if self._loss_object is not None and loss is None:
            return None
        return {
            "optimizer": keras_optimizers.serialize(self.optimizer),
            "loss": loss,
            "metrics": [m for m in self._metric_specs if isinstance(m, str)],
        }

    def compile_from_config(self, config):
        self.compile(optimizer=keras_optimizers.get(config["optimizer"]),
                     loss=None if config.get("loss") is None else keras_losses.get(config["loss"]),
                     metrics=config.get("metrics") or None)  # fmt: skip

    @property
    def metrics_names(self):
        names = ["loss"]
        for spec in getattr(self, "_metric_specs", []):
            names.append(keras_metrics.get(spec).name)
        return names

    # ----- preparing data -------------------------------------------------------------------------
    def _prepare(self, x, y, what, need_targets=True):
        """Arrays (or a data loader) checked against the model and the loss; builds the model if needed."""
        if x is None:
            raise ValueError(f"{what}: x is required")
        if _is_loader(x):
            if y is not None:
                raise ValueError(f"{what}: y must be None when x is a Dataset or DataLoader (it yields (x, y))")
            self._build_from_loader(x)
            return x, None
        x = _arrays(x, f"{what} x")
        if need_targets and y is None:
            raise ValueError(f"{what}: y is required when x is an array")
        y = None if y is None else _as_array(y, f"{what} y")
        first = x[0] if isinstance(x, list) else x
        if y is not None and len(y) != len(first):
            raise ValueError(f"{what}: x and y have different numbers of samples: {len(first)} and {len(y)}")
        if len(first) == 0:
            raise ValueError(f"{what}: the data is empty")
        self._build_for_data(x)
        self._check_input_data(x)
        if y is not None and self._loss_object is not None:
            check_targets(self._loss_object, y, self._output_shape_for_data(x))
        return x, y

    def _build_from_loader(self, loader):
        if self.built:
            return
        batch = next(iter(loader))
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        self._build_for_data(_arrays(x, "data"))

    def _ensure_optimizer(self):
        if not self.optimizer.built:
            self.optimizer.build([p for p in self.parameters() if p.requires_grad])

    # ----- fit -----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):  # fmt: skip
        """Train the model for ``epochs`` epochs; returns a ``History`` (``history.history["val_accuracy"]``, ...).

        Args:
            x: inputs (an array, a list of arrays for several inputs, or a shendu Dataset/DataLoader).
            y: targets.
            batch_size: samples per update. Defaults to 32.
            epochs: the epoch to stop after. Defaults to 1.
            verbose: "auto"/1 (progress and a line per epoch), 2 (a line per epoch) or 0. Defaults to "auto".
            callbacks: ``keras.callbacks`` objects. Defaults to none.
            validation_split: the fraction of the data held out — the *last* samples, before shuffling.
            validation_data: ``(x_val, y_val)`` measured after each epoch.
            shuffle: reshuffle the training data every epoch. Defaults to True.
            class_weight: ``{class: weight}`` scaling each sample's loss. Defaults to None.
            initial_epoch: the epoch to start from. Defaults to 0.

        Raises:
            RuntimeError: the model is not compiled.
            ValueError: inputs or labels that do not fit the model or the loss.
        """
        self._require_compiled("fit")
        if sample_weight is not None:
            raise ValueError("fit(sample_weight=...) is not supported; use class_weight={class: weight}")
        if validation_freq != 1:
            raise ValueError(f"fit: only validation_freq=1 is supported. Received: validation_freq={validation_freq!r}")
        if steps_per_epoch is not None and not _is_loader(x):
            raise ValueError("fit: steps_per_epoch is for data loaders; with arrays every epoch sees all the data")
        batch_size = 32 if batch_size is None else batch_size
        x, y = self._prepare(x, y, "fit")
        validation = None
        if validation_data is not None:
            if _is_loader(validation_data):
                validation = validation_data
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val)")
                if len(validation_data) == 3 and validation_data[2] is not None:
                    raise ValueError("fit: validation sample weights (x_val, y_val, w_val) are not supported")
                validation = self._prepare(validation_data[0], validation_data[1], "fit validation_data")
        if class_weight is not None and not isinstance(class_weight, dict):
            raise ValueError(f"fit: class_weight must be a dict {{class: weight}}. Received: {class_weight!r}")
        self._ensure_optimizer()
        callbacks = list(callbacks or [])
        verbose = _verbosity(verbose)
        trainer = _KerasTrainer(self, _CompiledLoss(self, self._loss_object, class_weight), self.optimizer,
                                metrics=self._metric_specs, callbacks=callbacks)  # fmt: skip
        data = x if y is None else (x, y)
        steps = None if not isinstance(y, np.ndarray) else int(np.ceil(len(y) * (1 - validation_split) / batch_size))
        for callback in callbacks:
            if hasattr(callback, "set_params"):
                callback.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        self._trainer = trainer
        self.stop_training = False  # a callback sets it (Keras' way); the core loop reads it
        try:
            history = trainer.fit(data, epochs=epochs, batch_size=batch_size, validation_data=validation,
                                  validation_split=validation_split, shuffle=shuffle, verbose=verbose,
                                  initial_epoch=initial_epoch or None)  # fmt: skip
        finally:
            self._trainer = None
            self.eval()
        _keras_history(history, callbacks)
        history.params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        self.history = history
        return history

    # ----- evaluate / predict ------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):  # fmt: skip
        """The loss and metrics on ``(x, y)``, in inference mode.

        Returns:
            the loss (a float) without metrics, ``[loss, metric, ...]`` with metrics, or a dict with
            ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        if sample_weight is not None:
            raise ValueError("evaluate(sample_weight=...) is not supported")
        x, y = self._prepare(x, y, "evaluate")
        trainer = _KerasTrainer(self, _CompiledLoss(self, self._loss_object), None, metrics=self._metric_specs)
        results = trainer.evaluate(x if y is None else (x, y), batch_size=32 if batch_size is None else batch_size)
        if _verbosity(verbose):
            print(" - ".join(f"{k}: {float(v):.4f}" for k, v in results.items()), flush=True)
        if return_dict:
            return results
        values = [results["loss"]] + [results[name] for name in self.metrics_names[1:] if name in results]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array (a list of arrays for several outputs), in inference mode."""
        if _is_loader(x):
            self._build_from_loader(x)
        else:
            x = _arrays(x, "predict x")
            self._build_for_data(x)
            self._check_input_data(x)
            if isinstance(x, list):
                x = tuple(x)
        out = Trainer(self).predict(x, batch_size=32 if batch_size is None else batch_size)
        return list(out) if isinstance(out, tuple) else out

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(x[0] if isinstance(x, (list, tuple)) else x))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One update on one batch; returns the loss (and metrics) measured on it before the update."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y, "train_on_batch")
        self._ensure_optimizer()
        trainer = _KerasTrainer(self, _CompiledLoss(self, self._loss_object, class_weight), self.optimizer,
                                metrics=self._metric_specs)  # fmt: skip
        history = trainer.fit((x, y), epochs=1, batch_size=len(y), shuffle=False, verbose=0)
        self.eval()
        results = {k: v[-1] for k, v in history.history.items() if k != "lr"}
        if return_dict:
            return results
        values = [results["loss"]] + [results[name] for name in self.metrics_names[1:] if name in results]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=len(y), verbose=0, return_dict=return_dict)


def _keras_history(history, callbacks):
    """Keras' keys: no per-epoch ``lr`` unless a callback changes the rate (then ``learning_rate``)."""
    if not isinstance(history, History):
        return
    lr = history.history.pop("lr", None)
    if lr is not None and any(type(c).__name__ in ("ReduceLROnPlateau", "LearningRateScheduler") for c in callbacks):
        history.history["learning_rate"] = lr
