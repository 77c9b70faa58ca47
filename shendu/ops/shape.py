"""Shape ops: reshape/view, permute/transpose, squeeze/unsqueeze, flatten, cat/stack/split, pad, flip, repeat."""

import builtins
import math

from .._backend import xp
from ..autograd import Function
from ..tensor import Tensor

__all__ = [
    "reshape", "view", "permute", "transpose", "swapaxes", "squeeze", "unsqueeze", "flatten", "unflatten",
    "expand", "cat", "concat", "concatenate", "stack", "split", "chunk", "unbind", "pad", "flip", "repeat",
    "tile", "movedim", "narrow", "t",
]  # fmt: skip


def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def _dim(dim, ndim):
    bound = builtins.max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim % bound


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


class Reshape(Function):
    differentiable_backward = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.source = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.source)


def reshape(input, *shape):
    """Same data, new shape (one dimension may be -1)."""
    input = _tensor(input)
    shape = _shape_args(shape)
    if shape == tuple(input._array.shape):
        return input
    size = input._array.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise ValueError(f"reshape: shape {list(shape)} is invalid for input of shape {tuple(input.shape)} ({size} elements)")
    return Reshape(shape)(input)


view = reshape


class Permute(Function):
    differentiable_backward = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        if isinstance(gy, Tensor):
            return Permute(tuple(inverse))(gy)
        return gy.transpose(inverse)


def permute(input, *dims):
    """Reorder dimensions."""
    input = _tensor(input)
    dims = _shape_args(dims)
    if len(dims) != input.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {list(dims)} for a tensor with {input.ndim} dimensions")
    axes = tuple(_dim(d, input.ndim) for d in dims)
    if sorted(axes) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {list(dims)} repeat a dimension")
    if axes == tuple(range(input.ndim)):
        return input
    return Permute(axes)(input)


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    input = _tensor(input)
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    axes = list(range(input.ndim))
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return permute(input, axes)


swapaxes = transpose


def t(input):
    input = _tensor(input)
    if input.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions; got {input.ndim}")
    return transpose(input, 0, -1) if input.ndim == 2 else input


