"""Image transforms (the ``torchvision.transforms`` dialect), written with NumPy.

Images may be:

- a shendu Tensor laid out ``(..., H, W)`` — e.g. an MNIST digit ``(28, 28)`` or a ``ToTensor``
  result ``(C, H, W)``, as torchvision's tensor transforms expect;
- a NumPy array ``(H, W)`` or ``(H, W, C)`` — the layout of a decoded image file;
- a PIL image (when Pillow is installed).

Each transform returns the same kind it was given, except :class:`ToTensor` (always a float
tensor ``(C, H, W)``). Random transforms draw from shendu's global generator, so
``shendu.manual_seed`` makes augmentation repeatable.

Example:
    >>> transform = Compose([RandomRotation(10), ToTensor(), Normalize((0.1307,), (0.3081,))])
    >>> x = transform(digit)  # digit: uint8 (28, 28)
    >>> x.shape
    shendu.Size([1, 28, 28])
"""

import functools
import math
import numbers

import numpy as np

from ...random import resolve_generator
from ...tensor import Tensor

__all__ = [
    "Compose", "ToTensor", "Normalize", "Lambda", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomCrop",
    "RandomRotation", "InterpolationMode", "batchable",
]  # fmt: skip


def _is_pil(image):
    return type(image).__module__.startswith("PIL.") and hasattr(image, "getbands")


class _Image:
    """An image unwrapped to a NumPy array with its height and width axes, and a way to wrap a result back."""

    def __init__(self, image, who):
        if isinstance(image, Tensor):
            if image.ndim < 2:
                raise ValueError(f"{who} expects an image tensor of shape (..., H, W); got shape {tuple(image.shape)}")
            self.array, self.h_axis, self.w_axis, self.kind = image._array, image.ndim - 2, image.ndim - 1, "tensor"
        elif isinstance(image, np.ndarray):
            if image.ndim not in (2, 3):
                raise ValueError(f"{who} expects a NumPy image of shape (H, W) or (H, W, C); got shape {image.shape}")
            self.array, self.h_axis, self.w_axis, self.kind = image, 0, 1, "array"
        elif _is_pil(image):
            self.array, self.h_axis, self.w_axis, self.kind = np.asarray(image), 0, 1, "pil"
            self.mode = image.mode
        else:
            raise TypeError(
                f"{who} expects a shendu Tensor (..., H, W), a NumPy array (H, W[, C]) or a PIL image; "
                f"got {type(image).__name__}"
            )

    @property
    def size(self):
        return self.array.shape[self.h_axis], self.array.shape[self.w_axis]

    def wrap(self, array):
        if self.kind == "tensor":
            return Tensor(np.ascontiguousarray(array))
        if self.kind == "pil":
            from PIL import Image

            return Image.fromarray(np.ascontiguousarray(array), mode=self.mode)
        return np.ascontiguousarray(array)


class Compose:
    """Apply transforms one after another.

    Example:
        >>> Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose expects callables; got {type(t).__name__}")

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image

    def apply_batch(self, images):
        """Apply each transform's ``apply_batch`` in turn (all must have one; see :func:`batchable`)."""
        for t in self.transforms:
            images = t.apply_batch(images)
        return images

    def __repr__(self):
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


def _float_chw(array):
    """(..., H, W, C) -> tensor (..., C, H, W); uint8 scaled to float32 in [0, 1], bool to 0/1."""
    chw = np.moveaxis(array, -1, -3)
    if chw.dtype == np.uint8:
        out = chw.astype(np.float32, order="C")
        out *= np.float32(1 / 255)
    elif chw.dtype == np.bool_:
        out = chw.astype(np.float32, order="C")
    elif chw.dtype.kind in "fiu":
        out = np.ascontiguousarray(chw)
    else:
        raise TypeError(f"ToTensor cannot convert an image of dtype {chw.dtype}")
    return Tensor(out)


def batchable(transform):
    """Whether ``transform`` can process a whole batch at once (``apply_batch``), giving the same result as per sample.

    The deterministic transforms (ToTensor, Normalize, and Compose of such) can; random ones draw
    per sample and cannot. Datasets held in memory use this to keep the DataLoader's one-gather path.
    """
    if isinstance(transform, Compose):
        return all(batchable(t) for t in transform.transforms)
    return callable(getattr(transform, "apply_batch", None))


