"""shendu.nn.init: statistics of every random initialiser, exact ones against PyTorch, errors."""

import contextlib
import math

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
from shendu.nn import init

SHAPE = (512, 512)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """QR on a loaded two-core box: multi-threaded OpenBLAS takes seconds, one thread 0.1 s."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1, user_api="blas")
    with limits:
        yield


def assert_stats(tensor, mean, var, tolerance=0.05):
    """Sample mean within 5 % of the theoretical std (the mean is often 0), variance within 5 %."""
    values = tensor.detach().numpy().astype(np.float64)
    assert abs(values.mean() - mean) <= tolerance * math.sqrt(var), f"mean {values.mean()} vs {mean}"
    if mean:
        assert abs(values.mean() / mean - 1) <= tolerance
    assert abs(values.var() / var - 1) <= tolerance, f"variance {values.var()} vs {var}"


def weight(*shape, dtype=shendu.float32):
    return nn.Parameter(shendu.empty(*shape, dtype=dtype))


def truncated_normal_variance(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    return mean + std * shift, std**2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2)


@pytest.mark.parametrize(
    "name, args",
    [("linear", ()), ("conv2d", ()), ("sigmoid", ()), ("tanh", ()), ("relu", ()), ("selu", ()),
     ("leaky_relu", ()), ("leaky_relu", (0.2,)), ("leaky_relu", (math.sqrt(5),)), ("conv_transpose1d", ())],
)  # fmt: skip
def test_calculate_gain_matches_torch(name, args):
    assert init.calculate_gain(name, *args) == pytest.approx(torch.nn.init.calculate_gain(name, *args), rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match=r"Unsupported nonlinearity 'softsign'"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match=r"negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_uniform_in_minus_r_r():
    w = init.uniform_(weight(*SHAPE), -0.3, 0.3)
    values = w.detach().numpy()
    assert values.min() >= -0.3 and values.max() <= 0.3
    assert_stats(w, 0.0, 0.6**2 / 12)
    assert_stats(init.uniform_(weight(*SHAPE)), 0.5, 1 / 12)


def test_normal_with_fixed_variance():
    assert_stats(init.normal_(weight(*SHAPE), mean=2.0, std=0.5), 2.0, 0.25)
    assert_stats(init.normal_(weight(*SHAPE)), 0.0, 1.0)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    w = init.trunc_normal_(weight(*SHAPE), mean, std, a, b)
    values = w.detach().numpy()
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_var = truncated_normal_variance(mean, std, a, b)
    assert_stats(w, expected_mean, expected_var)


@pytest.mark.parametrize("gain", [1.0, init.calculate_gain("tanh")])
def test_xavier(gain):
    fan_in, fan_out = 256, 512
    var = gain**2 * 2 / (fan_in + fan_out)
    assert_stats(init.xavier_uniform_(weight(fan_out, fan_in), gain=gain), 0.0, var)
    assert_stats(init.xavier_normal_(weight(fan_out, fan_in), gain=gain), 0.0, var)
    bound = math.sqrt(3 * var)
    assert np.abs(init.xavier_uniform_(weight(*SHAPE), gain=gain).detach().numpy()).max() <= bound


@pytest.mark.parametrize(
    "kwargs, gain2",
    [
        (dict(nonlinearity="relu"), 2.0),
        (dict(nonlinearity="relu", mode="fan_out"), 2.0),
        (dict(a=0.1), 2 / (1 + 0.01)),
        (dict(a=math.sqrt(5)), 1 / 3),
        (dict(nonlinearity="linear"), 1.0),
    ],
)
def test_kaiming(kwargs, gain2):
    w_shape = (256, 512)  # fan_in 512, fan_out 256: the modes differ
    fan = 256 if kwargs.get("mode") == "fan_out" else 512
    assert_stats(init.kaiming_uniform_(weight(*w_shape), **kwargs), 0.0, gain2 / fan)
    assert_stats(init.kaiming_normal_(weight(*w_shape), **kwargs), 0.0, gain2 / fan)


def test_lecun():
    assert_stats(init.lecun_uniform_(weight(*SHAPE)), 0.0, 1 / 512)
    assert_stats(init.lecun_normal_(weight(*SHAPE)), 0.0, 1 / 512)


def test_fans_of_conv_weights_match_torch():
    for shape in [(64, 32, 3, 3), (8, 4, 5), (10, 20), (2, 3, 2, 2, 2)]:
        assert init._calculate_fan_in_and_fan_out(shendu.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
            torch.empty(shape)
        )
    conv = weight(128, 64, 3, 3)
    assert_stats(init.kaiming_normal_(conv, nonlinearity="relu"), 0.0, 2 / (64 * 9))


@pytest.mark.parametrize("shape, gain", [(SHAPE, 1.0), ((128, 256), 1.0), ((256, 128), 2.0), ((64, 16, 3, 3), 2.0)])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(weight(*shape), gain=gain).detach().numpy().astype(np.float64)
    flat = w.reshape(shape[0], -1)
    rows, cols = flat.shape
    product = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(product, gain**2 * np.eye(min(rows, cols)), atol=1e-5 * gain**2)


def test_orthogonal_in_float64_is_exact_to_1e_12():
    w = init.orthogonal_(weight(100, 100, dtype=shendu.float64)).detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(100), atol=1e-12)


def test_exact_fills_match_torch():
    for mine, theirs, shape in [
        (lambda w: init.constant_(w, 0.7), lambda w: torch.nn.init.constant_(w, 0.7), (3, 4)),
        (init.zeros_, torch.nn.init.zeros_, (3, 4)),
        (init.ones_, torch.nn.init.ones_, (5,)),
        (init.eye_, torch.nn.init.eye_, (3, 5)),
        (init.eye_, torch.nn.init.eye_, (4, 2)),
        (init.dirac_, torch.nn.init.dirac_, (4, 3, 3, 3)),
        (init.dirac_, torch.nn.init.dirac_, (2, 5, 3)),
        (lambda w: init.dirac_(w, groups=2), lambda w: torch.nn.init.dirac_(w, groups=2), (6, 2, 3, 3, 3)),
    ]:
        expected = theirs(torch.empty(shape)).numpy()
        np.testing.assert_array_equal(mine(weight(*shape)).detach().numpy(), expected)


def test_fills_in_place_without_a_graph_and_keep_dtype():
    w = weight(10, 10, dtype=shendu.float64)
    array = w._array
    out = init.kaiming_uniform_(w)
    assert out is w and w._array is array and w.grad_fn is None and w.requires_grad
    assert w.dtype == shendu.float64


def test_generator_and_manual_seed_make_draws_repeatable():
    a = init.normal_(weight(50), generator=np.random.default_rng(3)).detach().numpy().copy()
    b = init.normal_(weight(50), generator=np.random.default_rng(3)).detach().numpy()
    np.testing.assert_array_equal(a, b)
    c = init.xavier_uniform_(weight(5, 5), generator=shendu.Generator().manual_seed(1)).detach().numpy().copy()
    d = init.xavier_uniform_(weight(5, 5), generator=shendu.Generator().manual_seed(1)).detach().numpy()
    np.testing.assert_array_equal(c, d)
    shendu.manual_seed(9)
    e = init.orthogonal_(weight(6, 6)).detach().numpy().copy()
    shendu.manual_seed(9)
    np.testing.assert_array_equal(init.orthogonal_(weight(6, 6)).detach().numpy(), e)


def test_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions; got shape \(5,\)"):
        init.xavier_uniform_(weight(5))
    with pytest.raises(ValueError, match=r"Mode 'fan_avg' not supported"):
        init.kaiming_normal_(weight(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match=r"only tensors with 2 dimensions are supported; got shape \(2, 2, 2\)"):
        init.eye_(weight(2, 2, 2))
    with pytest.raises(ValueError, match=r"only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(weight(2, 2))
    with pytest.raises(ValueError, match=r"only tensors with 2 or more dimensions"):
        init.orthogonal_(weight(4))
    with pytest.raises(ValueError, match=r"trunc_normal_ expects std > 0 and a < b"):
        init.trunc_normal_(weight(3), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match=r"holds almost none of"):
        init.trunc_normal_(weight(3), mean=0.0, std=1.0, a=10.0, b=11.0)
    with pytest.raises(TypeError, match=r"init functions fill a Tensor in place; got list"):
        init.zeros_([1.0, 2.0])


def test_zero_element_tensors_are_left_alone():
    empty = weight(0, 5)
    assert init.kaiming_uniform_(empty) is empty
    assert init.orthogonal_(empty) is empty
