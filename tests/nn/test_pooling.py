"""Max, average and adaptive pooling against PyTorch: values, gradients (first maximum only), indices, bad input."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.ops.conv import pad_spatial
from tests.helpers import assert_close, check_op, gradcheck

ATOL, RTOL = 1e-5, 1e-4
TOL = dict(atol=ATOL, rtol=RTOL, grad_atol=ATOL, grad_rtol=RTOL)


def channels_last(array):
    """The same values stored NHWC (the layout every conv output here has)."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def tied(shape, seed=0):
    """ReLU-like values with many exact ties: zeros and a few repeated integers."""
    return np.maximum(np.round(np.random.default_rng(seed).normal(size=shape)), 0).astype(np.float32)


MAX_CASES = [
    # input shape, kernel_size, keyword arguments
    ((2, 3, 8, 8), 2, {}),  # non-overlapping, tiles the input
    ((2, 3, 11, 11), 2, {}),  # non-overlapping, last row and column unused
    ((2, 3, 9, 8), 3, {"stride": 1}),  # overlapping
    ((2, 3, 9, 8), 3, {"stride": 2, "padding": 1}),
    ((2, 3, 9, 8), (3, 2), {"stride": (2, 1), "padding": (1, 1), "dilation": (1, 2), "ceil_mode": True}),
    ((2, 3, 7, 7), 2, {"ceil_mode": True}),
    ((2, 3, 10, 10), 2, {"stride": 3}),  # gaps between windows
]
MAX_IDS = ["tile", "remainder", "overlap", "stride-pad", "dilation-ceil", "ceil", "gaps"]


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("values", ["random", "ties"])
@pytest.mark.parametrize("shape, kernel, kwargs", MAX_CASES, ids=MAX_IDS)
def test_max_pool2d_matches_torch(shape, kernel, kwargs, values, layout):
    x = tied(shape) if values == "ties" else np.random.default_rng(0).normal(size=shape).astype(np.float32)
    xs = shendu.Tensor(channels_last(x) if layout == "nhwc" else x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, index_s = F.max_pool2d(xs, kernel, return_indices=True, **kwargs)
    yt, index_t = torch.nn.functional.max_pool2d(xt, kernel, return_indices=True, **kwargs)
    assert_close(ys, yt, 0, 0, "forward")
    assert index_s.dtype == shendu.int64
    np.testing.assert_array_equal(index_s.numpy(), index_t.numpy())
    probe = np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(yt.shape)).astype(np.float32)
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("shape, kernel, kwargs", MAX_CASES + [
    ((1, 4, 1, 5), 3, {"stride": 2, "padding": 1}),  # one row: the taps above and below reach no output
    ((2, 3, 6, 7), 2, {"stride": 2, "padding": 1, "ceil_mode": True}),  # no tap reaches every output
    ((2, 3, 9, 9), 3, {"stride": 3, "padding": 1, "dilation": 2}),
], ids=MAX_IDS + ["one-row", "no-whole-tap", "dilated-pad"])  # fmt: skip
def test_max_pool2d_without_autograd_stores_no_padding_and_matches_torch(monkeypatch, shape, kernel, kwargs, layout):
    """Under no_grad the −∞ padding is not stored (nothing is kept for backward); the result is PyTorch's, NaN
    included, and keeps the input's layout."""
    x = np.random.default_rng(2).normal(size=shape).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    padded = []
    monkeypatch.setattr("shendu.ops.pooling.pad_spatial", lambda *a, **k: padded.append(1) or pad_spatial(*a, **k))
    with shendu.no_grad():
        ys = F.max_pool2d(shendu.Tensor(channels_last(x) if layout == "nhwc" else x.copy()), kernel, **kwargs)
    expected = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, **kwargs).numpy()
    np.testing.assert_array_equal(ys.numpy(), expected)
    assert not padded or not any(np.atleast_1d(kwargs.get("padding", 0)))
    assert ys.numpy().transpose(0, 2, 3, 1).flags.c_contiguous == (layout == "nhwc")


def test_max_pool_gradient_goes_to_the_first_maximum_only():
    x = shendu.zeros(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4), np.float32)
    expected[::2, ::2] = 1  # the top-left element of every all-zero window
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    values = [[[[3.0, 1.0, 3.0], [3.0, 3.0, 0.0]]]]
    x, xt = shendu.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # overlapping windows of tied 3s: row-major first of each
    torch.nn.functional.max_pool2d(xt, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], [[1, 0, 1], [0, 0, 0]])


