"""Indexing: ``x[...]`` (slices, integer and boolean arrays), gather, masked_fill, one_hot, index_select."""

from .._backend import xp
from ..autograd import Function, sum_to
from ..tensor import Tensor, _index_key

__all__ = ["index", "gather", "scatter", "masked_fill", "one_hot", "index_select", "nonzero", "take_along_dim", "embedding_lookup"]


def _is_basic(key):
    """True for keys made only of ints, slices, None and Ellipsis: the result is a view."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, slice, type(None), type(Ellipsis))) and not isinstance(k, bool) for k in parts)


class Index(Function):
    """y = x[key]; backward scatter-adds gy into zeros of x's shape (repeated indices add up)."""

    differentiable_backward = True

    def __init__(self, key, basic):
        self.key, self.basic = key, basic

    def forward(self, x):
        self.shape = x.shape
        return x[self.key]

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return IndexBackward(self.key, self.basic, self.shape)(gy)
        return _scatter_into_zeros(gy, self.key, self.basic, self.shape)


def _scatter_into_zeros(gy, key, basic, shape):
    gx = xp.zeros(shape, dtype=gy.dtype)
    if basic:
        gx[key] = gy
    else:
        xp.add.at(gx, key, gy)
    return gx


class IndexBackward(Function):
    """The adjoint of Index, itself differentiable (its gradient is Index again)."""

    differentiable_backward = True

    def __init__(self, key, basic, shape):
        self.key, self.basic, self.shape = key, basic, shape

    def forward(self, gy):
        return _scatter_into_zeros(gy, self.key, self.basic, self.shape)

    def backward(self, ggx):
        if isinstance(ggx, Tensor):
            return Index(self.key, self.basic)(ggx)
        return ggx[self.key]


def index(input, key):
    """``input[key]`` with NumPy/PyTorch semantics; integer-array indices may repeat."""
    key = _index_key(key)
    parts = key if isinstance(key, tuple) else (key,)
    for part in parts:
        if isinstance(part, xp.ndarray) and part.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int or bool; got dtype {part.dtype}")
    try:
        return Index(key, _is_basic(key))(input)
    except IndexError as error:
        raise IndexError(f"index {_describe(key)} is out of range for a tensor of shape {tuple(input.shape)}: {error}") from None


def _describe(key):
    if isinstance(key, xp.ndarray):
        return f"array of shape {key.shape}"
    if isinstance(key, tuple):
        return "(" + ", ".join(_describe(k) for k in key) + ")"
    return repr(key)


def gather(input, dim, index):
    """Pick values along ``dim`` by ``index`` (same rank as input), as ``torch.gather``."""
    indices = index._array if isinstance(index, Tensor) else xp.asarray(index)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor; got dtype {indices.dtype}")
    if indices.ndim != input.ndim:
        raise ValueError(f"gather: index has {indices.ndim} dims but input has {input.ndim}; they must match")
    axis = dim % max(input.ndim, 1)
    if indices.size and (indices.min() < -input.shape[axis] or indices.max() >= input.shape[axis]):
        raise IndexError(f"gather: index out of range for dimension {dim} of size {input.shape[axis]}")
    # NOTE: gather is advanced indexing with ``indices`` along ``axis`` and a broadcast grid
    # elsewhere, so it shares Index's scatter-add backward (and grad of grad).
    key = list(xp.ix_(*[xp.arange(n) for n in indices.shape]))
    key[axis] = indices
    return Index(tuple(key), False)(input)


def take_along_dim(input, indices, dim):
    return gather(input, dim, indices)


def scatter(input, dim, index, src):
    """Out-of-place scatter (no gradient to ``src`` positions overwritten)."""
    out = input._array.copy()
    idx = index._array if isinstance(index, Tensor) else xp.asarray(index)
    values = src._array if isinstance(src, Tensor) else src
    xp.put_along_axis(out, idx, values, axis=dim)
    return Tensor._from_op(out, False)


class MaskedFill(Function):
    """y = value where mask else x; the filled positions get no gradient."""

    differentiable_backward = True

    def __init__(self, mask, value):
        self.mask, self.value = mask, value

    def forward(self, x):
        self.shape = x.shape
        return xp.where(self.mask, xp.asarray(self.value, dtype=x.dtype), x)

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return sum_to(MaskedFill(self.mask, 0)(gy), self.shape)
        return sum_to(xp.where(self.mask, xp.zeros((), gy.dtype), gy), self.shape)


def masked_fill(input, mask, value):
    """Replace the elements where ``mask`` is True by ``value``; they get no gradient."""
    mask = mask._array if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor; got dtype {mask.dtype}")
    if isinstance(value, Tensor):
        value = value.item()
    try:
        xp.broadcast_shapes(mask.shape, input._array.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to input {tuple(input.shape)}") from None
    return MaskedFill(mask, value)(input)


def one_hot(tensor, num_classes=-1):
    """Class indices → one-hot int64 rows (``num_classes`` = max + 1 by default)."""
    labels = tensor._array if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors; got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative; got {int(labels.min())}")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class value {int(labels.max())} is out of range for num_classes={num_classes}")
    out = (labels[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._from_op(out, False)


class EmbeddingLookup(Function):
    """y = W[indices]; backward adds each row's gradient into its row of W (np.add.at)."""

    differentiable_backward = True

    def __init__(self, indices, padding_idx=None):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.rows = weight.shape[0]
        self.shape = weight.shape
        return weight[self.indices]

    def backward(self, gy):
        if isinstance(gy, Tensor):  # the differentiable scatter-add of indexing
            gw = IndexBackward(self.indices, False, self.shape)(gy)
            if self.padding_idx is None:
                return gw
            keep = xp.ones((self.rows,) + (1,) * (len(self.shape) - 1), dtype=gy._array.dtype)
            keep[self.padding_idx] = 0
            return gw * Tensor._from_op(keep, False)
        flat_idx = self.indices.reshape(-1)
        flat_g = gy.reshape(len(flat_idx), -1)
        gw = xp.zeros((self.rows, flat_g.shape[1]), dtype=gy.dtype)
        xp.add.at(gw, flat_idx, flat_g)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw


def embedding_lookup(weight, indices, padding_idx=None):
    """Rows of ``weight`` at integer ``indices`` (the Embedding layer's op)."""
    idx = indices._array if isinstance(indices, Tensor) else xp.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64); got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        bad = int(idx.max()) if idx.max() >= weight.shape[0] else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for num_embeddings={weight.shape[0]} (valid: 0..{weight.shape[0] - 1})")
    return EmbeddingLookup(idx, padding_idx)(weight)


def index_select(input, dim, index):
    idx = index._array if isinstance(index, Tensor) else xp.asarray(index)
    key = [slice(None)] * input.ndim
    key[dim % input.ndim] = idx
    return Index(tuple(key), False)(input)


def nonzero(input, as_tuple=False):
    array = input._array if isinstance(input, Tensor) else xp.asarray(input)
    found = xp.nonzero(array)
    if as_tuple:
        return tuple(Tensor._from_op(i.astype(xp.int64), False) for i in found)
    return Tensor._from_op(xp.stack(found, axis=1).astype(xp.int64), False)
