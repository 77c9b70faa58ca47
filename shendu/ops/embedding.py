"""Embedding lookup: rows of a weight matrix picked by integer indices, with a fast backward."""

from .._backend import xp
from ..autograd import Function, no_grad
from ..tensor import Tensor

__all__ = ["embedding", "embedding_bag"]


_LONG_RUN = 64  # an index repeated this often in a batch has its gradient rows summed by a matmul


class Embed(Function):
    """y = W[indices]; ∂L/∂W sums the rows of gy that share an index.

    NOTE: ``np.add.at`` on rows is slow. Backward sorts the indices, writes the first
    occurrence of every index with one fancy assignment, and adds only the repeats, element
    by element through the flat (fast, 1-D) ``add.at`` — except long runs of one index (the
    padding index of padded text comes thousands of times a batch), each summed by one
    ones-vector matmul: 550 → 200 µs for a batch of 32 × 100 fortunes, 76 % padding.
    (``np.add.reduceat`` over rows was slower than either.)
    """

    def __init__(self, indices, padding_idx=None, scale_grad_by_freq=False):
        self.indices, self.padding_idx, self.scale_grad_by_freq = indices, padding_idx, scale_grad_by_freq

    def forward(self, weight):
        self.rows = weight.shape[0]
        return xp.take(weight, self.indices, axis=0)

    def backward(self, gy):
        flat = self.indices.reshape(-1)
        dim = gy.shape[-1]
        g = gy.reshape(flat.size, dim)
        if self.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=self.rows)
            g = g / counts[flat][:, None].astype(g.dtype)
        gw = xp.zeros((self.rows, dim), gy.dtype)
        order = xp.argsort(flat, kind="stable")
        ordered = flat[order]
        first = xp.empty(flat.size, bool)
        first[:1] = True
        xp.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        gw[ordered[first]] = g[order[first]]
        repeated = ~first
        starts = xp.flatnonzero(first)
        lengths = xp.diff(starts, append=flat.size)
        long_runs = lengths >= _LONG_RUN
        if long_runs.any():
            repeated[xp.repeat(long_runs, lengths)] = False
            for start, length in zip(starts[long_runs].tolist(), lengths[long_runs].tolist()):
                gw[ordered[start]] = xp.ones(length, g.dtype) @ g[order[start : start + length]]
        repeats = order[repeated]
        if repeats.size:
            keys = (flat[repeats, None] * dim + xp.arange(dim)).reshape(-1)
            xp.add.at(gw.reshape(-1), keys, g[repeats].reshape(-1))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) at integer ``input``.

    Args:
        input: integer indices of any shape.
        weight: the embedding matrix (num_embeddings, embedding_dim).
        padding_idx: this row gets no gradient. Defaults to None.
        max_norm: rows looked up with a larger ``norm_type``-norm are rescaled to it, in place. Defaults to None.
        norm_type: the p of that norm. Defaults to 2.0.
        scale_grad_by_freq: divide each row's gradient by its index's count in the batch. Defaults to False.
        sparse: sparse gradients are not supported; must be False.

    Shape:
        input (*) → output (*, embedding_dim).

    Example:
        >>> F.embedding(tensor([[1, 2], [0, 1]]), randn(3, 4)).shape
        shendu.Size([2, 2, 4])
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"embedding: weight must be a 2-D tensor (num_embeddings, embedding_dim); got {shape}")
    if sparse:
        raise ValueError("embedding: sparse gradients are not supported; use sparse=False")
    rows = weight.shape[0]
    idx = indices_of(input, rows, "embedding")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx={padding_idx} must be within num_embeddings={rows}")
        padding_idx %= rows
    return lookup(idx, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)


def indices_of(input, rows, name):
    """The index array of ``input``, checked: integer dtype (TypeError) and within [0, rows) (IndexError)."""
    idx = input._array if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name} expects integer indices (int64 or int32); got dtype {idx.dtype}. Convert with .long()")
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= rows:
            bad = low if low < 0 else high
            raise IndexError(f"{name} got index {bad}, out of range for num_embeddings={rows} (valid: 0..{rows - 1})")
    return idx


