"""ConvTranspose1d/2d and their functional forms against PyTorch: outputs and gradients in float64 for every
argument, float64 gradient checks, PyTorch's initialisation, repr and errors."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F

CASES_2D = [
    dict(stride=1, padding=0), dict(stride=2, padding=1, output_padding=1), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 0)),
    dict(stride=1, padding=2, dilation=2), dict(stride=2, padding=1, groups=2), dict(stride=3, padding=4, output_padding=2),
    dict(stride=2, padding=0, dilation=(1, 2), groups=2), dict(stride=2, padding=1, bias=False),
]  # fmt: skip


@pytest.mark.parametrize("kwargs", CASES_2D, ids=[str(c) for c in CASES_2D])
@pytest.mark.parametrize("kernel", [3, (2, 4)])
def test_conv_transpose2d_equals_pytorch_forward_and_backward(kwargs, kernel):
    kwargs = dict(kwargs)
    bias = kwargs.pop("bias", True)
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose2d(4, 6, kernel, bias=bias, **kwargs).double()
    ours = nn.ConvTranspose2d(4, 6, kernel, bias=bias, **kwargs).double()
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 6))
    xt, xs = torch.tensor(x, requires_grad=True), shendu.tensor(x, requires_grad=True)
    yt, ys = reference(xt), ours(xs)
    assert tuple(ys.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    (yt * torch.tensor(g)).sum().backward()
    (ys * shendu.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-11, atol=1e-12)
    for name, param in reference.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(), param.grad.numpy(), rtol=1e-11, atol=1e-12)
    assert repr(ours) == repr(reference)


@pytest.mark.parametrize("kwargs", [dict(stride=1), dict(stride=2, padding=1, output_padding=1), dict(stride=2, groups=2, dilation=2)])
def test_conv_transpose1d_equals_pytorch(kwargs):
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose1d(4, 6, 3, **kwargs).double()
    ours = nn.ConvTranspose1d(4, 6, 3, **kwargs).double()
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 4, 7))
    np.testing.assert_allclose(ours(shendu.tensor(x)).detach().numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    unbatched = ours(shendu.tensor(x[0])).detach().numpy()
    np.testing.assert_allclose(unbatched, reference(torch.tensor(x[0])).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_gradcheck_in_float64():
    x = shendu.tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = shendu.tensor(np.random.default_rng(4).standard_normal((2, 3, 3, 2)), requires_grad=True)
    b = shendu.tensor(np.random.default_rng(5).standard_normal(3), requires_grad=True)
    assert shendu.autograd.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), (x, w, b))


def test_output_size_chooses_the_output_padding_as_pytorch():
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    ours = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    assert tuple(ours(shendu.tensor(x), output_size=[8, 8]).shape) == tuple(reference(torch.tensor(x), output_size=[8, 8]).shape)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(shendu.tensor(x), output_size=[10, 10])


def test_default_initialisation_follows_pytorchs_bounds():
    layer = nn.ConvTranspose2d(16, 8, 4, groups=2)
    bound = 1 / np.sqrt(8 // 2 * 16)
    assert tuple(layer.weight.shape) == (16, 4, 4, 4)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound


def test_a_dcgan_generator_block_runs_and_trains():
    generator = nn.Sequential(
        nn.ConvTranspose2d(16, 32, 4, 1, 0, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),
        nn.ConvTranspose2d(32, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
        nn.ConvTranspose2d(16, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    z = shendu.randn(4, 16, 1, 1)
    images = generator(z)
    assert tuple(images.shape) == (4, 3, 16, 16)
    images.mean().backward()
    assert all(p.grad is not None for p in generator.parameters())


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(shendu.ones(1, 2, 3, 3), shendu.ones(2, 2, 3, 3), stride=1, output_padding=1)
    with pytest.raises(ValueError, match=r"does not match weight of shape \(2, 2, 3, 3\)"):
        F.conv_transpose2d(shendu.ones(1, 3, 3, 3), shendu.ones(2, 2, 3, 3))
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


@pytest.mark.parametrize("kwargs", [
    {"stride": 2, "padding": 1}, {"stride": 2, "padding": 0, "output_padding": 1},
    {"stride": (3, 2), "padding": (1, 0), "output_padding": (2, 1), "dilation": (1, 2)},
    {"stride": 1, "padding": 2, "dilation": 2}, {"stride": 2, "padding": 3},
])  # fmt: skip
def test_direct_transposed_convolution_equals_the_plain_spread_convolution(kwargs):
    """The direct form (GEMM per offset, scattered) against the plain one (a convolution of the spread input)."""
    from shendu.ops.conv_transpose import _plain_conv_transpose2d
    from shendu.ops.conv import int_tuple

    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(3, 4, 3, 3)), rng.normal(size=4)
    args = {k: int_tuple(kwargs.get(k, d), 2, k, "test", 0) for k, d in
            (("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1))}  # fmt: skip
    results = []
    for direct in (True, False):
        xs, ws, bs = (shendu.tensor(a, dtype=shendu.float64, requires_grad=True) for a in (x, w, b))
        if direct:
            y = F.conv_transpose2d(xs, ws, bs, **kwargs)
        else:
            y = _plain_conv_transpose2d(xs, ws, bs, args["stride"], args["padding"], args["output_padding"], 1,
                                        args["dilation"], False)  # fmt: skip
        probe = shendu.tensor(np.random.default_rng(3).normal(size=tuple(y.shape)))
        (y * probe).sum().backward()
        results.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()])
    for fast, plain in zip(*results):
        np.testing.assert_allclose(fast, plain, rtol=1e-11, atol=1e-11)
