"""What ``compile`` sets up, per output: the losses (weighted, with sample and class weights, plus the model's
``add_loss`` losses and weight penalties) and the metrics, named in the logs as Keras names them.

For one output the logs hold ``loss`` and each metric by the name it was given (``accuracy``). For
several outputs they also hold each output's loss (``{output}_loss``) and metrics prefixed with the
output's name (``{output}_accuracy``); ``loss`` is Σ loss_weight·output loss + Σ model.losses.
Losses, metrics and ``loss_weights`` may be given as one value (every output), a list (by position)
or a dict (by output name).
"""

import numpy as np

from ..tensor import Tensor
from ..train import metrics as core_metrics
from . import losses as keras_losses
from . import metrics as keras_metrics

__all__ = ["CompiledLoss", "CompiledMetrics", "per_output"]


def per_output(spec, names, what, nested=False):
    """``spec`` as one entry per output (None where an output has none)."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"compile(): {what} names output(s) {unknown} that the model does not have; its "
                             f"outputs are {names}")  # fmt: skip
        return [spec.get(name) for name in names]
    if len(names) == 1:
        return [spec]
    if isinstance(spec, (list, tuple)) and (not nested or all(isinstance(s, (list, tuple)) or s is None for s in spec)):
        if len(spec) != len(names):
            raise ValueError(f"compile(): {what} has {len(spec)} entries but the model has {len(names)} outputs "
                             f"{names}; give one per output, or a dict by output name")  # fmt: skip
        return list(spec)
    if nested:
        raise ValueError(f"Invalid `{what}`. `{what}` should contain metrics objects and either be a dict or a list "
                         f"matching the output names of the functional model {names}. Received: {what}={spec!r}")  # fmt: skip
    return [spec] * len(names)


def _shape(value):
    return tuple(value.shape)


class _Keyed(core_metrics.Metric):
    """A Keras metric under the key it has in the logs (``cls_accuracy``), fed one output's values."""

    def __init__(self, key, metric, output, weighted):
        self.name, self.metric, self.output, self.weighted = key, metric, output, weighted
        self.mode = getattr(metric, "mode", "max")

    def reset(self):
        self.metric.reset_state()

    def update(self, y_true, y_pred, sample_weight=None):
        self.metric.update_state(y_true, y_pred, sample_weight=sample_weight if self.weighted else None)

    def compute(self):
        return self.metric.compute()


class _LossTracker(core_metrics.Metric):
    """The running mean of one output's loss (``{output}_loss``), weighted by batch size as Keras does."""

    mode = "min"

    def __init__(self, key, output):
        self.name, self.output = key, output
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def add(self, value, size):
        self.total += value * size
        self.count += size

    def compute(self):
        return self.total / self.count if self.count else 0.0


