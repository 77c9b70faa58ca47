"""Convolution: conv1d and conv2d as one GEMM over strided windows (im2col), channels-last inside.

y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x[n, c, i·s + p·d - pad, j·s + q·d - pad]

How it is fast on NumPy:
- Arrays keep PyTorch's logical NCHW shape, but the output of a convolution lives in memory as
  NHWC (a transposed view). Element-wise ops (ReLU) and pooling keep that layout, so the next
  convolution gathers its windows with the channels contiguous, and the gradient arriving in
  backward reshapes to an (N·OH·OW, O) matrix without a copy.
- Forward gathers the windows once, through an ``as_strided`` view, into ``cols``
  (N·OH·OW, kh·kw·C), copying runs that are contiguous in the input (the channels of an NHWC
  input; the image rows of an NCHW image with few channels), and makes one float32 BLAS call
  ``cols @ Wᵀ``. The bias is one
  more column of ones in ``cols``, so it costs no extra pass over the output.
- Backward: ∂L/∂W and ∂L/∂b come from one GEMM ``gyᵀ @ cols`` (cols kept from forward);
  ∂L/∂x = col2im(gy @ W), done one window offset at a time: a small GEMM into a cache-resident
  block, then a strided add onto the input gradient.

Where the optional C kernels were built (``_conv.c``), float32 convolutions with one group (at least 4 filters; a
transposed one at least 4 channels on either side) and depthwise ones run there instead: direct loops over the
channels-last input, no im2col matrix, no padded copy, shared between threads. The NumPy paths above stay for the
rest and as the tests' oracles.
"""

from .. import _compiled
from .._backend import xp
from .._parallel import num_threads, pass_parts, quiet_blas, run_shared, run_split_sum
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .dtype_check import check_same_dtype
from .normalization import channel_sums

try:
    from . import _conv as _direct  # type: ignore[attr-defined]  # the optional C kernels (see _conv.c)
except ImportError:  # not built: the NumPy paths below run
    _direct = None

__all__ = ["conv1d", "conv2d"]

_as_strided = xp.lib.stride_tricks.as_strided
_FEW_CHANNELS = 4  # up to this many input channels, im2col reads an NCHW input as it is
IMPLICIT_GEMM_MAX_CHANNELS = 32  # stride-1 convolutions with at most this many input channels skip im2col
INFERENCE_COLS_BYTES = 16 << 20  # without autograd, im2col is built a few samples at a time, at most this big
DIRECT_MIN_CHANNELS = 4  # fewer channels in the vector lanes (filters; see direct_kernels): the NumPy paths
FILTER_SPLIT_PIXELS = 4096  # up to this many output pixels, threads share a convolution by filters, not rows
ROW_RUN_FLOATS = 24  # _conv.c's ROW_RUN: window rows of up to this many floats are one run in the kernels
DIRECT_MACS_PER_THREAD = 1 << 22  # a direct convolution is shared between threads in pieces of at least this much


def direct_kernels(dtype, groups, depthwise=False, channels=DIRECT_MIN_CHANNELS):
    """The compiled direct convolution (``_conv.c``) when it was built, is switched on and handles the case:
    float32, one group or depthwise (other grouped convolutions keep their NumPy path), and at least
    ``DIRECT_MIN_CHANNELS`` ``channels`` in the kernels' vector lanes (Conv2d: the filters; ConvTranspose2d: the fewer
    of its input and output channels, each the lanes of one of its passes).

    NOTE: with 1-3 lanes the vectors are mostly padding; NumPy's im2col / implicit GEMM is faster there (one thread,
    forward + backward, ms, direct vs NumPy: DCGAN's generator's last transposed layer, 1 output channel, 7.90 vs 2.97).
    """
    if _direct is None or (groups != 1 and not depthwise) or dtype != xp.float32 or not _compiled.enabled():
        return None
    if channels < DIRECT_MIN_CHANNELS and not depthwise:
        return None
    return _direct


