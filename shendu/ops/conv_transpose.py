"""Transposed convolution (``conv_transpose1d/2d``): the gradient of a convolution with respect to its input.

y = conv_transpose(x, W) spreads each input pixel over a kernel-sized patch of the output, ``stride``
apart. Without groups it is computed directly (:class:`ConvTranspose2d`): one GEMM per kernel offset, each
scattered onto the output ``stride`` apart — the data gradient of a convolution run forwards; its
backward is a convolution (for ∂L/∂x) and the im2col of that convolution (for ∂L/∂W).

With groups it is computed as an ordinary convolution: the input with (stride − 1) zeros between
its elements, a border of dilation·(k − 1) − padding zeros (plus ``output_padding`` at the end),
and the kernel flipped with its in/out channels swapped (per group). Every step is a differentiable
op, so gradients come from them; this plain form is also the oracle of the direct one in the tests.

NOTE: the zeros of the plain form make its convolution stride² larger than needed; the direct form
does only the useful products (DCGAN generator, W7: see BENCHMARKS.md).
"""

from .._backend import xp
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .._parallel import quiet_blas, run_shared, run_split_sum
from .conv import Conv2d, conv2d, direct_kernels, direct_parts, first_channels, int_tuple, lanes, nhwc, pad_lanes
from .conv import direct_input_grad, scatter_windows
from .normalization import channel_sums
from .shape import flip, pad, permute, reshape

__all__ = ["conv_transpose1d", "conv_transpose2d", "transposed_output_size"]


