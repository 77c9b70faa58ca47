"""Conv1d/Conv2d against PyTorch: copied weights, forward and backward, init, state_dict, bad input."""

import math

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import assert_close, check_op, copy_torch_weights, gradcheck

# torch warns that it copies the input for 'same' padding with an even kernel; shendu always pads by copying
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")

ATOL, RTOL = 1e-5, 1e-4
TOL = dict(atol=ATOL, rtol=RTOL, grad_atol=ATOL, grad_rtol=RTOL, low=-1.0, high=1.0)

CONV2D_CASES = [
    # x shape, weight shape, keyword arguments
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 8), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((2, 3, 10, 9), (5, 3, 3, 3), {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}),
    ((2, 4, 9, 8), (6, 2, 3, 3), {"groups": 2, "padding": "same"}),
    ((2, 4, 9, 8), (8, 1, 2, 2), {"groups": 4, "padding": "same", "dilation": 2}),  # depthwise, even kernel
    ((2, 3, 8, 8), (4, 3, 4, 2), {"padding": "same"}),  # asymmetric 'same'
    ((2, 3, 7, 7), (4, 3, 3, 3), {"padding": "valid", "dilation": 3}),
    ((2, 3, 7, 7), (4, 3, 1, 1), {"stride": 3}),
    ((2, 1, 28, 28), (8, 1, 3, 3), {}),  # the seed CNN's first layer
    ((3, 3, 6, 7), (4, 3, 3, 3), {"stride": 3, "padding": 1}),  # stride larger than the kernel
    ((2, 6, 7, 7), (5, 6, 3, 3), {}),  # more than a few channels: NCHW input copied to NHWC
    ((2, 6, 7, 7), (4, 3, 3, 3), {"groups": 2, "padding": 1, "stride": 2}),
    ((2, 5, 9, 8), (5, 1, 3, 3), {"groups": 5, "padding": 1, "stride": 2}),  # depthwise, multiplier 1
    ((2, 6, 7, 7), (6, 1, 3, 2), {"groups": 6, "dilation": (1, 2)}),
]
CASE_IDS = [
    "plain",
    "stride-pad",
    "mixed",
    "groups-same",
    "depthwise-dil",
    "same-even",
    "valid-dil",
    "1x1",
    "seed",
    "sparse",
    "wide",
    "wide-groups-pad",
    "depthwise-stride",
    "depthwise-dil-wide",
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D_CASES, ids=CASE_IDS)
def test_conv2d_matches_torch(x_shape, w_shape, kwargs, bias):
    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    check_op(
        shapes,
        lambda x, w, b=None: torch.nn.functional.conv2d(x, w, b, **kwargs),
        lambda x, w, b=None: F.conv2d(x, w, b, **kwargs),
        **TOL,
    )


