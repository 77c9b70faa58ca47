"""Spatial transformers: ``affine_grid`` and ``grid_sample`` (PyTorch's ``F.affine_grid`` / ``F.grid_sample``), 2-D.

``affine_grid(θ, (N, C, H, W))`` gives, for every output pixel, the point θ·(x, y, 1) it samples,
in normalised coordinates (−1 the left/top edge, +1 the right/bottom one). ``grid_sample(input,
grid)`` reads ``input`` at those points:

- the point (gx, gy) is mapped to pixel coordinates x = ((gx + 1)·W − 1)/2 (``align_corners=False``:
  ±1 are the outer edges of the edge pixels) or x = (gx + 1)·(W − 1)/2 (``align_corners=True``: ±1
  are the edge pixels' centres), likewise y;
- ``padding_mode``: ``"zeros"`` reads 0 outside the image, ``"border"`` clamps x to [0, W − 1],
  ``"reflection"`` reflects x at the edges (then clamps);
- ``mode="bilinear"``: out = Σ over the four neighbours (1 − |x − xᵢ|)(1 − |y − yᵢ|)·input[yᵢ, xᵢ];
  ``mode="nearest"``: the pixel at (round(x), round(y)), halves to even.

Backward: ∂L/∂input scatters each output gradient back to the four neighbours with the same weights;
∂L/∂grid = Σ_c ∂L/∂out · ∂out/∂x · ∂x/∂gx, with ∂out/∂x = (1 − wy)(v₀₁ − v₀₀) + wy(v₁₁ − v₁₀), ∂x/∂gx
the scale above times the padding's derivative (0 where clamped, −1 where reflected an odd number of
times); nearest sampling has no gradient with respect to the grid.
"""

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .linalg import matmul

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest")
_PADDINGS = ("zeros", "border", "reflection")


def _base_coordinates(size, align_corners, dtype):
    """The normalised centres of ``size`` pixels along one axis."""
    if align_corners:
        return np.linspace(-1.0, 1.0, size, dtype=dtype) if size > 1 else np.zeros(1, dtype)
    return ((np.arange(size, dtype=dtype) * 2 + 1) / size - 1).astype(dtype)


