"""Convolution and pooling in Keras' channels-last layout, over shendu.nn's channels-first layers.

Images are (batch, height, width, channels) in Keras and (N, C, H, W) in shendu.nn. Each layer
here converts once at its boundary — permute in, run the nn layer, permute out — so a Flatten
after it sees Keras' (H, W, C) order and Keras weights load unchanged. Keras' ``padding="same"``
with a stride above 1 pads like TensorFlow (the extra row/column at the bottom/right), done with
an explicit pad before a "valid" nn convolution.
"""

import math

import numpy as np

from ... import nn
from ...nn import functional as F
from ...ops.shape import pad
from ...tensor import Tensor
from .base import Layer
from .. import initializers
from .core import KernelBiasMixin, _positive_int

__all__ = [
    "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
]  # fmt: skip


def _tuple(layer, name, value, rank):
    values = (value,) * rank if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not (isinstance(values, (tuple, list)) and len(values) == rank
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values)):  # fmt: skip
        raise ValueError(f"{layer}: {name} must be a positive int or a tuple of {rank} positive ints. "
                         f"Received: {name}={value!r}")  # fmt: skip
    return tuple(int(v) for v in values)


def _check_padding(layer, padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same'. Received: padding={padding!r}")
    return padding.lower()


def _check_format(layer, data_format):
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first'. Received: {data_format!r}")
    return data_format or "channels_last"


def _output_length(length, kernel, stride, padding, dilation=1):
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return max((length - dilation * (kernel - 1) - 1) // stride + 1, 0)


def _same_pads(sizes, kernels, strides, dilations):
    """TensorFlow's 'SAME' padding per spatial axis: (before, after), the extra one after."""
    pads = []
    for size, k, s, d in zip(sizes, kernels, strides, dilations):
        out = math.ceil(size / s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_widths(pads):
    """``F.pad`` order: last axis first."""
    return tuple(w for pair in reversed(pads) for w in pair)


class _ChannelsLast(Layer):
    """Permutes (N, *spatial, C) ↔ (N, C, *spatial) around an nn layer."""

    rank = 2

    def _to_channels_first(self, x):
        if self.data_format == "channels_first":
            return x
        return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))

    def _to_channels_last(self, x):
        if self.data_format == "channels_first":
            return x
        return x.permute(0, *range(2, x.ndim), 1)

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _channels(self, shape):
        return shape[-1] if self.data_format == "channels_last" else shape[1]

    def _assemble(self, batch, spatial, channels):
        if self.data_format == "channels_last":
            return (batch,) + tuple(spatial) + (channels,)
        return (batch, channels) + tuple(spatial)


class _Conv(KernelBiasMixin, _ChannelsLast):
    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        name = type(self).__name__
        self.filters = _positive_int(name, "filters", filters)
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, self.rank)
        self.strides = _tuple(name, "strides", strides, self.rank)
        self.dilation_rate = _tuple(name, "dilation_rate", dilation_rate, self.rank)
        self.padding = _check_padding(name, padding)
        self.data_format = _check_format(name, data_format)
        self.groups = _positive_int(name, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{name}: filters must be divisible by groups. Received: filters={filters}, groups={groups}")
        self._set_activation(activation)
        self._setup_kernel_and_bias(use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                    bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)  # fmt: skip
        # NOTE: nn.Conv2d's 'same' is PyTorch's (stride 1 only); with larger strides the layer pads explicitly.
        self._explicit_same = self.padding == "same" and any(s > 1 for s in self.strides)

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={self.rank + 2}, found '
                f"ndim={len(input_shape) if isinstance(input_shape, tuple) else '?'}. Full shape received: {input_shape}"
            )
        channels = self._channels(input_shape)
        if channels is None:
            raise ValueError(f"{type(self).__name__} ({self.name}): the channel dimension of the inputs should be "
                             f"defined. Found None in input shape {input_shape}")  # fmt: skip
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} ({self.name}): the number of input channels ({channels}) must be "
                             f"divisible by groups={self.groups}")  # fmt: skip

    def build(self, input_shape):
        channels = int(self._channels(input_shape))
        klass = nn.Conv2d if self.rank == 2 else nn.Conv1d
        args = self.kernel_size if self.rank == 2 else self.kernel_size[0]
        stride = self.strides if self.rank == 2 else self.strides[0]
        dilation = self.dilation_rate if self.rank == 2 else self.dilation_rate[0]
        padding = "same" if self.padding == "same" and not self._explicit_same else 0
        self.conv = klass(channels, self.filters, args, stride=stride, padding=padding, dilation=dilation,
                          groups=self.groups, bias=self.use_bias, dtype=self._numpy_dtype)  # fmt: skip
        self._initialize_kernel_and_bias()
        axis = -1 if self.data_format == "channels_last" else 1
        self._input_spec = {"ndim": self.rank + 2, "axes": {axis: channels}}

    def call(self, inputs):
        x = self._to_channels_first(inputs)
        if self._explicit_same:
            pads = _same_pads(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
            x = pad(x, _pad_widths(pads))
        return self._activate(self._to_channels_last(self.conv(x)))

    def compute_output_shape(self, input_shape):
        spatial = [
            _output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)
        ]
        return self._assemble(input_shape[0], spatial, self.filters)

    def _keras_weights(self):
        r = self.rank
        to_keras = tuple(range(2, r + 2)) + (1, 0)  # (out, in, *k) -> (*k, in, out)
        from_keras = (r + 1, r) + tuple(range(r))
        entries = [(self.conv.weight, lambda w: w._array.transpose(to_keras),
                    lambda w, v: w._array.__setitem__(Ellipsis, np.asarray(v).transpose(from_keras)))]  # fmt: skip
        if self.use_bias:
            entries.append((self.conv.bias, None, None))
        return entries

    @property
    def kernel(self):
        r = self.rank
        return self.conv.weight.permute(*range(2, r + 2), 1, 0)

    @property
    def bias(self):
        return self.conv.bias if self.use_bias else None

    def _weight_and_bias(self):
        return self.conv.weight, self.conv.bias

    def get_config(self):
        return {
            **super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate), "groups": self.groups, "activation": self._activation_name,
            **self._kernel_and_bias_config(),
        }  # fmt: skip


