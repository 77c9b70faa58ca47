"""BatchNormalization and LayerNormalization over shendu.nn's BatchNorm and LayerNorm, with Keras' defaults."""

from ... import nn
from .. import initializers
from .base import Layer
from .core import _initializer_config

__all__ = ["BatchNormalization", "LayerNormalization"]


def _check_number(layer, name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{layer}: {name} must be a number {bound}. Received: {name}={value!r}")
    return float(value)


class BatchNormalization(Layer):
    """Normalises each feature/channel with batch statistics in training and moving averages in inference.

    ``y = gamma · (x - mean) / √(var + epsilon) + beta``; the moving averages follow
    ``moving = momentum · moving + (1 - momentum) · batch`` (so Keras' momentum 0.99 is
    nn.BatchNorm's momentum 0.01). Runs ``nn.BatchNorm1d/2d/3d`` with the channel axis moved to 1.

    Args:
        axis: the feature/channel axis. Defaults to -1 (channels last).
        momentum: Defaults to 0.99.
        epsilon: Defaults to 1e-3.
        center: learn beta. Defaults to True.
        scale: learn gamma. Defaults to True.

    Weights (Keras' order): gamma, beta, moving_mean, moving_variance (the last two non-trainable).
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon: float = 1e-3, center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized: bool = False, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization: only one axis is supported. Received: axis={axis!r}")
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"BatchNormalization: axis must be an int. Received: axis={axis!r}")
        self.axis = axis
        self.momentum = _check_number("BatchNormalization", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_number("BatchNormalization", "epsilon", epsilon, 0.0)
        self.center, self.scale = bool(center), bool(scale)
        self._initializer_configs = {
            "beta_initializer": _initializer_config(beta_initializer),
            "gamma_initializer": _initializer_config(gamma_initializer),
            "moving_mean_initializer": _initializer_config(moving_mean_initializer),
            "moving_variance_initializer": _initializer_config(moving_variance_initializer),
        }
        self._initializers = {k: initializers.get(v) for k, v in
                              (("beta", beta_initializer), ("gamma", gamma_initializer),
                               ("moving_mean", moving_mean_initializer),
                               ("moving_variance", moving_variance_initializer))}  # fmt: skip
        for name, value in (("beta_regularizer", beta_regularizer), ("gamma_regularizer", gamma_regularizer),
                            ("beta_constraint", beta_constraint), ("gamma_constraint", gamma_constraint)):  # fmt: skip
            if value is not None:
                raise ValueError(f"BatchNormalization: {name} is not supported by shendu. Received: {name}={value!r}")

    def _check_buildable(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or ndim < 2 or ndim > 5 or self.axis % ndim == 0:
            raise ValueError(f"BatchNormalization ({self.name}): invalid axis {self.axis} for input shape {input_shape}")
        if input_shape[self.axis] is None:
            raise ValueError(f"BatchNormalization ({self.name}): axis {self.axis} of input shape {input_shape} is undefined")

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axis = self.axis % ndim
        channels = int(input_shape[self._axis])
        klass = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[ndim]
        self.bn = klass(channels, eps=self.epsilon, momentum=1.0 - self.momentum, affine=self.center or self.scale,
                        bias=self.center, dtype=self._numpy_dtype)  # fmt: skip
        if self.scale:
            self._initializers["gamma"](self.bn.weight)
        elif self.bn.weight is not None:
            self._fixed.add("bn.weight")  # gamma stays 1
        if self.center:
            self._initializers["beta"](self.bn.bias)
        self._initializers["moving_mean"](self.bn.running_mean._array)
        self._initializers["moving_variance"](self.bn.running_var._array)
        self._input_spec = {"ndim": ndim, "axes": {self._axis: channels}}

    def call(self, inputs):
        updating = self.bn.training and self.bn.running_var is not None
        previous = self.bn.running_var._array.copy() if updating else None
        outputs = self.bn(inputs) if self._axis == 1 else self.bn(inputs.movedim(self._axis, 1)).movedim(1, self._axis)
        if updating:
            self._use_biased_variance(previous, inputs.numel() // inputs.shape[self._axis])
        return outputs

    def _use_biased_variance(self, previous, count):
        """Keras moves ``moving_variance`` towards the biased batch variance σ² (PyTorch: σ²·m/(m-1)).

        nn.BatchNorm added ``(1 - momentum)·σ²·m/(m-1)``; scale that step by (m-1)/m.
        """
        running = self.bn.running_var._array
        kept = previous * self.momentum
        running[...] = kept + (running - kept) * ((count - 1) / count)

    def _keras_weights(self):
        entries = []
        if self.scale:
            entries.append((self.bn.weight, None, None))
        if self.center:
            entries.append((self.bn.bias, None, None))
        return entries + [(self.bn.running_mean, None, None), (self.bn.running_var, None, None)]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **self._initializer_configs}  # fmt: skip


class LayerNormalization(Layer):
    """Normalises each sample over its last axis: ``gamma · (x - mean) / √(var + epsilon) + beta`` (nn.LayerNorm).

    Args:
        axis: only -1 (the last axis). Defaults to -1.
        epsilon: Defaults to 1e-3.
        center: learn beta. Defaults to True.
        scale: learn gamma. Defaults to True.
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        if axis not in (-1, [-1], (-1,)):
            raise ValueError(f"LayerNormalization: only axis=-1 is supported. Received: axis={axis!r}")
        self.axis = -1
        self.epsilon = _check_number("LayerNormalization", "epsilon", epsilon, 0.0)
        self.center, self.scale = bool(center), bool(scale)
        self._beta_config, self._gamma_config = _initializer_config(beta_initializer), _initializer_config(gamma_initializer)
        self._beta_init, self._gamma_init = initializers.get(beta_initializer), initializers.get(gamma_initializer)

    def build(self, input_shape):
        size = input_shape[-1]
        if size is None:
            raise ValueError(f"LayerNormalization ({self.name}): the last axis of {input_shape} is undefined")
        self.norm = nn.LayerNorm(int(size), eps=self.epsilon, elementwise_affine=self.center or self.scale,
                                 bias=self.center, dtype=self._numpy_dtype)  # fmt: skip
        if self.scale:
            self._gamma_init(self.norm.weight)
        elif self.norm.weight is not None:
            self._fixed.add("norm.weight")
        if self.center:
            self._beta_init(self.norm.bias)
        self._input_spec = {"min_ndim": 2, "axes": {-1: int(size)}}

    def call(self, inputs):
        return self.norm(inputs)

    def _keras_weights(self):
        entries = []
        if self.scale:
            entries.append((self.norm.weight, None, None))
        if self.center:
            entries.append((self.norm.bias, None, None))
        return entries

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": self._beta_config, "gamma_initializer": self._gamma_config}  # fmt: skip