def transposed_output_size(size, kernel, stride, padding, output_padding, dilation):
    """(size − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _spread(x, stride):
    """(N, C, H, W) with (stride − 1) zeros inserted between neighbouring elements of H and W."""
    n, c, h, w = x.shape
    sh, sw = stride
    if (sh, sw) == (1, 1):
        return x
    grid = pad(reshape(x, (n, c, h, 1, w, 1)), (0, sw - 1, 0, 0, 0, sh - 1))
    return reshape(grid, (n, c, h * sh, w * sw))[:, :, : (h - 1) * sh + 1, : (w - 1) * sw + 1]


def _border(x, lead, trail):
    """Zeros added (or, for negative widths, rows/columns removed) at the start and end of H and W."""
    widths = (max(lead[1], 0), max(trail[1], 0), max(lead[0], 0), max(trail[0], 0))
    if any(widths):
        x = pad(x, widths)
    h, w = x.shape[-2:]
    top, left = max(-lead[0], 0), max(-lead[1], 0)
    bottom, right = h - max(-trail[0], 0), w - max(-trail[1], 0)
    return x if (top, left, bottom, right) == (0, 0, h, w) else x[:, :, top:bottom, left:right]


class ConvTranspose2d(Function):
    """y[n, o, i·s + p·d − pad, j·s + q·d − pad] += Σ_c x[n, c, i, j] · W[c, o, p, q] (+ b[o]); groups = 1.

    The output is an NCHW-shaped view of NHWC memory, like every convolution output here.
    """

    def __init__(self, stride, padding, output_padding, dilation):
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation

    def _full_size(self, size, axis, kernel):
        """The length of the uncropped output: (n − 1)·s + d·(k − 1) + 1 + output_padding."""
        s, d, op = self.stride[axis], self.dilation[axis], self.output_padding[axis]
        return (size - 1) * s + d * (kernel - 1) + 1 + op

    def forward(self, x, weight, bias=None):
        with quiet_blas():  # the NumPy paths' GEMMs next to the kernels' threads (see _parallel.quiet_blas)
            return self._forward(x, weight, bias)

    def _forward(self, x, weight, bias=None):
        n, c, h, w = x.shape
        o, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
        self.x_shape, self.kernel = x.shape, (kh, kw)
        self.direct = direct_kernels(x.dtype, 1, channels=min(c, o) if is_grad_enabled() else o)
        if self.direct is not None:
            return self._direct_forward(x, weight, bias)
        rows = xp.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(n * h * w, c)
        self.rows = rows
        wmat = xp.ascontiguousarray(weight.transpose(2, 3, 0, 1))  # (kh, kw, C_in, C_out)
        block = xp.empty((n * h * w, o), x.dtype)
        blocks = (xp.matmul(rows, wmat[p, q], out=block).reshape(n, h, w, o) for p in range(kh) for q in range(kw))
        full = (self._full_size(h, 0, kh), self._full_size(w, 1, kw))
        out = scatter_windows(blocks, (n, full[0], full[1], o), (h, w), (kh, kw), self.stride, self.dilation)
        ph, pw = self.padding
        out = out[:, ph : full[0] - ph, pw : full[1] - pw, :]
        if bias is not None:
            out += bias
        return out.transpose(0, 3, 1, 2)

    def _direct_forward(self, x, weight, bias):
        """The compiled kernels (``_conv.c``) read the other way round: this forward is a convolution's input gradient
        (each input pixel's kernel-sized patch added onto the output), its backward the convolution and its weight
        gradient. NOTE: measured with the DCGAN of W7 (BENCHMARKS.md); the NumPy path stays the oracle."""
        n, c, h, w = x.shape
        o, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
        ph, pw = self.padding
        size = (self._full_size(h, 0, kh) - 2 * ph, self._full_size(w, 1, kw) - 2 * pw)
        rows = nhwc(x)
        grid = xp.empty((n, size[0], size[1], lanes(o)), x.dtype)
        # weight (C_in, C_out, kh, kw): a convolution's (O, C, kh, kw) read backwards; the cropped border is its padding
        direct_input_grad(self.direct, rows, weight, grid, self.stride, self.dilation, (ph, ph, pw, pw))
        self.rows = rows
        out = first_channels(grid, o)
        if bias is not None:
            out += bias
        return out.transpose(0, 3, 1, 2)

    def _direct_backward(self, gy):
        needs = self.needs_input_grad
        n, c, h, w = self.x_shape
        kh, kw = self.kernel
        ph, pw = self.padding
        weight = self.input_values()[1]
        o = weight.shape[1]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        grid = nhwc(gy)  # read as the uncropped output's gradient: padding (ph, ph, pw, pw) of zeros
        work = n * h * w * c * o * kh * kw
        gx = gw = gb = None
        if needs[0]:
            kernel = xp.ascontiguousarray(weight)  # (C_in, C_out, kh, kw): the convolution C_out -> C_in
            out = xp.empty((n, h, w, lanes(c)), gy.dtype)

            def input_piece(start, stop):
                self.direct.forward(grid, kernel, None, out, sh, sw, dh, dw, ph, ph, pw, pw, start, stop)

            run_shared(input_piece, n * h, direct_parts(work, n * h))
            gx = first_channels(out, c).transpose(0, 3, 1, 2)
        if needs[1]:
            padded_rows = pad_lanes(self.rows)  # C_in rounded up to 8

            def weight_piece(out, start, stop):
                self.direct.weight_grad(grid, padded_rows, out, sh, sw, dh, dw, ph, ph, pw, pw, start, stop)

            total = run_split_sum(weight_piece, n * h, direct_parts(work, n * h), (kh, kw, o, padded_rows.shape[-1]), gy.dtype)
            gw = xp.ascontiguousarray(total[..., :c].transpose(3, 2, 0, 1))
        if len(needs) > 2 and needs[2]:
            gb = channel_sums(grid.reshape(-1, o))
        return gx, gw, gb

    def backward(self, gy):
        with quiet_blas():
            return self._backward(gy)

    def _backward(self, gy):
        needs = self.needs_input_grad
        if self.direct is not None:
            return self._direct_backward(gy)
        n, c, h, w = self.x_shape
        kh, kw = self.kernel
        ph, pw = self.padding
        (oph, opw) = self.output_padding
        x, weight, *rest = self.input_values()
        # ∂L/∂x is the convolution of gy with W (C_out as its input channels), over the window each input
        # pixel was spread to; rows past the reach of any window (output_padding beyond the padding) are cut.
        gy_in = gy[:, :, : gy.shape[2] + min(ph - oph, 0), : gy.shape[3] + min(pw - opw, 0)]
        conv = Conv2d(self.stride, (ph, max(ph - oph, 0), pw, max(pw - opw, 0)), self.dilation, 1, keep_cols=True)
        conv.needs_input_grad = (False, False)
        gx_full = conv.forward(gy_in, weight)  # (N, C_in, H, W)
        gx = gx_full if needs[0] else None
        gw = gb = None
        if needs[1]:
            # ∂L/∂W[c, o, p, q] = Σ x[n, c, i, j] · gy[n, o, i·s + p·d − pad, j·s + q·d − pad]: the conv's im2col
            gwm = self.rows.T @ conv.cols[:, : kh * kw * gy.shape[1]]  # (C_in, kh·kw·C_out)
            gw = xp.ascontiguousarray(gwm.reshape(c, kh, kw, gy.shape[1]).transpose(0, 3, 1, 2))
        if rest and len(needs) > 2 and needs[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gw, gb


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, PyTorch's arguments: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW).

    Output size per side: (H − 1)·stride − 2·padding + dilation·(kH − 1) + output_padding + 1.
    """
    name = "conv_transpose2d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name} expects Tensors for input and weight")
    if weight.ndim != 4:
        raise ValueError(f"{name}: weight must have 4 dimensions (in_channels, out_channels/groups, kH, kW); got shape {tuple(weight.shape)}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{name}: groups must be a positive int. Received: groups={groups!r}")
    stride = int_tuple(stride, 2, "stride", name, 1)
    padding = int_tuple(padding, 2, "padding", name, 0)
    output_padding = int_tuple(output_padding, 2, "output_padding", name, 0)
    dilation = int_tuple(dilation, 2, "dilation", name, 1)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"{name}: output padding must be smaller than either stride or dilation, but got output_padding={output_padding}, stride={stride}, dilation={dilation}")
    unbatched = input.ndim == 3
    x = reshape(input, (1, *input.shape)) if unbatched else input
    in_channels = weight.shape[0]
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} does not match weight of shape {tuple(weight.shape)}; expected (N, {in_channels}, H, W)"
        )
    if in_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
    kernel = tuple(weight.shape[2:])
    sizes = [transposed_output_size(n, k, s, p, op, d) for n, k, s, p, op, d in zip(x.shape[2:], kernel, stride, padding, output_padding, dilation)]
    if min(sizes) <= 0:
        raise ValueError(f"{name}: the output would be empty ({sizes}); check padding against the kernel and input sizes")
    if groups == 1:
        from .dtype_check import check_same_dtype

        for other in (weight, bias):
            if other is not None and other._array.dtype != x._array.dtype:
                check_same_dtype(name, x, other)
        args = (x, weight) if bias is None else (x, weight, bias)
        y = ConvTranspose2d(stride, padding, output_padding, dilation)(*args)
        return reshape(y, tuple(y.shape[1:])) if unbatched else y
    return _plain_conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation, unbatched)


