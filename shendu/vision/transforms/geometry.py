"""Geometric transforms: Resize, CenterCrop, Pad, RandomResizedCrop, FiveCrop, TenCrop, RandomAffine,
RandomPerspective (torchvision's classes, arguments and parameter draws, from shendu's generator)."""

import math
import numbers

from ...random import resolve_generator
from . import functional as F
from ._pil import image_size
from .core import InterpolationMode, _probability

__all__ = ["Resize", "CenterCrop", "Pad", "RandomResizedCrop", "FiveCrop", "TenCrop", "RandomAffine", "RandomPerspective"]


def _size(size, name="size"):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return int(size)
    if isinstance(size, (tuple, list)) and len(size) in (1, 2) and all(isinstance(v, numbers.Integral) for v in size):
        return [int(v) for v in size]
    raise TypeError(f"{name} should be an int or a sequence of one or two ints; got {size!r}")


def _range(value, name, centre=0.0, low=None):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [centre - float(value), centre + float(value)]
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return [float(value[0]), float(value[1])]
    raise TypeError(f"{name} should be a number or a sequence of length 2; got {value!r}")


class Resize:
    """Resize to ``size``: (h, w), or an int for the smaller edge (the aspect ratio kept)."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.size, self.interpolation, self.max_size, self.antialias = _size(size), interpolation, max_size, antialias

    def __call__(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, interpolation={getattr(self.interpolation, 'value', self.interpolation)}, max_size={self.max_size}, antialias={self.antialias})"


class CenterCrop:
    """The centred ``size`` window (padded with 0 where the image is smaller)."""

    def __init__(self, size):
        self.size = _size(size)

    def __call__(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad:
    """Add a border of ``padding`` (int, (lr, tb) or (l, t, r, b)) with ``padding_mode`` constant/edge/reflect/symmetric."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        F._ltrb(padding)
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomResizedCrop:
    """A random window (``scale`` of the area, ``ratio`` of aspect) resized to ``size`` — Inception's augmentation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR, antialias=True):
        size = _size(size)
        self.size = [size, size] if isinstance(size, int) else (size * 2 if len(size) == 1 else size)
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        self.scale, self.ratio, self.interpolation, self.antialias = tuple(scale), tuple(ratio), interpolation, antialias

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, height, width) of a random window, torchvision's draw (10 tries, then a centre crop)."""
        height, width = image_size(img)
        area = height * width
        rng = resolve_generator()
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, self.size, self.interpolation, self.antialias)

    def __repr__(self):
        return f"{type(self).__name__}(size={tuple(self.size)}, scale={self.scale}, ratio={self.ratio})"


class FiveCrop:
    """The four corner crops and the centre crop of ``size`` (a tuple of 5 images)."""

    def __init__(self, size):
        self.size = _size(size)

    def __call__(self, img):
        return F.five_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class TenCrop(FiveCrop):
    """FiveCrop of the image and of its mirror image (``vertical_flip``: flipped upside down)."""

    def __init__(self, size, vertical_flip=False):
        super().__init__(size)
        self.vertical_flip = vertical_flip

    def __call__(self, img):
        return F.ten_crop(img, self.size, self.vertical_flip)


class RandomAffine:
    """A random rotation (``degrees``), translation (fractions of width/height), ``scale`` and ``shear`` (degrees)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("scale values should be positive")
        self.translate, self.scale = translate, scale
        if shear is not None:
            shear = _range(shear, "shear") if isinstance(shear, numbers.Number) or len(shear) == 2 else [float(s) for s in shear]
        self.shear, self.interpolation, self.fill, self.center = shear, interpolation, fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) drawn as torchvision does; ``img_size`` is [width, height]."""
        rng = resolve_generator()
        angle = float(rng.uniform(degrees[0], degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(rng.uniform(-max_dx, max_dx))), int(round(rng.uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = float(rng.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(rng.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(rng.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img):
        h, w = image_size(img)
        angle, translations, scale, shear = self.get_params(self.degrees, self.translate, self.scale, self.shear, [w, h])
        return F.affine(img, angle, translations, scale, shear, self.interpolation, self.fill, self.center)

    def __repr__(self):
        return f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, shear={self.shear})"


class RandomPerspective:
    """With probability ``p``, a random perspective warp moving each corner up to ``distortion_scale`` of half the size."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR, fill=0):
        if not 0 <= distortion_scale <= 1:
            raise ValueError("distortion_scale should be in [0, 1]")
        self.distortion_scale, self.p, self.interpolation, self.fill = float(distortion_scale), _probability(p), interpolation, fill

    @staticmethod
    def get_params(width, height, distortion_scale):
        """(startpoints, endpoints): the corners and where they go, drawn as torchvision does."""
        rng = resolve_generator()
        half_w, half_h = width // 2, height // 2
        dx, dy = int(distortion_scale * half_w), int(distortion_scale * half_h)

        def draw(low, high):
            return int(rng.integers(low, high))

        topleft = [draw(0, dx + 1), draw(0, dy + 1)]
        topright = [draw(width - dx - 1, width), draw(0, dy + 1)]
        botright = [draw(width - dx - 1, width), draw(height - dy - 1, height)]
        botleft = [draw(0, dx + 1), draw(height - dy - 1, height)]
        return [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], [topleft, topright, botright, botleft]

    def __call__(self, img):
        if resolve_generator().random() < self.p:
            h, w = image_size(img)
            start, end = self.get_params(w, h, self.distortion_scale)
            return F.perspective(img, start, end, self.interpolation, self.fill)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