def test_max_pool_keeps_channels_last_layout():
    y = F.max_pool2d(shendu.Tensor(channels_last(np.ones((2, 3, 8, 8), np.float32))), 2)
    assert y.numpy().transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 10), {"kernel_size": 2}),
        ((2, 3, 10), {"kernel_size": 3, "stride": 1, "padding": 1}),
        ((2, 3, 11), {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}),
    ],
)
def test_max_pool1d_matches_torch(shape, kwargs):
    x = tied(shape)
    xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, index_s = F.max_pool1d(xs, return_indices=True, **kwargs)
    yt, index_t = torch.nn.functional.max_pool1d(xt, return_indices=True, **kwargs)
    assert_close(ys, yt, 0, 0, "forward")
    np.testing.assert_array_equal(index_s.numpy(), index_t.numpy())
    ys.sum().backward()
    yt.sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")


AVG_CASES = [
    ((2, 3, 8, 8), 2, {}),
    ((2, 3, 9, 8), 3, {"stride": 1}),
    ((2, 3, 9, 8), 3, {"stride": 2, "padding": 1}),
    ((2, 3, 9, 8), 3, {"stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 7, 8), (3, 2), {"stride": (2, 3), "padding": (1, 1), "ceil_mode": True}),
    ((2, 3, 7, 8), 3, {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ((2, 3, 7, 8), 3, {"stride": 1, "padding": 1, "divisor_override": 4}),
    ((2, 3, 10, 10), 2, {"stride": 3}),
    ((2, 3, 6, 6), 2, {"padding": 1}),  # windows that tile the padded input
    ((2, 5, 9, 8), (3, 2), {}),  # tiles of 3×2
]


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("shape, kernel, kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(shape, kernel, kwargs, layout):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    xs = shendu.Tensor(channels_last(x) if layout == "nhwc" else x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = F.avg_pool2d(xs, kernel, **kwargs), torch.nn.functional.avg_pool2d(xt, kernel, **kwargs)
    assert_close(ys, yt, ATOL, RTOL, "forward")
    probe = np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(yt.shape)).astype(np.float32)
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")


@pytest.mark.parametrize(
    "kwargs",
    [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}],
)
def test_avg_pool1d_matches_torch(kwargs):
    check_op(
        [(2, 3, 11)], lambda x: torch.nn.functional.avg_pool1d(x, **kwargs), lambda x: F.avg_pool1d(x, **kwargs), **TOL
    )


@pytest.mark.parametrize(
    "shape, output_size",
    [((2, 3, 8, 6), (4, 3)), ((2, 3, 7, 8), (3, 5)), ((2, 3, 7, 8), 1), ((2, 3, 7, 8), (None, 3)), ((3, 10, 9), 4)],
    ids=["divisible", "uneven", "global", "none", "unbatched"],
)
def test_adaptive_avg_pool2d_matches_torch(shape, output_size):
    check_op(
        [shape],
        lambda x: torch.nn.functional.adaptive_avg_pool2d(x, output_size),
        lambda x: F.adaptive_avg_pool2d(x, output_size),
        **TOL,
    )


@pytest.mark.parametrize("output_size", [5, 3, 1])
def test_adaptive_avg_pool1d_matches_torch(output_size):
    check_op(
        [(2, 3, 10)],
        lambda x: torch.nn.functional.adaptive_avg_pool1d(x, output_size),
        lambda x: F.adaptive_avg_pool1d(x, output_size),
        **TOL,
    )


def test_gradcheck_float64():
    gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [(2, 2, 5, 5)])  # distinct values: no ties
    gradcheck(lambda x: F.max_pool2d(x, 2), [(1, 2, 4, 6)])
    gradcheck(
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False, ceil_mode=True), [(2, 2, 6, 5)]
    )
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(1, 2, 7, 5)])
    gradcheck(lambda x: F.max_pool1d(x, 3, stride=1), [(2, 2, 6)])
    gradcheck(lambda x: F.avg_pool1d(x, 2), [(2, 2, 6)])


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.MaxPool2d(2),
        lambda lib: lib.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=(1, 2), ceil_mode=True),
        lambda lib: lib.nn.MaxPool1d(3, stride=2),
        lambda lib: lib.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        lambda lib: lib.nn.AvgPool1d(2),
        lambda lib: lib.nn.AdaptiveAvgPool2d((None, 3)),
        lambda lib: lib.nn.AdaptiveAvgPool1d(4),
    ],
    ids=["max2d", "max2d-args", "max1d", "avg2d", "avg1d", "adaptive2d", "adaptive1d"],
)
def test_layers_match_torch(make):
    mine, theirs = make(shendu), make(torch)
    assert repr(mine) == repr(theirs)
    assert mine.state_dict() == {} and len(theirs.state_dict()) == 0
    shape = (2, 3, 9) if "1d" in type(mine).__name__ else (2, 3, 9, 8)
    x = tied(shape)
    assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL, "forward")


