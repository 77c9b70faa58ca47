"""``max_unpool1d/2d`` (the partial inverse of max pooling, from its indices) and ``lp_pool1d/2d`` (power-average
pooling), as PyTorch's, built from differentiable ops.

max_unpool: y (zeros of the unpooled size) with y[n, c, index[n, c, k]] = x[n, c, k], indices flat over each plane
(as ``max_pool(..., return_indices=True)`` gives them; a maximum shared by overlapping windows is written once,
as PyTorch); ∂L/∂x gathers ∂L/∂y at the same places (so each copy gets it).
lp_pool: y = (Σ_window x^p)^(1/p) = (k·avg_pool(x^p))^(1/p), as PyTorch computes it.
"""

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["max_unpool1d", "max_unpool2d", "lp_pool1d", "lp_pool2d"]


class Unpool(Function):
    """y[n, c, index[n, c, k]] = x[n, c, k] over zeros of ``plane`` positions; ∂L/∂x[n, c, k] = ∂L/∂y[n, c, index]."""

    def __init__(self, index, plane):
        self.index, self.plane = index, plane

    def forward(self, x):
        n, c, _ = x.shape
        out = xp.zeros((n, c, self.plane), x.dtype)
        xp.put_along_axis(out, self.index, x, axis=2)
        return out

    def backward(self, gy):
        return xp.take_along_axis(gy, self.index, axis=2)


def _pair(value, count):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * count


def _unpool(input, indices, kernel_size, stride, padding, output_size, spatial, name):
    kernel = _pair(kernel_size, spatial)
    stride = _pair(stride if stride is not None else kernel_size, spatial)
    padding = _pair(padding, spatial)
    batched = input.ndim == spatial + 2
    x = input if batched else input.unsqueeze(0)
    index = indices._array if isinstance(indices, Tensor) else xp.asarray(indices)
    index = index if batched else index[None]
    if index.shape != tuple(x.shape):
        raise ValueError(f"{name}: indices of shape {list(index.shape)} do not match the input's {list(input.shape)}")
    if output_size is None:
        size = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + kernel[i] for i in range(spatial))
    else:
        size = tuple(output_size)[-spatial:]
    n, c = x.shape[:2]
    plane = int(xp.prod(size))
    if index.size and (index.min() < 0 or index.max() >= plane):
        raise ValueError(f"{name}: found an invalid max index {int(index.max())} (output volume of size {plane})")
    out = Unpool(index.reshape(n, c, -1).astype(xp.int64), plane)(x.reshape(n, c, -1)).reshape(n, c, *size)
    return out if batched else out.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of ``input`` (N, C, L) back at its index; zeros elsewhere."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of ``input`` (N, C, H, W) back at its flat index in its plane; zeros elsewhere."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, spatial):
    from .activation import relu
    from .pooling import avg_pool1d, avg_pool2d

    kernel = _pair(kernel_size, spatial)
    pool = avg_pool2d if spatial == 2 else avg_pool1d
    out = pool(input.pow(norm_type), kernel if spatial == 2 else kernel[0], stride, 0, ceil_mode)
    count = kernel[0] * (kernel[1] if spatial == 2 else 1)
    return (out.sign() * relu(out.abs())).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window x^p)^(1/p) over windows of ``kernel_size``."""
    return _lp_pool(input, float(norm_type), kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(Σ_window x^p)^(1/p) over (kh, kw) windows."""
    return _lp_pool(input, float(norm_type), kernel_size, stride, ceil_mode, 2)