class Conv2D(_Conv):
    """2-D convolution over channels-last images — an ``nn.Conv2d`` between two permutes.

    ``output = activation(conv2d(inputs, kernel) + bias)``.

    Args:
        filters: the number of output channels.
        kernel_size: an int or (kh, kw).
        strides: an int or (sh, sw). Defaults to 1.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ⌈input / stride⌉). Defaults to "valid".
        data_format: ``"channels_last"`` (N, H, W, C) or ``"channels_first"``. Defaults to channels_last.
        dilation_rate: Defaults to 1.
        groups: Defaults to 1.
        activation: a name, a function or None. Defaults to None.
        use_bias: Defaults to True.
        kernel_initializer: Defaults to "glorot_uniform".
        bias_initializer: Defaults to "zeros".

    Shape:
        (batch, H, W, C) → (batch, OH, OW, filters).

    Weights (Keras' layout): ``kernel`` (kh, kw, C, filters) and ``bias`` (filters,).

    Example:
        >>> Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    """

    rank = 2


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) — an ``nn.Conv1d`` between two permutes.

    Arguments as :class:`Conv2D` with single ints. Kernel layout (k, C, filters).
    """

    rank = 1


class _Pooling(_ChannelsLast):
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = _tuple(name, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else _tuple(name, "strides", strides, self.rank)
        self.padding = _check_padding(name, padding)
        self.data_format = _check_format(name, data_format)

    def build(self, input_shape):
        self._input_spec = {"ndim": self.rank + 2}

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={self.rank + 2}, found '
                f"ndim={len(input_shape) if isinstance(input_shape, tuple) else '?'}. Full shape received: {input_shape}"
            )

    def _pool(self, x):
        kernel, stride = self.pool_size, self.strides
        if self.rank == 1:
            kernel, stride = kernel[0], stride[0]
        if self.mode == "max":
            function = F.max_pool2d if self.rank == 2 else F.max_pool1d
        else:
            function = F.avg_pool2d if self.rank == 2 else F.avg_pool1d
        return function(x, kernel, stride)

    def call(self, inputs):
        x = self._to_channels_first(inputs)
        if self.padding == "same":
            pads = _same_pads(x.shape[2:], self.pool_size, self.strides, (1,) * self.rank)
            if any(p for pair in pads for p in pair):
                widths = _pad_widths(pads)
                if self.mode == "max":
                    x = pad(x, widths, value=-math.inf)
                else:
                    # Keras averages over the real elements only: divide the zero-padded window sums by the
                    # number of real elements in each window (the pooled padded mask of ones).
                    mask = Tensor(np.ones((1, 1) + tuple(x.shape[2:]), x._array.dtype))
                    return self._to_channels_last(self._pool(pad(x, widths)) / self._pool(pad(mask, widths)))
        return self._to_channels_last(self._pool(x))

    def compute_output_shape(self, input_shape):
        spatial = [_output_length(n, k, s, self.padding) for n, k, s in
                   zip(self._spatial(input_shape), self.pool_size, self.strides)]  # fmt: skip
        return self._assemble(input_shape[0], spatial, self._channels(input_shape))

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}  # fmt: skip


class MaxPooling2D(_Pooling):
    """Max over each pool_size window of channels-last images — ``nn.functional.max_pool2d`` between permutes.

    Args:
        pool_size: an int or (ph, pw). Defaults to 2.
        strides: Defaults to ``pool_size``.
        padding: ``"valid"`` or ``"same"``. Defaults to "valid".
        data_format: Defaults to "channels_last".

    Shape:
        (batch, H, W, C) → (batch, ⌊(H - ph)/sh⌋ + 1, ⌊(W - pw)/sw⌋ + 1, C) ("valid").
    """

    rank, mode = 2, "max"


class AveragePooling2D(_Pooling):
    """Mean over each pool_size window of channels-last images; arguments as :class:`MaxPooling2D`."""

    rank, mode = 2, "avg"


class MaxPooling1D(_Pooling):
    """Max pooling over (batch, steps, channels); arguments as :class:`MaxPooling2D` with ints."""

    rank, mode = 1, "max"


class AveragePooling1D(_Pooling):
    """Average pooling over (batch, steps, channels)."""

    rank, mode = 1, "avg"


class _GlobalPooling(_ChannelsLast):
    mode = "avg"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data_format = _check_format(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        self._input_spec = {"ndim": self.rank + 2}

    def call(self, inputs, mask=None):
        axes = tuple(range(1, inputs.ndim - 1)) if self.data_format == "channels_last" else tuple(range(2, inputs.ndim))
        if self.mode == "avg" and mask is not None and self.rank == 1:
            # Keras: the mean over the steps the mask keeps
            step_axis = 1 if self.data_format == "channels_last" else 2
            keep = Tensor(np.expand_dims(mask._array.astype(inputs._array.dtype), 3 - step_axis))
            total = (inputs * keep).sum(dim=step_axis, keepdim=self.keepdims)
            return total / keep.sum(dim=step_axis, keepdim=self.keepdims)
        if self.mode == "avg":
            return inputs.mean(dim=axes, keepdim=self.keepdims)
        return inputs.amax(dim=axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape):
        channels = self._channels(input_shape)
        if self.keepdims:
            return self._assemble(input_shape[0], [1] * self.rank, channels)
        return (input_shape[0], channels)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over the spatial axes: (batch, H, W, C) → (batch, C)."""

    rank, mode = 2, "avg"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over the spatial axes: (batch, H, W, C) → (batch, C)."""

    rank, mode = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: (batch, steps, C) → (batch, C)."""

    rank, mode = 1, "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps: (batch, steps, C) → (batch, C)."""

    rank, mode = 1, "max"


