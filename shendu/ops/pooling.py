"""Pooling: max and average over sliding windows, and adaptive average pooling.

Each window offset (p, q) of a k×k pool is one strided view of the (padded) input, so pooling is
k² element-wise ``maximum``/``add`` calls over whole arrays — several times faster than gathering
the windows and reducing with ``max(axis=...)``. The views keep the input's memory layout (NHWC
after a convolution), so nothing is transposed.

Max-pool backward sends each window's gradient to its FIRST maximum in row-major order, as
PyTorch does: after a ReLU, windows of zeros tie, and spreading the gradient over tied positions
would corrupt the gradients of the layers below.
"""

import math

from .._backend import xp
from .._parallel import pass_parts, run_shared
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .conv import empty_in_layout, int_tuple, is_channels_last, pad_spatial, same_layout

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
]


def _offset_views(x, kernel, stride, dilation, out_hw):
    """The k_h·k_w strided views x[:, :, p·d + i·s, q·d + j·s], in row-major order of (p, q)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    return [
        x[:, :, p * dh : p * dh + sh * (oh - 1) + 1 : sh, q * dw : q * dw + sw * (ow - 1) + 1 : sw]
        for p in range(kh)
        for q in range(kw)
    ]


class _Pool2d(Function):
    """Shared geometry: kernel, stride, dilation, (top, bottom, left, right) padding, output size."""

    def __init__(self, kernel, stride, padding, dilation, out_hw):
        self.kernel, self.stride, self.padding, self.dilation, self.out_hw = kernel, stride, padding, dilation, out_hw
        # windows are disjoint when the stride steps past the (dilated) window: gradients can be assigned, not added
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        self.disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1

    def _views(self, x):
        return _offset_views(x, self.kernel, self.stride, self.dilation, self.out_hw)

    def _grad_input(self, tiles=False):
        """Zeros shaped and laid out as the padded input, and its window views (``tiles``: the
        windows cover it exactly, once each, so every element will be written and zeros are not needed)."""
        gx = empty_in_layout(self.padded_shape, self.dtype, self.channels_last, fill=None if tiles else 0)
        return gx, self._views(gx)

    def _padded(self, x, fill):
        self.x_shape, self.dtype, self.channels_last = x.shape, x.dtype, is_channels_last(x)
        padded = pad_spatial(x, self.padding, fill, self.channels_last)
        self.padded_shape = padded.shape
        return padded

    @property
    def tiles(self):
        """True when the windows cover the padded input exactly, once each (asked in backward only)."""
        return self.disjoint and all(
            s == k and d == 1 and n * s == size
            for k, s, d, n, size in zip(self.kernel, self.stride, self.dilation, self.out_hw, self.padded_shape[2:])
        )

    def _crop(self, gx):
        n, c, h, w = self.x_shape
        top, _, left, _ = self.padding
        return gx[:, :, top : top + h, left : left + w]


def _inside(offset, stride, count, size):
    """The outputs [i0, i1) of ``count`` whose tap i·stride + offset lies in [0, size)."""
    first = max(0, -(offset // stride)) if offset < 0 else 0
    last = min(count, (size - 1 - offset) // stride + 1) if size - 1 - offset >= 0 else 0
    return first, max(first, last)


class MaxPool2d(_Pool2d):
    """y = max over each window (pairwise ``maximum`` over the window offsets)."""

    def forward(self, x):
        if any(self.padding) and not is_grad_enabled() and x.dtype.kind == "f":
            return self._unpadded_forward(x)
        self.padded = self._padded(x, -xp.inf)
        views = self._views(self.padded)
        y = xp.empty_like(views[0])  # the input's memory order

        def piece(start, stop):  # NOTE: a large pooling is shared between threads by samples (ufuncs release the GIL)
            part = y[start:stop]
            if len(views) > 1:
                xp.maximum(views[0][start:stop], views[1][start:stop], out=part)
            else:
                part[...] = views[0][start:stop]
            for v in views[2:]:
                xp.maximum(part, v[start:stop], out=part)

        run_shared(piece, y.shape[0], pass_parts(self.padded.nbytes, self.padded.shape[0]))
        self.y = y
        return y

    def _unpadded_forward(self, x):
        """Without autograd nothing is kept for backward, so the −∞ padding is not stored either: y starts at −∞ and
        each window offset's maximum is taken over the outputs whose tap lies in x (NaN propagates, as before).

        NOTE: resnet18's 3×3 stride-2 pooling of a 64×112×112 map wrote a padded copy of it (53 MB at batch 16): the
        network's inference peak at batch 16 134 → 84 MB; the pooling at batch 16 25.5 → 22.1 ms (one thread), 10.6 →
        8.3 (two), at batch 1 0.56 → 0.63 ms (more, smaller calls).
        """
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out_hw
        top, _, left, _ = self.padding
        reaches = []  # per tap: the output rows and columns whose tap lies in x, and the strided view of x they read
        for p in range(kh):
            i0, i1 = _inside(p * dh - top, sh, oh, h)
            for q in range(kw):
                j0, j1 = _inside(q * dw - left, sw, ow, w)
                if i0 < i1 and j0 < j1:
                    r, s = i0 * sh + p * dh - top, j0 * sw + q * dw - left
                    reaches.append((slice(i0, i1), slice(j0, j1), slice(r, r + sh * (i1 - i0 - 1) + 1, sh),
                                    slice(s, s + sw * (j1 - j0 - 1) + 1, sw)))  # fmt: skip

        # a tap that every output reaches (the centre of a 3×3 window with padding 1) is where y starts; else −∞
        whole = [k for k, (rows, cols, _, _) in enumerate(reaches) if (rows.start, rows.stop, cols.start, cols.stop) == (0, oh, 0, ow)]
        first = reaches.pop(whole[0]) if whole else None
        y = empty_in_layout((n, c, oh, ow), x.dtype, is_channels_last(x), fill=None if first else -xp.inf)

        def piece(start, stop):
            if first is not None:
                y[start:stop] = x[start:stop, :, first[2], first[3]]
            for rows, cols, x_rows, x_cols in reaches:
                part = y[start:stop, :, rows, cols]
                xp.maximum(part, x[start:stop, :, x_rows, x_cols], out=part)

        run_shared(piece, n, pass_parts(x.nbytes, n))
        return y

    def backward(self, gy):
        gy = same_layout(gy, self.y)
        gx, targets = self._grad_input(self.tiles)
        views = self._views(self.padded)
        last = len(views) - 1

        def piece(start, stop):
            free = None  # windows whose maximum is not found yet (None: all of them)
            g, y = gy[start:stop], self.y[start:stop]
            for index, (v, target) in enumerate(zip(views, targets)):
                v, target = v[start:stop], target[start:stop]
                if index == last:  # what is left belongs to a maximum at the last offset
                    hit = free
                else:
                    hit = v == y
                    if free is None:
                        free = ~hit
                    else:
                        hit &= free
                        free ^= hit
                if hit is None:  # a 1×1 window
                    target[...] = g
                elif self.disjoint:
                    xp.multiply(g, hit, out=target)
                else:
                    target += g * hit

        run_shared(piece, gy.shape[0], pass_parts(self.padded.nbytes, self.padded.shape[0]))
        return self._crop(gx)


class AvgPool2d(_Pool2d):
    """y = (Σ window) / divisor, the divisor per output position as PyTorch (see ``_divisors``)."""

    def __init__(self, kernel, stride, padding, dilation, out_hw, scale):
        super().__init__(kernel, stride, padding, dilation, out_hw)
        self.scale = scale  # 1/divisor: a number or an (OH, OW) array

    def forward(self, x):
        """Σ over the window's rows first (views of whole rows: W·C consecutive values of a channels-last map), then
        over its columns. NOTE: the k² offset views of a channels-last map with few channels are runs of C values;
        LeNet-5's 6-channel 2×2 pooling of 64×28×28 forward 0.32 → 0.22 ms, forward + backward (tiles: g spread over
        a row's columns, then whole rows copied) 0.63 → 0.45 ms, its training step 5.17 → 4.93 ms (one thread) and
        4.99 → 4.72 (two; interleaved A/B)."""
        padded = self._padded(x, 0)
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out_hw
        rows = [padded[:, :, p * dh : p * dh + sh * (oh - 1) + 1 : sh, :] for p in range(kh)]
        summed = xp.add(rows[0], rows[1]) if kh > 1 else rows[0]
        for row in rows[2:]:
            summed += row
        columns = [summed[..., q * dw : q * dw + sw * (ow - 1) + 1 : sw] for q in range(kw)]
        y = xp.add(columns[0], columns[1]) if kw > 1 else columns[0].copy()
        for column in columns[2:]:
            y += column
        y *= xp.asarray(self.scale, dtype=y.dtype)
        self.y_meta = y
        return y

    def backward(self, gy):
        g = gy * xp.asarray(self.scale, dtype=gy.dtype)
        g = same_layout(g, self.y_meta)
        if self.tiles:  # each window's rows: g spread over its columns once, then copied into every row (whole rows)
            (kh, kw), (oh, ow) = self.kernel, self.out_hw
            n, c = g.shape[:2]
            row = empty_in_layout((n, c, oh, ow * kw), g.dtype, is_channels_last(g))
            for q in range(kw):
                row[..., q::kw] = g
            gx = empty_in_layout(self.padded_shape, g.dtype, is_channels_last(g))
            for p in range(kh):
                gx[:, :, p::kh, :] = row
            return self._crop(gx)
        gx, targets = self._grad_input(False)
        for target in targets:
            if self.disjoint:
                target[...] = g
            else:
                target += g
        return self._crop(gx)


class AdaptiveAvgPool2d(Function):
    """y = A_h · x · A_wᵀ per (n, c) plane, with A the averaging matrices of the adaptive windows."""

    def __init__(self, a_h, a_w):
        self.a_h, self.a_w = a_h, a_w

    def forward(self, x):
        t = xp.tensordot(x, self.a_w.astype(x.dtype), axes=([3], [1]))  # (N, C, H, OW)
        return xp.tensordot(t, self.a_h.astype(x.dtype), axes=([2], [1])).transpose(0, 1, 3, 2)

    def backward(self, gy):
        gt = xp.tensordot(gy, self.a_h.astype(gy.dtype), axes=([2], [0])).transpose(0, 1, 3, 2)  # (N, C, H, OW)
        return xp.tensordot(gt, self.a_w.astype(gy.dtype), axes=([3], [0]))


# ----- argument handling ------------------------------------------------------------------------


def _float_input(fname, input, dims):
    """``input`` as a floating-point tensor of rank dims + 1 or dims + 2 (ValueError otherwise)."""
    input = input if isinstance(input, Tensor) else Tensor(input)
    if input._array.dtype.kind != "f":
        input = input.float()
    if input.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(f"{fname}: expected input of shape {layout}; got {tuple(input.shape)}")
    return input


def _check_pool_padding(fname, kernel, padding, dilation):
    """ValueError unless each padding is at most half its (dilated) kernel, as PyTorch requires."""
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(
                f"{fname}: padding should be at most half of the (dilated) kernel size. "
                f"Received: padding={padding}, kernel_size={kernel}, dilation={dilation}"
            )


def _pool_args(fname, input, kernel_size, stride, padding, dilation, dims):
    """Validate the arguments; returns (x as 4-D tensor, kernel, stride, padding, dilation, unbatched)."""
    input = _float_input(fname, input, dims)
    kernel = int_tuple(kernel_size, dims, "kernel_size", fname, 1)
    stride = kernel if stride is None or stride == () or stride == [] else int_tuple(stride, dims, "stride", fname, 1)
    padding = int_tuple(padding, dims, "padding", fname, 0)
    dilation = int_tuple(dilation, dims, "dilation", fname, 1)
    _check_pool_padding(fname, kernel, padding, dilation)
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(2)
        kernel, stride, padding, dilation = (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation
    return x, kernel, stride, padding, dilation, unbatched


def _geometry(fname, spatial, kernel, stride, padding, dilation, ceil_mode):
    """Output size and (top, bottom, left, right) padding actually needed, as PyTorch computes them.

    With ``ceil_mode`` the last window may run past the input, but must start inside it (or in the
    left padding); the right/bottom padding is only what the last window needs.
    """
    out, pads = [], []
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if size + 2 * p < span:
            raise ValueError(
                f"{fname}: the kernel {tuple(kernel[-len(spatial) :])} is larger than the padded input "
                f"{tuple(n + 2 * q for n, q in zip(spatial, padding))}; use a smaller kernel or a larger input"
            )
        n = (size + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1
        if ceil_mode and (n - 1) * s >= size + p:
            n -= 1
        needed = (n - 1) * s + span  # padded extent the windows read, from -p
        out.append(n)
        pads += [p, max(0, needed - p - size)]
    return tuple(out), tuple(pads)


def _finish(y, dims, unbatched):
    if dims == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def _first_max_indices(x, y, kernel, stride, padding, dilation, out_hw, pads):
    """Flat indices (into each H·W plane) of the first maximum of every window, as PyTorch returns them."""
    height, width = x.shape[2:]
    padded = pad_spatial(x, pads, -xp.inf, is_channels_last(x))
    oh, ow = out_hw
    rows = (xp.arange(oh) * stride[0] - padding[0])[:, None]
    cols = (xp.arange(ow) * stride[1] - padding[1])[None, :]
    indices = xp.zeros(y.shape, xp.int64)
    found = xp.zeros(y.shape, bool)
    views = _offset_views(padded, kernel, stride, dilation, out_hw)
    offsets = [(p * dilation[0], q * dilation[1]) for p in range(kernel[0]) for q in range(kernel[1])]
    for v, (dp, dq) in zip(views, offsets):
        hit = (v == y) & ~found
        xp.copyto(indices, (rows + dp) * width + (cols + dq), where=hit)
        found |= hit
    return indices


# ----- public functions --------------------------------------------------------------------------


def checked_max_pool2d(x, kernel, stride, pads, dilation, out_hw):
    """The MaxPool2d op on arguments already checked: x a float (N, C, H, W) tensor, kernel, stride and
    dilation 2-tuples, ``pads`` and ``out_hw`` as ``_geometry`` returns them for x's (H, W).

    ``max_pool2d`` ends here; so does ``nn.MaxPool2d`` directly (see ``nn.MaxPool2d.forward``).
    """
    return MaxPool2d(kernel, stride, pads, dilation, out_hw)(x)


def max_pool2d_geometry(kernel_size, stride, padding, dilation, ceil_mode, spatial):
    """(kernel, stride, pads, dilation, out_hw) of ``max_pool2d`` for an input of (H, W) ``spatial``:
    the arguments of ``checked_max_pool2d``. Raises ``max_pool2d``'s ValueError for bad arguments."""
    fname = "max_pool2d"
    kernel = int_tuple(kernel_size, 2, "kernel_size", fname, 1)
    stride = kernel if stride is None or stride == () or stride == [] else int_tuple(stride, 2, "stride", fname, 1)
    padding = int_tuple(padding, 2, "padding", fname, 0)
    dilation = int_tuple(dilation, 2, "dilation", fname, 1)
    _check_pool_padding(fname, kernel, padding, dilation)
    out_hw, pads = _geometry(fname, spatial, kernel, stride, padding, dilation, ceil_mode)
    return kernel, stride, pads, dilation, out_hw


