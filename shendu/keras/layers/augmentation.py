"""Image augmentation layers, active only in training (identities at inference): RandomFlip, RandomRotation,
RandomZoom, RandomTranslation, RandomContrast, RandomBrightness, RandomCrop.

They take channels-last images (N, H, W, C) or one image (H, W, C). Geometric ones warp each image by
its own random affine map, sampling bilinearly (or nearest), with Keras' fill modes outside the image:
"reflect" (d c b a | a b c d | d c b a), "wrap", "nearest" and "constant" (``fill_value``). Draws come
from shendu's generator (``shendu.manual_seed``), so they differ from Keras's draws.
"""

import math

import numpy as np

from ... import random as _random
from ...tensor import Tensor
from .base import Layer

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
           "RandomCrop"]  # fmt: skip

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _range(name, factor, symmetric=True):
    """(lower, upper) from a factor or a pair, checked as Keras checks it."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{name}: factor must be a number or a pair. Received: factor={factor!r}")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        lower, upper = (-abs(float(factor)), abs(float(factor))) if symmetric else (0.0, float(factor))
    if lower > upper:
        raise ValueError(f"{name}: factor's lower bound must not exceed the upper bound. Received: factor={factor!r}")
    return lower, upper


def _fold(coordinates, size, mode):
    """Coordinates outside [0, size − 1] brought inside per the fill mode (constant: left as they are)."""
    if mode == "reflect":
        period = 2 * size
        folded = np.mod(coordinates, period)
        return np.where(folded >= size, period - 1 - folded, folded)
    if mode == "wrap":
        return np.mod(coordinates, size)
    if mode == "nearest":
        return np.clip(coordinates, 0, size - 1)
    return coordinates


def _sample(images, rows, cols, mode, fill_value, interpolation):
    """images (N, H, W, C) read at (rows, cols) of shape (N, H', W') per image."""
    n, h, w, c = images.shape
    batch = np.arange(n)[:, None, None]

    def read(r, q):
        inside = (r >= 0) & (r < h) & (q >= 0) & (q < w)
        r_idx, q_idx = np.clip(r, 0, h - 1), np.clip(q, 0, w - 1)
        if mode != "constant":
            r_idx, q_idx = _fold(r, h, mode).astype(np.int64), _fold(q, w, mode).astype(np.int64)
            return images[batch, r_idx, q_idx]
        values = images[batch, r_idx.astype(np.int64), q_idx.astype(np.int64)]
        return np.where(inside[..., None], values, np.asarray(fill_value, images.dtype))

    if interpolation == "nearest":
        return read(np.floor(rows + 0.5), np.floor(cols + 0.5))
    top, left = np.floor(rows), np.floor(cols)
    dy, dx = (rows - top)[..., None], (cols - left)[..., None]
    return ((1 - dy) * (1 - dx) * read(top, left) + (1 - dy) * dx * read(top, left + 1)
            + dy * (1 - dx) * read(top + 1, left) + dy * dx * read(top + 1, left + 1)).astype(images.dtype)  # fmt: skip


class _Augmentation(Layer):
    supports_masking = False

    def __init__(self, seed=None, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__}: only data_format='channels_last' is supported")

    def _rng(self):
        return _random.default_generator()

    def call(self, inputs, training=None):
        if not training:
            return inputs
        images = inputs._array
        single = images.ndim == 3
        batch = images[None] if single else images
        if batch.ndim != 4:
            raise ValueError(f"{type(self).__name__} ({self.name}): expected images (N, H, W, C) or (H, W, C); got "
                             f"shape {tuple(images.shape)}")  # fmt: skip
        out = self._augment(batch.astype(np.float32) if batch.dtype.kind != "f" else batch)
        return Tensor(out[0] if single else out)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class _Warp(_Augmentation):
    """A random affine map per image (output pixel → input pixel), sampled with the fill mode."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", fill_value=0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}.")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{type(self).__name__}: interpolation must be 'bilinear' or 'nearest'")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _augment(self, images):
        n, h, w, _ = images.shape
        matrices = self._matrices(n, h, w)  # (N, 2, 3): [row, col] source = A · [row, col, 1] output
        rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
        grid = np.stack([rows, cols, np.ones_like(rows)])  # (3, H, W)
        source = np.einsum("nij,jhw->nihw", matrices, grid)
        return _sample(images, source[:, 0], source[:, 1], self.fill_mode, self.fill_value, self.interpolation)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}  # fmt: skip


def _about_centre(linear, h, w, shift=(0.0, 0.0)):
    """(N, 2, 3) maps applying ``linear`` (N, 2, 2) about the image centre, then ``shift`` (N, 2) in pixels."""
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    offset = centre - np.einsum("nij,j->ni", linear, centre) + np.asarray(shift)
    return np.concatenate([linear, offset[:, :, None]], axis=2)


