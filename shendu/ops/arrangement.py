"""Rearranging and combining tensors (PyTorch's): ``roll``, ``repeat_interleave``, ``meshgrid``, ``hstack``,
``vstack``, ``broadcast_tensors``, ``masked_select``, ``kron``, ``tensordot``, ``addmm``, ``baddbmm``,
``mv``, ``inner``, ``cdist``. All are compositions of differentiable ops."""

import numbers

import numpy as np

from ..tensor import Tensor, as_array
from .indexing import index_select

__all__ = ["roll", "repeat_interleave", "meshgrid", "hstack", "vstack", "dstack", "column_stack", "broadcast_tensors",
           "masked_select", "kron", "tensordot", "addmm", "baddbmm", "mv", "inner", "cdist", "atleast_1d", "atleast_2d",
           "atleast_3d", "tensor_split", "block_diag", "cartesian_prod", "take", "diff", "cumprod",
           "logcumsumexp", "rot90", "flipud", "fliplr", "cross", "sgn", "signbit", "copysign"]  # fmt: skip


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(as_array(value))


def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` (flattened when None), wrapping around."""
    from .shape import reshape

    input = _tensor(input)
    if dims is None:
        flat = reshape(input, (-1,))
        return reshape(roll(flat, shifts, 0), tuple(input.shape))
    shifts = [shifts] if isinstance(shifts, numbers.Integral) else list(shifts)
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    for shift, dim in zip(shifts, dims):
        n = input.shape[dim]
        index = (np.arange(n) - int(shift)) % n if n else np.arange(0)
        input = index_select(input, dim, Tensor(index.astype(np.int64)))
    return input


def repeat_interleave(input, repeats=None, dim=None, output_size=None):
    """Repeat each element ``repeats`` times (an int or one count per element) along ``dim`` (flattened when None)."""
    from .shape import reshape

    input = _tensor(input)
    if repeats is None:  # repeat_interleave(repeats): the indices repeated
        counts = input._array.astype(np.int64)
        return Tensor(np.repeat(np.arange(len(counts)), counts))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    counts = repeats._array if isinstance(repeats, Tensor) else np.asarray(repeats)
    index = np.repeat(np.arange(input.shape[dim]), counts)
    return index_select(input, dim, Tensor(index.astype(np.int64)))


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors; ``indexing`` "ij" (matrix) or "xy" (Cartesian: the first two swapped)."""
    from .shape import expand, reshape

    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    tensors = [_tensor(t) for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0, *range(2, len(tensors))] if swap else list(range(len(tensors)))
    shape = [tensors[i].shape[0] for i in order]
    grids = []
    for position, i in enumerate(order):
        view = [1] * len(tensors)
        view[position] = tensors[i].shape[0]
        grids.append((i, expand(reshape(tensors[i], tuple(view)), tuple(shape))))
    return tuple(grid for _, grid in sorted(grids, key=lambda pair: pair[0]))


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    from .shape import cat

    tensors = [_tensor(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors as rows."""
    from .shape import cat, reshape

    return cat([reshape(t, (1, -1)) if t.ndim == 1 else t for t in (_tensor(t) for t in tensors)], 0)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    from .shape import expand

    tensors = [_tensor(t) for t in tensors]
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def masked_select(input, mask):
    """A 1-D tensor of the elements where ``mask`` (broadcast) is True."""
    input, mask = broadcast_tensors(_tensor(input), _tensor(mask))
    from .shape import reshape

    flat = reshape(input, (-1,))
    index = np.flatnonzero(mask._array.astype(bool))
    return index_select(flat, 0, Tensor(index.astype(np.int64)))


def kron(input, other):
    """The Kronecker product of two tensors of one rank."""
    from .shape import reshape

    a, b = _tensor(input), _tensor(other)
    if a.ndim != b.ndim:
        raise RuntimeError("kron: the two tensors must have the same number of dimensions")
    rank = a.ndim
    a_view = reshape(a, tuple(s for n in a.shape for s in (n, 1)))
    b_view = reshape(b, tuple(s for n in b.shape for s in (1, n)))
    return reshape(a_view * b_view, tuple(x * y for x, y in zip(a.shape, b.shape))) if rank else a * b


def tensordot(a, b, dims=2):
    """Sum over the last ``dims`` dimensions of ``a`` and the first of ``b`` (or the given lists of dimensions)."""
    from .linalg import einsum

    a, b = _tensor(a), _tensor(b)
    if isinstance(dims, numbers.Integral):
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    a_terms = [next(letters) for _ in range(a.ndim)]
    b_terms = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(dims_a, dims_b):
        b_terms[j % b.ndim] = a_terms[i % a.ndim]
    kept = [t for i, t in enumerate(a_terms) if i % a.ndim not in [d % a.ndim for d in dims_a]]
    kept += [t for j, t in enumerate(b_terms) if j % b.ndim not in [d % b.ndim for d in dims_b]]
    return einsum(f"{''.join(a_terms)},{''.join(b_terms)}->{''.join(kept)}", a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta·input + alpha·(mat1 @ mat2)."""
    return _tensor(input) * beta + (_tensor(mat1) @ _tensor(mat2)) * alpha


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·(batch1 @ batch2), batched."""
    return _tensor(input) * beta + (_tensor(batch1) @ _tensor(batch2)) * alpha


def mv(input, vec):
    """Matrix × vector."""
    return _tensor(input) @ _tensor(vec)


def inner(input, other):
    """Sum over the last dimension of both (a dot product for vectors)."""
    a, b = _tensor(input), _tensor(other)
    return (a * b).sum() if a.ndim == b.ndim == 1 else tensordot(a, b, ([-1], [-1]))


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of ``x1`` (…, P, M) and each row of ``x2`` (…, R, M): (…, P, R)."""
    from .shape import unsqueeze

    a, b = _tensor(x1), _tensor(x2)
    difference = unsqueeze(a, -2) - unsqueeze(b, -3)
    return difference.norm(p=p, dim=-1)


def dstack(tensors):
    """Concatenate along dim 2 (1-D and 2-D tensors first made (1, N, 1) and (M, N, 1))."""
    from .shape import cat

    return cat([atleast_3d(_tensor(t)) for t in tensors], 2)


def column_stack(tensors):
    """Stack 1-D tensors as columns (2-D tensors as they are) along dim 1."""
    from .shape import cat, reshape

    return cat([reshape(t, (-1, 1)) if t.ndim <= 1 else t for t in (_tensor(t) for t in tensors)], 1)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension."""
    from .shape import reshape

    out = [reshape(t, (1,)) if t.ndim == 0 else t for t in (_tensor(t) for t in _flatten(tensors))]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions (a vector becomes a row)."""
    from .shape import reshape

    out = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in (_tensor(t) for t in _flatten(tensors))]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: () → (1, 1, 1), (N,) → (1, N, 1), (M, N) → (M, N, 1)."""
    from .shape import reshape

    def three(t):
        if t.ndim == 0:
            return reshape(t, (1, 1, 1))
        if t.ndim == 1:
            return reshape(t, (1, -1, 1))
        return reshape(t, (*t.shape, 1)) if t.ndim == 2 else t

    out = [three(_tensor(t)) for t in _flatten(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _flatten(tensors):
    return tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts (the first ones one longer) or at the given indices."""
    input = _tensor(input)
    length = input.shape[dim]
    if isinstance(indices_or_sections, numbers.Integral):
        n = int(indices_or_sections)
        sizes = [length // n + (1 if i < length % n else 0) for i in range(n)]
        bounds = np.cumsum([0, *sizes])
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], length]
    return tuple(input.narrow(dim, int(min(a, length)), int(max(min(b, length) - min(a, length), 0))) for a, b in zip(bounds[:-1], bounds[1:]))


def block_diag(*tensors):
    """A block-diagonal matrix of the given matrices (scalars and vectors as 1-row blocks)."""
    from .shape import cat, pad

    blocks = [atleast_2d(_tensor(t)) for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for block in blocks:
        rows.append(pad(block, (left, width - left - block.shape[1])))
        left += block.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (the 1-D tensor itself for one input)."""
    from .shape import reshape, stack

    tensors = [_tensor(t) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def take(input, index):
    """The elements of ``input`` flattened, at ``index`` (any shape)."""
    from .shape import reshape

    input, index = _tensor(input), _tensor(index)
    flat = index_select(reshape(input, (-1,)), 0, reshape(index, (-1,)) % max(input.numel(), 1))
    return reshape(flat, tuple(index.shape))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``."""
    from .shape import cat

    x = _tensor(input)
    if prepend is not None or append is not None:
        x = cat([t for t in (prepend, x, append) if t is not None], dim)
    for _ in range(n):
        length = x.shape[dim]
        x = x.narrow(dim, 1, length - 1) - x.narrow(dim, 0, length - 1)
    return x


def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim`` (a product per step: exact gradients, zeros included)."""
    from .shape import stack

    x = _tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    steps, running = [], None
    for index in range(x.shape[dim]):
        element = x.narrow(dim, index, 1).squeeze(dim)
        running = element if running is None else running * element
        steps.append(running)
    return stack(steps, dim) if steps else x


def logcumsumexp(input, dim):
    """log Σ_{j ≤ i} e^(x_j) along ``dim``, shifted by the maximum so it does not overflow."""
    x = _tensor(input)
    top = x.amax(dim=dim, keepdim=True).detach()
    finite = Tensor(np.where(np.isfinite(top._array), top._array, 0).astype(top._array.dtype))
    return (x - finite).exp().cumsum(dim).log() + finite


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90°·k in the plane ``dims`` (from the first axis towards the second), as torch.rot90."""
    from .shape import flip, transpose

    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    first, second = (d % input.ndim for d in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, [second]), first, second)
    if k == 2:
        return flip(input, [first, second])
    if k == 3:
        return flip(transpose(input, first, second), [second])
    return input[...]


def flipud(input):
    """Flip the rows (dim 0)."""
    from .shape import flip

    return flip(input, [0])


def fliplr(input):
    """Flip the columns (dim 1)."""
    from .shape import flip

    return flip(input, [1])


def unfold_windows(input, dimension, size, step):
    """``Tensor.unfold``: every slice of ``size`` along ``dimension``, ``step`` apart, as a new last dimension."""
    from .shape import movedim

    axis = dimension % max(input.ndim, 1)
    length = input.shape[axis] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    starts = np.arange(0, length - size + 1, step)
    index = (starts[:, None] + np.arange(size)).reshape(-1)
    picked = index_select(input if input.ndim else input.reshape(1), axis, Tensor(index.astype(np.int64)))
    shape = list(picked.shape)
    shape[axis:axis + 1] = [len(starts), size]
    return movedim(picked.reshape(shape), axis + 1, -1)


def cross(input, other, dim=None):
    """The cross product along ``dim`` (a dimension of size 3; by default the first such, as torch.cross):
    (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀)."""
    from .shape import narrow, cat

    input, other = broadcast_tensors(input, other)
    if dim is None:
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input of shape {list(input.shape)}")
    axis = dim % input.ndim
    if input.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and {other.shape[axis]}")
    a = [narrow(input, axis, i, 1) for i in range(3)]
    b = [narrow(other, axis, i, 1) for i in range(3)]
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], axis)


def sgn(input):
    """sign(x) for real tensors (PyTorch's extension of sign to complex numbers)."""
    return input.sign()


def signbit(input):
    """True where the sign bit is set (−0.0 included); no gradient."""
    return Tensor._from_op(np.signbit(input._array), False)


def copysign(input, other):
    """|input| with the sign of ``other`` (−0.0 counts as negative): |x|·(−1 if signbit(y) else 1)."""
    from .arithmetic import where

    other = other if isinstance(other, Tensor) else Tensor(np.asarray(other, dtype=input._array.dtype))
    negative = Tensor._from_op(np.signbit(other._array), False)
    magnitude = input.abs()
    return where(negative, -magnitude, magnitude)
