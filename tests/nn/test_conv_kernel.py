"""The optional C kernels of the direct convolution (shendu.ops._conv) against the NumPy paths they replace.

The NumPy paths (im2col GEMM, implicit GEMM, the transposed convolution's scatter) stay the oracles: the same
float32 inputs go through both, with the kernels switched on and off, and forward and every gradient agree
within float32 rounding of sums of that length. Each path is also compared with float64 (exact enough to
tell a wrong index from a rounding). PyTorch parity of Conv2d/ConvTranspose2d (test_conv*.py) runs through
whichever path is active: the kernels, wherever pip could build them.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn.functional as F
from shendu import _compiled
from shendu.ops import conv as conv_ops

kernel = conv_ops._direct
needs_kernel = pytest.mark.skipif(kernel is None, reason="shendu.ops._conv was not built")


def _run(function, arrays, compiled, threads=None, monkeypatch=None):
    """Forward and all gradients of ``function`` on float32 copies of ``arrays``, the kernels on or off (on: for any
    channel count, so that the kernels' lanes padding is tested too; conv.py leaves 1-3 channels to NumPy)."""
    previous = _compiled.set_enabled(compiled)
    minimum, conv_ops.DIRECT_MIN_CHANNELS = conv_ops.DIRECT_MIN_CHANNELS, 1
    try:
        tensors = [shendu.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        out = function(*tensors)
        seed = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        (out * shendu.tensor(seed)).sum().backward()
        return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]
    finally:
        _compiled.set_enabled(previous)
        conv_ops.DIRECT_MIN_CHANNELS = minimum


def _one_thread_then(monkeypatch, threads, function, arrays):
    """:func:`_run` with the kernels on one thread, then on ``threads`` (SHENDU_NUM_THREADS): both results."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "1")
    single = _run(function, arrays, True)
    monkeypatch.setenv("SHENDU_NUM_THREADS", threads)
    return single, _run(function, arrays, True)


def _exact(function, arrays):
    """The same in float64 (the NumPy paths: the kernels take float32 only)."""
    tensors = [shendu.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    out = function(*tensors)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    (out * shendu.tensor(seed)).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


def _assert_close(got, want, terms):
    for g, w in zip(got, want):
        scale = max(1.0, float(np.abs(w).max()))
        np.testing.assert_allclose(g, w, rtol=0, atol=4e-7 * np.sqrt(terms) * scale * 8)


conv_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(1, 21), "o": st.integers(1, 37), "h": st.integers(1, 11),
    "w": st.integers(1, 13), "k": st.sampled_from([(1, 1), (3, 3), (2, 3), (5, 5), (1, 3)]),
    "stride": st.sampled_from([1, 2, (2, 1), 3]), "dilation": st.sampled_from([1, 2, (1, 2)]),
    "padding": st.sampled_from([0, 1, 2, (0, 2)]), "bias": st.booleans(), "depthwise": st.booleans(),
})  # fmt: skip


@needs_kernel
@settings(max_examples=60, deadline=None)
@given(case=conv_cases)
def test_conv2d_matches_the_numpy_paths_and_float64(case):
    kh, kw = case["k"]
    dil = case["dilation"] if isinstance(case["dilation"], tuple) else (case["dilation"],) * 2
    pad = case["padding"] if isinstance(case["padding"], tuple) else (case["padding"],) * 2
    h = max(case["h"], dil[0] * (kh - 1) + 1 - 2 * pad[0])
    w = max(case["w"], dil[1] * (kw - 1) + 1 - 2 * pad[1])
    rng = np.random.default_rng(0)
    c = max(case["c"], 2) if case["depthwise"] else case["c"]
    o, groups = (c, c) if case["depthwise"] else (case["o"], 1)
    arrays = [rng.standard_normal((case["n"], c, h, w)), rng.standard_normal((o, c // groups, kh, kw))]
    if case["bias"]:
        arrays.append(rng.standard_normal(o))

    def function(x, weight, bias=None):
        return F.conv2d(x, weight, bias, stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                        groups=groups)  # fmt: skip

    terms = case["c"] * kh * kw * case["n"] * h * w
    compiled, plain, exact = _run(function, arrays, True), _run(function, arrays, False), _exact(function, arrays)
    _assert_close(compiled, exact, terms)
    _assert_close(plain, exact, terms)


@needs_kernel
@pytest.mark.parametrize(
    "size, k, stride, padding, dilation",
    [
        (9, 3, 1, 1, 1),  # 'same', stride 1: the input gradient is forward's gather over gy
        (9, 3, 1, 2, 2),  # dilated, the same size: a gather
        (30, 3, 1, 0, 1),  # 30 → 28: gx 1.15 times gy, a gather reaching past gy's edges
        (8, 3, 1, 0, 1),  # 8 → 6: gx 1.78 times gy, the scatter
        (12, 5, 1, 3, 1),  # padding 3 within a 5×5 kernel's reach of 4: gy 14×14, larger than gx, a gather
        (6, 3, 1, 3, 1),  # padding 3 beyond the 3×3 kernel's reach of 2: the scatter
        (9, 3, 2, 1, 1),  # stride 2: the scatter
    ],
)  # fmt: skip
def test_the_input_gradient_as_a_gather_or_a_scatter_matches_float64(size, k, stride, padding, dilation):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 19, size, size)), rng.standard_normal((24, 19, k, k))]

    def function(x, weight):
        return F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)

    terms = 19 * k * k * 2 * size * size
    _assert_close(_run(function, arrays, True), _exact(function, arrays), terms)


transposed_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(1, 19), "o": st.integers(1, 20), "h": st.integers(1, 7),
    "w": st.integers(1, 6), "k": st.sampled_from([(1, 1), (3, 3), (4, 4), (2, 3)]), "stride": st.sampled_from([1, 2, 3]),
    "padding": st.sampled_from([0, 1]), "output_padding": st.sampled_from([0, 1]), "dilation": st.sampled_from([1, 2]),
    "bias": st.booleans(),
})  # fmt: skip


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(case=transposed_cases)
def test_conv_transpose2d_matches_the_numpy_path_and_float64(case):
    kh, kw = case["k"]
    output_padding = min(case["output_padding"], max(case["stride"], case["dilation"]) - 1)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((case["n"], case["c"], case["h"], case["w"])),
              rng.standard_normal((case["c"], case["o"], kh, kw))]  # fmt: skip
    if case["bias"]:
        arrays.append(rng.standard_normal(case["o"]))

    def function(x, weight, bias=None):
        return F.conv_transpose2d(x, weight, bias, stride=case["stride"], padding=case["padding"],
                                  output_padding=output_padding, dilation=case["dilation"])  # fmt: skip

    size = [(s - 1) * case["stride"] - 2 * case["padding"] + case["dilation"] * (k - 1) + output_padding + 1
            for s, k in ((case["h"], kh), (case["w"], kw))]  # fmt: skip
    if min(size) < 1:
        return
    terms = case["c"] * kh * kw * case["n"] * case["h"] * case["w"]
    compiled, plain, exact = _run(function, arrays, True), _run(function, arrays, False), _exact(function, arrays)
    _assert_close(compiled, exact, terms)
    _assert_close(plain, exact, terms)


strided_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(1, 20), "o": st.integers(1, 21), "h": st.integers(1, 12),
    "w": st.integers(1, 12), "k": st.sampled_from([(1, 1), (3, 3), (4, 4), (2, 3), (5, 5), (1, 4)]),
    "stride": st.sampled_from([(2, 2), (3, 3), (2, 1), (1, 3), (4, 4), (5, 5)]),
    "padding": st.sampled_from([(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 1, 1), (1, 0, 0, 2), (3, 3, 3, 3), (6, 6, 6, 6)]),
})  # fmt: skip


@needs_kernel
@settings(max_examples=80, deadline=None)
@given(case=strided_cases)
def test_a_strided_input_gradient_phase_by_phase_matches_the_scatter_and_float64(case):
    """The strided input gradient computed phase by phase (stride-1 gathers over gy) against the kernels' scatter and
    the float64 NumPy path; paddings beyond the kernel's reach take the scatter, strides past 4×4 too."""
    (kh, kw), (sh, sw), padding = case["k"], case["stride"], case["padding"]
    oh = (case["h"] + padding[0] + padding[1] - kh) // sh + 1
    ow = (case["w"] + padding[2] + padding[3] - kw) // sw + 1
    if oh < 1 or ow < 1:
        return
    rng = np.random.default_rng(7)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    weight = rng.standard_normal((case["o"], case["c"], kh, kw))
    gy = rng.standard_normal((case["n"], oh, ow, case["o"]))

    def float32_grad(phases):
        grid = np.full((case["n"], case["h"], case["w"], conv_ops.lanes(case["c"])), np.nan, np.float32)
        rows, w32 = gy.astype(np.float32), weight.astype(np.float32)
        conv_ops.direct_input_grad(kernel, rows, w32, grid, (sh, sw), (1, 1), padding, phases=phases)
        assert not np.any(grid[..., case["c"] :]), "the lanes past the channels hold zeros"
        return grid[..., : case["c"]]

    xt = shendu.tensor(x, requires_grad=True)
    out = F.conv2d(F.pad(xt, (padding[2], padding[3], padding[0], padding[1])), shendu.tensor(weight), stride=(sh, sw))
    (out * shendu.tensor(gy.transpose(0, 3, 1, 2))).sum().backward()
    exact = xt.grad.numpy().transpose(0, 2, 3, 1)
    terms = case["o"] * kh * kw
    phased, scattered = float32_grad(True), float32_grad(False)
    _assert_close([phased], [exact], terms)
    _assert_close([scattered], [exact], terms)


@needs_kernel
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_an_image_input_gradient_as_one_product_matches_the_kernels_and_float64(monkeypatch, channels, stride, padding):
    """With 1-3 input channels the input gradient is gy @ W and col2im (the kernels' lanes would be mostly padding);
    it agrees with the kernels' own input gradient and with float64."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((3, channels, 11, 10)), rng.standard_normal((12, channels, 4, 3))]
    calls = []
    original = conv_ops.Conv2d._few_channels_input_grad
    monkeypatch.setattr(conv_ops.Conv2d, "_few_channels_input_grad", lambda self, rows: calls.append(1) or original(self, rows))

    def function(x, weight):
        return F.conv2d(x, weight, stride=stride, padding=padding)

    previous = _compiled.set_enabled(True)
    try:
        tensors = [shendu.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
        out = function(*tensors)
        seed = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        (out * shendu.tensor(seed)).sum().backward()
        product = [out.detach().numpy()] + [t.grad.numpy() for t in tensors]
    finally:
        _compiled.set_enabled(previous)
    assert calls, "the product path ran"
    kernels = _run(function, arrays, True)  # (every channel count in the kernels there)
    terms = 12 * 4 * 3
    _assert_close(product, _exact(function, arrays), terms)
    _assert_close(kernels, _exact(function, arrays), terms)


@needs_kernel
@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_threads_share_the_work_and_agree(monkeypatch, threads):
    """Forward and ∂L/∂x are the same numbers whatever the thread count; ∂L/∂W is summed per thread, within rounding."""
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((6, 16, 20, 20)), rng.standard_normal((24, 16, 3, 3))]
    monkeypatch.setattr(conv_ops, "DIRECT_MACS_PER_THREAD", 1)

    def function(x, weight):
        return F.conv2d(x, weight, padding=1)

    single, shared = _one_thread_then(monkeypatch, threads, function, arrays)
    np.testing.assert_array_equal(shared[0], single[0])
    np.testing.assert_array_equal(shared[1], single[1])
    np.testing.assert_allclose(shared[2], single[2], rtol=0, atol=1e-5 * np.abs(single[2]).max())


@needs_kernel
@pytest.mark.parametrize("threads", ["2", "3"])
def test_threads_share_a_strided_input_gradient_by_phases_and_agree(monkeypatch, threads):
    """The phases' units (phases × samples) shared between threads give the same ∂L/∂x as one thread, bit for bit;
    a transposed convolution's forward (the same computation) too."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((5, 16, 13, 12)), rng.standard_normal((24, 16, 3, 4))]
    monkeypatch.setattr(conv_ops, "DIRECT_MACS_PER_THREAD", 1)

    def function(x, weight):
        return F.conv2d(x, weight, stride=2, padding=1) + F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)[
            :, :, :6, :5].sum()  # fmt: skip

    single, shared = _one_thread_then(monkeypatch, threads, function, arrays)
    np.testing.assert_array_equal(shared[0], single[0])
    np.testing.assert_array_equal(shared[1], single[1])