def _max_pool(fname, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, kernel, stride, padding, dilation, unbatched = _pool_args(
        fname, input, kernel_size, stride, padding, dilation, dims
    )
    out_hw, pads = _geometry(fname, x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    y = checked_max_pool2d(x, kernel, stride, pads, dilation, out_hw)
    if not return_indices:
        return _finish(y, dims, unbatched)
    indices = _first_max_indices(x._array, y._array, kernel, stride, padding, dilation, out_hw, pads)
    return _finish(y, dims, unbatched), _finish(Tensor._from_op(indices, False), dims, unbatched)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``: y = max of each k_h×k_w window.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw). Defaults to ``kernel_size``.
        padding: implicit -∞ padding on both sides, at most half the kernel. Defaults to 0.
        dilation: spacing between window elements. Defaults to 1.
        ceil_mode: round the output size up instead of down. Defaults to False.
        return_indices: also return the flat index (in each H·W plane) of each maximum. Defaults to False.

    Shape:
        output (N, C, OH, OW) with OH = ⌊(H + 2·p - d·(k-1) - 1) / s⌋ + 1.

    Example:
        >>> max_pool2d(randn(32, 8, 26, 26), 2).shape
        shendu.Size([32, 8, 13, 13])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L), as ``torch.nn.functional.max_pool1d``; arguments as :func:`max_pool2d`.

    Example:
        >>> max_pool1d(randn(4, 3, 10), 2).shape
        shendu.Size([4, 3, 5])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _divisor_1d(size, k, s, p, n, count_include_pad):
    """Per-output-position window size along one axis, clipped as PyTorch's avg_pool kernel does."""
    starts = xp.arange(n) * s - p
    ends = xp.minimum(starts + k, size + p)
    if count_include_pad:
        return ends - starts
    return xp.minimum(ends, size) - xp.maximum(starts, 0)