# ----- transposed convolution ----------------------------------------------------------------------------
def _transpose_window(kernel, stride, dilation, padding, output_padding):
    """(crop left, crop right) of the full transposed convolution ((n − 1)·s + k_eff long) that gives Keras'
    output: "valid" → (n − 1)·s + max(k_eff, s); "same" → n·s; an ``output_padding`` sets the extra on the right.
    A negative crop pads with zeros instead."""
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        left, right = effective - 1, effective - 1 + extra
    else:
        total = stride + effective - 2 if output_padding is None else effective + effective % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, effective - 1)
        right = total - left
    return effective - 1 - left, effective - 1 - right


def _transpose_length(length, kernel, stride, padding, output_padding, dilation):
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding


class _ConvTranspose(_Conv):
    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs) -> None:  # fmt: skip
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)  # fmt: skip
        name = type(self).__name__
        self.output_padding = None if output_padding is None else _tuple(name, "output_padding", output_padding,
                                                                         self.rank)  # fmt: skip
        if self.output_padding is not None:
            for op, s in zip(self.output_padding, self.strides):
                if op >= s:
                    raise ValueError(f"{name}: output_padding must be smaller than the stride. Received: "
                                     f"output_padding={output_padding}, strides={strides}")  # fmt: skip

    def _output_paddings(self):
        return self.output_padding if self.output_padding is not None else (None,) * self.rank

    def build(self, input_shape):
        channels = int(self._channels(input_shape))
        klass = nn.ConvTranspose2d if self.rank == 2 else nn.ConvTranspose1d
        unpack = (lambda t: t) if self.rank == 2 else (lambda t: t[0])
        self.conv = klass(channels, self.filters, unpack(self.kernel_size), stride=unpack(self.strides),
                          dilation=unpack(self.dilation_rate), bias=self.use_bias, dtype=self._numpy_dtype)  # fmt: skip
        self._initialize_kernel_and_bias()
        axis = -1 if self.data_format == "channels_last" else 1
        self._input_spec = {"ndim": self.rank + 2, "axes": {axis: channels}}

    def call(self, inputs):
        y = self.conv(self._to_channels_first(inputs))
        crops = [_transpose_window(k, s, d, self.padding, op) for k, s, d, op in
                 zip(self.kernel_size, self.strides, self.dilation_rate, self._output_paddings())]  # fmt: skip
        index = (slice(None), slice(None)) + tuple(slice(max(0, a), y.shape[2 + i] - max(0, b))
                                                   for i, (a, b) in enumerate(crops))  # fmt: skip
        y = y[index]
        if any(a < 0 or b < 0 for a, b in crops):
            y = pad(y, _pad_widths([(max(0, -a), max(0, -b)) for a, b in crops]))
        return self._activate(self._to_channels_last(y))

    def compute_output_shape(self, input_shape):
        spatial = [_transpose_length(n, k, s, self.padding, op, d) for n, k, s, op, d in
                   zip(self._spatial(input_shape), self.kernel_size, self.strides, self._output_paddings(),
                       self.dilation_rate)]  # fmt: skip
        return self._assemble(input_shape[0], spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = None if self.output_padding is None else list(self.output_padding)
        return config


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"), as Keras: the gradient of Conv2D with respect to its input.

    Args:
        filters, kernel_size, strides, data_format, dilation_rate, activation, use_bias, initializers: as Conv2D.
        padding: "valid" — output (n − 1)·s + max(k, s); "same" — output n·s. Defaults to "valid".
        output_padding: extra rows/columns on the bottom/right (each smaller than its stride). Defaults to None.

    Weights (Keras' layout): ``kernel`` (kh, kw, filters, C) and ``bias`` (filters,).

    Example:
        >>> Conv2DTranspose(64, 4, strides=2, padding="same")   # (N, 7, 7, C) -> (N, 14, 14, 64)
    """

    rank = 2


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over (batch, steps, channels) (arguments as :class:`Conv2DTranspose`)."""

    rank = 1


# ----- resampling and padding ------------------------------------------------------------------------------
class _UpSampling(_ChannelsLast):
    def __init__(self, size=2, data_format=None, interpolation: str = "nearest", **kwargs) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.size = _tuple(name, "size", size, self.rank)
        self.data_format = _check_format(name, data_format) if self.rank == 2 else "channels_last"
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{name}: interpolation must be 'nearest' or 'bilinear'. Received: "
                             f"interpolation={interpolation!r}")  # fmt: skip
        if interpolation == "bilinear" and self.rank == 1:
            raise ValueError("UpSampling1D: only 'nearest' interpolation")
        self.interpolation = interpolation

    def call(self, inputs):
        x = self._to_channels_first(inputs)
        if self.interpolation == "nearest":
            for axis, factor in enumerate(self.size):
                x = x.repeat_interleave(factor, dim=2 + axis)
        else:
            x = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
        return self._to_channels_last(x)

    def compute_output_shape(self, input_shape):
        spatial = [None if n is None else n * f for n, f in zip(self._spatial(input_shape), self.size)]
        return self._assemble(input_shape[0], spatial, self._channels(input_shape))

    def get_config(self):
        config = {**super().get_config(), "size": list(self.size) if self.rank == 2 else self.size[0]}
        if self.rank == 2:
            config.update(data_format=self.data_format, interpolation=self.interpolation)
        return config


class UpSampling2D(_UpSampling):
    """Repeat rows and columns ``size`` times (or bilinear resize): (N, H, W, C) → (N, H·sh, W·sw, C)."""

    rank = 2


class UpSampling1D(_UpSampling):
    """Repeat each step ``size`` times: (N, steps, C) → (N, steps·size, C)."""

    rank = 1

    def __init__(self, size=2, **kwargs) -> None:
        super().__init__(size=size, **kwargs)


def _pairs(layer, name, value, rank):
    """((before, after), ...) per spatial axis from an int, a pair per axis, or one (before, after) for 1-D."""
    if isinstance(value, int) and not isinstance(value, bool):
        pairs = ((value, value),) * rank
    elif rank == 1 and isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        pairs = (tuple(value),)
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        pairs = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
    else:
        pairs = None
    if pairs is None or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{layer}: {name} must be a non-negative int, a tuple of {rank} ints or of {rank} pairs. "
                         f"Received: {name}={value!r}")  # fmt: skip
    return tuple(tuple(int(v) for v in p) for p in pairs)