def channels_last(array):
    """The same values stored NHWC (the layout every conv output here has)."""
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D_CASES[:5], ids=CASE_IDS[:5])
def test_conv2d_channels_last_input_matches_torch(x_shape, w_shape, kwargs):
    """An input stored NHWC takes the other im2col path (rows of channels rather than image rows)."""
    rng = np.random.default_rng(2)
    x, w, b = (rng.uniform(-1, 1, size=s).astype(np.float32) for s in (x_shape, w_shape, w_shape[:1]))
    xs = shendu.Tensor(channels_last(x), requires_grad=True)  # Tensor() keeps the array's layout
    assert xs.detach().numpy().strides != x.strides
    ws, bs = shendu.tensor(w, requires_grad=True), shendu.tensor(b, requires_grad=True)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ys, yt = F.conv2d(xs, ws, bs, **kwargs), torch.nn.functional.conv2d(xt, wt, bt, **kwargs)
    assert_close(ys, yt, ATOL, RTOL, "forward")
    probe = rng.uniform(0.5, 1.5, size=tuple(yt.shape)).astype(np.float32)
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    for mine, theirs, name in ((xs, xt, "input"), (ws, wt, "weight"), (bs, bt, "bias")):
        assert_close(mine.grad, theirs.grad, ATOL, RTOL, f"{name} gradient")


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_backward_takes_the_upstream_gradient_in_either_layout(layout):
    """The gradient arrives NHWC after a ReLU, NCHW-contiguous after a Flatten: both give torch's gradients."""
    rng = np.random.default_rng(3)
    x, w, b = (rng.uniform(-1, 1, size=s).astype(np.float32) for s in ((2, 3, 7, 6), (4, 3, 3, 3), (4,)))
    g = rng.normal(size=(2, 4, 5, 4)).astype(np.float32)
    xs, ws, bs = (shendu.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv2d(xs, ws, bs).backward(shendu.Tensor(channels_last(g) if layout == "nhwc" else g))
    torch.nn.functional.conv2d(xt, wt, bt).backward(torch.tensor(g))
    for mine, theirs, name in ((xs, xt, "input"), (ws, wt, "weight"), (bs, bt, "bias")):
        assert_close(mine.grad, theirs.grad, ATOL, RTOL, f"{name} gradient")


def test_conv2d_output_is_channels_last_in_memory():
    y = F.conv2d(shendu.randn(2, 3, 8, 8), shendu.randn(5, 3, 3, 3))
    assert tuple(y.shape) == (2, 5, 6, 6)
    assert y.numpy().transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((2, 3, 12), (4, 3, 3), {}),
        ((2, 3, 12), (4, 3, 3), {"stride": 2, "padding": 2, "dilation": 2}),
        ((2, 4, 11), (6, 2, 4), {"groups": 2, "padding": "same"}),
        ((2, 4, 11), (4, 1, 5), {"groups": 4, "padding": "valid"}),
    ],
    ids=["plain", "stride-pad-dil", "groups-same", "depthwise"],
)
def test_conv1d_matches_torch(x_shape, w_shape, kwargs):
    check_op(
        [x_shape, w_shape, (w_shape[0],)],
        lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **kwargs),
        lambda x, w, b: F.conv1d(x, w, b, **kwargs),
        **TOL,
    )


def test_gradcheck_float64():
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 2, 5, 4), (3, 2, 3, 2), (3,)])
    gradcheck(lambda x, w: F.conv2d(x, w, dilation=(2, 1), padding="same"), [(1, 2, 5, 5), (2, 2, 2, 3)])
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, groups=2), [(2, 4, 4, 4), (4, 2, 2, 2), (4,)])
    gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 7), (3, 2, 3), (3,)])