class ToTensor:
    """Image (HW or HWC) -> float32 tensor (C, H, W); uint8 values are scaled from [0, 255] to [0, 1].

    Accepts NumPy arrays, shendu Tensors and PIL images laid out ``(H, W)`` or ``(H, W, C)`` (a
    2-D image gets one channel). uint8 (and bool) images become float32 in [0, 1]; other dtypes
    keep their values and dtype, as torchvision.

    Example:
        >>> ToTensor()(np.full((28, 28), 255, np.uint8)).shape
        shendu.Size([1, 28, 28])
    """

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            array = pic._array
        elif isinstance(pic, np.ndarray):
            array = pic
        elif _is_pil(pic):
            array = np.asarray(pic)
        else:
            raise TypeError(f"ToTensor expects a NumPy array, shendu Tensor or PIL image; got {type(pic).__name__}")
        if array.ndim not in (2, 3):
            raise ValueError(f"ToTensor expects an image of shape (H, W) or (H, W, C); got shape {array.shape}")
        return _float_chw(array[:, :, None] if array.ndim == 2 else array)

    def apply_batch(self, images):
        """A stack of images (N, H, W) or (N, H, W, C) -> (N, C, H, W), equal to stacking each sample's result."""
        array = images._array
        if array.ndim not in (3, 4):
            raise ValueError(f"ToTensor.apply_batch expects (N, H, W) or (N, H, W, C); got shape {array.shape}")
        return _float_chw(array[..., None] if array.ndim == 3 else array)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float tensor (..., C, H, W).

    Args:
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all); none may be zero.
        inplace: write into the input tensor. Defaults to False.

    Example:
        >>> Normalize((0.1307,), (0.3081,))  # MNIST's mean and standard deviation
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in np.atleast_1d(np.asarray(mean, dtype=np.float64)))
        self.std = tuple(float(s) for s in np.atleast_1d(np.asarray(std, dtype=np.float64)))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros (division by zero); got std={self.std}")
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"Normalize expects a shendu Tensor (..., C, H, W) (use ToTensor first); got {type(tensor).__name__}"
            )
        if tensor.ndim < 3:
            raise ValueError(f"Normalize expects a tensor of shape (..., C, H, W); got shape {tuple(tensor.shape)}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize expects a floating-point tensor; got dtype {tensor.dtype} (use ToTensor first)")
        channels = tensor.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(values)} values for an image with {channels} channels")
        dtype = tensor._array.dtype
        mean = np.asarray(self.mean, dtype=dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=dtype).reshape(-1, 1, 1)
        if self.inplace:
            np.subtract(tensor._array, mean, out=tensor._array)
            np.divide(tensor._array, std, out=tensor._array)
            return tensor
        return Tensor((tensor._array - mean) / std)

    apply_batch = __call__  # (N, C, H, W) broadcasts the same way

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function as a transform.

    Example:
        >>> Lambda(lambda x: x.flatten())
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda expects a callable; got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self):
        return "Lambda()"


def _probability(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p should be a probability in [0, 1]; got p={p!r}")
    return float(p)


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p`` (default 0.5)."""

    def __init__(self, p=0.5):
        self.p = _probability(p)

    def __call__(self, image):
        img = _Image(image, type(self).__name__)
        if resolve_generator().random() < self.p:
            return img.wrap(np.flip(img.array, axis=img.w_axis))
        return image

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Flip the image upside down with probability ``p`` (default 0.5)."""

    def __call__(self, image):
        img = _Image(image, type(self).__name__)
        if resolve_generator().random() < self.p:
            return img.wrap(np.flip(img.array, axis=img.h_axis))
        return image


def _pair(value, name):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) in (1, 2)
        and all(isinstance(v, numbers.Integral) for v in value)
    ):
        return (int(value[0]), int(value[-1]))
    raise ValueError(f"{name} should be an int or a pair of ints (h, w); got {name}={value!r}")


