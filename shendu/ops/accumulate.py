"""Adding into positions: ``index_add`` and ``scatter_add`` (PyTorch's), differentiable in both inputs.

``index_add(x, dim, index, source)``: y = x, then y[..., index[i], ...] += α·source[..., i, ...] along ``dim``
(repeated indices add up); ``scatter_add(x, dim, index, src)``: y = x, then y[i][index[i][j]] += src[i][j] along
``dim`` (PyTorch's gather layout). Both are x plus the scatter-add that is the gradient of indexing, so their
gradients are ∂L/∂x = ∂L/∂y and ∂L/∂source = ∂L/∂y gathered at the same positions (α times).
"""

from .._backend import xp
from ..tensor import Tensor
from .indexing import IndexBackward

__all__ = ["index_add", "scatter_add"]


def _indices(index, name):
    array = index._array if isinstance(index, Tensor) else xp.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}(): Expected dtype int64 for index")
    return array.astype(xp.int64, copy=False)


def index_add(input, dim, index, source, *, alpha=1):
    """y = input with ``alpha·source`` added at positions ``index`` (a 1-D tensor) along ``dim``."""
    indices = _indices(index, "index_add")
    if indices.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    axis = dim % max(input.ndim, 1)
    if source.ndim != input.ndim or source.shape[axis] != indices.size or any(
        source.shape[i] != input.shape[i] for i in range(input.ndim) if i != axis
    ):
        raise RuntimeError(f"index_add_(): source of shape {list(source.shape)} does not fit input {list(input.shape)} "
                           f"with {indices.size} indices along dim {dim}")  # fmt: skip
    if indices.size and (indices.min() < -input.shape[axis] or indices.max() >= input.shape[axis]):
        raise IndexError(f"index_add_(): index out of range for dimension {dim} of size {input.shape[axis]}")
    key = (slice(None),) * axis + (indices,)
    added = IndexBackward(key, False, tuple(input.shape))(source if alpha == 1 else source * alpha)
    return input + added


def scatter_add(input, dim, index, src):
    """y = input with ``src[i][j]`` added at ``y[i][index[i][j]]`` along ``dim`` (torch.scatter_add)."""
    indices = _indices(index, "scatter_add")
    axis = dim % max(input.ndim, 1)
    if indices.ndim != input.ndim:
        raise RuntimeError("scatter_add(): Index tensor must have the same number of dimensions as self tensor")
    if any(indices.shape[i] > src.shape[i] for i in range(indices.ndim)) or any(
        indices.shape[i] > input.shape[i] for i in range(indices.ndim) if i != axis
    ):
        raise RuntimeError(f"scatter_add(): index of shape {list(indices.shape)} is larger than src {list(src.shape)} "
                           f"or input {list(input.shape)} outside dim {dim}")  # fmt: skip
    if indices.size and (indices.min() < -input.shape[axis] or indices.max() >= input.shape[axis]):
        raise IndexError(f"scatter_add(): index out of range for dimension {dim} of size {input.shape[axis]}")
    used = src[tuple(slice(0, n) for n in indices.shape)] if tuple(src.shape) != indices.shape else src
    key = list(xp.ix_(*[xp.arange(n) for n in indices.shape]))
    key[axis] = indices
    return input + IndexBackward(tuple(key), False, tuple(input.shape))(used)