def test_depthwise_fast_path_equals_per_channel_plain_convolutions():
    """groups == channels == filters runs kh·kw multiply-adds; the oracle is one plain (im2col) conv per channel."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 7, 6))
    w, b, probe = rng.normal(size=(4, 1, 3, 3)), rng.normal(size=4), rng.normal(size=(2, 4, 4, 3))
    grads = []
    for depthwise in (True, False):
        xs, ws, bs = (shendu.tensor(a, dtype=shendu.float64, requires_grad=True) for a in (x, w, b))
        if depthwise:
            y = F.conv2d(xs, ws, bs, stride=2, padding=1, groups=4)
        else:
            y = shendu.cat([F.conv2d(xs[:, c : c + 1], ws[c : c + 1], bs[c : c + 1], stride=2, padding=1)
                            for c in range(4)], dim=1)  # fmt: skip
        (y * shendu.tensor(probe)).sum().backward()
        grads.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()])
    for fast, plain in zip(*grads):
        np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=3), [(2, 3, 4, 4), (3, 1, 3, 3), (3,)])


def test_channels_last_float64_gradients_equal_the_gradchecked_path():
    """The NHWC im2col path gives the float64 gradients of the (gradchecked) NCHW path."""
    rng = np.random.default_rng(0)
    x, w, b = rng.uniform(-2, 2, size=(2, 3, 5, 5)), rng.uniform(-2, 2, size=(2, 3, 3, 3)), rng.uniform(-2, 2, size=2)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), None, inputs=[x, w, b])
    results = []
    for layout in (x, channels_last(x)):
        xs, ws, bs = (
            shendu.Tensor(layout, requires_grad=True),
            shendu.tensor(w, requires_grad=True),
            shendu.tensor(b, requires_grad=True),
        )
        y = F.conv2d(xs, ws, bs, padding=1)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()])
    for contiguous, nhwc in zip(*results):
        np.testing.assert_allclose(nhwc, contiguous, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_matches_torch(padding_mode):
    theirs = torch.nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=padding_mode)
    mine = copy_torch_weights(theirs, nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=padding_mode))
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 8)).astype(np.float32)
    xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = mine(xs), theirs(xt)
    assert_close(ys, yt, ATOL, RTOL, "forward")
    probe = np.random.default_rng(1).normal(size=tuple(yt.shape)).astype(np.float32)
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")
    assert_close(mine.weight.grad, theirs.weight.grad, ATOL, RTOL, "weight gradient")
    assert_close(mine.bias.grad, theirs.bias.grad, ATOL, RTOL, "bias gradient")


def count_direct_calls(monkeypatch):
    """Count the calls of nn.Conv2d's direct path (the op without conv2d's checks)."""
    calls = []
    direct = shendu.nn.conv.checked_conv2d
    monkeypatch.setattr(shendu.nn.conv, "checked_conv2d", lambda *args: calls.append(args) or direct(*args))
    return calls


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D_CASES, ids=CASE_IDS)
def test_conv2d_layer_direct_path_equals_functional_and_torch(monkeypatch, x_shape, w_shape, kwargs, bias):
    """nn.Conv2d skips conv2d's checks on a batched input: same values and gradients as conv2d and torch."""
    calls = count_direct_calls(monkeypatch)
    out_channels, cg, *kernel = w_shape
    groups = kwargs.get("groups", 1)
    theirs = torch.nn.Conv2d(cg * groups, out_channels, tuple(kernel), bias=bias, **kwargs)
    mine = copy_torch_weights(theirs, nn.Conv2d(cg * groups, out_channels, tuple(kernel), bias=bias, **kwargs))
    for batch in (x_shape[0], 1):  # the one-sample forward is the case the direct path is for
        x = np.random.default_rng(batch).normal(size=(batch,) + x_shape[1:]).astype(np.float32)
        xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = mine(xs), theirs(xt)
        assert_close(ys, yt, ATOL, RTOL, "forward")
        np.testing.assert_array_equal(
            ys.detach().numpy(), F.conv2d(xs, mine.weight, mine.bias, **kwargs).detach().numpy()
        )
        probe = np.random.default_rng(1).normal(size=tuple(yt.shape)).astype(np.float32)
        (ys * shendu.tensor(probe)).sum().backward()
        (yt * torch.tensor(probe)).sum().backward()
        assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
            assert_close(p.grad, q.grad, ATOL, RTOL, f"gradient of {name}")
            p.grad, q.grad = None, None
    assert len(calls) == 2


def test_conv2d_layer_follows_arguments_changed_after_construction(monkeypatch):
    calls = count_direct_calls(monkeypatch)
    theirs = torch.nn.Conv2d(3, 4, 3)
    mine = copy_torch_weights(theirs, nn.Conv2d(3, 4, 3))
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 8)).astype(np.float32)
    for name, value in [("stride", (2, 1)), ("padding", (1, 2)), ("dilation", 2), ("stride", 1), ("padding", "same")]:
        setattr(mine, name, value)
        setattr(theirs, name, value)
        assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL, f"{name}={value!r}")
    assert len(calls) == 5


def test_conv2d_layer_takes_the_checked_path_for_anything_else(monkeypatch):
    """Unbatched, integer or float64 input, a replaced weight, bad settings: conv2d's results and errors."""
    calls = count_direct_calls(monkeypatch)
    layer = nn.Conv2d(2, 3, 3, padding=1)
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 5))
    expected = F.conv2d(shendu.tensor(x, dtype=shendu.float32), layer.weight, layer.bias, padding=1).detach().numpy()
    np.testing.assert_array_equal(layer(shendu.tensor(x[0], dtype=shendu.float32)).detach().numpy(), expected[0])
    for wrong, name in ((x, "float64"), (np.arange(50).reshape(1, 2, 5, 5), "int64")):  # as PyTorch: no silent cast
        with pytest.raises(RuntimeError, match=f"conv2d: input and weight must have the same dtype, but got shendu.{name} and shendu.float32"):
            layer(shendu.tensor(wrong))
    layer.bias = nn.Parameter(shendu.zeros(2))
    with pytest.raises(ValueError, match=r"^conv2d: bias must have shape \(3,\); got \(2,\)$"):
        layer(shendu.zeros(1, 2, 5, 5))
    layer.weight = nn.Parameter(shendu.zeros(3, 2, 7, 7))
    with pytest.raises(ValueError, match=r"^conv2d: the kernel \(7, 7\) \(spanning"):
        layer(shendu.zeros(1, 2, 3, 3))
    layer = nn.Conv2d(2, 3, 3)
    layer.stride = 0
    with pytest.raises(ValueError) as info:
        layer(shendu.zeros(1, 2, 5, 5))
    assert str(info.value) == "conv2d: stride must be a positive int or a tuple of 2 positive ints. Received: stride=0"
    layer.stride, layer.padding = 2, "same"
    with pytest.raises(ValueError) as info:
        layer(shendu.zeros(1, 2, 5, 5))
    assert (
        str(info.value) == "conv2d: padding='same' is not supported for strided convolutions. Received: stride=(2, 2)"
    )
    assert calls == []