@needs_kernel
def test_the_kernels_run_for_float32_single_group_and_depthwise_convolutions_only():
    assert shendu.nn.Conv2d(3, 2, 3)(shendu.randn(2, 3, 6, 6)).grad_fn.direct is None  # 2 filters: NumPy's GEMMs
    assert shendu.nn.Conv2d(1, 8, 3)(shendu.randn(2, 1, 6, 6)).grad_fn.direct is kernel  # an image: 8 filters' lanes
    assert shendu.nn.ConvTranspose2d(8, 1, 4, 2, 1)(shendu.randn(2, 8, 5, 5)).grad_fn.direct is None
    x = shendu.randn(2, 4, 6, 6)
    layer = shendu.nn.Conv2d(4, 8, 3)
    out = layer(x)
    assert out.grad_fn is not None and getattr(out.grad_fn, "direct", None) is kernel
    assert shendu.nn.Conv2d(4, 4, 3, groups=4)(x).grad_fn.direct is kernel  # depthwise: its own loops
    assert shendu.nn.Conv2d(4, 8, 3, groups=2)(x).grad_fn.direct is None  # other groups: the NumPy path
    assert layer.double()(x.double()).grad_fn.direct is None
    previous = _compiled.set_enabled(False)
    try:
        assert layer.float()(x).grad_fn.direct is None
    finally:
        _compiled.set_enabled(previous)