def movedim(input, source, destination):
    input = _tensor(input)
    order = list(range(input.ndim))
    src = _dim(source, input.ndim)
    order.pop(src)
    order.insert(_dim(destination, input.ndim), src)
    return permute(input, order)


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (only ``dim`` if given)."""
    input = _tensor(input)
    shape = list(input.shape)
    if dim is None:
        new = [s for s in shape if s != 1]
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        drop = {_dim(d, input.ndim) for d in dims}
        new = [s for i, s in enumerate(shape) if not (i in drop and s == 1)]
    return reshape(input, new)


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim``."""
    input = _tensor(input)
    position = _dim(dim, input.ndim + 1)
    shape = list(input.shape)
    shape.insert(position, 1)
    return reshape(input, shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim``..``end_dim`` into one."""
    input = _tensor(input)
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = list(input.shape)
    merged = math.prod(shape[start : end + 1])
    return reshape(input, shape[:start] + [merged] + shape[end + 1 :])


def unflatten(input, dim, sizes):
    input = _tensor(input)
    d = _dim(dim, input.ndim)
    shape = list(input.shape)
    return reshape(input, shape[:d] + list(sizes) + shape[d + 1 :])


def expand(input, *sizes):
    """Broadcast to ``sizes`` (-1 keeps a dimension)."""
    from .reduction import broadcast_to

    return broadcast_to(input, _shape_args(sizes))


class Concatenate(Function):
    differentiable_backward = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        bounds = xp.cumsum(self.sizes)[:-1].tolist()
        if isinstance(gy, Tensor):
            return tuple(split(gy, self.sizes, self.axis))
        return tuple(xp.split(gy, bounds, axis=self.axis))


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ndim = tensors[0].ndim
    axis = _dim(dim, ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if k != axis):
            raise ValueError(
                f"cat: tensor {i} has shape {tuple(t.shape)}, which does not match tensor 0's "
                f"{tuple(tensors[0].shape)} outside dimension {dim}"
            )
    dtype = tensors[0]._array.dtype
    for t in tensors[1:]:
        from ..tensor import _promote

        dtype = _promote(dtype, t._array.dtype)
    tensors = [t if t._array.dtype == dtype else t.to(dtype) for t in tensors]
    return Concatenate(axis)(*tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join tensors along a new dimension."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack expects each tensor to be equal size, but got {tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    position = _dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, position) for t in tensors], position)


class Split(Function):
    differentiable_backward = True

    def __init__(self, sizes, axis):
        self.sizes, self.axis = sizes, axis

    def forward(self, x):
        bounds = xp.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(x, bounds, axis=self.axis))

    def backward(self, *gys):
        if isinstance(gys[0], Tensor):
            return cat(list(gys), self.axis)
        return xp.concatenate(gys, axis=self.axis)


def split(input, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (or the given list of sizes) along ``dim``."""
    input = _tensor(input)
    axis = _dim(dim, input.ndim)
    length = input.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive; got {step}")
        sizes = [builtins.min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} sum to {builtins.sum(sizes)}, not to dimension {dim}'s length {length}")
    out = Split(sizes, axis)(input)
    return out if isinstance(out, tuple) else (out,)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` nearly equal pieces."""
    input = _tensor(input)
    length = input.shape[_dim(dim, input.ndim)]
    return split(input, builtins.max(1, -(-length // chunks)), dim)


def unbind(input, dim=0):
    input = _tensor(input)
    return tuple(squeeze(piece, dim) for piece in split(input, 1, dim))


def narrow(input, dim, start, length):
    input = _tensor(input)
    index = [slice(None)] * input.ndim
    index[_dim(dim, input.ndim)] = slice(start, start + length)
    return input[tuple(index)]


class Pad(Function):
    """Constant padding slices the gradient back out; the other modes copy elements, so their
    backward scatter-adds through the map of which input element each output element came from."""

    _NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

    def __init__(self, widths, mode, value):
        self.widths, self.mode, self.value = widths, mode, value
        self.differentiable_backward = mode == "constant"  # slicing works on tensors too

    def forward(self, x):
        if self.mode == "constant":
            return xp.pad(x, self.widths, mode="constant", constant_values=self.value)
        self.shape = x.shape
        mode = self._NUMPY_MODES[self.mode]
        self.source = xp.pad(xp.arange(x.size).reshape(x.shape), self.widths, mode=mode).reshape(-1)
        return xp.pad(x, self.widths, mode=mode)

    def backward(self, gy):
        if self.mode == "constant":
            return gy[tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))]
        gx = xp.bincount(self.source, weights=gy.reshape(-1), minlength=math.prod(self.shape))
        return gx.astype(gy.dtype, copy=False).reshape(self.shape)


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last dimensions: ``pad = (left, right, top, bottom, ...)`` as ``torch.nn.functional.pad``."""
    input = _tensor(input)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of values, at most 2 per dimension; got {len(pad)} for {input.ndim} dims")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {list(pad)} is not supported")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected 'constant', 'reflect', 'replicate' or 'circular'")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad(tuple(widths), mode, value)(input)


class Flip(Function):
    """Reverse the order along ``axes``; the gradient is flipped back."""

    differentiable_backward = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return xp.flip(x, self.axes).copy()

    def backward(self, gy):
        if isinstance(gy, Tensor):
            return Flip(self.axes)(gy)
        return xp.flip(gy, self.axes)


def flip(input, dims):
    input = _tensor(input)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip(tuple(_dim(d, input.ndim) for d in dims))(input)


class Tile(Function):
    """Repeat the whole tensor along each dimension; the gradient sums the copies."""

    differentiable_backward = True

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        self.shape = x.shape
        return xp.tile(x, self.reps)

    def backward(self, gy):
        padded = (1,) * (len(self.reps) - len(self.shape)) + tuple(self.shape)
        split_shape = []
        for rep, size in zip(self.reps, padded):
            split_shape += [rep, size]
        g = gy.reshape(tuple(split_shape)).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return g.reshape(tuple(self.shape))


def repeat(input, *sizes):
    """Tile the tensor ``sizes`` times along each dimension (``torch.Tensor.repeat``)."""
    input = _tensor(input)
    sizes = _shape_args(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: number of repeat dims {len(sizes)} can not be smaller than the tensor's {input.ndim}")
    return Tile(sizes)(input)


def tile(input, dims):
    input = _tensor(input)
    dims = tuple(dims)
    dims = (1,) * (input.ndim - len(dims)) + dims
    return Tile(dims)(input)