def test_conv1d_layer_same_padding_reflect_matches_torch():
    theirs = torch.nn.Conv1d(2, 3, 4, padding="same", padding_mode="reflect", bias=False)
    mine = copy_torch_weights(theirs, nn.Conv1d(2, 3, 4, padding="same", padding_mode="reflect", bias=False))
    x = np.random.default_rng(0).normal(size=(2, 2, 9)).astype(np.float32)
    assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL, "forward")
    assert mine.bias is None and [name for name, _ in mine.named_parameters()] == ["weight"]


def test_unbatched_input_gives_unbatched_output():
    layer = nn.Conv2d(3, 4, 3, padding=1)
    x = shendu.randn(3, 6, 5)
    y = layer(x)
    assert tuple(y.shape) == (4, 6, 5)
    np.testing.assert_allclose(y.detach().numpy(), layer(x.unsqueeze(0))[0].detach().numpy(), rtol=1e-6)
    assert tuple(nn.Conv1d(3, 2, 3)(shendu.randn(3, 10)).shape) == (2, 8)


def test_seed_cnn_matches_torch_through_relu_and_pooling():
    """The seed CNN end to end: conv outputs stay NHWC in memory through ReLU and max-pooling."""

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 8, 3), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
            lib.nn.Conv2d(8, 16, 3), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
            lib.nn.Flatten(), lib.nn.Linear(16 * 5 * 5, 10),
        )  # fmt: skip

    theirs = build(torch)
    mine = copy_torch_weights(theirs, build(shendu))
    x = np.random.default_rng(0).uniform(0, 1, size=(4, 1, 28, 28)).astype(np.float32)
    x[:, :, :6] = 0  # blank rows: ReLU outputs of zero tie inside pooling windows
    ys, yt = mine(shendu.tensor(x)), theirs(torch.tensor(x))
    assert_close(ys, yt, ATOL, RTOL, "forward")
    probe = np.random.default_rng(1).normal(size=(4, 10)).astype(np.float32)
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, ATOL, RTOL, f"gradient of {name}")


def test_float64_layer():
    layer = nn.Conv2d(2, 3, 3, dtype=shendu.float64)
    assert layer.weight.dtype == shendu.float64 and layer.bias.dtype == shendu.float64
    assert layer(shendu.randn(1, 2, 5, 5, dtype=shendu.float64)).dtype == shendu.float64


def test_no_grad_records_nothing():
    layer = nn.Conv2d(1, 2, 3)
    with shendu.no_grad():
        y = layer(shendu.randn(1, 1, 5, 5))
    assert not y.requires_grad and y.grad_fn is None


@pytest.mark.parametrize("groups", [1, 2])
def test_default_init_is_pytorchs(groups):
    layer = nn.Conv2d(64, 128, 3, groups=groups)
    fan_in = 64 // groups * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=√5): gain·√(3/fan_in) = 1/√fan_in
    assert tuple(layer.weight.shape) == tuple(torch.nn.Conv2d(64, 128, 3, groups=groups).weight.shape)
    w = layer.weight.detach().numpy().astype(np.float64)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.var() / (bound**2 / 3) - 1) < 0.05
    b = layer.bias.detach().numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.5 * bound / math.sqrt(3)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1, 32, 3), {}),
        ((3, 6, (3, 5)), {"stride": 2, "padding": (1, 2), "dilation": (2, 1), "groups": 3, "bias": False}),
        ((2, 4, 3), {"padding": "same", "padding_mode": "reflect"}),
        ((2, 4, 3), {"padding": "valid"}),
    ],
)
def test_repr_matches_torch(args, kwargs):
    assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))
    assert repr(nn.Conv1d(*args[:2], 3, padding=2)) == repr(torch.nn.Conv1d(*args[:2], 3, padding=2))


