"""Preprocessing layers: Normalization (with ``adapt``), Resizing, CenterCrop (``keras.layers``)."""

import math

import numpy as np

from ...tensor import Tensor
from .base import Layer

__all__ = ["Normalization", "Resizing", "CenterCrop"]

EPSILON = 1e-7


def _batches(data):
    if isinstance(data, (np.ndarray, Tensor, list, tuple)):
        yield data._array if isinstance(data, Tensor) else np.asarray(data)
        return
    for batch in data:  # a Dataset or DataLoader of inputs (or of (inputs, targets))
        batch = batch[0] if isinstance(batch, (tuple, list)) else batch
        yield batch._array if isinstance(batch, Tensor) else np.asarray(batch)


class Normalization(Layer):
    """``(x − mean) / max(√variance, ε)`` per feature, with the statistics given or learned by ``adapt(data)``.

    Args:
        axis: the axis (or axes) that keep their own statistics. Defaults to -1 (per feature).
        mean, variance: fixed statistics (both or neither). Defaults to None (call ``adapt``).
        invert: map normalised values back: ``mean + x · max(√variance, ε)``. Defaults to False.

    Weights (when adapted): ``mean``, ``variance`` and ``count``, none trainable.

    Example:
        >>> normalizer = Normalization(); normalizer.adapt(x_train); model = Sequential([normalizer, Dense(1)])
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis or ())
        if (mean is None) != (variance is None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must be set. Received: "
                             f"mean={mean} and variance={variance}")  # fmt: skip
        self.input_mean, self.input_variance, self.invert = mean, variance, bool(invert)

    def _axes(self, shape):
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim={ndim}, "
                             f"while axis={self.axis}")  # fmt: skip
        keep = tuple(sorted(a % ndim for a in self.axis))
        return keep, tuple(d for d in range(ndim) if d not in keep)

    def build(self, input_shape):
        keep, _ = self._axes(input_shape)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={input_shape}, with unknown axis at index {d}")  # fmt: skip
        self._broadcast = [input_shape[d] if d in keep else 1 for d in range(len(input_shape))]
        shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.mean = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="mean")
            self.variance = self.add_weight(shape=shape, initializer="ones", trainable=False, name="variance")
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count", dtype="int64")

    def adapt(self, data):
        """Set mean and variance (population) from ``data``: an array or an iterable of batches."""
        total, total_sq, count = None, None, 0
        for batch in _batches(data):
            batch = batch.astype(np.float64)
            if not self.built:
                self._maybe_build((None,) + batch.shape[1:])
            _, reduce = self._axes(batch.shape)
            total = batch.sum(axis=reduce) + (0 if total is None else total)
            total_sq = (batch**2).sum(axis=reduce) + (0 if total_sq is None else total_sq)
            count += math.prod(batch.shape[d] for d in reduce)
        if not count:
            raise ValueError("Normalization.adapt: the data is empty")
        mean = total / count
        self.mean.assign(mean)
        self.variance.assign(np.maximum(total_sq / count - mean**2, 0.0))
        self.count.assign(count)

    def _statistics(self, dtype):
        if self.input_mean is not None:
            mean = np.asarray(self.input_mean, np.float64)
            variance = np.asarray(self.input_variance, np.float64)
            if mean.ndim:
                mean, variance = mean.reshape(self._broadcast), variance.reshape(self._broadcast)
        else:
            mean = self.mean._array.reshape(self._broadcast)
            variance = self.variance._array.reshape(self._broadcast)
        return (Tensor(np.asarray(mean, dtype)), Tensor(np.maximum(np.sqrt(np.asarray(variance, np.float64)),
                                                                    EPSILON).astype(dtype)))  # fmt: skip

    def call(self, inputs):
        mean, scale = self._statistics(inputs._array.dtype if inputs._array.dtype.kind == "f" else np.float32)
        if inputs._array.dtype.kind != "f":
            inputs = Tensor(inputs._array.astype(np.float32))
        return mean + inputs * scale if self.invert else (inputs - mean) / scale

    def get_config(self):
        mean = None if self.input_mean is None else np.asarray(self.input_mean).tolist()
        variance = None if self.input_variance is None else np.asarray(self.input_variance).tolist()
        return {**super().get_config(), "axis": list(self.axis), "mean": mean, "variance": variance,
                "invert": self.invert}  # fmt: skip


class _ImageSize(Layer):
    def __init__(self, height, width, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.data_format = data_format or "channels_last"

    def _hw_axes(self, ndim):
        return (ndim - 3, ndim - 2) if self.data_format == "channels_last" else (ndim - 2, ndim - 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h, w = self._hw_axes(len(shape))
        shape[h], shape[w] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


class Resizing(_ImageSize):
    """Resize images to (height, width) with "bilinear" (default) or "nearest" interpolation (half-pixel centres)."""

    def __init__(self, height, width, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False, data_format=None, **kwargs) -> None:
        super().__init__(height, width, data_format, **kwargs)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resizing: interpolation must be 'bilinear' or 'nearest'. Received: "
                             f"interpolation={interpolation!r}")  # fmt: skip
        if crop_to_aspect_ratio:
            raise ValueError("Resizing: crop_to_aspect_ratio=True is not supported by shendu")
        self.interpolation = interpolation

    def call(self, inputs):
        from ...ops.interpolate import interpolate

        x = inputs if inputs._array.dtype.kind == "f" else Tensor(inputs._array.astype(np.float32))
        single = x.ndim == 3
        if single:
            x = x.unsqueeze(0)
        if self.data_format == "channels_last":
            x = x.permute(0, 3, 1, 2)
        if self.interpolation == "nearest":
            x = interpolate(x, size=(self.height, self.width), mode="nearest-exact")
        else:
            x = interpolate(x, size=(self.height, self.width), mode="bilinear", align_corners=False)
        if self.data_format == "channels_last":
            x = x.permute(0, 2, 3, 1)
        return x[0] if single else x

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class CenterCrop(_ImageSize):
    """The central (height, width) window of each image."""

    def call(self, inputs):
        h_axis, w_axis = self._hw_axes(inputs.ndim)
        height, width = inputs.shape[h_axis], inputs.shape[w_axis]
        if height < self.height or width < self.width:
            raise ValueError(f"CenterCrop ({self.name}): images of {height}×{width} are smaller than the crop "
                             f"{self.height}×{self.width}; resize them first (keras.layers.Resizing)")  # fmt: skip
        top, left = (height - self.height) // 2, (width - self.width) // 2
        index = [slice(None)] * inputs.ndim
        index[h_axis], index[w_axis] = slice(top, top + self.height), slice(left, left + self.width)
        return inputs[tuple(index)]