def count_direct_calls(monkeypatch):
    """Count the calls of nn.MaxPool2d's direct path (the op without max_pool2d's checks)."""
    calls = []
    direct = shendu.nn.pooling.checked_max_pool2d
    monkeypatch.setattr(shendu.nn.pooling, "checked_max_pool2d", lambda *args: calls.append(args) or direct(*args))
    return calls


@pytest.mark.parametrize(
    "kernel, kwargs",
    [
        (2, {}),
        (3, {"stride": 1}),
        ((3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)}),
        (3, {"stride": 2, "padding": 1, "ceil_mode": True}),
    ],
    ids=["seed", "overlapping", "mixed", "ceil"],
)
def test_max_pool2d_layer_direct_path_equals_functional_and_torch(monkeypatch, kernel, kwargs):
    """nn.MaxPool2d skips max_pool2d's checks on a batched float input, its geometry kept per input size."""
    calls = count_direct_calls(monkeypatch)
    mine, theirs = nn.MaxPool2d(kernel, **kwargs), torch.nn.MaxPool2d(kernel, **kwargs)
    for shape, layout in [((2, 3, 9, 8), np.asarray), ((1, 4, 11, 11), channels_last), ((2, 3, 9, 8), channels_last)]:
        x = layout(tied(shape, seed=shape[1]))
        xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = mine(xs), theirs(xt)
        assert_close(ys, yt, 0, 0, "forward")
        np.testing.assert_array_equal(ys.detach().numpy(), F.max_pool2d(xs, kernel, **kwargs).detach().numpy())
        probe = np.random.default_rng(1).normal(size=tuple(yt.shape)).astype(np.float32)
        (ys * shendu.tensor(probe)).sum().backward()
        (yt * torch.tensor(probe)).sum().backward()
        assert_close(xs.grad, xt.grad, ATOL, RTOL, "gradient")
    assert len(calls) == 3


def test_max_pool2d_layer_follows_arguments_changed_after_construction():
    mine, theirs = nn.MaxPool2d(2), torch.nn.MaxPool2d(2)
    x = tied((2, 3, 9, 8))
    for name, value in [("kernel_size", 3), ("stride", 1), ("padding", 1), ("dilation", (1, 2)), ("ceil_mode", True)]:
        setattr(mine, name, value)
        setattr(theirs, name, value)
        assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), 0, 0, f"{name}={value!r}")


def test_max_pool2d_layer_takes_the_checked_path_for_anything_else(monkeypatch):
    """Unbatched or integer input, indices, bad settings or a too-small input: max_pool2d's results and errors."""
    calls = count_direct_calls(monkeypatch)
    layer = nn.MaxPool2d(2)
    x = np.arange(2 * 6 * 6).reshape(1, 2, 6, 6)
    expected = F.max_pool2d(shendu.tensor(x), 2).numpy()
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(layer(shendu.tensor(x)).numpy(), expected)
    np.testing.assert_array_equal(layer(shendu.tensor(x[0], dtype=shendu.float32)).numpy(), expected[0])
    layer.return_indices = True
    assert len(layer(shendu.tensor(x, dtype=shendu.float32))) == 2
    assert calls == []
    layer = nn.MaxPool2d(3)
    with pytest.raises(ValueError) as info:
        layer(shendu.zeros(1, 1, 2, 8))
    assert str(info.value) == (
        "max_pool2d: the kernel (3, 3) is larger than the padded input (2, 8); use a smaller kernel or a larger input"
    )
    layer(shendu.zeros(1, 1, 3, 8))  # the failed size left the layer's cache as it was
    layer.stride = (1, 0)
    with pytest.raises(ValueError) as info:
        layer(shendu.zeros(1, 1, 6, 6))
    assert (
        str(info.value)
        == "max_pool2d: stride must be a positive int or a tuple of 2 positive ints. Received: stride=(1, 0)"
    )
    layer.stride, layer.padding = 3, 2
    with pytest.raises(ValueError, match=r"^max_pool2d: padding should be at most half of the \(dilated\) kernel"):
        layer(shendu.zeros(1, 1, 6, 6))
    assert len(calls) == 1


