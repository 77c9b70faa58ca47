"""Extreme inputs (±inf, NaN, ±1e30, ±3e38, subnormals): no NumPy warning ever reaches the user (the suite
runs with warnings as errors), and results follow PyTorch where it gives the sensible answer."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn.functional as F

EXTREMES = [0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 3e38, -3e38, 1e-40, 80.0, -100.0]
ACTIVATIONS = ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign", "tanh", "sigmoid",
               "hardtanh", "hardsigmoid", "hardswish", "leaky_relu", "logsigmoid", "tanhshrink", "softshrink", "hardshrink"]  # fmt: skip


def _forward_backward(fn, *arrays):
    inputs = [shendu.tensor(np.asarray(a, np.float32), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    return out.detach().numpy(), [None if x.grad is None else x.grad.numpy() for x in inputs]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_stay_silent_on_extreme_values(name):
    out, (grad,) = _forward_backward(getattr(F, name), EXTREMES)
    assert out.shape == grad.shape == (len(EXTREMES),)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize(
    "loss",
    [
        lambda x, t: F.mse_loss(x, t), lambda x, t: F.l1_loss(x, t), lambda x, t: F.smooth_l1_loss(x, t),
        lambda x, t: F.huber_loss(x, t), lambda x, t: F.binary_cross_entropy_with_logits(x, (t > 0).float()),
        lambda x, t: F.cross_entropy(x.reshape(1, 2), shendu.tensor([0])),
        lambda x, t: F.kl_div(x, t.abs(), reduction="batchmean"), lambda x, t: x.std() + x.var() + x.norm(),
        lambda x, t: F.layer_norm(x, (2,)).sum(), lambda x, t: (x @ t) + (x * x).sum() + (1 / x).sum() + x.log().sum(),
        lambda x, t: shendu.logsumexp(x, 0) + F.log_softmax(x, 0).sum() + F.softmax(x, 0).sum(),
    ],
    ids=["mse", "l1", "smooth_l1", "huber", "bce_logits", "cross_entropy", "kl_div", "std_var_norm", "layer_norm",
         "arithmetic", "softmax_family"],
)
def test_losses_and_reductions_stay_silent_on_extreme_values(loss, value):
    out, grads = _forward_backward(lambda x, t: loss(x, t), [value, 0.5], [0.2, 0.1])
    assert np.ndim(out) == 0 and grads[0].shape == (2,) and (grads[1] is None or grads[1].shape == (2,))


def test_an_optimizer_step_on_infinite_gradients_is_silent():
    for make in (shendu.optim.Adam, shendu.optim.SGD, shendu.optim.RMSprop, shendu.optim.Adagrad, shendu.optim.AdamW):
        weight = shendu.tensor([1.0, 2.0], requires_grad=True)
        optimizer = make([weight], lr=0.1)
        weight.grad = shendu.tensor([np.inf, np.nan])
        optimizer.step()
        optimizer.step()


def test_gelu_at_infinity_takes_its_limits():
    x = shendu.tensor([np.inf, -np.inf, np.nan, 0.0], requires_grad=True)
    y = F.gelu(x)
    assert y[0].item() == np.inf and y[1].item() == 0.0 and np.isnan(y[2].item()) and y[3].item() == 0.0
    y.sum().backward()
    assert x.grad.numpy()[:2].tolist() == [1.0, 0.0]
    assert F.gelu(shendu.tensor([np.inf]), approximate="tanh").item() == np.inf


def test_mse_gradient_at_3e38_is_finite_as_in_pytorch():
    x = np.array([3e38, 0.5], np.float32)
    t = np.array([0.0, 0.1], np.float32)
    _, (ours, _) = _forward_backward(F.mse_loss, x, t)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.mse_loss(xt, torch.tensor(t)).backward()
    np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-6)
    assert np.isfinite(ours).all()


@pytest.mark.parametrize("value", [1e30, -3e38])
def test_std_of_huge_values_is_accumulated_in_double_as_in_pytorch(value):
    x = np.array([value, 0.5], np.float32)
    assert shendu.tensor(x).std().item() == pytest.approx(torch.tensor(x).std().item(), rel=1e-6)
    s = shendu.tensor(x, requires_grad=True)
    s.std().backward()
    # d std / dx of two values is ±1/√2 whatever their size (PyTorch's float32 backward loses it at 3e38)
    np.testing.assert_allclose(s.grad.numpy(), np.sign(x - x.mean()) / np.sqrt(2), rtol=1e-6)


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_elu_family_gradient_at_nan_follows_pytorch(name):
    _, (grad,) = _forward_backward(getattr(F, name), [np.nan])
    xt = torch.tensor([np.nan], requires_grad=True)
    getattr(torch.nn.functional, name)(xt).sum().backward()
    np.testing.assert_array_equal(grad, xt.grad.numpy())


@pytest.mark.parametrize("name", ["softshrink", "hardshrink"])
def test_shrink_of_nan_is_nan_as_in_pytorch(name):
    assert np.isnan(getattr(F, name)(shendu.tensor([np.nan])).item())


def test_std_double_backward_matches_finite_differences():
    x = shendu.tensor(np.random.default_rng(0).normal(size=(3, 4)), dtype=shendu.float64, requires_grad=True)
    assert shendu.autograd.gradcheck(lambda t: t.std(dim=1), (x,))


def test_std_second_derivative_matches_pytorch():
    data = np.random.default_rng(1).normal(size=(3, 4))
    x = shendu.tensor(data, dtype=shendu.float64, requires_grad=True)
    (g,) = shendu.autograd.grad(x.std(dim=1, keepdim=True).sum(), x, create_graph=True)
    (gg,) = shendu.autograd.grad((g * g).sum(), x)
    xt = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.std(dim=1, keepdim=True).sum(), xt, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: shendu.tensor([1e40]), lambda: shendu.as_tensor(np.array([1e300]), dtype=shendu.float32),
        lambda: shendu.tensor(np.array([1e300])).float(), lambda: shendu.full((2,), 1e40), lambda: shendu.zeros(2).fill_(1e40),
        lambda: shendu.tensor([3e38]).mul_(10), lambda: shendu.tensor([3e38]).add_(shendu.tensor([3e38])),
        lambda: shendu.tensor([3e38]).div_(1e-30), lambda: shendu.tensor([np.nan]).long(),
    ],
    ids=["tensor", "as_tensor", "float", "full", "fill_", "mul_", "add_", "div_", "long"],
)
def test_creation_casts_and_in_place_updates_overflow_silently_as_in_pytorch(make):
    assert make().shape in ((1,), (2,))


def test_item_assignment_and_augmented_assignment_overflow_silently():
    x = shendu.zeros(2)
    x[0] = 1e40
    x += 3e38
    x *= 10
    assert np.isinf(x.numpy()).all()


@pytest.mark.parametrize("public", [False, True], ids=["numpy-error-state-variable", "public-errstate"])
def test_both_ways_of_silencing_numpy_work(public):
    """The fast way (NumPy's error-state variable) and the public numpy.errstate fallback behave alike."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SHENDU_PUBLIC_ERRSTATE"}
    if public:
        env["SHENDU_PUBLIC_ERRSTATE"] = "1"
    code = (
        "import numpy as np, shendu, shendu.nn as nn\n"
        "from shendu import _floating_point as fp\n"
        f"assert fp.FAST is {not public}\n"
        "x = shendu.tensor([3e38, 1.0], requires_grad=True)\n"
        "y = nn.Linear(2, 2)(x * 10); (y.sum() + (x / 0).sum()).backward()\n"
        "try:\n"
        "    np.array([3e38], np.float32) * 10\n"
        "except RuntimeWarning:\n"
        "    print('user code still warns')\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "user code still warns"  # shendu changes NumPy's state only inside its own calls
