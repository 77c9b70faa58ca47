"""The engine's core activations against PyTorch: relu, sigmoid, tanh, softmax, log_softmax."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck

ELEMENTWISE = ["relu", "sigmoid", "tanh"]


@pytest.mark.parametrize("shape", [(), (45, 1), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_matches_torch(name, shape):
    check_op([shape], getattr(torch, name), getattr(shendu, name), low=-4, high=4)
    check_op([shape], lambda x: getattr(x, name)(), low=-4, high=4)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_gradcheck_float64(name):
    gradcheck(getattr(shendu, name), [(3, 4)], low=0.1, high=3) if name == "relu" else gradcheck(
        getattr(shendu, name), [(3, 4)], low=-3, high=3
    )


def test_relu_gradient_at_zero_is_zero_like_torch():
    check_op(None, torch.relu, shendu.relu, inputs=[np.array([-1.0, 0.0, 1.0], np.float32)])


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    x = shendu.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = shendu.sigmoid(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y * (1 - y)).detach().numpy(), rtol=1e-6)


def test_tanh_is_two_sigmoid_of_two_x_minus_one():
    x = shendu.linspace(-3, 3, 13)
    np.testing.assert_allclose(shendu.tanh(x).numpy(), (2 * shendu.sigmoid(2 * x) - 1).numpy(), atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_matches_torch(name, dim):
    check_op([(3, 4)], lambda x: getattr(torch, name)(x, dim), lambda x: getattr(shendu, name)(x, dim))
    check_op([(2, 3, 4)], lambda x: getattr(x, name)(dim))
    check_op([(45, 1)], lambda x: getattr(x, name)(dim=0))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_on_a_scalar_and_gradcheck(name):
    check_op([()], lambda x: getattr(torch, name)(x, 0), lambda x: getattr(shendu, name)(x, 0))
    gradcheck(lambda x: getattr(shendu, name)(x, 1), [(3, 4)])


def test_softmax_rows_sum_to_one_and_accept_a_dtype():
    out = shendu.softmax(shendu.randn(4, 5), dim=1, dtype=shendu.float64)
    assert out.dtype == shendu.float64
    np.testing.assert_allclose(out.sum(1).numpy(), np.ones(4), rtol=1e-12)


def test_activations_of_integer_input_are_float_like_torch():
    ints = np.array([-1, 0, 2])
    for name in ("sigmoid", "tanh"):
        check_op(None, getattr(torch, name), getattr(shendu, name), inputs=[ints], forward_only=True)
    check_op(None, torch.relu, shendu.relu, inputs=[ints], forward_only=True)


@pytest.mark.parametrize(
    "shape, dtype, contiguous",
    [((100, 500), np.float32, True), ((3, 70001), np.float32, True), ((2, 8192), np.float64, True),
     ((100, 50), np.float32, True), ((7,), np.float32, True), ((300, 500), np.float32, False), ((), np.float32, True)],
)  # fmt: skip
def test_relu_forward_paths_equal_numpy_maximum(shape, dtype, contiguous):
    """The zeros-row path of ReLU (rows of 8192 plus a tail, or one row) equals np.maximum(x, 0) exactly."""
    from shendu.ops.activation import _relu

    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if x.size >= 4:
        x.reshape(-1)[:4] = [np.nan, -0.0, np.inf, -np.inf]
    if not contiguous:
        x = x[:, ::2]
    got, expected = _relu(x), np.maximum(x, 0)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