def _plain_conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation, unbatched):
    """The transposed convolution as a convolution of the spread input with the flipped kernel (any groups)."""
    in_channels, per_group = weight.shape[0], weight.shape[1]
    kernel = tuple(weight.shape[2:])
    # The convolution's kernel: in/out channels swapped within each group, spatially flipped.
    w = reshape(weight, (groups, in_channels // groups, per_group, *kernel))
    w = flip(reshape(permute(w, (0, 2, 1, 3, 4)), (groups * per_group, in_channels // groups, *kernel)), (2, 3))
    lead = tuple(d * (k - 1) - p for d, k, p in zip(dilation, kernel, padding))
    trail = tuple(a + op for a, op in zip(lead, output_padding))
    y = conv2d(_border(_spread(x, stride), lead, trail), w, bias, 1, 0, dilation, groups)
    return reshape(y, tuple(y.shape[1:])) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution: input (N, C_in, L), weight (C_in, C_out/groups, k)."""
    name = "conv_transpose1d"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"{name}: expects Tensors, weight of shape (in_channels, out_channels/groups, k)")
    one = lambda v, arg: (1,) + int_tuple(v, 1, arg, name, 0)  # noqa: E731
    unbatched = input.ndim == 2
    x = reshape(input, (1, *input.shape)) if unbatched else input
    if x.ndim != 3:
        raise ValueError(f"{name}: expected input (N, C, L) or (C, L); got shape {tuple(input.shape)}")
    y = conv_transpose2d(reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), reshape(weight, (*weight.shape[:2], 1, weight.shape[2])),
                         bias, one(stride, "stride"), (0,) + int_tuple(padding, 1, "padding", name, 0),
                         (0,) + int_tuple(output_padding, 1, "output_padding", name, 0), groups, one(dilation, "dilation"))  # fmt: skip
    y = reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
    return reshape(y, tuple(y.shape[1:])) if unbatched else y
