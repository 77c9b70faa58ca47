"""Triangles and diagonals of matrices: ``tril``, ``triu``, ``diagonal``, ``diag``, ``trace`` (PyTorch's).

Each is built from differentiable ops (a constant mask, a gather), so gradients and gradients of
gradients come with them.
"""

import numpy as np

from ..tensor import Tensor, as_array
from .indexing import index_select

__all__ = ["tril", "triu", "diagonal", "diag", "diag_embed", "trace"]


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


def _triangle(name, input, diagonal, lower):
    input = _tensor(input)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = input.shape[-2:]
    mask = (np.tril if lower else np.triu)(np.ones((rows, cols), dtype=bool), int(diagonal))
    return input * Tensor(mask.astype(input._array.dtype))


def tril(input, diagonal=0):
    """The lower triangle (on and below ``diagonal``) of the last two dimensions; the rest is 0."""
    return _triangle("tril", input, diagonal, True)


def triu(input, diagonal=0):
    """The upper triangle (on and above ``diagonal``) of the last two dimensions; the rest is 0."""
    return _triangle("triu", input, diagonal, False)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2), moved to the last dimension (a gather: differentiable)."""
    from .shape import permute, reshape

    input = _tensor(input)
    dim1, dim2 = dim1 % input.ndim, dim2 % input.ndim
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = permute(input, [d for d in range(input.ndim) if d not in (dim1, dim2)] + [dim1, dim2])
    rows, cols = x.shape[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    flat = reshape(x, (*x.shape[:-2], rows * cols))
    index = (np.arange(length) + start_row) * cols + np.arange(length) + start_col
    return index_select(flat, flat.ndim - 1, Tensor(index.astype(np.int64)))


def diag_embed(input, offset=0):
    """Matrices with the last dimension of ``input`` on their ``offset`` diagonal."""
    from .shape import reshape

    input = _tensor(input)
    n = input.shape[-1]
    size = n + abs(offset)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    scatter = np.zeros((n, size * size), dtype=input._array.dtype)
    scatter[np.arange(n), rows * size + cols] = 1
    return reshape(input @ Tensor(scatter), (*input.shape[:-1], size, size))


def diag(input, diagonal=0):
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives that diagonal."""
    input = _tensor(input)
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    input = _tensor(input)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()
