"""Colour transforms: Grayscale, RandomGrayscale, ColorJitter, GaussianBlur (torchvision's)."""

import numbers

from ...random import resolve_generator
from . import functional as F
from .core import _probability

__all__ = ["Grayscale", "RandomGrayscale", "ColorJitter", "GaussianBlur"]


class Grayscale:
    """To grey (1 channel, or 3 equal ones)."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """To grey with probability ``p``, keeping the number of channels."""

    def __init__(self, p=0.1):
        self.p = _probability(p)

    def __call__(self, img):
        if resolve_generator().random() < self.p:
            channels = F.get_dimensions(img)[0]
            return F.rgb_to_grayscale(img, 3 if channels == 3 else 1)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


def _jitter(value, name, centre=1.0, bound=(0, float("inf")), clip_first=True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [centre - float(value), centre + float(value)]
        if clip_first:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == centre else tuple(value)


class ColorJitter:
    """Random brightness, contrast, saturation and hue changes, in a random order (torchvision's)."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _jitter(brightness, "brightness")
        self.contrast = _jitter(contrast, "contrast")
        self.saturation = _jitter(saturation, "saturation")
        self.hue = _jitter(hue, "hue", centre=0.0, bound=(-0.5, 0.5), clip_first=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order, b, c, s, h): a permutation of the four adjustments and their factors (None: not applied)."""
        rng = resolve_generator()
        order = [int(i) for i in rng.permutation(4)]
        factors = [None if r is None else float(rng.uniform(r[0], r[1])) for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img):
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        functions = [(F.adjust_brightness, b), (F.adjust_contrast, c), (F.adjust_saturation, s), (F.adjust_hue, h)]
        for index in order:
            function, factor = functions[index]
            if factor is not None:
                img = function(img, factor)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation}, hue={self.hue})"


class GaussianBlur:
    """Blur with a Gaussian of ``kernel_size`` and a random σ in ``sigma`` (min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = (int(kernel_size),) * 2 if isinstance(kernel_size, numbers.Integral) else tuple(int(k) for k in kernel_size)
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        elif not (isinstance(sigma, (tuple, list)) and len(sigma) == 2 and 0.0 < sigma[0] <= sigma[1]):
            raise ValueError("sigma values should be positive and of the form (min, max).")
        self.sigma = tuple(float(s) for s in sigma)

    def __call__(self, img):
        sigma = float(resolve_generator().uniform(self.sigma[0], self.sigma[1]))
        return F.gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