class RandomRotation(_Warp):
    """Rotate each image by a random angle in ``factor``·2π (a number f gives [−f, f]·2π)."""

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed=None, fill_value=0.0, **kwargs) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, fill_value=fill_value, seed=seed, **kwargs)
        self.factor = factor
        self.lower, self.upper = _range("RandomRotation", factor)

    def _matrices(self, n, h, w):
        angles = self._rng().uniform(self.lower, self.upper, n) * 2 * math.pi
        cos, sin = np.cos(angles), np.sin(angles)
        linear = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)
        return _about_centre(linear, h, w)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_Warp):
    """Zoom each image by a random factor: ``height_factor`` 0.2 zooms out/in by up to 20 % (negative: in)."""

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear", seed=None,
                 fill_value=0.0, **kwargs) -> None:  # fmt: skip
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, fill_value=fill_value, seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _range("RandomZoom", height_factor)
        self.width_range = None if width_factor is None else _range("RandomZoom", width_factor)

    def _matrices(self, n, h, w):
        heights = 1.0 + self._rng().uniform(*self.height_range, n)
        widths = heights if self.width_range is None else 1.0 + self._rng().uniform(*self.width_range, n)
        linear = np.zeros((n, 2, 2))
        linear[:, 0, 0], linear[:, 1, 1] = heights, widths
        return _about_centre(linear, h, w)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(_Warp):
    """Shift each image by random fractions of its height and width."""

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed=None,
                 fill_value=0.0, **kwargs) -> None:  # fmt: skip
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, fill_value=fill_value, seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _range("RandomTranslation", height_factor)
        self.width_range = _range("RandomTranslation", width_factor)

    def _matrices(self, n, h, w):
        shift = np.stack([-self._rng().uniform(*self.height_range, n) * h,
                          -self._rng().uniform(*self.width_range, n) * w], axis=1)  # fmt: skip
        return _about_centre(np.tile(np.eye(2), (n, 1, 1)), h, w, shift)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomFlip(_Augmentation):
    """Flip each image left-right and/or up-down with probability ½: mode "horizontal", "vertical" or both."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs) -> None:
        super().__init__(seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode}")
        self.mode = mode

    def _augment(self, images):
        out = images.copy()
        n = len(images)
        if "horizontal" in self.mode:
            flip = self._rng().random(n) < 0.5
            out[flip] = out[flip][:, :, ::-1]
        if "vertical" in self.mode:
            flip = self._rng().random(n) < 0.5
            out[flip] = out[flip][:, ::-1]
        return out

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(_Augmentation):
    """(x − mean)·c + mean per image and channel, c drawn from [1 − lower, 1 + upper]; clipped to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor, self.value_range = factor, tuple(value_range)
        lower, upper = (factor, factor) if not isinstance(factor, (tuple, list)) else factor
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"RandomContrast: factor must be in [0, 1] (lower) and non-negative. Received: factor={factor!r}")
        self.lower, self.upper = float(lower), float(upper)

    def _augment(self, images):
        contrast = self._rng().uniform(1 - self.lower, 1 + self.upper, (len(images), 1, 1, 1))
        mean = images.mean(axis=(1, 2), keepdims=True)
        return np.clip((images - mean) * contrast + mean, *self.value_range).astype(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}


class RandomBrightness(_Augmentation):
    """Add a random delta, ``factor`` times the width of ``value_range``, to each image; clipped to the range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor, self.value_range = factor, tuple(value_range)
        self.lower, self.upper = _range("RandomBrightness", factor)
        if self.lower < -1 or self.upper > 1:
            raise ValueError(f"RandomBrightness: factor must be within [-1, 1]. Received: factor={factor!r}")

    def _augment(self, images):
        width = self.value_range[1] - self.value_range[0]
        delta = self._rng().uniform(self.lower, self.upper, (len(images), 1, 1, 1)) * width
        return np.clip(images + delta, *self.value_range).astype(images.dtype)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}


class RandomCrop(_Augmentation):
    """A random (height, width) window of each image in training; the central window at inference."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs, training=None):
        images = inputs._array
        h, w = images.shape[-3], images.shape[-2]
        if h < self.height or w < self.width:
            raise ValueError(f"RandomCrop ({self.name}): images of {h}×{w} are smaller than the crop "
                             f"{self.height}×{self.width}")  # fmt: skip
        if not training:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return inputs[..., top : top + self.height, left : left + self.width, :]
        return super().call(inputs, training=True)

    def _augment(self, images):
        n, h, w, _ = images.shape
        tops = self._rng().integers(0, h - self.height + 1, n)
        lefts = self._rng().integers(0, w - self.width + 1, n)
        return np.stack([img[t : t + self.height, q : q + self.width] for img, t, q in zip(images, tops, lefts)])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
