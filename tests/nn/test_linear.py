"""Linear against PyTorch: copied weights, forward and backward, default initialisation, bad input."""

import math

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import assert_close, copy_torch_weights, gradcheck

ATOL, RTOL = 1e-5, 1e-4


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5), (2, 3, 2, 5), (5,)], ids=["2d", "3d", "4d", "1d"])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_and_backward_match_torch(shape, bias):
    theirs = torch.nn.Linear(5, 6, bias=bias)
    mine = copy_torch_weights(theirs, nn.Linear(5, 6, bias=bias))
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    probe = np.random.default_rng(1).normal(size=shape[:-1] + (6,)).astype(np.float32)
    xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = mine(xs), theirs(xt)
    assert ys.dtype == shendu.float32
    assert_close(ys, yt, ATOL, RTOL, "forward")
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")
    assert_close(mine.weight.grad, theirs.weight.grad, ATOL, RTOL, "weight gradient")
    if bias:
        assert_close(mine.bias.grad, theirs.bias.grad, ATOL, RTOL, "bias gradient")
    else:
        assert mine.bias is None and [n for n, _ in mine.named_parameters()] == ["weight"]


def test_gradcheck_float64():
    gradcheck(lambda x, w, b: F.linear(x, w, b), [(3, 4), (2, 4), (2,)])
    gradcheck(lambda x, w: F.linear(x, w), [(2, 3, 4), (5, 4)])


def test_float64_layer():
    layer = nn.Linear(3, 2, dtype=shendu.float64)
    assert layer.weight.dtype == shendu.float64 and layer.bias.dtype == shendu.float64
    assert layer(shendu.randn(4, 3, dtype=shendu.float64)).dtype == shendu.float64
    assert nn.Linear(3, 2).double()(shendu.randn(4, 3, dtype=shendu.float64)).dtype == shendu.float64


def test_default_init_is_pytorchs_uniform_one_over_sqrt_in():
    layer = nn.Linear(512, 512)
    bound = 1 / math.sqrt(512)
    w = layer.weight.detach().numpy().astype(np.float64)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.mean()) < 0.05 * bound / math.sqrt(3)
    assert abs(w.var() / (bound**2 / 3) - 1) < 0.05
    theirs = torch.nn.Linear(512, 512).weight.detach().numpy().astype(np.float64)
    assert abs(w.var() / theirs.var() - 1) < 0.05
    b = layer.bias.detach().numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.5 * bound / math.sqrt(3)


def test_reset_parameters_draws_new_weights_repeatably():
    shendu.manual_seed(1)
    first = nn.Linear(4, 3).weight.detach().numpy().copy()
    shendu.manual_seed(1)
    layer = nn.Linear(4, 3)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), first)
    layer.reset_parameters()
    assert np.any(layer.weight.detach().numpy() != first)


def test_repr_matches_torch():
    assert repr(nn.Linear(784, 500)) == repr(torch.nn.Linear(784, 500))
    assert repr(nn.Linear(3, 1, bias=False)) == repr(torch.nn.Linear(3, 1, bias=False))


def test_state_dict_round_trip_with_torch():
    theirs = torch.nn.Linear(6, 3)
    mine = nn.Linear(6, 3)
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    assert_close(mine(shendu.tensor(x)), theirs(torch.tensor(x)), ATOL, RTOL)
    back = torch.nn.Linear(6, 3)
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.state_dict().items()})
    assert_close(mine(shendu.tensor(x)), back(torch.tensor(x)), ATOL, RTOL)


def test_wrong_input_shape_names_layer_expected_and_received():
    layer = nn.Linear(784, 10)
    with pytest.raises(ValueError) as error:
        layer(shendu.zeros(100, 28, 28))
    assert str(error.value) == "Linear(in_features=784) got input of shape (100, 28, 28); expected (*, 784)"
    with pytest.raises(ValueError, match=r"got input of shape \(\); expected \(\*, 784\)"):
        layer(shendu.tensor(1.0))
    with pytest.raises(TypeError, match=r"Linear expects a Tensor input; got ndarray"):
        layer(np.zeros((2, 784), np.float32))


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0, 5), ValueError, "Linear: in_features must be a positive integer. Received: in_features=0"),
        ((5, -1), ValueError, "Linear: out_features must be a positive integer. Received: out_features=-1"),
        ((5.0, 3), TypeError, "Linear: in_features must be an int. Received: in_features=5.0"),
        ((True, 3), TypeError, "Linear: in_features must be an int. Received: in_features=True"),
        ((3, "4"), TypeError, "Linear: out_features must be an int. Received: out_features='4'"),
    ],
)
def test_bad_sizes_raise_at_construction(args, error, message):
    with pytest.raises(error) as raised:
        nn.Linear(*args)
    assert str(raised.value) == message


def test_bad_dtype_and_device():
    with pytest.raises(TypeError, match=r"floating-point dtype. Received: dtype=shendu.int64"):
        nn.Linear(2, 2, dtype=shendu.int64)
    with pytest.raises(RuntimeError, match=r"CUDA is not available"):
        nn.Linear(2, 2, device="cuda")
    assert nn.Linear(2, 2, device="cpu").weight.shape == (2, 2)


def test_numpy_integer_sizes_are_accepted():
    layer = nn.Linear(np.int64(3), np.int32(2))
    assert layer.weight.shape == (2, 3) and type(layer.in_features) is int