class _Edges(_ChannelsLast):
    """A layer that adds (sign +1) or removes (sign −1) (before, after) steps on each spatial axis."""

    argument, sign = "padding", 1

    def __init__(self, amounts=1, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        self.edges = _pairs(name, self.argument, amounts, self.rank)
        setattr(self, self.argument, self.edges)
        self.data_format = _check_format(name, data_format) if self.rank == 2 else "channels_last"

    def compute_output_shape(self, input_shape):
        spatial = [None if n is None else n + self.sign * (a + b) for n, (a, b) in zip(self._spatial(input_shape),
                                                                                      self.edges)]  # fmt: skip
        return self._assemble(input_shape[0], spatial, self._channels(input_shape))

    def get_config(self):
        edges = [list(p) for p in self.edges]
        config = {**super().get_config(), self.argument: edges[0] if self.rank == 1 else edges}
        if self.rank == 2:
            config["data_format"] = self.data_format
        return config


class _ZeroPadding(_Edges):
    def __init__(self, padding=1, data_format=None, **kwargs) -> None:
        super().__init__(padding, data_format, **kwargs)

    def call(self, inputs):
        return self._to_channels_last(pad(self._to_channels_first(inputs), _pad_widths(self.edges)))


class ZeroPadding2D(_ZeroPadding):
    """Zero rows on top/bottom and columns left/right: ``padding`` = p, (ph, pw) or ((top, bottom), (left, right))."""

    rank = 2


class ZeroPadding1D(_ZeroPadding):
    """Zero steps at the start and end: ``padding`` = p or (before, after)."""

    rank = 1


class _Cropping(_Edges):
    argument, sign = "cropping", -1

    def __init__(self, cropping=1, data_format=None, **kwargs) -> None:
        super().__init__(cropping, data_format, **kwargs)

    def _check_buildable(self, input_shape):
        for n, (a, b) in zip(self._spatial(input_shape), self.edges):
            if n is not None and a + b >= n:
                raise ValueError(f"{type(self).__name__} ({self.name}): cropping {self.edges} leaves nothing of "
                                 f"input shape {input_shape}")  # fmt: skip

    def call(self, inputs):
        x = self._to_channels_first(inputs)
        index = (slice(None), slice(None)) + tuple(slice(a, x.shape[2 + i] - b) for i, (a, b) in enumerate(self.edges))
        return self._to_channels_last(x[index])


class Cropping2D(_Cropping):
    """Remove rows and columns at the edges: ``cropping`` = c, (ch, cw) or ((top, bottom), (left, right))."""

    rank = 2


class Cropping1D(_Cropping):
    """Remove steps at the start and end: ``cropping`` = c or (before, after)."""

    rank = 1


# ----- depthwise and separable convolution --------------------------------------------------------------
def _keras_layout_init(initializer, shape, dtype):
    """An array of Keras' kernel ``shape`` (*k, in, out) filled with Keras' fans (as add_weight does)."""
    array = np.zeros(shape, dtype)
    initializer(np.transpose(array, (array.ndim - 1, array.ndim - 2, *range(array.ndim - 2))))
    return array


def _depthwise_to_keras(weight, channels, multiplier):
    """nn.Conv2d(groups=C) weight (C·m, 1, kh, kw) → Keras' depthwise kernel (kh, kw, C, m)."""
    return weight.reshape(channels, multiplier, *weight.shape[2:]).transpose(2, 3, 0, 1)


def _depthwise_from_keras(kernel, channels, multiplier):
    return np.asarray(kernel).transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, *np.shape(kernel)[:2])