def test_max_pool_layer_returns_indices():
    x = tied((1, 2, 6, 6))
    ys, index_s = nn.MaxPool2d(2, return_indices=True)(shendu.tensor(x))
    yt, index_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert_close(ys, yt, 0, 0, "forward")
    np.testing.assert_array_equal(index_s.numpy(), index_t.numpy())
    assert not index_s.requires_grad


def test_unbatched_and_integer_input():
    assert tuple(nn.MaxPool2d(2)(shendu.randn(3, 8, 8)).shape) == (3, 4, 4)
    y = F.avg_pool2d(shendu.tensor(np.arange(16).reshape(1, 1, 4, 4)), 2)
    assert y.dtype == shendu.float32
    np.testing.assert_array_equal(y.numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])


# ----- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be positive. Received: kernel_size=0"),
        (lambda: nn.MaxPool2d(2, stride=0), "MaxPool2d: stride must be positive. Received: stride=0"),
        (lambda: nn.MaxPool2d(2, padding=-1), "MaxPool2d: padding must be non-negative. Received: padding=-1"),
        (
            lambda: nn.MaxPool2d(3, padding=2),
            "MaxPool2d: padding should be at most half of the kernel size. Received: padding=2, kernel_size=3",
        ),
        (
            lambda: nn.MaxPool2d((2, 2, 2)),
            "MaxPool2d: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size=(2, 2, 2)",
        ),
        (
            lambda: nn.AvgPool2d(2, divisor_override=0),
            "AvgPool2d: divisor_override must be a positive int. Received: divisor_override=0",
        ),
        (lambda: nn.AvgPool1d(-1), "AvgPool1d: kernel_size must be positive. Received: kernel_size=-1"),
        (
            lambda: nn.AdaptiveAvgPool2d(0),
            "AdaptiveAvgPool2d: output_size must be a positive int or a tuple of 2 (positive ints or None). Received: output_size=0",
        ),
    ],
)
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


def test_wrong_input_rank_names_layer_and_expected_shape():
    with pytest.raises(ValueError) as info:
        nn.MaxPool2d(2)(shendu.zeros(28, 28))
    assert str(info.value) == "MaxPool2d got input of shape (28, 28); expected (N, C, H, W) or (C, H, W)"
    with pytest.raises(ValueError) as info:
        nn.AvgPool1d(2)(shendu.zeros(2, 3, 4, 5))
    assert str(info.value) == "AvgPool1d got input of shape (2, 3, 4, 5); expected (N, C, L) or (C, L)"
    with pytest.raises(ValueError) as info:
        F.adaptive_avg_pool2d(shendu.zeros(5), 2)
    assert str(info.value) == "adaptive_avg_pool2d: expected input of shape (N, C, H, W) or (C, H, W); got (5,)"


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError) as info:
        F.max_pool2d(shendu.zeros(1, 1, 2, 8), 3, padding=0)
    assert str(info.value) == (
        "max_pool2d: the kernel (3, 3) is larger than the padded input (2, 8); use a smaller kernel or a larger input"
    )
    with pytest.raises(ValueError, match="avg_pool1d: the kernel"):
        F.avg_pool1d(shendu.zeros(1, 1, 2), 4)


def test_functional_argument_errors():
    x = shendu.zeros(1, 1, 6, 6)
    with pytest.raises(ValueError) as info:
        F.max_pool2d(x, 2, stride=(1, 0))
    assert (
        str(info.value)
        == "max_pool2d: stride must be a positive int or a tuple of 2 positive ints. Received: stride=(1, 0)"
    )
    with pytest.raises(ValueError) as info:
        F.avg_pool2d(x, 2, padding=2)
    assert str(info.value) == (
        "avg_pool2d: padding should be at most half of the (dilated) kernel size. "
        "Received: padding=(2, 2), kernel_size=(2, 2), dilation=(1, 1)"
    )
    with pytest.raises(ValueError) as info:
        F.adaptive_avg_pool2d(x, (2, 2, 2))
    assert (
        str(info.value)
        == "adaptive_avg_pool2d: output_size must be an int or a tuple of 2. Received: output_size=(2, 2, 2)"
    )
