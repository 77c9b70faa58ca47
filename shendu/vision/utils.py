"""Image grids and image files from tensors: torchvision's ``make_grid`` and ``save_image``.

Example:
    >>> grid = make_grid(images[:64], nrow=8, normalize=True)   # (3, H', W')
    >>> save_image(fake_images, "samples.png", nrow=8, normalize=True, value_range=(-1, 1))
"""

import math
import os

import numpy as np

from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor):
    if isinstance(tensor, (list, tuple)):
        arrays = [np.asarray(t._array if isinstance(t, Tensor) else t) for t in tensor]
        if not arrays or len({a.shape for a in arrays}) != 1:
            raise ValueError("make_grid: a list of images must hold tensors of one shape")
        return np.stack(arrays)
    if not isinstance(tensor, (Tensor, np.ndarray)):
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got {type(tensor).__name__}")
    return np.asarray(tensor._array if isinstance(tensor, Tensor) else tensor)


def _normalise(array, value_range):
    low, high = (float(array.min()), float(array.max())) if value_range is None else map(float, value_range)
    clipped = np.clip(array, low, high)
    return (clipped - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0, **kwargs):
    """Tile a batch of images (B, C, H, W) into one image, ``nrow`` images per row, as torchvision does.

    Args:
        tensor: a (B, C, H, W) tensor, a (C, H, W) or (H, W) image, or a list of same-shaped images.
        nrow: images per row. Defaults to 8.
        padding: pixels between images and around the grid. Defaults to 2.
        normalize: shift and scale to [0, 1] using ``value_range`` (default: the images' min and max).
        value_range: ``(min, max)`` for ``normalize``; values outside are clipped. Defaults to None.
        scale_each: normalise each image by its own min and max. Defaults to False.
        pad_value: the value of the padding. Defaults to 0.

    Returns:
        a (C, H', W') tensor (a single image: that image, as torchvision).
    """
    if "range" in kwargs:  # torchvision's former name
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got an unexpected keyword argument {next(iter(kwargs))!r}")
    array = _as_batch(tensor)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = np.concatenate([array] * 3) if array.shape[0] == 1 else array
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or (H, W); got {array.shape}")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    if value_range is not None and not (isinstance(value_range, (tuple, list)) and len(value_range) == 2):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
    if normalize:
        array = np.stack([_normalise(image, value_range) for image in array]) if scale_each else _normalise(array, value_range)
        array = array.astype(np.float32 if array.dtype.kind != "f" else array.dtype, copy=False)
    if array.shape[0] == 1:
        return Tensor(np.ascontiguousarray(array[0]))
    count = array.shape[0]
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    height, width = array.shape[2] + padding, array.shape[3] + padding
    grid = np.full((array.shape[1], height * rows + padding, width * columns + padding), pad_value, dtype=array.dtype)
    for index in range(count):
        y, x = divmod(index, columns)
        grid[:, y * height + padding : (y + 1) * height, x * width + padding : (x + 1) * width] = array[index]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save an image or a grid of images (see :func:`make_grid` for ``kwargs``) to ``fp`` with Pillow.

    Values are read in [0, 1] (``normalize=True`` maps another range there) and written as 8-bit
    pixels, rounded to nearest, as torchvision does.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image needs Pillow: pip install 'shendu[images]'") from None
    grid = make_grid(tensor, **kwargs)._array
    pixels = np.clip(grid.astype(np.float32) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    image.save(os.fspath(fp) if isinstance(fp, os.PathLike) else fp, format=format)