class DepthwiseConv2D(KernelBiasMixin, _ChannelsLast):
    """One k×k filter per input channel (``depth_multiplier`` of them): ``groups = channels``, as in MobileNet.

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as Conv2D.
        depth_multiplier: output channels per input channel. Defaults to 1.
        depthwise_initializer: Defaults to "glorot_uniform".

    Weights (Keras' layout): ``depthwise_kernel`` (kh, kw, C, depth_multiplier) and ``bias`` (C·depth_multiplier,).
    """

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier: int = 1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        name = type(self).__name__
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, 2)
        self.strides = _tuple(name, "strides", strides, 2)
        self.dilation_rate = _tuple(name, "dilation_rate", dilation_rate, 2)
        self.padding = _check_padding(name, padding)
        self.data_format = _check_format(name, data_format)
        self.depth_multiplier = _positive_int(name, "depth_multiplier", depth_multiplier)
        self._set_activation(activation)
        self._setup_kernel_and_bias(use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                                    bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint)  # fmt: skip

    def build(self, input_shape):
        channels = int(self._channels(input_shape))
        self._in_channels = channels
        self.conv = nn.Conv2d(channels, channels * self.depth_multiplier, self.kernel_size, stride=self.strides,
                              dilation=self.dilation_rate, groups=channels, bias=self.use_bias,
                              dtype=self._numpy_dtype)  # fmt: skip
        kernel = _keras_layout_init(self.kernel_initializer, self.kernel_size + (channels, self.depth_multiplier),
                                    self._numpy_dtype)  # fmt: skip
        self.conv.weight._array[...] = _depthwise_from_keras(kernel, channels, self.depth_multiplier)
        if self.use_bias:
            self.bias_initializer(self.conv.bias)
        self._input_spec = {"ndim": 4, "axes": {-1 if self.data_format == "channels_last" else 1: channels}}

    def _same_padded(self, x):
        if self.padding != "same":
            return x
        return pad(x, _pad_widths(_same_pads(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)))

    def call(self, inputs):
        return self._activate(self._to_channels_last(self.conv(self._same_padded(self._to_channels_first(inputs)))))

    def compute_output_shape(self, input_shape):
        spatial = [_output_length(n, k, s, self.padding, d)
                   for n, k, s, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)]
        return self._assemble(input_shape[0], spatial, self._channels(input_shape) * self.depth_multiplier)

    def _keras_weights(self):
        c, m = self._in_channels, self.depth_multiplier
        entries = [(self.conv.weight, lambda w: _depthwise_to_keras(w._array, c, m),
                    lambda w, v: w._array.__setitem__(Ellipsis, _depthwise_from_keras(v, c, m)))]  # fmt: skip
        if self.use_bias:
            entries.append((self.conv.bias, None, None))
        return entries

    def _weight_and_bias(self):
        return self.conv.weight, self.conv.bias

    def get_config(self):
        config = {
            **super().get_config(), "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate), "activation": self._activation_name,
            **self._kernel_and_bias_config(),
        }  # fmt: skip
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        return config