def direct_parts(work, pieces, threads=None):
    """How many threads (of ``threads``, else num_threads()) share ``work`` multiply-adds split into at most
    ``pieces`` pieces."""
    return max(1, min(threads or num_threads(), pieces, work // DIRECT_MACS_PER_THREAD))


def direct_forward(direct, source, kernel, bias, out, stride, dilation, padding):
    """out (N, OH, OW, O′) = the convolution of the NHWC ``source`` with ``kernel`` (O, C, KH, KW) in the compiled
    kernels, shared between threads by output rows, or by blocks of 16 filters for a small map."""
    n, oh, ow, _ = out.shape
    o, c, kh, kw = kernel.shape
    blocks = -(-o // 16)
    # NOTE: a small map (resnet18's 14x14 and 7x7 layers at batch 1) is shared by its filters, each thread packing
    # only its own slices of the kernel: the 512-channel 7x7 layer on two threads 3.4 -> 1.8-2.4 ms, where sharing
    # its seven rows made it slower than one thread (each packed the whole kernel)
    threads = num_threads()  # (read once: SHENDU_NUM_THREADS is looked up in os.environ each time)
    by_filters = threads > 1 and n * oh * ow <= FILTER_SPLIT_PIXELS and blocks >= 2 * threads

    def piece(start, stop):
        direct.forward(source, kernel, bias, out, *stride, *dilation, *padding, start, stop, by_filters)

    total = blocks if by_filters else n * oh
    # NOTE: a few blocks of filters go one a piece: 8 blocks cut into 6 pieces of 1 or 2 could leave one thread 5
    # (resnet18's 128-filter 28×28 layer at batch 1: 1.55 → 1.80 times faster on two threads than on one);
    # more blocks keep the usual pieces (one block a piece, the 512-filter layers' 32 calls cost more than they
    # balanced)
    few = by_filters and total <= 4 * threads
    run_shared(piece, total, direct_parts(n * oh * ow * o * c * kh * kw, total, threads), total if few else None)


def direct_input_grad(direct, rows, weight, grid, stride, dilation, padding, phases=True):
    """grid (N, H, W, C′) = the input gradient of a convolution of x (N, H, W, C) with ``weight`` (O, C, KH, KW), from
    its output gradient ``rows`` (N, OH, OW, O), in the compiled kernels (a transposed convolution's forward too).
    Strided, it is computed phase by phase (``_conv.c``: phases_input_grad), the threads sharing its units (phases
    and samples); otherwise, or with ``phases=False`` (the tests' second path: the scatter), by samples."""
    n, (sh, sw), (dh, dw) = rows.shape[0], stride, dilation
    kernel = xp.ascontiguousarray(weight)
    work = rows.size * weight.size // weight.shape[0]
    units = direct.input_grad_units(rows, kernel, grid, sh, sw, dh, dw, *padding) if phases else 0

    def piece(start, stop):  # the kernel writes every pixel of the grid; what lands in the padding goes to a sink
        direct.input_grad(rows, kernel, grid, sh, sw, dh, dw, *padding, start, stop, bool(units))

    total = units or n
    run_shared(piece, total, direct_parts(work, total))


def nhwc(x):
    """(N, C, H, W) ``x`` as a C-contiguous (N, H, W, C) array: free when x is stored channels-last."""
    return xp.ascontiguousarray(x.transpose(0, 2, 3, 1))


def first_channels(out, count):
    """The first ``count`` channels of a lane-padded (N, H, W, C′) output, C-contiguous (copied only when C′ > count):
    the next layer and batch norm take channels-last rows without a copy."""
    return out if out.shape[-1] == count else xp.ascontiguousarray(out[..., :count])


def lanes(count):
    """``count`` channels rounded up to the direct kernels' vector lanes (a multiple of 8)."""
    return count + (-count) % 8


def pad_lanes(array):
    """``array`` (..., k) C-contiguous with its last axis zero-padded to a multiple of 8, the direct kernels'
    vector lanes (free when k already is one and the array is contiguous)."""
    k = array.shape[-1]
    if k % 8 == 0:
        return xp.ascontiguousarray(array)
    out = xp.zeros(array.shape[:-1] + (lanes(k),), array.dtype)
    out[..., :k] = array
    return out


def empty_in_layout(shape, dtype, channels_last, fill=None):
    """An (N, C, H, W) array, stored as NHWC when ``channels_last`` (the layout of every conv output here)."""
    n, c, h, w = shape
    if fill is None:
        make = xp.empty
    elif fill == 0:
        make = xp.zeros
    else:
        make = lambda size, dtype: xp.full(size, fill, dtype)  # noqa: E731
    if channels_last:
        return make((n, h, w, c), dtype).transpose(0, 3, 1, 2)
    return make((n, c, h, w), dtype)


def is_channels_last(x):
    """True when (N, C, H, W) ``x`` keeps its channels closest together in memory (NHWC storage)."""
    return x.shape[1] > 1 and abs(x.strides[1]) < abs(x.strides[3])


def same_layout(a, like):
    """``a`` stored in the memory order of ``like`` (copied only if it differs): element-wise ops
    over arrays of different layouts run several times slower than over matching ones."""
    if a.strides == like.strides or a.ndim != like.ndim:
        return a
    out = xp.empty_like(like, dtype=a.dtype)  # empty_like keeps like's memory order
    out[...] = a
    return out


def pad_spatial(x, padding, fill=0, channels_last=True):
    """Pad the two spatial axes with ``fill``; ``padding`` = (top, bottom, left, right)."""
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    padded = empty_in_layout((n, c, h + top + bottom, w + left + right), x.dtype, channels_last)

    # NOTE: only the border is filled and the inside copied: one pass over memory where zeros() then a copy made two;
    # a large one is shared between threads by samples (NumPy's copies release the GIL): ResNet-20 spent ~28 ms of a
    # two-thread step here
    def piece(start, stop):
        part = padded[start:stop]
        for border in (part[:, :, :top], part[:, :, top + h :], part[:, :, top : top + h, :left],
                       part[:, :, top : top + h, left + w :]):  # fmt: skip
            border.fill(fill)
        part[:, :, top : top + h, left : left + w] = x[start:stop]

    run_shared(piece, n, pass_parts(padded.nbytes, n))
    return padded


def _windows(x, out_hw, kernel, stride, dilation):
    """View (N, OH, OW, kh, kw, C) of the windows of ``x`` (N, C, H, W): no copy, any memory layout."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    # NOTE: over NCHW or NHWC memory (every input here but odd views), ndarray(buffer=...) builds the
    # view in a quarter of as_strided's time (~1 µs against ~4 µs), which counts on a one-image forward
    for storage in (x, x.transpose(0, 2, 3, 1)):
        if storage.flags.c_contiguous:
            windows = xp.ndarray(shape, x.dtype, buffer=storage, strides=strides)
            windows.flags.writeable = False
            return windows
    return _as_strided(x, shape, strides, writeable=False)


def _grid_rows(padded):
    """The padded (N, C, H′, W′) input as the (N·H′·W′, C) matrix of the implicit GEMM (free when it is NHWC)."""
    n, c, hp, wp = padded.shape
    return xp.ascontiguousarray(padded.transpose(0, 2, 3, 1)).reshape(n * hp * wp, c)


def _as_pixel_rows(gy):
    """(N, O, OH, OW) ``gy`` as an (N·OH·OW, O) matrix: free when gy is stored NHWC (as ReLU's gradient
    of a conv output is); otherwise one copy to (O, N·OH·OW), which moves whole rows of OH·OW values
    (several times faster than an element-wise transpose), read back column-major."""
    n, o, oh, ow = gy.shape
    rows = gy.transpose(0, 2, 3, 1)
    if rows.flags.c_contiguous:
        return rows.reshape(n * oh * ow, o)
    return xp.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(o, n * oh * ow).T


def _output_size(size, kernel, stride, padding, dilation):
    return (size + padding - dilation * (kernel - 1) - 1) // stride + 1


class Conv2d(Function):
    """2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with W (O, C/groups, kh, kw).

    ``padding`` is (top, bottom, left, right). The output is an NCHW-shaped view of NHWC memory.

    NOTE: the bias rides in the GEMM as an extra column of ones in ``cols`` (and a bias column in
    the weight matrix): forward saves a pass over the output, and backward gets ∂L/∂b in the same
    GEMM as ∂L/∂W.
    """

    def __init__(self, stride, padding, dilation, groups, keep_cols=False):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.keep_cols = keep_cols  # take the im2col path, whose ``cols`` a caller reads after forward

    def forward(self, x, weight, bias=None):
        with quiet_blas():  # the NumPy paths' GEMMs next to the kernels' threads (see _parallel.quiet_blas)
            return self._forward(x, weight, bias)

    def _forward(self, x, weight, bias=None):
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        top, bottom, left, right = self.padding
        oh = _output_size(h, kh, self.stride[0], top + bottom, self.dilation[0])
        ow = _output_size(w, kw, self.stride[1], left + right, self.dilation[1])
        self.x_shape, self.out_hw, self.kernel = x.shape, (oh, ow), (kh, kw)
        self.depthwise = self.groups == c == o and c > 1
        # the filters are the vector lanes of forward and of the weight gradient; a 1-3-channel input (an image) is the
        # kernels' too since the weight gradient takes its window rows as runs. NOTE: interleaved A/B at two threads,
        # 1-3-channel first layers in the kernels rather than NumPy's GEMMs: digit CNN 50.0 → 45.2 ms a step, VGG
        # 105 → 101, ResNet-20 235 → 227 (one thread: 83 → 82, 184 → 180, 400 → 397); resnet18's stem at batch 16
        # under no_grad 827 → 708 ms a forward
        self.direct = None if self.keep_cols else direct_kernels(x.dtype, self.groups, self.depthwise, o)
        if self.direct is not None:
            if self.depthwise:
                return self._direct_depthwise_forward(x, weight, bias)
            return self._direct_forward(x, weight, bias)
        # Few channels (an image): gather image rows from NCHW. Otherwise work from NHWC, copying
        # an NCHW input over once: gathering runs of C channels beats gathering short image rows.
        input_channels_last = is_channels_last(x)
        channels_last = input_channels_last or c > _FEW_CHANNELS
        padded = pad_spatial(x, self.padding, channels_last=channels_last)
        if channels_last and not (input_channels_last if padded is x else is_channels_last(padded)):
            padded = xp.ascontiguousarray(padded.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        self.implicit = self._implicit_pays(c, padded, (oh, ow))
        if self.implicit:
            self.source = x  # autograd keeps x anyway; backward pads it again rather than keeping the padded copy
            return self._implicit_forward(padded, weight, bias)
        windows = _windows(padded, (oh, ow), (kh, kw), self.stride, self.dilation)
        if self.depthwise:
            return self._depthwise_forward(windows, weight, bias)
        if self.groups > 1:
            return self._grouped_forward(windows, weight, bias)
        m, k = n * oh * ow, kh * kw * c
        width = k + (bias is not None)
        if not is_grad_enabled() and n > 1 and m * width * x.itemsize > INFERENCE_COLS_BYTES:
            return self._forward_in_chunks(windows, weight, bias)
        # cols: one row per output pixel, columns (p, q, c) [+ a column of ones for the bias]. The
        # gather copies runs that are contiguous in x: channels (NHWC) or image rows (NCHW).
        if channels_last:
            cols = xp.empty((m, width), x.dtype)
            cols.reshape(n, oh, ow, width)[..., :k].reshape(n, oh, ow, kh, kw, c)[...] = windows
        else:
            cols = xp.empty((width, m), x.dtype)
            cols[:k].reshape(kh, kw, c, n, oh, ow)[...] = windows.transpose(3, 4, 5, 0, 1, 2)
            cols = cols.T  # (m, width), column-major: BLAS takes it as it is
        wmat = xp.empty((o, width), x.dtype)
        wmat[:, :k].reshape(o, kh, kw, c)[...] = weight.transpose(0, 2, 3, 1)
        if bias is not None:
            cols[:, k] = 1
            wmat[:, k] = bias
        self.cols, self.wmat = cols, wmat
        return (cols @ wmat.T).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def _forward_in_chunks(self, windows, weight, bias):
        """Without autograd nothing is kept for backward: the im2col matrix is built for a few samples at a
        time (at most ``INFERENCE_COLS_BYTES``) and each block's GEMM writes its rows of the output.

        NOTE: resnet18 at batch 16 under ``no_grad`` allocated its stem's whole (802,816 x 147) matrix, 118 MB;
        the one-matrix path stays the oracle (the tests compare the two).
        """
        n, oh, ow, kh, kw, c = windows.shape
        o, k = weight.shape[0], kh * kw * c
        wmat = xp.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(k, o))  # rows (p, q, c), as cols
        out = xp.empty((n, oh, ow, o), weight.dtype)
        step = max(1, INFERENCE_COLS_BYTES // (oh * ow * k * weight.itemsize))
        cols = xp.empty((min(step, n) * oh * ow, k), weight.dtype)
        for start in range(0, n, step):
            stop = min(start + step, n)
            rows = cols[: (stop - start) * oh * ow]
            rows.reshape(stop - start, oh, ow, kh, kw, c)[...] = windows[start:stop]
            xp.matmul(rows, wmat, out=out[start:stop].reshape(-1, o))
        if bias is not None:
            out += bias
        return out.transpose(0, 3, 1, 2)

    def _direct_forward(self, x, weight, bias):
        """The compiled direct convolution over the channels-last input (``_conv.c``): nothing like an im2col matrix is
        written, the padding is not stored (taps that fall in it read zeros), and backward keeps only x (which autograd
        keeps anyway) and W.

        NOTE: a ResNet-20 16-channel 3×3 layer at 32×32, batch 128, one thread: forward + backward 18.7 ms against
        PyTorch's 17.7 ms (the implicit GEMM's 43 ms); the NumPy paths stay as the oracles (tests compare them).
        """
        n, c, _, _ = x.shape
        o, _, kh, kw = weight.shape
        oh, ow = self.out_hw
        padding = self.padding
        if kw * c <= ROW_RUN_FLOATS and self.dilation[1] == 1 and any(padding):
            # NOTE: an image's window rows (kw·C floats) are one run in the kernels, but not where a window reaches
            # into the padding: there a tap is C multiply-adds. A padded copy of so few channels costs little: the
            # digit CNN's 1-channel 5×5 layer (batch 100, 28×28, padding 2) forward 3.9 → 1.8 ms, its training step
            # 79.8 → 75.7 ms (one thread, interleaved A/B)
            x, padding = pad_spatial(x, padding, channels_last=True), (0, 0, 0, 0)
        kernel = xp.ascontiguousarray(weight)  # (O, C, kh, kw): the kernels pack the slices they need
        rows = None if bias is None else xp.ascontiguousarray(bias)
        out = xp.empty((n, oh, ow, lanes(o)), x.dtype)
        direct_forward(self.direct, nhwc(x), kernel, rows, out, self.stride, self.dilation, padding)
        self.source, self.source_padding, self.weight = x, padding, weight
        return first_channels(out, o).transpose(0, 3, 1, 2)

    def _direct_backward(self, gy):
        needs = self.needs_input_grad
        n, c, h, w = self.x_shape
        oh, ow = self.out_hw
        o, _, kh, kw = self.weight.shape
        (sh, sw), (dh, dw) = self.stride, self.dilation
        rows = nhwc(gy)  # (N, OH, OW, O): free when gy is stored channels-last
        work = n * oh * ow * o * c * kh * kw
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = channel_sums(rows.reshape(-1, o))
        source = nhwc(self.source)
        if needs[1]:
            padded_rows = pad_lanes(rows)  # O rounded up to 8

            def weight_piece(out, start, stop):
                self.direct.weight_grad(source, padded_rows, out, sh, sw, dh, dw, *self.source_padding, start, stop)

            total = run_split_sum(weight_piece, n * oh, direct_parts(work, n * oh), (kh, kw, c, padded_rows.shape[-1]), gy.dtype)
            gw = xp.ascontiguousarray(total[..., :o].transpose(3, 2, 0, 1))
        if needs[0] and c < DIRECT_MIN_CHANNELS:
            gx = self._few_channels_input_grad(rows)
        elif needs[0]:
            grid = xp.empty((n, h, w, lanes(c)), gy.dtype)  # C rounded up to 8
            direct_input_grad(self.direct, rows, self.weight, grid, self.stride, self.dilation, self.padding)
            gx = first_channels(grid, c).transpose(0, 3, 1, 2)
        return gx, gw, gb

    def _direct_depthwise_forward(self, x, weight, bias):
        """Depthwise (groups = C = O) in the compiled kernels: kh·kw multiply-adds per output, the channels as the
        vector lanes, shared between threads (``_conv.c``). NOTE: measured with W7's separable network
        (BENCHMARKS.md); the NumPy depthwise path stays the oracle (tests compare the two)."""
        n, c, _, _ = x.shape
        _, _, kh, kw = weight.shape
        oh, ow = self.out_hw
        source = nhwc(x)  # the padding is not stored (the kernels skip the taps in it)
        kernel = xp.ascontiguousarray(weight.reshape(c, kh, kw).transpose(1, 2, 0)).reshape(kh, kw, 1, c)
        out = xp.empty((n, oh, ow, c), x.dtype)
        rows = None if bias is None else xp.ascontiguousarray(bias)
        (sh, sw), (dh, dw) = self.stride, self.dilation

        def piece(start, stop):
            self.direct.depthwise_forward(source, kernel, rows, out, sh, sw, dh, dw, *self.padding, start, stop)

        # NOTE: kh·kw multiply-adds per value: a pass over memory, shared as one (by MACs, 64 × 32 × 32 × 32 × 3 × 3
        # was one thread's work: the separable network's depthwise kernels did not get faster on two threads)
        run_shared(piece, n * oh, pass_parts(source.nbytes + out.nbytes, n * oh))
        self.source, self.weight, self.kernel_lanes = x, weight, kernel
        return out.transpose(0, 3, 1, 2)

    def _direct_depthwise_backward(self, gy):
        needs = self.needs_input_grad
        n, c, h, w = self.x_shape
        oh, ow = self.out_hw
        kh, kw = self.kernel
        (sh, sw), (dh, dw) = self.stride, self.dilation
        rows = nhwc(gy)
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = channel_sums(rows.reshape(-1, c))
        source = nhwc(self.source)
        passed = source.nbytes + rows.nbytes  # each kernel passes over these once (see _direct_depthwise_forward)
        if needs[1]:

            def weight_piece(out, start, stop):
                self.direct.depthwise_weight_grad(source, rows, out, sh, sw, dh, dw, *self.padding, start, stop)

            total = run_split_sum(weight_piece, n * oh, pass_parts(passed, n * oh), (kh, kw, 1, c), gy.dtype)
            gw = xp.ascontiguousarray(total.reshape(kh, kw, c).transpose(2, 0, 1)).reshape(c, 1, kh, kw)
        if needs[0]:
            grid = xp.empty(source.shape, gy.dtype)  # the kernel zeroes it

            def input_piece(start, stop):
                self.direct.depthwise_input_grad(rows, self.kernel_lanes, grid, sh, sw, dh, dw, *self.padding, start,
                                                 stop)  # fmt: skip

            run_shared(input_piece, n, pass_parts(passed, n))
            gx = grid.transpose(0, 3, 1, 2)
        return gx, gw, gb

    def _few_channels_input_grad(self, rows):
        """The input gradient of a layer with 1-3 input channels (a GAN discriminator's image): one product
        gy (N·OH·OW, O) @ W (O, KH·KW·C), its windows added onto the input (col2im).

        NOTE: in the kernels the input channels are the vector lanes, 1 of 8 used: DCGAN's 1-channel 4×4 stride-2
        layer at batch 64, two threads, 5.0 → 0.85 ms.
        """
        n, oh, ow, o = rows.shape
        kh, kw = self.kernel
        c = self.x_shape[1]
        wmat = self.weight.transpose(0, 2, 3, 1).reshape(o, kh * kw * c)
        cols = (rows.reshape(-1, o) @ wmat).reshape(n, oh, ow, kh * kw, c)
        return self._col2im(cols[:, :, :, t] for t in range(kh * kw))

    def backward(self, gy):
        with quiet_blas():
            return self._backward(gy)

    def _backward(self, gy):
        needs = self.needs_input_grad
        if self.direct is not None:
            if self.depthwise:
                return self._direct_depthwise_backward(gy)
            return self._direct_backward(gy)
        if self.implicit:
            return self._implicit_backward(gy)
        if self.depthwise:
            return self._depthwise_backward(gy)
        if self.groups > 1:
            return self._grouped_backward(gy)
        n, c = self.x_shape[:2]
        oh, ow = self.out_hw
        kh, kw = self.kernel
        o, k = gy.shape[1], kh * kw * c
        m = n * oh * ow
        gy2 = _as_pixel_rows(gy)
        gx = gw = gb = None
        need_bias = len(needs) > 2 and needs[2]
        if needs[1]:
            gwb = gy2.T @ self.cols  # (o, k [+1]): ∂L/∂W and, in the last column, ∂L/∂b
            gw = xp.ascontiguousarray(gwb[:, :k].reshape(o, kh, kw, c).transpose(0, 3, 1, 2))
            if need_bias:
                gb = gwb[:, k].copy()
        elif need_bias:
            gb = xp.ones(m, gy2.dtype) @ gy2
        if needs[0]:
            # col2im, one window offset at a time: a small GEMM into a cache-resident buffer, then a
            # strided add onto the input gradient (faster than one big GEMM whose output is re-read)
            block = xp.empty((m, c), gy2.dtype)
            blocks = (
                xp.matmul(gy2, self.wmat[:, (p * kw + q) * c : (p * kw + q + 1) * c], out=block).reshape(n, oh, ow, c)
                for p in range(kh)
                for q in range(kw)
            )
            gx = self._col2im(blocks)
        return gx, gw, gb

    def _implicit_pays(self, c, padded, out_hw):
        """Few channels, stride 1: the implicit GEMM beats writing the im2col matrix (see _implicit_forward)."""
        if self.keep_cols or self.groups != 1 or self.stride != (1, 1) or self.dilation != (1, 1):
            return False
        if c > IMPLICIT_GEMM_MAX_CHANNELS:
            return False
        hp, wp = padded.shape[2], padded.shape[3]
        return is_channels_last(padded) and hp * wp <= 1.3 * out_hw[0] * out_hw[1]

    def _implicit_forward(self, padded, weight, bias):
        """Stride-1 convolution without an im2col matrix: over the padded NHWC input flattened to rows of C,
        the window offset (p, q) is the same matrix shifted by p·W' + q rows, so the output (on the padded
        grid, whose extra columns and rows are cut) is Σ_{p,q} rows[shift:shift + L] @ W[:, :, p, q]ᵀ.

        NOTE: nine contiguous GEMMs instead of writing and reading a (pixels × kh·kw·C) matrix: a ResNet-20
        16-channel 3×3 layer at 32×32 (batch 128) forward 21.7 → 10.0 ms (PyTorch 11 ms); it pays up to 32
        channels when the padding adds at most 30 % to the grid (measured; the im2col path stays the oracle).
        """
        n, c, hp, wp = padded.shape
        o = weight.shape[0]
        kh, kw = self.kernel
        oh, ow = self.out_hw
        rows = _grid_rows(padded)
        kernel = xp.ascontiguousarray(weight.transpose(2, 3, 1, 0))  # (kh, kw, C, O)
        length = n * hp * wp - ((kh - 1) * wp + (kw - 1))
        grid = xp.empty((n * hp * wp, o), rows.dtype)
        total, scratch = grid[:length], xp.empty((length, o), rows.dtype)
        for index in range(kh * kw):
            p, q = divmod(index, kw)
            shift = p * wp + q
            if index == 0:
                xp.matmul(rows[shift : shift + length], kernel[p, q], out=total)
            else:
                xp.matmul(rows[shift : shift + length], kernel[p, q], out=scratch)
                total += scratch
        self.kernel_blocks, self.grid_hw, self.length = kernel, (hp, wp), length
        cropped = grid.reshape(n, hp, wp, o)[:, :oh, :ow, :]
        out = cropped + bias if bias is not None else cropped.copy()
        return out.transpose(0, 3, 1, 2)

    def _implicit_backward(self, gy):
        needs = self.needs_input_grad
        n, c, h, w = self.x_shape
        oh, ow = self.out_hw
        kh, kw = self.kernel
        hp, wp = self.grid_hw
        o, length = gy.shape[1], self.length
        grid = xp.zeros((n, hp, wp, o), gy.dtype)
        grid[:, :oh, :ow, :] = gy.transpose(0, 2, 3, 1)
        grid = grid.reshape(n * hp * wp, o)[:length]
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = grid.sum(axis=0)
        if needs[1]:
            # NOTE: the padded input is made again here instead of being kept from forward: one activation less per
            # layer (ResNet-20: 664 -> 564 MB with BatchNorm's x̂ likewise) for one padding copy in backward.
            rows = _grid_rows(pad_spatial(self.source, self.padding, channels_last=True))
            gw = xp.empty((kh, kw, c, o), gy.dtype)
            for index in range(kh * kw):
                p, q = divmod(index, kw)
                shift = p * wp + q
                xp.matmul(rows[shift : shift + length].T, grid, out=gw[p, q])
            gw = xp.ascontiguousarray(gw.transpose(3, 2, 0, 1))
        if needs[0]:
            padded = xp.zeros((n * hp * wp, c), gy.dtype)
            scratch = xp.empty((length, c), gy.dtype)
            for index in range(kh * kw):
                p, q = divmod(index, kw)
                shift = p * wp + q
                xp.matmul(grid, self.kernel_blocks[p, q].T, out=scratch)
                padded[shift : shift + length] += scratch
            top, _, left, _ = self.padding
            gx = padded.reshape(n, hp, wp, c)[:, top : top + h, left : left + w, :].transpose(0, 3, 1, 2)
        return gx, gw, gb

    def _depthwise_forward(self, windows, weight, bias):
        """One filter per channel: y = Σ_{p,q} window(p, q) ⊙ w[:, p, q], a multiply-add over (N·OH·OW, C) per offset.

        NOTE: the grouped path's batched GEMM has one output column per group, where BLAS does worst; this
        runs kh·kw vectorised passes over channels-last rows instead (measured in BENCHMARKS.md, W7 separable).
        """
        n, oh, ow, kh, kw, c = windows.shape
        self.windows, self.wdepth = windows, weight.reshape(c, kh * kw).T  # (kh·kw, C)
        y = xp.empty((n, oh, ow, c), windows.dtype)
        scratch = xp.empty_like(y)
        for index in range(kh * kw):
            p, q = divmod(index, kw)
            if index == 0:
                xp.multiply(windows[:, :, :, p, q, :], self.wdepth[index], out=y)
            else:
                xp.multiply(windows[:, :, :, p, q, :], self.wdepth[index], out=scratch)
                y += scratch
        if bias is not None:
            y += bias
        return y.transpose(0, 3, 1, 2)

    def _depthwise_backward(self, gy):
        needs = self.needs_input_grad
        n, c = self.x_shape[:2]
        oh, ow = self.out_hw
        kh, kw = self.kernel
        rows = gy.transpose(0, 2, 3, 1)  # (N, OH, OW, C), a view when gy is stored NHWC
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = rows.sum(axis=(0, 1, 2))
        if needs[1]:
            gw = xp.empty((kh * kw, c), gy.dtype)
            for index in range(kh * kw):
                p, q = divmod(index, kw)
                gw[index] = xp.einsum("nijc,nijc->c", self.windows[:, :, :, p, q, :], rows)
            gw = xp.ascontiguousarray(gw.T).reshape(c, 1, kh, kw)
        if needs[0]:
            block = xp.empty((n, oh, ow, c), gy.dtype)
            blocks = (xp.multiply(rows, self.wdepth[index], out=block) for index in range(kh * kw))
            gx = self._col2im(blocks)
        return gx, gw, gb

    def _grouped_forward(self, windows, weight, bias):
        n, oh, ow, kh, kw, c = windows.shape
        o, cg = weight.shape[:2]
        g = self.groups
        m = n * oh * ow
        grouped = windows.reshape(n, oh, ow, kh, kw, g, cg)
        self.cols = xp.ascontiguousarray(grouped.transpose(5, 0, 1, 2, 3, 4, 6)).reshape(g, m, kh * kw * cg)
        self.wmat = weight.reshape(g, o // g, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, o // g, -1)
        y = xp.matmul(self.cols, self.wmat.transpose(0, 2, 1))  # (g, m, o/g)
        y = xp.ascontiguousarray(y.transpose(1, 0, 2)).reshape(m, o)
        if bias is not None:
            y += bias
        return y.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def _grouped_backward(self, gy):
        needs = self.needs_input_grad
        n, c = self.x_shape[:2]
        oh, ow = self.out_hw
        kh, kw = self.kernel
        o, g = gy.shape[1], self.groups
        og, cg, m = o // g, c // g, n * oh * ow
        gy2 = gy.transpose(0, 2, 3, 1).reshape(m, o)
        gyg = gy2.reshape(m, g, og).transpose(1, 0, 2)  # (g, m, o/g)
        gx = gw = gb = None
        if len(needs) > 2 and needs[2]:
            gb = xp.ones(m, gy2.dtype) @ gy2
        if needs[1]:
            gw = xp.matmul(gyg.transpose(0, 2, 1), self.cols)  # (g, o/g, kh·kw·cg)
            gw = xp.ascontiguousarray(gw.reshape(g, og, kh, kw, cg).transpose(0, 1, 4, 2, 3)).reshape(o, cg, kh, kw)
        if needs[0]:
            gcols = xp.matmul(gyg, self.wmat).reshape(g, n, oh, ow, kh, kw, cg)  # (g, m, kh·kw·cg)
            gcols = gcols.transpose(1, 2, 3, 4, 5, 0, 6).reshape(n, oh, ow, kh, kw, c)
            gx = self._col2im(gcols[:, :, :, p, q, :] for p in range(kh) for q in range(kw))
        return gx, gw, gb

    def _col2im(self, blocks):
        """Add the window gradients (one (N, OH, OW, C) block per offset, row-major) onto the padded input; crop."""
        n, c, h, w = self.x_shape
        top, bottom, left, right = self.padding
        gx = scatter_windows(blocks, (n, h + top + bottom, w + left + right, c), self.out_hw, self.kernel,
                             self.stride, self.dilation)  # fmt: skip
        return gx[:, top : top + h, left : left + w, :].transpose(0, 3, 1, 2)


def scatter_windows(blocks, shape, out_hw, kernel, stride, dilation):
    """col2im: a zero (N, H, W, C) array with each offset's (N, OH, OW, C) block added at its strided window positions."""
    oh, ow = out_hw
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    gx = None
    offsets = ((p, q) for p in range(kh) for q in range(kw))
    for (p, q), block in zip(offsets, blocks):
        if gx is None:
            gx = xp.zeros(shape, block.dtype)
        gx[:, p * dh : p * dh + sh * (oh - 1) + 1 : sh, q * dw : q * dw + sw * (ow - 1) + 1 : sw, :] += block
    return gx


def int_tuple(value, n, name, fname, minimum):
    """An int or an n-tuple of ints, each ≥ ``minimum``, as an n-tuple (ValueError naming ``name`` otherwise)."""
    if type(value) is int and value >= minimum:  # NOTE: the usual case, without the generic checks' generator
        return (value,) * n
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(values, (tuple, list)) and len(values) == n
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in values)
    if not ok:
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(
            f"{fname}: {name} must be a {kind} int or a tuple of {n} {kind} ints. Received: {name}={value!r}"
        )
    return tuple(values)


def conv_padding(padding, kernel, dilation, stride, fname):
    """Resolve ``padding`` (int, tuple, 'valid' or 'same') to per-side amounts ((before, after), ...).

    'same' pads d·(k-1) in total, the extra element on the right/bottom, as PyTorch.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fname}: padding='same' is not supported for strided convolutions. Received: stride={stride}"
                )
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(
            f"{fname}: padding must be 'valid', 'same' or non-negative ints. Received: padding={padding!r}"
        )
    return tuple((p, p) for p in int_tuple(padding, n, "padding", fname, 0))


def _same_dtype_tensor(value, like, name):
    value = value if isinstance(value, Tensor) else Tensor(value)
    check_same_dtype(name, value, like)
    return value


def _conv(input, weight, bias, stride, padding, dilation, groups, dims):
    """Shared checks of conv1d/conv2d; returns the output of Conv2d (1-D runs as H = 1)."""
    fname = f"conv{dims}d"
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    input = _same_dtype_tensor(input, weight, fname)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{fname}: weight must have {dims + 2} dimensions (out_channels, in_channels/groups, *kernel); got shape {tuple(weight.shape)}"
        )
    if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{fname}: groups must be a positive int. Received: groups={groups!r}")
    out_channels, cg = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    stride = int_tuple(stride, dims, "stride", fname, 1)
    dilation = int_tuple(dilation, dims, "dilation", fname, 1)
    pads = conv_padding(padding, kernel, dilation, stride, fname)
    layout = "(N, C, L)" if dims == 1 else "(N, C, H, W)"
    unbatched = input.ndim == dims + 1
    if input.ndim not in (dims + 1, dims + 2) or input.shape[-dims - 1] != cg * groups:
        raise ValueError(
            f"{fname}: input of shape {tuple(input.shape)} does not match weight of shape {tuple(weight.shape)} "
            f"with groups={groups}; expected {layout.replace('C', str(cg * groups))}"
        )
    if out_channels % groups:
        raise ValueError(
            f"{fname}: out_channels must be divisible by groups. Received: out_channels={out_channels}, groups={groups}"
        )
    spatial = tuple(input.shape[-dims:])
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    dilated = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(k > s for k, s in zip(dilated, padded)):
        raise ValueError(
            f"{fname}: the kernel {kernel} (spanning {dilated} with dilation {dilation}) is larger than the padded "
            f"input {padded}; use a smaller kernel, more padding or a larger input"
        )
    if bias is not None:
        bias = _same_dtype_tensor(bias, weight, fname)
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{fname}: bias must have shape ({out_channels},); got {tuple(bias.shape)}")
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(2)
        weight = weight.unsqueeze(2)
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    y = checked_conv2d(x, weight, bias, stride, pads[0] + pads[1], dilation, groups)
    if dims == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def checked_conv2d(x, weight, bias, stride, padding, dilation, groups):
    """The Conv2d op on arguments already checked and normalised: x (N, C, H, W) and weight tensors of
    one float dtype, bias None or (O,), stride/dilation 2-tuples, padding (top, bottom, left, right).

    ``conv2d`` ends here; so does ``nn.Conv2d`` directly when its input needs no check the layer has not
    made already (see ``nn.Conv2d.forward``).
    """
    op = Conv2d(stride, padding, dilation, groups)
    return op(x, weight) if bias is None else op(x, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W), as ``torch.nn.functional.conv2d``.

    y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]  (⋆ is cross-correlation with stride, padding, dilation).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        weight: (out_channels, C/groups, kh, kw).
        bias: (out_channels,) or None. Defaults to None.
        stride: int or (sh, sw). Defaults to 1.
        padding: int, (ph, pw), 'valid' or 'same' (stride 1 only). Defaults to 0.
        dilation: int or (dh, dw). Defaults to 1.
        groups: split the channels into this many independent convolutions. Defaults to 1.

    Shape:
        output (N, out_channels, OH, OW) with OH = ⌊(H + 2·ph - dh·(kh-1) - 1) / sh⌋ + 1.

    Example:
        >>> y = conv2d(randn(32, 1, 28, 28), randn(8, 1, 3, 3), padding="same")
        >>> y.shape
        shendu.Size([32, 8, 28, 28])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L), as ``torch.nn.functional.conv1d`` (runs as conv2d with H = 1).

    y[n, o, i] = b[o] + Σ_{c, p} W[o, c, p] · x[n, c, i·s + p·d - pad]

    Args:
        input: (N, C, L) or unbatched (C, L).
        weight: (out_channels, C/groups, k).
        bias: (out_channels,) or None. Defaults to None.
        stride: int. Defaults to 1.
        padding: int, 'valid' or 'same' (stride 1 only). Defaults to 0.
        dilation: int. Defaults to 1.
        groups: Defaults to 1.

    Shape:
        output (N, out_channels, L_out) with L_out = ⌊(L + 2·pad - d·(k-1) - 1) / s⌋ + 1.

    Example:
        >>> conv1d(randn(4, 2, 10), randn(3, 2, 5)).shape
        shendu.Size([4, 3, 6])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)