def affine_grid(theta, size, align_corners=False):
    """Sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of ``size`` (N, C, H, W)."""
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid: theta must be a Tensor; got {type(theta).__name__}")
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise ValueError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported; got size={list(size)}")
    n, _, h, w = size
    if theta.ndim != 3 or tuple(theta.shape) != (n, 2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {list(size)}. Got {list(theta.shape)}.")
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    dtype = theta._array.dtype
    xs, ys = _base_coordinates(w, align_corners, dtype), _base_coordinates(h, align_corners, dtype)
    base = np.stack([np.tile(xs, h), np.repeat(ys, w), np.ones(h * w, dtype)], axis=1)  # (H·W, 3): x, y, 1
    return matmul(Tensor(base), theta.transpose(1, 2)).reshape(n, h, w, 2)


def _unnormalise(g, size, align_corners):
    """Pixel coordinates of normalised ones, and dx/dg."""
    if align_corners:
        return (g + 1) * ((size - 1) / 2), (size - 1) / 2
    return ((g + 1) * size - 1) / 2, size / 2


def _reflect(x, twice_low, twice_high):
    """PyTorch's reflect_coordinates, with its derivative (±1)."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    offset = x - low
    sign = np.where(offset < 0, -1.0, 1.0)
    distance = np.abs(offset)
    flips = np.floor(distance / span)
    extra = np.fmod(distance, span)
    even = np.fmod(flips, 2) == 0
    return np.where(even, extra + low, span - extra + low), np.where(even, sign, -sign)


def _source(g, size, padding_mode, align_corners):
    """Pixel coordinates to sample along one axis, and their derivative with respect to ``g``."""
    x, scale = _unnormalise(g, size, align_corners)
    slope = np.full_like(x, scale)
    if padding_mode == "reflection":
        x, sign = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        slope = slope * sign
    if padding_mode in ("border", "reflection"):
        inside = (x > 0) & (x < size - 1)
        x = np.clip(x, 0, size - 1)
        slope = np.where(inside, slope, 0.0)
    return x, slope


class GridSample(Function):
    def __init__(self, mode, padding_mode, align_corners):
        self.mode, self.padding_mode, self.align_corners = mode, padding_mode, align_corners

    def forward(self, input, grid):
        mode, padding_mode, align_corners = self.mode, self.padding_mode, self.align_corners
        n, c, h, w = input.shape
        dtype = input.dtype
        x, dx = _source(grid[..., 0].astype(np.float64), w, padding_mode, align_corners)
        y, dy = _source(grid[..., 1].astype(np.float64), h, padding_mode, align_corners)
        flat = input.reshape(n, c, h * w)
        points = x.shape[1:]
        x, y, dx, dy = (a.reshape(n, -1) for a in (x, y, dx, dy))
        if mode == "nearest":
            corners = [(np.rint(x), np.rint(y), np.ones_like(x))]
        else:
            x0, y0 = np.floor(x), np.floor(y)
            wx, wy = x - x0, y - y0
            corners = [(x0, y0, (1 - wx) * (1 - wy)), (x0 + 1, y0, wx * (1 - wy)),
                       (x0, y0 + 1, (1 - wx) * wy), (x0 + 1, y0 + 1, wx * wy)]  # fmt: skip
        gathered = []
        out = np.zeros((n, c, x.shape[1]), np.float64)
        for cx, cy, weight in corners:
            valid = (cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1)
            index = (np.clip(cy, 0, h - 1) * w + np.clip(cx, 0, w - 1)).astype(np.int64)
            values = np.take_along_axis(flat, index[:, None, :], axis=2) * valid[:, None, :]
            gathered.append((index, valid, weight, values))
            out += weight[:, None, :] * values
        self.saved = (input.shape, dtype, mode, gathered, x, y, dx, dy, points)
        return out.reshape(n, c, *points).astype(dtype)

    def backward(self, gy):
        (n, c, h, w), dtype, mode, gathered, x, y, dx, dy, points = self.saved
        g = gy.reshape(n, c, -1).astype(np.float64)
        grad_input = grad_grid = None
        if self.needs_input_grad[0]:
            grad_flat = np.zeros((c, n * h * w), np.float64)
            offsets = (np.arange(n) * h * w)[:, None]
            for index, valid, weight, _ in gathered:
                target = (index + offsets).ravel()
                contribution = (g * (weight * valid)[:, None, :]).transpose(1, 0, 2).reshape(c, -1)
                for channel in range(c):
                    grad_flat[channel] += np.bincount(target, contribution[channel], minlength=n * h * w)
            grad_input = grad_flat.reshape(c, n, h, w).transpose(1, 0, 2, 3).astype(dtype)
        if self.needs_input_grad[1]:
            grad_grid = np.zeros((n, x.shape[1], 2), np.float64)
            if mode == "bilinear":
                (_, _, _, v00), (_, _, _, v01), (_, _, _, v10), (_, _, _, v11) = gathered
                wx, wy = (x - np.floor(x))[:, None, :], (y - np.floor(y))[:, None, :]
                d_out_dx = (1 - wy) * (v01 - v00) + wy * (v11 - v10)
                d_out_dy = (1 - wx) * (v10 - v00) + wx * (v11 - v01)
                grad_grid[..., 0] = (g * d_out_dx).sum(axis=1) * dx
                grad_grid[..., 1] = (g * d_out_dy).sum(axis=1) * dy
            grad_grid = grad_grid.reshape(n, *points, 2).astype(dtype)
        return grad_input, grad_grid


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the normalised points ``grid`` (N, Hₒ, Wₒ, 2) → (N, C, Hₒ, Wₒ).

    Args:
        mode: ``"bilinear"`` or ``"nearest"``. Defaults to "bilinear".
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``. Defaults to "zeros".
        align_corners: whether ±1 are the centres (True) or the outer edges (False) of the edge pixels.
            Defaults to False (PyTorch's default since 1.3).
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear' or 'nearest', but got: '{mode}'"
                         + (" (bicubic is not supported by shendu)" if mode == "bicubic" else ""))  # fmt: skip
    if padding_mode not in _PADDINGS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: '{padding_mode}'")
    for name, value in (("input", input), ("grid", grid)):
        if not isinstance(value, Tensor):
            raise TypeError(f"grid_sample: {name} must be a Tensor; got {type(value).__name__}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2:
        raise ValueError(f"grid_sample: expected a 4-D input and a grid of shape (N, H, W, 2); got input {list(input.shape)} "
                         f"and grid {list(grid.shape)} (5-D volumetric sampling is not supported)")  # fmt: skip
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")  # fmt: skip
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input has {input.dtype} "
                           f"and grid has {grid.dtype}")  # fmt: skip
    return GridSample(mode, padding_mode, bool(align_corners))(input, grid)