def _avg_pool(fname, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, kernel, stride, padding, dilation, unbatched = _pool_args(fname, input, kernel_size, stride, padding, 1, dims)
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override <= 0):
        raise ValueError(
            f"{fname}: divisor_override must be a positive int. Received: divisor_override={divisor_override!r}"
        )
    out_hw, pads = _geometry(fname, x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    if divisor_override is not None:
        scale = 1.0 / divisor_override
    else:
        rows, cols = (
            _divisor_1d(size, k, s, p, n, count_include_pad)
            for size, k, s, p, n in zip(x.shape[2:], kernel, stride, padding, out_hw)
        )
        divisors = rows[:, None] * cols[None, :]
        first = int(divisors[0, 0])
        scale = 1.0 / first if (divisors == first).all() else 1.0 / divisors
    y = AvgPool2d(kernel, stride, pads, dilation, out_hw, scale)(x)
    return _finish(y, dims, unbatched)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``: y = Σ window / divisor.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw). Defaults to ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel. Defaults to 0.
        ceil_mode: round the output size up instead of down. Defaults to False.
        count_include_pad: count the zero padding in the divisor. Defaults to True.
        divisor_override: divide every window by this number instead. Defaults to None.

    Shape:
        output (N, C, OH, OW) with OH = ⌊(H + 2·p - k) / s⌋ + 1.

    Example:
        >>> avg_pool2d(randn(1, 1, 4, 4), 2).shape
        shendu.Size([1, 1, 2, 2])
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L), as ``torch.nn.functional.avg_pool1d``; arguments as :func:`avg_pool2d`.

    Example:
        >>> avg_pool1d(randn(4, 3, 10), 2).shape
        shendu.Size([4, 3, 5])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _adaptive_matrix(size, n):
    """(n, size) averaging matrix: row i averages input[⌊i·size/n⌋ : ⌈(i+1)·size/n⌉]."""
    a = xp.zeros((n, size))
    for i in range(n):
        start, end = (i * size) // n, -((-(i + 1) * size) // n)
        a[i, start:end] = 1.0 / (end - start)
    return a