class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution followed by a 1×1 convolution to ``filters`` channels (Chollet 2017, Xception).

    Args:
        filters: output channels. Other arguments as :class:`DepthwiseConv2D`, with
            ``pointwise_initializer`` (Defaults to "glorot_uniform") for the 1×1 kernel.

    Weights (Keras' layout): ``depthwise_kernel`` (kh, kw, C, m), ``pointwise_kernel`` (1, 1, C·m, filters),
    ``bias`` (filters,).
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 depth_multiplier: int = 1, activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs) -> None:  # fmt: skip
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint, **kwargs)  # fmt: skip
        if pointwise_regularizer is not None or pointwise_constraint is not None:
            raise ValueError("SeparableConv2D: pointwise_regularizer and pointwise_constraint are not supported by shendu")
        self.filters = _positive_int("SeparableConv2D", "filters", filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self._pointwise_config = pointwise_initializer if isinstance(pointwise_initializer, str) else None

    def build(self, input_shape):
        use_bias = self.use_bias
        self.use_bias = False  # the bias belongs to the pointwise step
        super().build(input_shape)
        self.use_bias = use_bias
        depth = self._in_channels * self.depth_multiplier
        self.pointwise = nn.Conv2d(depth, self.filters, 1, bias=use_bias, dtype=self._numpy_dtype)
        kernel = _keras_layout_init(self.pointwise_initializer, (1, 1, depth, self.filters), self._numpy_dtype)
        self.pointwise.weight._array[...] = kernel.transpose(3, 2, 0, 1)
        if use_bias:
            self.bias_initializer(self.pointwise.bias)

    def call(self, inputs):
        x = self.conv(self._same_padded(self._to_channels_first(inputs)))
        return self._activate(self._to_channels_last(self.pointwise(x)))

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return self._assemble(shape[0], self._spatial(shape), self.filters)

    def _keras_weights(self):
        c, m = self._in_channels, self.depth_multiplier
        entries = [
            (self.conv.weight, lambda w: _depthwise_to_keras(w._array, c, m),
             lambda w, v: w._array.__setitem__(Ellipsis, _depthwise_from_keras(v, c, m))),
            (self.pointwise.weight, lambda w: w._array.transpose(2, 3, 1, 0),
             lambda w, v: w._array.__setitem__(Ellipsis, np.asarray(v).transpose(3, 2, 0, 1))),
        ]  # fmt: skip
        if self.use_bias:
            entries.append((self.pointwise.bias, None, None))
        return entries

    def _weight_and_bias(self):
        return self.conv.weight, self.pointwise.bias if self.use_bias else None

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "pointwise_initializer": self._pointwise_config}
