"""Activations (functions and modules) against PyTorch: values, gradients, kinks, numerics, bad arguments."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import assert_close, check_op, copy_torch_weights, gradcheck

TOL = dict(atol=1e-5, rtol=1e-4, grad_atol=1e-5, grad_rtol=1e-4)

# name -> (torch function, shendu function); same call on both sides.
ACTIVATIONS = {
    "sigmoid": (torch.sigmoid, F.sigmoid),
    "tanh": (torch.tanh, F.tanh),
    "relu": (TF.relu, F.relu),
    "leaky_relu": (TF.leaky_relu, F.leaky_relu),
    "leaky_relu_0.2": (lambda x: TF.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (TF.elu, F.elu),
    "elu_0.5": (lambda x: TF.elu(x, alpha=0.5), lambda x: F.elu(x, alpha=0.5)),
    "selu": (TF.selu, F.selu),
    "celu_2": (lambda x: TF.celu(x, alpha=2.0), lambda x: F.celu(x, alpha=2.0)),
    "softplus": (TF.softplus, F.softplus),
    "softplus_beta2_thr3": (
        lambda x: TF.softplus(x, beta=2, threshold=3),
        lambda x: F.softplus(x, beta=2, threshold=3),
    ),
    "silu": (TF.silu, F.silu),
    "gelu": (TF.gelu, F.gelu),
    "gelu_tanh": (lambda x: TF.gelu(x, approximate="tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "relu6": (TF.relu6, F.relu6),
    "hardtanh": (TF.hardtanh, F.hardtanh),
    "hardtanh_-2_3": (lambda x: TF.hardtanh(x, -2.0, 3.0), lambda x: F.hardtanh(x, -2.0, 3.0)),
    "mish": (TF.mish, F.mish),
    "hardsigmoid": (TF.hardsigmoid, F.hardsigmoid),
    "hardswish": (TF.hardswish, F.hardswish),
    "tanhshrink": (TF.tanhshrink, F.tanhshrink),
    "softsign": (TF.softsign, F.softsign),
    "logsigmoid": (TF.logsigmoid, F.logsigmoid),
    "softshrink": (TF.softshrink, F.softshrink),
    "hardshrink_1": (lambda x: TF.hardshrink(x, 1.0), lambda x: F.hardshrink(x, 1.0)),
    "threshold": (lambda x: TF.threshold(x, 1.0, -2.0), lambda x: F.threshold(x, 1.0, -2.0)),
}

# Each activation's kinks and the points around them; the gradient chosen at a kink must be PyTorch's.
KINKS = np.array([-7, -6, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 6, 7, 20, 21], dtype=np.float32)
# Points at least 0.1 from every kink above, for the float64 central-difference check.
SMOOTH = np.array([-6.4, -4.3, -2.7, -1.4, -0.7, -0.3, 0.2, 0.7, 1.3, 2.4, 3.6, 5.1, 6.6], dtype=np.float64)


@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch_forward_and_backward(name, shape):
    torch_fn, shendu_fn = ACTIVATIONS[name]
    check_op([shape], torch_fn, shendu_fn, low=-8, high=8, **TOL)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradient_at_kinks_is_torchs_choice(name):
    torch_fn, shendu_fn = ACTIVATIONS[name]
    check_op(None, torch_fn, shendu_fn, inputs=[KINKS], **TOL)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_float64_gradcheck_away_from_kinks(name):
    gradcheck(ACTIVATIONS[name][1], None, inputs=[SMOOTH])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_keeps_float64(name):
    # rtol 1e-7: some PyTorch float64 kernels use float32 constants (hardsigmoid multiplies by 1/6 in float32)
    check_op([(3, 4)], *ACTIVATIONS[name], dtype=np.float64, atol=1e-12, rtol=1e-7, grad_atol=1e-12, grad_rtol=1e-7)


@pytest.mark.parametrize(
    "torch_fn, shendu_fn",
    [
        (lambda x: TF.softmax(x, dim=0), lambda x: F.softmax(x, dim=0)),
        (lambda x: TF.softmax(x, dim=-1), lambda x: F.softmax(x, dim=-1)),
        (lambda x: TF.log_softmax(x, dim=1), lambda x: F.log_softmax(x, dim=1)),
        (lambda x: TF.softmin(x, dim=1), lambda x: F.softmin(x, dim=1)),
        (lambda x: TF.softmin(x, dim=-1), lambda x: F.softmin(x, dim=-1)),
    ],
    ids=["softmax0", "softmax-1", "log_softmax1", "softmin1", "softmin-1"],
)
def test_softmax_family_along_a_dim(torch_fn, shendu_fn):
    check_op([(3, 4, 5)], torch_fn, shendu_fn, low=-5, high=5, **TOL)


def test_softmin_gradcheck():
    gradcheck(lambda x: F.softmin(x, dim=1), [(3, 4)])


# ----- the parametrised ones: PReLU and Swish ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, channels", [((5,), 1), ((4, 3), 3), ((2, 3, 4, 4), 3), ((2, 3, 5), 1), ((), 1)], ids=str
)
def test_prelu_matches_torch_including_weight_gradient(shape, channels):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=shape).astype(np.float32)
    if x.size:
        x.reshape(-1)[0] = 0.0  # the kink: the input gets a, the weight gets x = 0
    weight = rng.uniform(0.05, 0.5, size=channels).astype(np.float32)
    check_op(None, TF.prelu, F.prelu, inputs=[x, weight], **TOL)


def test_prelu_gradcheck():
    gradcheck(F.prelu, None, inputs=[SMOOTH.reshape(1, 13, 1)[:, :12].reshape(2, 3, 2), np.array([0.1, 0.2, 0.3])])


def test_prelu_module_copies_torch_weights_and_trains_them():
    torch_layer, layer = torch.nn.PReLU(3, init=0.1), nn.PReLU(3, init=0.1)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor([0.1, 0.2, 0.3]))
    copy_torch_weights(torch_layer, layer)
    x = np.random.default_rng(1).uniform(-2, 2, size=(2, 3, 4)).astype(np.float32)
    t_out, s_out = torch_layer(torch.tensor(x)), layer(shendu.tensor(x))
    assert_close(s_out, t_out, 1e-6, 1e-5)
    t_out.sum().backward()
    s_out.sum().backward()
    assert_close(layer.weight.grad, torch_layer.weight.grad, 1e-5, 1e-4, "weight gradient")
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "PReLU(num_parameters=3)"


def test_prelu_module_default_is_one_shared_slope_of_a_quarter():
    layer = nn.PReLU()
    assert layer.weight.shape == (1,) and float(layer.weight.item()) == 0.25
    assert layer(shendu.tensor([-4.0, 3.0])).tolist() == [-1.0, 3.0]


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0, -1.5])
def test_swish_with_fixed_beta_matches_x_sigmoid_beta_x(beta):
    check_op([(4, 5)], lambda x: x * torch.sigmoid(beta * x), lambda x: F.swish(x, beta), low=-6, high=6, **TOL)


def test_swish_beta_zero_is_half_x():
    x = shendu.tensor([-3.0, 0.0, 5.0])
    assert F.swish(x, 0.0).tolist() == [-1.5, 0.0, 2.5]
    assert nn.Swish(beta=0.0)(x).tolist() == [-1.5, 0.0, 2.5]


def test_swish_learnable_beta_gets_torchs_gradient():
    check_op(
        None,
        lambda x, b: x * torch.sigmoid(b * x),
        F.swish,
        inputs=[np.random.default_rng(2).uniform(-4, 4, size=(3, 4)).astype(np.float32), np.array(0.7, np.float32)],
        **TOL,
    )


def test_swish_gradcheck_in_x_and_beta():
    gradcheck(F.swish, None, inputs=[SMOOTH, np.array(0.8)])


def test_swish_module_trainable_beta_is_a_parameter_and_learns():
    fixed, learnable = nn.Swish(1.5), nn.Swish(1.5, trainable=True)
    assert list(fixed.parameters()) == []
    assert [name for name, _ in learnable.named_parameters()] == ["beta"]
    x = shendu.tensor([[-1.0, 2.0, 3.0]])
    assert_close(learnable(x), fixed(x), 0, 0)
    learnable(x).sum().backward()
    b = torch.tensor(1.5, requires_grad=True)
    (torch.tensor([[-1.0, 2.0, 3.0]]) * torch.sigmoid(b * torch.tensor([[-1.0, 2.0, 3.0]]))).sum().backward()
    assert_close(learnable.beta.grad, b.grad, 1e-6, 1e-5)
    assert repr(learnable) == "Swish(beta=1.5, trainable=True)"


def test_silu_is_swish_with_beta_one():
    x = shendu.tensor(np.linspace(-5, 5, 11, dtype=np.float32))
    assert_close(F.silu(x), F.swish(x, 1.0), 0, 0)


def test_tanh_is_two_sigmoid_two_x_minus_one():
    x = shendu.tensor(np.linspace(-5, 5, 21))
    assert_close(F.tanh(x), 2 * F.sigmoid(2 * x) - 1, 1e-12, 1e-12)


# ----- modules ---------------------------------------------------------------------------------------------------

MODULES = [
    (torch.nn.Sigmoid(), nn.Sigmoid(), "Sigmoid()"),
    (torch.nn.Tanh(), nn.Tanh(), "Tanh()"),
    (torch.nn.ReLU(), nn.ReLU(), "ReLU()"),
    (torch.nn.Softmax(dim=1), nn.Softmax(dim=1), "Softmax(dim=1)"),
    (torch.nn.LogSoftmax(dim=-1), nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
    (torch.nn.Softmin(dim=0), nn.Softmin(dim=0), "Softmin(dim=0)"),
    (torch.nn.LeakyReLU(0.2), nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
    (torch.nn.ELU(alpha=0.7), nn.ELU(alpha=0.7), "ELU(alpha=0.7)"),
    (torch.nn.SELU(), nn.SELU(), "SELU()"),
    (torch.nn.CELU(alpha=1.5), nn.CELU(alpha=1.5), "CELU(alpha=1.5)"),
    (
        torch.nn.Softplus(beta=2.0, threshold=5.0),
        nn.Softplus(beta=2.0, threshold=5.0),
        "Softplus(beta=2.0, threshold=5.0)",
    ),
    (torch.nn.SiLU(), nn.SiLU(), "SiLU()"),
    (torch.nn.GELU(), nn.GELU(), "GELU(approximate='none')"),
    (torch.nn.GELU("tanh"), nn.GELU("tanh"), "GELU(approximate='tanh')"),
    (torch.nn.ReLU6(), nn.ReLU6(), "ReLU6()"),
    (torch.nn.Hardtanh(-2.0, 2.0), nn.Hardtanh(-2.0, 2.0), "Hardtanh(min_val=-2.0, max_val=2.0)"),
    (torch.nn.Mish(), nn.Mish(), "Mish()"),
    (torch.nn.Hardsigmoid(), nn.Hardsigmoid(), "Hardsigmoid()"),
    (torch.nn.Hardswish(), nn.Hardswish(), "Hardswish()"),
    (torch.nn.Tanhshrink(), nn.Tanhshrink(), "Tanhshrink()"),
    (torch.nn.Softsign(), nn.Softsign(), "Softsign()"),
    (torch.nn.LogSigmoid(), nn.LogSigmoid(), "LogSigmoid()"),
    (torch.nn.Softshrink(0.3), nn.Softshrink(0.3), "Softshrink(lambd=0.3)"),
    (torch.nn.Hardshrink(0.3), nn.Hardshrink(0.3), "Hardshrink(lambd=0.3)"),
    (torch.nn.Threshold(0.1, 20.0), nn.Threshold(0.1, 20.0), "Threshold(threshold=0.1, value=20.0)"),
]


@pytest.mark.parametrize("torch_module, module, text", MODULES, ids=[m[2] for m in MODULES])
def test_module_matches_torch_module_and_prints_its_options(torch_module, module, text):
    check_op([(3, 4, 5)], torch_module, module, low=-6, high=6, **TOL)
    assert repr(module) == text
    assert list(module.parameters()) == []


def test_inplace_is_accepted_and_shown_but_returns_a_new_tensor():
    layer = nn.LeakyReLU(0.1, inplace=True)
    x = shendu.tensor([-1.0, 2.0])
    y = layer(x)
    assert y is not x and x.tolist() == [-1.0, 2.0] and np.allclose(y.tolist(), [-0.1, 2.0])
    assert repr(layer) == "LeakyReLU(negative_slope=0.1, inplace=True)"
    assert repr(nn.ReLU6(inplace=True)) == "ReLU6(inplace=True)"


def test_activations_in_a_sequential_model_match_torch():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.GELU(), torch.nn.Linear(8, 8), torch.nn.PReLU(8),
                                  torch.nn.Linear(8, 4), torch.nn.Softplus())  # fmt: skip
    s_model = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 8), nn.PReLU(8), nn.Linear(8, 4), nn.Softplus())
    copy_torch_weights(t_model, s_model)
    x = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    t_out, s_out = t_model(torch.tensor(x)), s_model(shendu.tensor(x))
    assert_close(s_out, t_out, 1e-5, 1e-4)
    t_out.sum().backward()
    s_out.sum().backward()
    for (name, p), (_, tp) in zip(s_model.named_parameters(), t_model.named_parameters()):
        assert_close(p.grad, tp.grad, 1e-5, 1e-4, f"gradient of {name}")


# ----- numerics: extreme inputs stay finite and warn about nothing ---------------------------------------------------

EXTREMES = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dtype=np.float32)


@pytest.mark.parametrize(
    "name", ["sigmoid", "softplus", "logsigmoid", "silu", "mish", "gelu", "gelu_tanh", "elu", "selu", "celu_2",
             "tanh", "softsign", "hardswish", "softplus_beta2_thr3", "leaky_relu"],
)  # fmt: skip
def test_extreme_inputs_give_finite_torch_values_without_warnings(name):
    torch_fn, shendu_fn = ACTIVATIONS[name]
    with warnings.catch_warnings(), np.errstate(over="warn", divide="warn", invalid="warn"):  # NumPy's defaults
        warnings.simplefilter("error")
        x = shendu.tensor(EXTREMES, requires_grad=True)
        y = shendu_fn(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(x.grad.numpy()))
    t = torch.tensor(EXTREMES, requires_grad=True)
    torch_fn(t).sum().backward()
    assert_close(y, torch_fn(torch.tensor(EXTREMES)), 1e-5, 1e-4)
    assert_close(x.grad, t.grad, 1e-5, 1e-4)


def test_softplus_at_plus_minus_1000_is_exact():
    x = shendu.tensor([-1000.0, 1000.0])
    assert F.softplus(x).tolist() == [0.0, 1000.0]
    assert F.softplus(x, beta=0.01).tolist()[1] == pytest.approx(1000.0 + 100 * np.log1p(np.exp(-10)), rel=1e-6)


def test_gelu_erf_is_accurate_in_float64():
    from math import erfc, sqrt

    x = np.linspace(-12, 12, 241)  # relative accuracy in the far negative tail too, where x·Φ(x) ≈ 1e-32
    expected = np.array([v * 0.5 * erfc(-v / sqrt(2)) for v in x])
    np.testing.assert_allclose(F.gelu(shendu.tensor(x)).numpy(), expected, rtol=1e-13, atol=0)


# ----- bad arguments -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, error, message",
    [
        (
            lambda: nn.LeakyReLU("0.1"),
            TypeError,
            "negative_slope must be a real number. Received: negative_slope='0.1'",
        ),
        (lambda: nn.ELU(alpha=None), TypeError, "ELU: alpha must be a real number. Received: alpha=None"),
        (lambda: nn.CELU(alpha=0), ValueError, "CELU: alpha must be non-zero"),
        (lambda: nn.Softplus(beta=0), ValueError, "Softplus: beta must be non-zero"),
        (
            lambda: nn.Hardtanh(1.0, -1.0),
            ValueError,
            "max_val must be greater than min_val. Received: min_val=1.0, max_val=-1.0",
        ),
        (lambda: nn.GELU("fast"), ValueError, "approximate must be 'none' or 'tanh'. Received: approximate='fast'"),
        (
            lambda: nn.PReLU(0),
            ValueError,
            "PReLU: num_parameters must be a positive integer. Received: num_parameters=0",
        ),
        (lambda: nn.PReLU(2, init="a"), TypeError, "PReLU: init must be a real number"),
        (lambda: nn.Softshrink(-0.5), ValueError, "Softshrink: lambd must be non-negative. Received: lambd=-0.5"),
        (lambda: nn.Softmax(dim=1.5), TypeError, "Softmax: dim must be an integer or None. Received: dim=1.5"),
        (lambda: nn.Swish(trainable="yes"), TypeError, "Swish: trainable must be True or False"),
        (lambda: nn.Swish(beta="1"), TypeError, "Swish: beta must be a real number"),
        (lambda: F.leaky_relu(shendu.tensor([1.0]), negative_slope=[0.1]), TypeError, "leaky_relu: negative_slope"),
        (lambda: F.gelu(shendu.tensor([1.0]), approximate=True), ValueError, "gelu: approximate must be"),
        (lambda: F.hardtanh(shendu.tensor([1.0]), 2, 2), ValueError, "hardtanh: max_val must be greater"),
        (
            lambda: F.prelu(shendu.ones(2, 3, 4), shendu.ones(4)),
            ValueError,
            "prelu: weight must have shape (1,) or (num_channels,) = (3,) for input of shape (2, 3, 4)",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(build, error, message):
    with pytest.raises(error) as info:
        build()
    assert message in str(info.value)


def test_integer_input_is_promoted_to_float():
    y = F.leaky_relu(shendu.tensor([-2, 3]), 0.5)
    assert y.dtype == shendu.float32 and y.tolist() == [-1.0, 3.0]


def test_relu_inplace_overwrites_its_input_only_when_no_graph_is_recorded():
    layer = nn.ReLU(inplace=True)
    x = shendu.tensor([-1.0, 0.0, 2.5])
    with shendu.no_grad():
        assert layer(x) is x and x.tolist() == [0.0, 0.0, 2.5]
    leaf = shendu.tensor([-1.0, 3.0], requires_grad=True)
    hidden = leaf * 2
    out = layer(hidden)  # autograd on: a new tensor, the input kept for the gradient
    assert out is not hidden and hidden.tolist() == [-2.0, 6.0]
    out.sum().backward()
    assert leaf.grad.tolist() == [0.0, 2.0]
    frozen = shendu.from_numpy(np.array([-1.0, 1.0], np.float32))
    frozen._array.flags.writeable = False
    with shendu.no_grad():
        assert layer(frozen).tolist() == [0.0, 1.0] and frozen.tolist() == [-1.0, 1.0]  # read-only: a new tensor