class CompiledLoss:
    """The training objective for the core loop: ``loss(prediction, target)`` with the target a tuple
    ``(y_0, ..., y_k[, sample_weight])``."""

    def __init__(self, model, losses, loss_weights, names):
        self.model, self.names = model, names
        self.losses = [None if spec is None else keras_losses.get(spec) for spec in per_output(losses, names, "loss")]
        weights = per_output(loss_weights, names, "loss_weights") if loss_weights is not None else [1.0] * len(names)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.class_weight = None
        self.last = [None] * len(names)  # each output's loss in the last batch (for the trackers)

    @property
    def any(self):
        return any(loss is not None for loss in self.losses)

    def _output_losses(self, loss, y_true, y_pred, pre, activation, weights):
        per_sample = None
        if pre is not None:
            per_sample = loss._from_pre_activation(y_true, pre, activation)
        if per_sample is None:
            per_sample = loss.call(y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None and per_sample.ndim and tuple(mask.shape) == tuple(per_sample.shape):
            # Keras: masked steps weigh 0 and the mean is taken over the steps kept
            keep = mask._array.astype(per_sample._array.dtype)
            kept = keep.sum()
            scale = keep * (keep.size / kept if kept else 0.0)
            weights = scale if weights is None else weights.reshape(weights.shape + (1,) * (keep.ndim - weights.ndim)) * scale
        if weights is not None:
            w = weights.reshape(weights.shape + (1,) * (per_sample.ndim - weights.ndim)) if per_sample.ndim else weights
            per_sample = per_sample * Tensor(np.broadcast_to(w, per_sample.shape).astype(per_sample._array.dtype))
        return loss._reduce(per_sample)

    def sample_weights(self, target, n_outputs):
        """(targets, sample weights or None) from the target tuple, with class weights folded in (training only)."""
        if target is None:  # no targets: only the add_loss terms count
            return [None] * n_outputs, None
        targets = list(target) if isinstance(target, tuple) else [target]
        weight = None
        if len(targets) > n_outputs:  # the sample weights come last
            weight = targets.pop()._array.astype(np.float64)
        if self.class_weight is not None and self.model.training:
            labels = targets[0]._array
            labels = labels.argmax(axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(len(labels))
            factors = np.ones(len(labels))
            for cls, value in self.class_weight.items():
                factors[labels.astype(np.int64) == int(cls)] = value
            weight = factors if weight is None else weight.reshape(len(labels), -1)[:, 0] * factors
        return targets[:n_outputs], weight

    def __call__(self, prediction, target):
        y_preds, pres, activations = prediction
        y_preds = list(y_preds) if isinstance(y_preds, (list, tuple)) else [y_preds]
        targets, weight = self.sample_weights(target, len(y_preds))
        total = None
        for index, (loss, y_pred, y_true) in enumerate(zip(self.losses, y_preds, targets)):
            if loss is None or y_true is None:
                continue
            value = self._output_losses(loss, y_true, y_pred, pres[index], activations[index], weight)
            if value.ndim:
                value = value.mean()
            self.last[index] = value
            weighted = value * self.loss_weights[index] if self.loss_weights[index] != 1.0 else value
            total = weighted if total is None else total + weighted
        for extra in self.model.losses:
            extra = extra if isinstance(extra, Tensor) else Tensor(np.asarray(extra, np.float32))
            extra = extra.sum() if extra.ndim else extra
            total = extra if total is None else total + extra
        if total is None:
            if not self.any:
                raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
            total = Tensor(np.zeros((), np.float32))
        return total


class CompiledMetrics:
    """The metrics of every output, resolved once the shapes of targets and outputs are known."""

    def __init__(self, metrics, weighted_metrics, names):
        self.names = names
        self.specs = per_output(metrics, names, "metrics", nested=True) if metrics is not None else [None] * len(names)
        self.weighted_specs = (per_output(weighted_metrics, names, "weighted_metrics", nested=True)
                               if weighted_metrics is not None else [None] * len(names))  # fmt: skip
        self.objects = None
        self.trackers = None

    def build(self, y_true_shapes, y_pred_shapes, loss):
        if self.objects is not None:
            return
        multi = len(self.names) > 1
        self.trackers = [_LossTracker(f"{name}_loss", i) for i, name in enumerate(self.names)
                         if multi and loss.losses[i] is not None]  # fmt: skip
        objects = []
        for index, name in enumerate(self.names):
            for specs, weighted in ((self.specs[index], False), (self.weighted_specs[index], True)):
                for spec in ([] if specs is None else specs if isinstance(specs, (list, tuple)) else [specs]):
                    metric = keras_metrics.resolve(spec, y_true_shapes[index], y_pred_shapes[index])
                    key = f"{name}_{metric.name}" if multi else metric.name
                    if weighted and key in {o.name for o in objects}:  # Keras' name for the weighted twin
                        key = f"{name}_weighted_{metric.name}" if multi else f"weighted_{metric.name}"
                    objects.append(_Keyed(key, metric, index, weighted))
        self.objects = objects

    def check(self):
        """Fail at compile time on a metric name that does not exist."""
        for specs in self.specs + self.weighted_specs:
            for spec in ([] if specs is None else specs if isinstance(specs, (list, tuple)) else [specs]):
                if not (isinstance(spec, str) and spec.lower() in ("accuracy", "acc")):
                    keras_metrics.get(spec)

    def all(self):
        return list(self.trackers or []) + list(self.objects or [])

    def keys(self, loss):
        """The log keys, known before the metrics are built (the output losses, then the metrics)."""
        if self.objects is not None:
            return [m.name for m in self.all()]
        multi = len(self.names) > 1
        keys = [f"{name}_loss" for i, name in enumerate(self.names) if multi and loss.losses[i] is not None]
        for index, name in enumerate(self.names):
            for specs in (self.specs[index], self.weighted_specs[index]):
                for spec in ([] if specs is None else specs if isinstance(specs, (list, tuple)) else [specs]):
                    key = spec if isinstance(spec, str) else getattr(spec, "name", getattr(spec, "__name__", "metric"))
                    keys.append(f"{name}_{key}" if multi else key)
        return keys

    def update(self, metric_objects, target, prediction, loss, size):
        y_preds = prediction[0] if isinstance(prediction, tuple) and len(prediction) == 3 else prediction
        y_preds = list(y_preds) if isinstance(y_preds, (list, tuple)) else [y_preds]
        targets, weight = loss.sample_weights(target, len(y_preds))
        for metric in metric_objects:
            if isinstance(metric, _LossTracker):
                value = loss.last[metric.output]
                if value is not None:
                    metric.add(float(value.item()), size)
            elif isinstance(metric, _Keyed):
                y_pred = y_preds[metric.output]
                if isinstance(y_pred, Tensor):
                    mask = getattr(y_pred, "_keras_mask", None)
                    y_pred = y_pred.detach()
                    if mask is not None:
                        y_pred._keras_mask = mask
                metric.update(targets[metric.output], y_pred, weight)
