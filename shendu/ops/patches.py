"""Sliding patches (PyTorch's ``unfold``/``fold``) and adaptive max pooling, from differentiable gathers.

``unfold`` (im2col) turns (N, C, H, W) into (N, C·kH·kW, L), one column per window position; ``fold`` (col2im)
sums such columns back into an image (overlaps add up), so ``fold(unfold(x))`` counts each pixel once per window
covering it. ``adaptive_max_pool1d/2d`` take the maximum over PyTorch's windows
[⌊i·in/out⌋, ⌈(i + 1)·in/out⌉).
"""

import math

import numpy as np

from ..tensor import Tensor
from .indexing import index_select

__all__ = ["unfold", "fold", "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _pair(value):
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def _window_index(height, width, kernel, dilation, padding, stride):
    """Flat indices into the padded image: (kH·kW, L) for each kernel offset and window position."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    padded_w = width + 2 * pw
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"unfold: the kernel {kernel} with dilation {dilation} is larger than the padded input {(height + 2 * ph, padded_w)}")
    rows = (np.arange(kh) * dh)[:, None, None, None] + (np.arange(out_h) * sh)[None, None, :, None]
    cols = (np.arange(kw) * dw)[None, :, None, None] + (np.arange(out_w) * sw)[None, None, None, :]
    return (rows * padded_w + cols).reshape(kh * kw, out_h * out_w), out_h, out_w


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) → (N, C·kH·kW, L): the sliding windows as columns."""
    from .shape import pad, reshape

    kernel, dilation, padding, stride = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    n, c, h, w = input.shape
    index, _, _ = _window_index(h, w, kernel, dilation, padding, stride)
    x = pad(input, (padding[1], padding[1], padding[0], padding[0])) if any(padding) else input
    flat = reshape(x, (n, c, -1))
    picked = index_select(flat, 2, Tensor(index.reshape(-1).astype(np.int64)))
    return reshape(picked, (n, c * kernel[0] * kernel[1], index.shape[1]))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C·kH·kW, L) → (N, C, H, W): columns summed back into an image (the adjoint of ``unfold``)."""
    from .shape import reshape

    (h, w), kernel = _pair(output_size), _pair(kernel_size)
    dilation, padding, stride = _pair(dilation), _pair(padding), _pair(stride)
    n, ckk, length = input.shape
    c = ckk // (kernel[0] * kernel[1])
    index, _, _ = _window_index(h, w, kernel, dilation, padding, stride)
    if index.shape[1] != length:
        raise RuntimeError(f"fold: expected {index.shape[1]} columns for output_size {(h, w)}, got {length}")
    padded_h, padded_w = h + 2 * padding[0], w + 2 * padding[1]
    scatter = np.zeros((index.size, padded_h * padded_w), dtype=input._array.dtype)
    scatter[np.arange(index.size), index.reshape(-1)] = 1
    columns = reshape(input, (n, c, index.size))
    image = reshape(columns @ Tensor(scatter), (n, c, padded_h, padded_w))
    return image[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


def _adaptive_windows(size, out):
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out)) for i in range(out)]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over PyTorch's adaptive windows of the last two dimensions."""
    from .shape import stack

    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d: return_indices=True is not available")
    oh, ow = _pair(output_size) if output_size is not None else input.shape[-2:]
    h, w = input.shape[-2:]
    oh, ow = oh or h, ow or w
    rows = []
    for top, bottom in _adaptive_windows(h, oh):
        rows.append(stack([input[..., top:bottom, left:right].amax(dim=(-2, -1)) for left, right in _adaptive_windows(w, ow)], -1))
    return stack(rows, -2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over PyTorch's adaptive windows of the last dimension."""
    from .shape import stack

    if return_indices:
        raise NotImplementedError("adaptive_max_pool1d: return_indices=True is not available")
    return stack([input[..., a:b].amax(dim=-1) for a, b in _adaptive_windows(input.shape[-1], int(output_size))], -1)
