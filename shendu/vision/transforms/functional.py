"""The functions behind the transforms (``torchvision.transforms.functional``): one image, given parameters.

Geometric operations run Pillow's resampling (see :mod:`._pil`), so a PIL image gives the same
pixels as torchvision and a float tensor agrees with torchvision's antialiased kernels to about
1e-6. Colour operations follow torchvision's formulas: Pillow's ``ImageEnhance`` for PIL images,
the blend formulas on tensors.
"""

import math
import numbers

import numpy as np

from ...tensor import Tensor
from ._pil import image_size, map_image, pil_module, resample
from .core import InterpolationMode, ToTensor, _is_pil

__all__ = [
    "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize", "resize", "crop", "center_crop",
    "resized_crop", "pad", "hflip", "vflip", "five_crop", "ten_crop", "affine", "rotate", "perspective", "gaussian_blur",
    "rgb_to_grayscale", "to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "erase",
    "get_image_size", "get_dimensions",
]  # fmt: skip


# ----- conversions ------------------------------------------------------------------------------------------
def to_tensor(pic):
    """PIL image or array (H, W[, C]) → float tensor (C, H, W), uint8 scaled to [0, 1]."""
    return ToTensor()(pic)


def pil_to_tensor(pic):
    """PIL image → tensor (C, H, W) of its own dtype (no scaling)."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic).__name__}")
    array = np.asarray(pic)
    return Tensor(np.ascontiguousarray(array[None] if array.ndim == 2 else array.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """Tensor (C, H, W) or array (H, W[, C]) → PIL image; float values are read in [0, 1] (× 255, truncated)."""
    Image = pil_module()
    if _is_pil(pic):
        return pic
    if isinstance(pic, Tensor):
        array = pic._array
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        if array.dtype.kind == "f" and mode != "F":
            array = (array * 255).astype(np.int64).astype(np.uint8)  # torchvision: pic.mul(255).byte()
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        array = pic if pic.ndim == 3 else pic[:, :, None]
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic).__name__}.")
    if array.shape[2] == 1:
        array = array[:, :, 0]
        if mode is None:
            mode = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(array.dtype)
    elif mode is None:
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}.get(array.shape[2])
    if mode is None:
        raise TypeError(f"Input type {array.dtype} with {array.shape} is not supported")
    return Image.fromarray(np.ascontiguousarray(array), mode=mode)


def convert_image_dtype(image, dtype):
    """Convert a tensor image's dtype, rescaling values as torchvision (uint8 [0, 255] ↔ float [0, 1])."""
    from ... import _dtype

    target = _dtype.to_numpy_dtype(dtype)
    array = image._array
    if array.dtype == target:
        return image
    if array.dtype.kind == "f" and target.kind == "f":
        return Tensor(array.astype(target))
    if array.dtype.kind == "f":  # float → int: × (max + 1 − 1e-3), truncated
        top = np.iinfo(target).max
        return Tensor((array * (top + 1.0 - 1e-3)).astype(target))
    if target.kind == "f":
        return Tensor(array.astype(target) / np.iinfo(array.dtype).max)
    raise TypeError(f"convert_image_dtype: from {array.dtype} to {target} is not supported")


def normalize(tensor, mean, std, inplace=False):
    """(x − mean[c]) / std[c] per channel."""
    from .core import Normalize

    return Normalize(mean, std, inplace=inplace)(tensor)


def get_image_size(img):
    """[width, height], as torchvision."""
    h, w = image_size(img)
    return [w, h]


def get_dimensions(img):
    """[channels, height, width]."""
    h, w = image_size(img)
    if _is_pil(img):
        return [len(img.getbands()), h, w]
    if isinstance(img, Tensor):
        return [int(img.shape[-3]) if img.ndim >= 3 else 1, h, w]
    return [img.shape[2] if img.ndim == 3 else 1, h, w]


# ----- geometry ---------------------------------------------------------------------------------------------
def _output_size(size, image_hw, max_size=None):
    if isinstance(size, numbers.Integral):
        size = [int(size)]
    size = list(size)
    if len(size) == 1:
        h, w = image_hw
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        if max_size is not None:
            if max_size <= size[0]:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if len(size) != 2:
        raise ValueError(f"size must be an int or a sequence of one or two ints; got {size}")
    return int(size[0]), int(size[1])