def test_state_dict_round_trip_with_torch():
    theirs = torch.nn.Conv2d(4, 6, 3, groups=2, padding=1)
    mine = nn.Conv2d(4, 6, 3, groups=2, padding=1)
    assert {k: tuple(v.shape) for k, v in mine.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    back = torch.nn.Conv2d(4, 6, 3, groups=2, padding=1)
    back.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in mine.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 5)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.tensor(x))
        assert_close(back(torch.tensor(x)), expected, 0, 0, "torch after the round trip")
    assert_close(mine(shendu.tensor(x)), expected, ATOL, RTOL, "shendu with torch's weights")


# ----- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_size": 0}, "Conv2d: kernel_size must be positive. Received: kernel_size=0"),
        ({"in_channels": 0}, "Conv2d: in_channels must be a positive integer. Received: in_channels=0"),
        ({"out_channels": -2}, "Conv2d: out_channels must be a positive integer. Received: out_channels=-2"),
        ({"stride": 0}, "Conv2d: stride must be positive. Received: stride=0"),
        ({"padding": -1}, "Conv2d: padding must be non-negative. Received: padding=-1"),
        ({"dilation": (1, 0)}, "Conv2d: dilation must be positive. Received: dilation=(1, 0)"),
        (
            {"kernel_size": (3, 3, 3)},
            "Conv2d: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size=(3, 3, 3)",
        ),
        ({"groups": 2}, "Conv2d: in_channels must be divisible by groups. Received: in_channels=3, groups=2"),
        (
            {"groups": 3, "out_channels": 4},
            "Conv2d: out_channels must be divisible by groups. Received: out_channels=4, groups=3",
        ),
        (
            {"padding": "same", "stride": 2},
            "Conv2d: padding='same' is not supported for strided convolutions. Received: stride=(2, 2)",
        ),
        ({"padding": "full"}, "Conv2d: padding must be 'valid', 'same' or non-negative ints. Received: padding='full'"),
        (
            {"padding_mode": "mirror"},
            "Conv2d: padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'). Received: padding_mode='mirror'",
        ),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    arguments = {"in_channels": 3, "out_channels": 6, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError) as info:
        nn.Conv2d(**arguments)
    assert str(info.value) == message


def test_wrong_input_shape_names_layer_and_expected_shape():
    with pytest.raises(ValueError) as info:
        nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3)(shendu.zeros(32, 28, 28, 1))
    assert str(info.value) == "Conv2d(in_channels=1) got input of shape (32, 28, 28, 1); expected (N, 1, H, W)"
    with pytest.raises(ValueError) as info:
        nn.Conv2d(1, 32, 3)(shendu.zeros(28, 28))
    assert str(info.value) == "Conv2d(in_channels=1) got input of shape (28, 28); expected (N, 1, H, W)"
    with pytest.raises(ValueError) as info:
        nn.Conv1d(4, 2, 3)(shendu.zeros(2, 3, 10))
    assert str(info.value) == "Conv1d(in_channels=4) got input of shape (2, 3, 10); expected (N, 4, L)"


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError) as info:
        nn.Conv2d(1, 2, 5, padding=1)(shendu.zeros(1, 1, 2, 6))
    assert str(info.value) == (
        "conv2d: the kernel (5, 5) (spanning (5, 5) with dilation (1, 1)) is larger than the padded input (4, 8); "
        "use a smaller kernel, more padding or a larger input"
    )
    with pytest.raises(ValueError, match=r"spanning \(5,\) with dilation \(2,\)"):
        F.conv1d(shendu.zeros(1, 1, 4), shendu.zeros(1, 1, 3), dilation=2)


