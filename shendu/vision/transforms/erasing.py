"""``RandomErasing`` (Zhong et al., 2017): blank a random rectangle of a tensor image, torchvision's draw."""

import math
import numbers

import numpy as np

from ...random import resolve_generator
from ...tensor import Tensor
from . import functional as F
from .core import _probability

__all__ = ["RandomErasing"]


class RandomErasing:
    """With probability ``p``, set a random window (``scale`` of the area, ``ratio`` of aspect) to ``value``.

    ``value``: a number, one per channel, or ``"random"`` (standard-normal noise). Tensor images only.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not (isinstance(value, (numbers.Number, str, tuple, list))):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = _probability(p), tuple(scale), tuple(ratio), value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """(i, j, h, w, v): the window and its new values (the whole image, unchanged, after 10 failed tries)."""
        array = img._array
        channels, height, width = (array.shape[-3] if array.ndim >= 3 else 1), array.shape[-2], array.shape[-1]
        area = height * width
        rng = resolve_generator()
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * rng.uniform(scale[0], scale[1])
            aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            if value is None:
                v = rng.standard_normal((channels, h, w)).astype(array.dtype)
            else:
                v = np.asarray(value, dtype=array.dtype).reshape(-1, 1, 1)
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w, v
        return 0, 0, height, width, array

    def __call__(self, img):
        if not isinstance(img, Tensor):
            raise TypeError(f"RandomErasing expects a tensor image (C, H, W); got {type(img).__name__} (apply ToTensor first)")
        if resolve_generator().random() < self.p:
            value = None if self.value == "random" else ([self.value] if isinstance(self.value, numbers.Number) else list(self.value))
            channels = img.shape[-3] if img.ndim >= 3 else 1
            if value is not None and len(value) not in (1, channels):
                raise ValueError(f"If value is a sequence, it should have either a single value or {channels} (number of input channels)")
            i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
            return F.erase(img, i, j, h, w, v, self.inplace)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, inplace={self.inplace})"
