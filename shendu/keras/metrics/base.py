"""The Keras ``Metric`` contract — state in variables, ``update_state`` / ``result`` / ``reset_state`` — and
the reduction metrics ``Mean``, ``Sum`` and ``MeanMetricWrapper`` that most metrics are built on.

A Keras metric is also a core :class:`shendu.train.metrics.Metric` (``reset``/``update``/``compute``), so
the one training loop drives both dialects' metrics.

Example (a metric written as in the Keras guides):
    >>> class CategoricalTruePositives(keras.metrics.Metric):
    ...     def __init__(self, name="categorical_true_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         hits = ops.cast(ops.argmax(y_pred, axis=1) == ops.cast(ops.reshape(y_true, (-1,)), "int64"), "float32")
    ...         self.true_positives.assign_add(ops.sum(hits))
    ...     def result(self):
    ...         return self.true_positives
"""

import numpy as np

from ...tensor import Tensor
from ...train import metrics as core
from ..backend import snake_case
from ..variables import Variable

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "to_numpy", "samplewise"]


def to_numpy(value, dtype=None):
    """A NumPy array from a tensor, a Variable, an array or a number (``dtype`` casts it)."""
    array = value._array if isinstance(value, Tensor) else np.asarray(value)
    return array if dtype is None else array.astype(dtype, copy=False)


def same_rank(y_pred, y_true):
    """Keras' squeeze-or-expand: a trailing axis of size 1 is dropped or added so both have one rank."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    return y_pred, y_true


def samplewise(values, sample_weight):
    """(per-sample values × weights, per-sample weights) as Keras' ``Mean`` reduces them.

    Values with more axes than the weights are averaged over the extra axes first; what is left is
    averaged over all but the first axis.
    """
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        weight = np.asarray(sample_weight, dtype=np.float64)
        if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
            weight = weight[..., 0]
        elif values.ndim == weight.ndim + 1 and values.shape[-1] == 1:
            values = values[..., 0]
        if values.ndim > weight.ndim:
            values = values.mean(axis=tuple(range(weight.ndim, values.ndim)))
        weight = np.broadcast_to(weight, values.shape)
        values = values * weight
        if weight.ndim > 1:
            weight = weight.mean(axis=tuple(range(1, weight.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sample_weight if sample_weight is None else weight


class Metric(core.Metric):
    """Base class of Keras metrics: keep state in ``add_variable`` variables, define ``update_state(y_true,
    y_pred, sample_weight=None)`` and ``result()``; ``reset_state()`` zeroes every variable by default.

    Calling a metric (``m(y_true, y_pred)``) updates it and returns the result, as in Keras.
    """

    mode = "max"

    def __init__(self, dtype=None, name=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self._variables = []

    # ----- state ------------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A non-trainable Variable holding part of the metric's state."""
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before add_variable()")
        variable = Variable(initializer, shape=shape, dtype=dtype or self.dtype, trainable=False, name=name,
                            aggregation=aggregation)  # fmt: skip
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self):
        return list(self._variables)

    def reset_state(self):
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result()")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    # ----- the core loop's protocol -------------------------------------------------------------
    def reset(self):
        self.reset_state()

    def update(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight=sample_weight)

    def compute(self):
        value = to_numpy(self.result())
        return float(value) if value.ndim == 0 else np.array(value, copy=True)

    # ----- configuration ------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Sum(Metric):
    """The (weighted) sum of the values given to ``update_state(values, sample_weight=None)``."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = samplewise(to_numpy(values), None if sample_weight is None else to_numpy(sample_weight))
        self.total.assign_add(values.sum())

    def result(self):
        return self.total


class Mean(Metric):
    """The (weighted) mean Σ w·v / Σ w of the values given to ``update_state(values, sample_weight=None)``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        values, weight = samplewise(to_numpy(values), None if sample_weight is None else to_numpy(sample_weight))
        self.total.assign_add(values.sum())
        self.count.assign_add(weight.sum() if weight is not None else (len(values) if values.ndim else 1))

    def result(self):
        count = float(self.count._array)
        return Tensor(np.asarray(float(self.total._array) / count if count else 0.0, np.float32))


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)`` (a per-sample function)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None:  # as Keras: masked steps weigh 0
            keep = to_numpy(mask, np.float64)
            if sample_weight is not None:
                weight = to_numpy(sample_weight, np.float64)
                keep = keep * weight.reshape(weight.shape + (1,) * (keep.ndim - weight.ndim))
            sample_weight = keep
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