def _adaptive_avg_pool(fname, dims, input, output_size):
    input = _float_input(fname, input, dims)
    spatial = tuple(input.shape[-dims:])
    sizes = (output_size,) * dims if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(sizes) != dims:
        raise ValueError(
            f"{fname}: output_size must be an int or a tuple of {dims}. Received: output_size={output_size!r}"
        )
    sizes = tuple(s if o is None else o for s, o in zip(spatial, sizes))
    if not all(isinstance(o, int) and not isinstance(o, bool) and o > 0 for o in sizes):
        raise ValueError(f"{fname}: output_size must be positive ints (or None). Received: output_size={output_size!r}")
    if any(s == 0 for s in spatial):
        raise ValueError(f"{fname}: input of shape {tuple(input.shape)} has an empty spatial dimension")
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(2)
        spatial, sizes = (1,) + spatial, (1,) + sizes
    if all(s % o == 0 for s, o in zip(spatial, sizes)):  # equal windows: a plain average pool
        kernel = tuple(s // o for s, o in zip(spatial, sizes))
        y = AvgPool2d(kernel, kernel, (0, 0, 0, 0), (1, 1), sizes, 1.0 / math.prod(kernel))(x)
    else:
        y = AdaptiveAvgPool2d(*(_adaptive_matrix(s, o) for s, o in zip(spatial, sizes)))(x)
    return _finish(y, dims, unbatched)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output cell (i, j) averages rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ - 1 and the matching columns.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (OH, OW); None keeps that input size.

    Example:
        >>> adaptive_avg_pool2d(randn(2, 8, 7, 7), 1).shape
        shendu.Size([2, 8, 1, 1])
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to length ``output_size``, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Example:
        >>> adaptive_avg_pool1d(randn(2, 3, 10), 4).shape
        shendu.Size([2, 3, 4])
    """
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)
