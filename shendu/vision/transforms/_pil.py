"""Running Pillow's image operations on every kind of image the transforms take.

A PIL image goes to Pillow as it is (torchvision does the same, so results are equal to the pixel).
A NumPy array (H, W[, C]) of uint8 becomes a PIL image and back. A tensor (..., C, H, W) is cut into
its channels, each a 32-bit float PIL image (mode "F"), which Pillow resamples with the same filters
as torchvision's antialiased tensor kernels (equal to about 1e-6), and stacked again.
"""

import numpy as np

from ...tensor import Tensor
from .core import InterpolationMode, _is_pil

__all__ = ["pil_module", "resample", "map_image", "image_size"]


def pil_module():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("this transform needs Pillow: pip install 'shendu[images]'") from None
    return Image


def resample(interpolation):
    """Pillow's resampling filter for an :class:`InterpolationMode` (or its string value)."""
    Image = pil_module()
    value = getattr(interpolation, "value", interpolation)
    table = {InterpolationMode.NEAREST: Image.NEAREST, InterpolationMode.NEAREST_EXACT: Image.NEAREST,
             InterpolationMode.BILINEAR: Image.BILINEAR, InterpolationMode.BICUBIC: Image.BICUBIC,
             InterpolationMode.BOX: Image.BOX, InterpolationMode.HAMMING: Image.HAMMING,
             InterpolationMode.LANCZOS: Image.LANCZOS}  # fmt: skip
    if isinstance(value, int) and not isinstance(value, bool):  # a PIL constant given directly
        return value
    if value not in table:
        raise ValueError(f"interpolation should be one of {sorted(table)}; got {interpolation!r}")
    return table[value]


def image_size(image):
    """(height, width) of any image kind."""
    if _is_pil(image):
        return image.size[1], image.size[0]
    if isinstance(image, Tensor):
        if image.ndim < 2:
            raise ValueError(f"expected an image tensor of shape (..., H, W); got shape {tuple(image.shape)}")
        return int(image.shape[-2]), int(image.shape[-1])
    if isinstance(image, np.ndarray) and image.ndim in (2, 3):
        return int(image.shape[0]), int(image.shape[1])
    raise TypeError(f"expected a shendu Tensor (..., H, W), a NumPy array (H, W[, C]) or a PIL image; got {type(image).__name__}")


def map_image(image, operation, fill=0):
    """``operation(pil_image, fill)`` applied to ``image`` of any kind; returns the same kind.

    ``fill`` is handed to the operation as it suits the image: a number or a tuple per band for
    PIL and uint8 images, one number per channel for float tensors (taken from ``fill``).
    """
    Image = pil_module()
    if _is_pil(image):
        return operation(image, _pil_fill(fill, len(image.getbands())))
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(f"a NumPy image must be uint8 for this transform; got {image.dtype}")
        pil = Image.fromarray(image)
        return np.asarray(operation(pil, _pil_fill(fill, len(pil.getbands()))))
    if not isinstance(image, Tensor):
        raise TypeError(f"expected a shendu Tensor, a NumPy array or a PIL image; got {type(image).__name__}")
    array = image._array
    if array.ndim < 2:
        raise ValueError(f"expected an image tensor of shape (..., H, W); got shape {tuple(array.shape)}")
    lead = array.shape[:-2]
    planes = array.reshape((-1,) + array.shape[-2:])
    channels = array.shape[-3] if array.ndim >= 3 else 1
    fills = list(fill) if isinstance(fill, (tuple, list)) else [fill] * channels
    results = []
    for index, plane in enumerate(planes):
        value = float(fills[index % channels] if fills else 0)
        if array.dtype == np.uint8:
            results.append(np.asarray(operation(Image.fromarray(plane, mode="L"), int(value))))
        else:
            out = np.asarray(operation(Image.fromarray(plane.astype(np.float32), mode="F"), value))
            results.append(out.astype(array.dtype, copy=False))
    stacked = np.stack(results).reshape(lead + results[0].shape)
    return Tensor(np.ascontiguousarray(stacked))


def _pil_fill(fill, bands):
    if fill is None:
        return 0
    if isinstance(fill, (tuple, list)):
        values = tuple(int(v) for v in fill)
        return values if bands > 1 else values[0]
    return tuple([int(fill)] * bands) if bands > 1 else int(fill)