def test_functional_argument_errors():
    x = shendu.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 2, 3, 3))
    assert str(info.value) == (
        "conv2d: input of shape (2, 3, 8, 8) does not match weight of shape (4, 2, 3, 3) with groups=1; expected (N, 2, H, W)"
    )
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 3, 3))
    assert str(info.value) == (
        "conv2d: weight must have 4 dimensions (out_channels, in_channels/groups, *kernel); got shape (4, 3, 3)"
    )
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 3, 3, 3), shendu.zeros(3))
    assert str(info.value) == "conv2d: bias must have shape (4,); got (3,)"
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 3, 3, 3), stride=0)
    assert str(info.value) == "conv2d: stride must be a positive int or a tuple of 2 positive ints. Received: stride=0"
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 3, 3, 3), padding="same", stride=2)
    assert (
        str(info.value) == "conv2d: padding='same' is not supported for strided convolutions. Received: stride=(2, 2)"
    )
    with pytest.raises(ValueError) as info:
        F.conv2d(x, shendu.zeros(4, 1, 3, 3), groups=3)
    assert str(info.value) == "conv2d: out_channels must be divisible by groups. Received: out_channels=4, groups=3"


@pytest.mark.parametrize("shape,kernel,padding", [((2, 6, 16, 16), 3, 1), ((2, 5, 12, 14), (3, 2), (1, 0)),
                                                  ((1, 8, 30, 30), 5, 2), ((2, 16, 15, 15), 1, 0)])  # fmt: skip
def test_implicit_gemm_path_equals_the_im2col_path(shape, kernel, padding, monkeypatch):
    """Stride-1 convolutions with few channels skip im2col; the im2col path is the oracle (float64), and PyTorch agrees."""
    import shendu.ops.conv as conv_module

    rng = np.random.default_rng(5)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x, w, b = rng.normal(size=shape), rng.normal(size=(7, shape[1], kh, kw)), rng.normal(size=7)
    results, implicit_calls = [], []
    original = conv_module.Conv2d._implicit_forward
    monkeypatch.setattr(conv_module.Conv2d, "_implicit_forward",
                        lambda self, *a: implicit_calls.append(1) or original(self, *a))  # fmt: skip
    for limit in (32, 0):  # implicit, then forced im2col
        monkeypatch.setattr(conv_module, "IMPLICIT_GEMM_MAX_CHANNELS", limit)
        stored = np.ascontiguousarray(np.moveaxis(x, 1, -1)).transpose(0, 3, 1, 2)  # channels-last, as conv outputs
        xs = shendu.from_numpy(stored).requires_grad_()
        ws, bs = (shendu.tensor(a, dtype=shendu.float64, requires_grad=True) for a in (w, b))
        y = F.conv2d(xs, ws, bs, padding=padding)
        probe = shendu.tensor(np.random.default_rng(6).normal(size=tuple(y.shape)))
        (y * probe).sum().backward()
        results.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()])
    assert implicit_calls == [1]  # the first run took the implicit path, the second did not
    for fast, plain in zip(*results):
        np.testing.assert_allclose(fast, plain, rtol=1e-11, atol=1e-11)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=padding)
    np.testing.assert_allclose(results[0][0], expected.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), [
    ((5, 3, 23, 19), (8, 3, 7, 7), {"stride": 2, "padding": 3}),  # few channels: NCHW gather
    ((4, 40, 12, 12), (16, 40, 3, 3), {"padding": 1}),  # NHWC gather
    ((3, 6, 9, 9), (5, 6, 3, 3), {"stride": 2, "dilation": 2}),
])
@pytest.mark.parametrize("bias", [True, False])
def test_inference_builds_im2col_a_few_samples_at_a_time_with_the_same_result(monkeypatch, x_shape, w_shape, kwargs, bias):
    """Under no_grad the matrix is built in blocks (here forced to one sample each); the one-matrix path is the oracle."""
    import shendu.ops.conv as conv_ops
    from shendu import _compiled

    monkeypatch.setitem(_compiled._state, "enabled", False)  # the NumPy paths (the C kernels: test_conv_kernel.py)

    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.standard_normal(x_shape).astype(np.float32))
    weight = shendu.tensor(rng.standard_normal(w_shape).astype(np.float32))
    b = shendu.tensor(rng.standard_normal(w_shape[0]).astype(np.float32)) if bias else None
    whole = F.conv2d(x, weight, b, **kwargs).numpy()  # grad mode on: the one-matrix path
    monkeypatch.setattr(conv_ops, "INFERENCE_COLS_BYTES", 1)
    with shendu.no_grad():
        blocks = F.conv2d(x, weight, b, **kwargs)
    np.testing.assert_allclose(blocks.numpy(), whole, rtol=1e-5, atol=1e-5)
    assert blocks.numpy().transpose(0, 2, 3, 1).flags.c_contiguous  # still channels-last, as every conv output