@needs_kernel
def test_the_kernels_refuse_arrays_that_do_not_fit():
    x, w = np.zeros((2, 6, 6, 3), np.float32), np.zeros((5, 3, 3, 3), np.float32)  # w: (O, C, kh, kw), as PyTorch's
    out = np.zeros((2, 4, 4, 8), np.float32)  # 5 filters in 8 lanes
    kernel.forward(x, w, None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)  # fits: 2 samples x 4 output rows
    with pytest.raises(TypeError, match="forward: x must be a 4-d float32 array; got 4 dimensions of format 'd'"):
        kernel.forward(x.astype(np.float64), w, None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match=r"forward: output rows \[0, 9\) are not within the 8 there are"):
        kernel.forward(x, w, None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 9)
    with pytest.raises(ValueError, match="forward: a 4x4 output does not fit a 6x6 input padded to 6x6 with a 3x3 kernel"):
        kernel.forward(x, w, None, out, 2, 2, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match="forward: shapes do not match"):
        kernel.forward(x, np.zeros((5, 2, 3, 3), np.float32), None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match="forward: bias must be 5 float32 values"):
        kernel.forward(x, w, np.zeros(3, np.float32), out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match=r"forward: 5 output channels must be stored in 8 lanes .*; got 16"):
        kernel.forward(x, w, None, np.zeros((2, 4, 4, 16), np.float32), 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    gx, gy = np.zeros((2, 6, 6, 8), np.float32), np.zeros((2, 4, 4, 5), np.float32)
    kernel.input_grad(gy, w, gx, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2)  # 3 input channels in 8 lanes
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        kernel.input_grad(gy, w, gx, 0, 1, 1, 1, 0, 0, 0, 0, 0, 2)
    with pytest.raises(ValueError, match=r"input_grad: samples \[0, 3\) are not within the 2 there are"):
        kernel.input_grad(gy, w, gx, 1, 1, 1, 1, 0, 0, 0, 0, 0, 3)
    with pytest.raises(ValueError, match=r"input_grad: 3 input channels must be stored in 8 lanes .*; got 3"):
        kernel.input_grad(gy, w, x.copy(), 1, 1, 1, 1, 0, 0, 0, 0, 0, 2)
    with pytest.raises(ValueError, match="weight_grad: shapes do not match"):
        kernel.weight_grad(x, out, np.zeros((3, 3, 3, 16), np.float32), 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match=r"forward: padding \(-1, 0, 0, 0\) must not be negative"):
        kernel.forward(x, w, None, out, 1, 1, 1, 1, -1, 0, 0, 0, 0, 8)
    kernel.forward(x, w, None, np.zeros((2, 6, 6, 8), np.float32), 1, 1, 1, 1, 1, 1, 1, 1, 0, 12)  # padding 1: 6x6
    with pytest.raises(ValueError, match="read-only"):
        kernel.forward(x, w, None, np.broadcast_to(out, out.shape), 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)


@needs_kernel
def test_the_depthwise_kernels_refuse_a_kernel_that_is_not_one_filter_per_channel():
    x, out = np.zeros((2, 6, 6, 5), np.float32), np.zeros((2, 4, 4, 5), np.float32)
    kernel.depthwise_forward(x, np.zeros((3, 3, 1, 5), np.float32), None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)  # any C fits
    with pytest.raises(ValueError, match="depthwise_forward: shapes do not match"):
        kernel.depthwise_forward(x, np.zeros((3, 3, 5, 5), np.float32), None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 8)
    with pytest.raises(ValueError, match="depthwise_input_grad: shapes do not match"):
        kernel.depthwise_input_grad(out, np.zeros((3, 3, 2, 5), np.float32), x.copy(), 1, 1, 1, 1, 0, 0, 0, 0, 0, 2)
    with pytest.raises(ValueError, match=r"depthwise_weight_grad: output rows \[0, 9\) are not within the 8 there are"):
        kernel.depthwise_weight_grad(x, out, np.zeros((3, 3, 1, 5), np.float32), 1, 1, 1, 1, 0, 0, 0, 0, 0, 9)


@needs_kernel
@pytest.mark.parametrize("threads", ["2", "3"])
def test_a_small_map_shared_by_filters_gives_the_same_numbers(monkeypatch, threads):
    """Up to FILTER_SPLIT_PIXELS output pixels the threads take blocks of 16 filters instead of rows."""
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((1, 24, 7, 7)), rng.standard_normal((100, 24, 3, 3)), rng.standard_normal(100)]
    monkeypatch.setattr(conv_ops, "DIRECT_MACS_PER_THREAD", 1)
    calls = []
    original = kernel.forward
    monkeypatch.setattr(conv_ops, "_direct", type("Spy", (), {
        "forward": staticmethod(lambda *a: calls.append(a[-1]) or original(*a)),
        "input_grad": staticmethod(kernel.input_grad), "weight_grad": staticmethod(kernel.weight_grad),
        "input_grad_units": staticmethod(kernel.input_grad_units)})())  # fmt: skip

    def function(x, weight, bias):
        return F.conv2d(x, weight, bias, padding=1)

    monkeypatch.setenv("SHENDU_NUM_THREADS", "1")
    single = _run(function, arrays, True)
    assert calls and not any(calls)  # one thread: rows
    calls.clear()
    monkeypatch.setenv("SHENDU_NUM_THREADS", threads)
    shared = _run(function, arrays, True)
    assert calls and all(calls)  # by filters
    np.testing.assert_array_equal(shared[0], single[0])
    np.testing.assert_array_equal(shared[1], single[1])
    _assert_close(shared, _exact(function, arrays), 24 * 9 * 49)


@needs_kernel
def test_filter_blocks_out_of_range_are_refused():
    x, w, out = np.zeros((1, 9, 9, 4), np.float32), np.zeros((40, 4, 3, 3), np.float32), np.zeros((1, 7, 7, 40), np.float32)
    kernel.forward(x, w, None, out, 1, 1, 1, 1, 0, 0, 0, 0, 0, 3, True)  # 40 filters: 3 blocks of 16
    with pytest.raises(ValueError, match=r"forward: filter blocks \[1, 4\) are not within the 3 there are"):
        kernel.forward(x, w, None, out, 1, 1, 1, 1, 0, 0, 0, 0, 1, 4, True)