class RandomCrop:
    """Crop a random ``size`` window, after optional padding.

    Args:
        size: ``(h, w)`` of the crop, or one int for a square.
        padding: border added first: an int (all sides), ``(left/right, top/bottom)`` or
            ``(left, top, right, bottom)``. Defaults to None.
        pad_if_needed: pad images smaller than ``size``. Defaults to False.
        fill: value for ``padding_mode='constant'``. Defaults to 0.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.

    Example:
        >>> RandomCrop(28, padding=4)  # the classic MNIST/CIFAR augmentation
    """

    _MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "size")
        if min(self.size) <= 0:
            raise ValueError(f"RandomCrop size must be positive; got size={size!r}")
        if padding is not None:
            if isinstance(padding, numbers.Integral):
                padding = (int(padding),) * 4
            elif isinstance(padding, (tuple, list)) and len(padding) == 2:
                padding = (padding[0], padding[1], padding[0], padding[1])
            elif not (isinstance(padding, (tuple, list)) and len(padding) == 4):
                raise ValueError(f"padding should be an int or a sequence of 2 or 4 ints; got padding={padding!r}")
            if any(not isinstance(p, numbers.Integral) or p < 0 for p in padding):
                raise ValueError(f"padding values must be non-negative ints; got padding={padding!r}")
            padding = tuple(int(p) for p in padding)
        if padding_mode not in self._MODES:
            raise ValueError(f"padding_mode should be one of {self._MODES}; got padding_mode={padding_mode!r}")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _pad(self, img, array, left, top, right, bottom):
        widths = [(0, 0)] * array.ndim
        widths[img.h_axis], widths[img.w_axis] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(array, widths, mode="constant", constant_values=self.fill)
        return np.pad(array, widths, mode=self.padding_mode)

    def __call__(self, image):
        img = _Image(image, type(self).__name__)
        array = img.array
        if self.padding is not None:
            array = self._pad(img, array, *self.padding)
        th, tw = self.size
        h, w = array.shape[img.h_axis], array.shape[img.w_axis]
        if self.pad_if_needed and (h < th or w < tw):
            ph, pw = max(th - h, 0), max(tw - w, 0)
            array = self._pad(img, array, pw, ph, pw, ph)
            h, w = array.shape[img.h_axis], array.shape[img.w_axis]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the (padded) image size {(h, w)}"
            )
        rng = resolve_generator()
        top, left = int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1))
        window = [slice(None)] * array.ndim
        window[img.h_axis], window[img.w_axis] = slice(top, top + th), slice(left, left + tw)
        return img.wrap(array[tuple(window)])

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class InterpolationMode:
    """Sampling for geometric transforms (torchvision's names and values)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


class RandomRotation:
    """Rotate the image by a random angle, counter-clockwise, about its centre.

    Args:
        degrees: the angle range: ``d`` means uniform in ``(-d, d)``; or a pair ``(min, max)``.
        interpolation: ``'nearest'`` (default) or ``'bilinear'``.
        expand: accepted for compatibility; only ``False`` (keep the image size) is supported.
        center: ``(x, y)`` pixel to rotate about. Defaults to the image centre.
        fill: value for pixels that come from outside the image. Defaults to 0.

    Example:
        >>> RandomRotation(15)  # small rotations for digit augmentation
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Real) and not isinstance(degrees, bool):
            if degrees < 0:
                raise ValueError(f"If degrees is a single number, it must be non-negative; got degrees={degrees!r}")
            degrees = (-float(degrees), float(degrees))
        elif isinstance(degrees, (tuple, list)) and len(degrees) == 2:
            degrees = (float(degrees[0]), float(degrees[1]))
        else:
            raise ValueError(f"degrees should be a number or a pair (min, max); got degrees={degrees!r}")
        interpolation = getattr(interpolation, "value", interpolation)
        if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
            raise ValueError(f"interpolation should be 'nearest' or 'bilinear'; got {interpolation!r}")
        if expand:
            raise ValueError("RandomRotation(expand=True) is not supported; rotations keep the image size")
        self.degrees = degrees
        self.interpolation = interpolation
        self.center = center
        self.fill = fill

    def __call__(self, image):
        img = _Image(image, type(self).__name__)
        angle = float(resolve_generator().uniform(self.degrees[0], self.degrees[1]))
        return img.wrap(rotate(img.array, angle, img.h_axis, img.w_axis, self.interpolation, self.center, self.fill))

    def __repr__(self):
        return f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation})"


@functools.lru_cache(maxsize=16)
def _centred_grid(h, w, cx, cy):
    """Pixel coordinates relative to the centre, flattened: (y - cy, x - cx), each of shape (h * w,)."""
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64) - cy, np.arange(w, dtype=np.float64) - cx, indexing="ij")
    ys.flags.writeable = xs.flags.writeable = False
    return ys.ravel(), xs.ravel()


def rotate(array, angle, h_axis=0, w_axis=1, interpolation="nearest", center=None, fill=0):
    """Rotate ``array`` by ``angle`` degrees counter-clockwise in its (h_axis, w_axis) plane.

    Each output pixel samples the input at the inversely rotated position (``x`` to the right, ``y``
    down): ``x = cx + cos θ (x' - cx) - sin θ (y' - cy)``, ``y = cy + sin θ (x' - cx) + cos θ (y' - cy)``;
    positions outside the image take ``fill``.
    """
    moved = np.moveaxis(array, (h_axis, w_axis), (0, 1))
    h, w = moved.shape[:2]
    rest = moved.shape[2:]
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else (float(center[0]), float(center[1]))
    ys, xs = _centred_grid(h, w, cx, cy)
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    src_x = cx + cos * xs - sin * ys
    src_y = cy + sin * xs + cos * ys
    pixels = moved.reshape((h * w,) + rest)  # flat index y * w + x
    if interpolation == "nearest":
        xi, yi = np.rint(src_x).astype(np.intp), np.rint(src_y).astype(np.intp)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = np.full((h * w,) + rest, fill, dtype=moved.dtype)
        out[inside] = pixels[yi[inside] * w + xi[inside]]
    else:
        x0, y0 = np.floor(src_x), np.floor(src_y)
        fx, fy = src_x - x0, src_y - y0
        x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
        extra = (slice(None),) + (None,) * len(rest)
        acc = np.zeros((h * w,) + rest, dtype=np.float64)
        covered = np.zeros(h * w, dtype=np.float64)
        for dy, dx, weight in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            xi, yi = x0 + dx, y0 + dy
            weight = weight * ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h))
            acc += weight[extra] * pixels[np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)]
            covered += weight
        acc += (1 - covered)[extra] * fill  # neighbours outside the image contribute the fill value
        if moved.dtype.kind in "iu":
            info = np.iinfo(moved.dtype)
            acc = np.clip(np.rint(acc), info.min, info.max)
        out = acc.astype(moved.dtype)
    return np.moveaxis(out.reshape(moved.shape), (0, 1), (h_axis, w_axis))