def lookup(idx, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False):
    """The differentiable lookup on checked indices (``padding_idx`` already non-negative)."""
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embed(idx, padding_idx, scale_grad_by_freq)(weight)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Rescale in place the looked-up rows whose norm exceeds ``max_norm`` (as torch.embedding_renorm_)."""
    with no_grad():
        rows = xp.unique(idx.reshape(-1))
        picked = weight._array[rows]
        norms = xp.linalg.norm(picked.astype(xp.float64), ord=norm_type, axis=1)
        over = norms > max_norm
        if over.any():
            scale = (max_norm / (norms[over] + 1e-7)).astype(picked.dtype)
            weight._array[rows[over]] = picked[over] * scale[:, None]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):  # fmt: skip
    """Sums, means or maxima of bags of embeddings, as ``torch.nn.functional.embedding_bag``.

    A bag is a row of a 2-D ``input`` (B, N), or, for a 1-D ``input``, the indices from ``offsets[b]``
    up to the next offset. ``padding_idx`` entries take no part (not counted in the mean); an empty
    bag gives zeros. ``per_sample_weights`` (input's shape) scale each looked-up row (mode "sum" only).

    out[b] = Σ_{i ∈ bag b} w_i·W[input_i]  (sum),  that / |bag b|  (mean),  max_i W[input_i]  (max).
    """
    from .linalg import matmul
    from .shape import cat

    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max'. Received: mode={mode!r}")
    if sparse:
        raise ValueError("embedding_bag: sparse gradients are not supported. Received: sparse=True")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")  # fmt: skip
    rows = weight.shape[0]
    idx = indices_of(input, rows, f"embedding_bag(num_embeddings={rows})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as input is treated as a "
                             "mini-batch of fixed length sequences.")  # fmt: skip
        bags, length = idx.shape
        starts = xp.arange(0, bags * length + 1, length)
        flat = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got null")
        starts = xp.asarray(offsets._array if isinstance(offsets, Tensor) else offsets).astype(xp.int64).reshape(-1)
        if starts.size and (starts[0] != 0 or xp.any(xp.diff(starts) < 0) or starts[-1] > idx.size):
            raise ValueError(f"embedding_bag: offsets must start at 0, not decrease and stay within the input's "
                             f"{idx.size} indices; got {starts.tolist()[:10]}")  # fmt: skip
        starts = starts if include_last_offset else xp.concatenate([starts, [idx.size]])
        flat = idx
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if padding_idx is not None:
        padding_idx %= rows
    bags = len(starts) - 1
    bag_of = xp.repeat(xp.arange(bags), xp.diff(starts))
    keep = xp.ones(flat.size, bool) if padding_idx is None else flat != padding_idx
    looked_up = lookup(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)  # (total, D)
    if per_sample_weights is not None:
        sample = per_sample_weights if isinstance(per_sample_weights, Tensor) else Tensor(xp.asarray(per_sample_weights))
        looked_up = looked_up * sample.reshape(-1, 1)
    if mode in ("sum", "mean"):
        pooling = xp.zeros((bags, flat.size), weight._array.dtype)
        pooling[bag_of[keep], xp.nonzero(keep)[0]] = 1.0
        if mode == "mean":
            counts = pooling.sum(axis=1, keepdims=True)
            pooling = xp.divide(pooling, counts, out=xp.zeros_like(pooling), where=counts > 0)
        return matmul(Tensor(pooling), looked_up)
    # max: each bag's rows gathered into a (bags, longest, D) block padded with −inf, reduced, empty bags → 0
    positions = xp.nonzero(keep)[0]
    members = bag_of[positions]
    counts = xp.bincount(members, minlength=bags)
    longest = max(int(counts.max(initial=0)), 1)
    first = xp.concatenate([[0], xp.cumsum(counts)[:-1]]).astype(xp.int64)  # where each bag's kept rows begin
    table = xp.full((bags, longest), flat.size, xp.int64)  # index flat.size is the −inf row
    table[members, xp.arange(positions.size) - xp.repeat(first, counts)] = positions
    fill = Tensor(xp.full((1, weight.shape[1]), -xp.inf, weight._array.dtype))
    out = cat([looked_up, fill], dim=0)[table].amax(dim=1)
    empty = counts == 0
    if empty.any():
        out = out.masked_fill(Tensor(xp.broadcast_to(empty[:, None], tuple(out.shape))), 0.0)
    return out