def _nearest_tensor(array, height, width):
    """PyTorch's legacy "nearest" on tensors: source index floor(dst · in / out)."""
    h, w = array.shape[-2:]
    rows = np.minimum((np.arange(height) * (h / height)).astype(np.int64), h - 1)
    cols = np.minimum((np.arange(width) * (w / width)).astype(np.int64), w - 1)
    return Tensor(np.ascontiguousarray(array[..., rows[:, None], cols[None, :]]))


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` ((h, w), or the smaller edge to an int keeping the aspect ratio)."""
    height, width = _output_size(size, image_size(img), max_size)
    if (height, width) == image_size(img):
        return img
    value = getattr(interpolation, "value", interpolation)
    if isinstance(img, Tensor) and value == InterpolationMode.NEAREST:
        return _nearest_tensor(img._array, height, width)
    filter_ = resample(interpolation)
    return map_image(img, lambda pil, fill: pil.resize((width, height), filter_))


def crop(img, top, left, height, width):
    """The window of ``height`` × ``width`` at (top, left); parts outside the image are 0."""
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    h, w = image_size(img)
    array = img._array if isinstance(img, Tensor) else img
    h_axis = array.ndim - 2 if isinstance(img, Tensor) else 0
    if top < 0 or left < 0 or top + height > h or left + width > w:
        widths = [(0, 0)] * array.ndim
        widths[h_axis] = (max(-top, 0), max(top + height - h, 0))
        widths[h_axis + 1] = (max(-left, 0), max(left + width - w, 0))
        array = np.pad(array, widths)
        top, left = max(top, 0), max(left, 0)
    window = [slice(None)] * array.ndim
    window[h_axis], window[h_axis + 1] = slice(top, top + height), slice(left, left + width)
    out = np.ascontiguousarray(array[tuple(window)])
    return Tensor(out) if isinstance(img, Tensor) else out


def center_crop(img, output_size):
    """The centred window of ``output_size``; an image smaller than it is padded with 0 first."""
    crop_h, crop_w = _output_size(output_size, (1, 1)) if not isinstance(output_size, numbers.Integral) else (int(output_size),) * 2
    h, w = image_size(img)
    if crop_w > w or crop_h > h:
        img = pad(img, [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                        (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0])  # fmt: skip
        h, w = image_size(img)
        if crop_w == w and crop_h == h:
            return img
    return crop(img, int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0)), crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _ltrb(padding):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = list(padding)
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if len(padding) == 4:
        return tuple(int(p) for p in padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Add a border: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _ltrb(padding)
    if _is_pil(img):
        if padding_mode == "constant":
            from PIL import ImageOps

            bands = len(img.getbands())
            value = tuple(fill) if isinstance(fill, (tuple, list)) else (fill if bands == 1 else (fill,) * bands)
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=value)
        array = np.asarray(img)
        widths = [(top, bottom), (left, right)] + ([(0, 0)] if array.ndim == 3 else [])
        return pil_module().fromarray(np.pad(array, widths, mode=padding_mode), mode=img.mode)
    array = img._array if isinstance(img, Tensor) else img
    h_axis = array.ndim - 2 if isinstance(img, Tensor) else 0
    widths = [(0, 0)] * array.ndim
    widths[h_axis], widths[h_axis + 1] = (top, bottom), (left, right)
    out = np.pad(array, widths, mode="constant", constant_values=fill) if padding_mode == "constant" else np.pad(array, widths, mode=padding_mode)
    return Tensor(out) if isinstance(img, Tensor) else out


def _flip(img, pil_method, axis):
    """Reverse one axis: ``axis`` 0 for rows (up-down), 1 for columns (left-right)."""
    if _is_pil(img):
        return img.transpose(getattr(pil_module(), pil_method))
    array = img._array if isinstance(img, Tensor) else img
    out = np.ascontiguousarray(np.flip(array, axis=(array.ndim - 2 if isinstance(img, Tensor) else 0) + axis))
    return Tensor(out) if isinstance(img, Tensor) else out


def hflip(img):
    """Mirror left-right."""
    return _flip(img, "FLIP_LEFT_RIGHT", 1)


def vflip(img):
    """Flip upside down."""
    return _flip(img, "FLIP_TOP_BOTTOM", 0)


def five_crop(img, size):
    """(top-left, top-right, bottom-left, bottom-right, centre) crops of ``size``."""
    crop_h, crop_w = (int(size),) * 2 if isinstance(size, numbers.Integral) else (int(size[0]), int(size[-1]))
    h, w = image_size(img)
    if crop_w > w or crop_h > h:
        raise ValueError(f"Requested crop size {(crop_h, crop_w)} is bigger than input size {(h, w)}")
    return (crop(img, 0, 0, crop_h, crop_w), crop(img, 0, w - crop_w, crop_h, crop_w), crop(img, h - crop_h, 0, crop_h, crop_w),
            crop(img, h - crop_h, w - crop_w, crop_h, crop_w), center_crop(img, [crop_h, crop_w]))  # fmt: skip


def ten_crop(img, size, vertical_flip=False):
    """The five crops of the image and the five of its mirror image (flipped vertically with ``vertical_flip``)."""
    return five_crop(img, size) + five_crop(vflip(img) if vertical_flip else hflip(img), size)


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """The output → input pixel mapping [a, b, c, d, e, f] of a rotation, scale, shear and translation (torchvision's)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by ``angle`` degrees (clockwise, as torchvision), translate by (tx, ty) pixels, scale, shear (degrees)."""
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]
    shear = [float(s) for s in shear] + ([0.0] if len(shear) == 1 else [])
    if scale <= 0:
        raise ValueError("Argument scale should be positive")
    h, w = image_size(img)
    center = [w * 0.5, h * 0.5] if center is None else list(center)
    matrix = _inverse_affine_matrix(center, float(angle), [float(t) for t in translate], float(scale), shear)
    filter_ = resample(interpolation)
    Image = pil_module()
    return map_image(img, lambda pil, value: pil.transform(pil.size, Image.AFFINE, matrix, filter_, fillcolor=value), fill or 0)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default the image centre)."""
    filter_ = resample(interpolation)
    return map_image(img, lambda pil, value: pil.rotate(angle, filter_, expand, center, fillcolor=value), fill or 0)


def _perspective_coefficients(startpoints, endpoints):
    rows, targets = [], []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        targets += [u, v]
    solution = np.linalg.lstsq(np.array(rows, np.float64), np.array(targets, np.float64), rcond=None)[0]
    return solution.astype(np.float32).tolist()


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the four ``startpoints`` [[x, y], ...] land on ``endpoints``."""
    coefficients = _perspective_coefficients(startpoints, endpoints)
    filter_ = resample(interpolation)
    Image = pil_module()
    return map_image(img, lambda pil, value: pil.transform(pil.size, Image.PERSPECTIVE, coefficients, filter_, fillcolor=value), fill or 0)


# ----- blur -------------------------------------------------------------------------------------------------
def _gaussian_kernel1d(size, sigma):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size, dtype=np.float32)
    pdf = np.exp(-0.5 * (x / np.float32(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (odd ``kernel_size``, (kx, ky)); edges reflected, as torchvision."""
    kx, ky = (int(kernel_size),) * 2 if isinstance(kernel_size, numbers.Integral) else (int(kernel_size[0]), int(kernel_size[-1]))
    if kx <= 0 or ky <= 0 or kx % 2 == 0 or ky % 2 == 0:
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in (kx, ky)]
    sx, sy = (float(sigma),) * 2 if isinstance(sigma, numbers.Number) else (float(sigma[0]), float(sigma[-1]))
    if sx <= 0 or sy <= 0:
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if _is_pil(img):
        return to_pil_image(gaussian_blur(pil_to_tensor(img), [kx, ky], [sx, sy]), mode=img.mode)
    array = img._array if isinstance(img, Tensor) else np.moveaxis(img if img.ndim == 3 else img[:, :, None], -1, 0)
    work = array.astype(np.float32) if array.dtype.kind != "f" else array
    kernel = np.outer(_gaussian_kernel1d(ky, sy), _gaussian_kernel1d(kx, sx)).astype(work.dtype)
    widths = [(0, 0)] * (work.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    padded = np.pad(work, widths, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (ky, kx), axis=(-2, -1))
    out = np.einsum("...ij,ij->...", windows, kernel)
    if array.dtype.kind != "f":
        out = np.clip(np.round(out), np.iinfo(array.dtype).min, np.iinfo(array.dtype).max)
    out = np.ascontiguousarray(out.astype(array.dtype))
    if isinstance(img, Tensor):
        return Tensor(out)
    return np.moveaxis(out, 0, -1)[..., 0] if img.ndim == 2 else np.moveaxis(out, 0, -1)


# ----- colour -----------------------------------------------------------------------------------------------
def _channels_first(img, who):
    if isinstance(img, Tensor):
        array = img._array
        if array.ndim < 3:
            raise TypeError(f"{who}: expected a tensor image (..., C, H, W); got shape {array.shape}")
        return array
    raise TypeError(f"{who}: expected a PIL image or a tensor image (..., C, H, W); got {type(img).__name__}")


def _bound(array):
    return 1.0 if array.dtype.kind == "f" else float(np.iinfo(array.dtype).max)


def _gray(array):
    r, g, b = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(array.dtype)[..., None, :, :]


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B (PIL images: Pillow's "L" conversion), with 1 or 3 channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        gray = img.convert("L")
        if num_output_channels == 3:
            channel = np.asarray(gray)
            return pil_module().fromarray(np.dstack([channel] * 3), "RGB")
        return gray
    array = _channels_first(img, "rgb_to_grayscale")
    if array.shape[-3] == 1:
        gray = array
    elif array.shape[-3] == 3:
        gray = _gray(array)
    else:
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {array.shape[-3]}")
    if num_output_channels == 3:
        gray = np.repeat(gray, 3, axis=-3) if gray.shape[-3] == 1 else gray
    return Tensor(np.ascontiguousarray(gray))


to_grayscale = rgb_to_grayscale


def _blend(img1, img2, ratio):
    bound = _bound(img1)
    out = np.clip(ratio * img1.astype(np.float32 if img1.dtype.kind != "f" else img1.dtype) + (1.0 - ratio) * img2, 0, bound)
    return Tensor(out.astype(img1.dtype))


def _enhance(img, name, factor):
    from PIL import ImageEnhance

    return getattr(ImageEnhance, name)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    """Scale the values (0 gives black, 1 the image)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if _is_pil(img):
        return _enhance(img, "Brightness", brightness_factor)
    array = _channels_first(img, "adjust_brightness")
    return _blend(array, np.zeros_like(array, dtype=np.float32), brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level (0 gives a flat grey, 1 the image)."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if _is_pil(img):
        return _enhance(img, "Contrast", contrast_factor)
    array = _channels_first(img, "adjust_contrast")
    gray = _gray(array) if array.shape[-3] == 3 else array
    mean = gray.astype(np.float32).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(array, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blend with the grey image (0 gives grey, 1 the image)."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _is_pil(img):
        return _enhance(img, "Color", saturation_factor)
    array = _channels_first(img, "adjust_saturation")
    if array.shape[-3] == 1:
        return img
    return _blend(array, _gray(array).astype(np.float32), saturation_factor)


def _rgb_to_hsv(array):
    r, g, b = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    maxc, minc = array.max(axis=-3), array.min(axis=-3)
    equal = maxc == minc
    span = maxc - minc
    s = span / np.where(equal, np.ones_like(maxc), maxc)
    safe = np.where(equal, np.ones_like(span), span)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack([h, s, maxc], axis=-3)


def _hsv_to_rgb(array):
    h, s, v = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = [np.choose(i, [c[k] for c in choices]) for k in range(3)]
    return np.stack(out, axis=-3)


def adjust_hue(img, hue_factor):
    """Shift the hue by ``hue_factor`` of a full turn, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        Image = pil_module()
        if img.mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        shifted = (np.asarray(h, dtype=np.int32) + int(np.int32(hue_factor * 255))) % 256  # wraps, as torchvision's uint8 sum
        return Image.merge("HSV", (Image.fromarray(shifted.astype(np.uint8), "L"), s, v)).convert(img.mode)
    array = _channels_first(img, "adjust_hue")
    if array.shape[-3] == 1:
        return img
    work = array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array
    hsv = _rgb_to_hsv(work)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + hue_factor, 1.0)
    hsv[..., 0, :, :] = np.where(hsv[..., 0, :, :] < 0, hsv[..., 0, :, :] + 1.0, hsv[..., 0, :, :])
    rgb = _hsv_to_rgb(hsv)
    if array.dtype == np.uint8:
        rgb = (rgb * 255.0).astype(np.uint8)
    return Tensor(np.ascontiguousarray(rgb.astype(array.dtype)))


def erase(img, i, j, h, w, v, inplace=False):
    """Set the window (i, j, h, w) of a tensor image to ``v`` (a tensor broadcastable to it)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img).__name__}")
    array = img._array if inplace else img._array.copy()
    value = v._array if isinstance(v, Tensor) else np.asarray(v)
    array[..., i : i + h, j : j + w] = value
    return img if inplace else Tensor(array)
