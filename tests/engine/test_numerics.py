"""Numerical stability: huge logits, saturated sigmoids, no floating-point warnings (pytest turns them into errors)."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op

HUGE_LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0]], np.float32)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.softmax(x, 1),
        lambda m, x: m.log_softmax(x, 1),
        lambda m, x: m.logsumexp(x, 1),
        lambda m, x: m.softmax(x, 0),
        lambda m, x: m.log_softmax(x, 0),
        lambda m, x: m.logsumexp(x, 0),
    ],
    ids=["softmax1", "log_softmax1", "logsumexp1", "softmax0", "log_softmax0", "logsumexp0"],
)
def test_softmax_family_on_huge_float32_logits_is_finite_with_finite_grads(fn):
    x = shendu.tensor(HUGE_LOGITS, requires_grad=True)
    out = fn(shendu, x)
    assert np.isfinite(out.detach().numpy()).all()
    (out * shendu.tensor(np.linspace(0.5, 1.5, out.numel(), dtype=np.float32).reshape(out.shape))).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    check_op(None, lambda t: fn(torch, t), lambda s: fn(shendu, s), inputs=[HUGE_LOGITS], atol=1e-3)


def test_sigmoid_of_plus_minus_1000_has_no_warning_and_exact_limits():
    x = shendu.tensor([-1000.0, 1000.0, -1e30, 1e30], requires_grad=True)
    y = shendu.sigmoid(x)  # a RuntimeWarning (overflow in exp) would fail this test
    assert y.tolist() == [0.0, 1.0, 0.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    check_op(None, torch.sigmoid, shendu.sigmoid, inputs=[np.array([-1000.0, -80.0, 0.0, 80.0, 1000.0], np.float32)])
    check_op(None, torch.sigmoid, shendu.sigmoid, inputs=[np.array([-1000.0, -700.0, 700.0, 1000.0])])


def test_tanh_of_huge_values_saturates_without_warning():
    check_op(None, torch.tanh, shendu.tanh, inputs=[np.array([-1e4, -20.0, 20.0, 1e4], np.float32)])


def test_exp_overflow_and_log_of_zero_match_torch_without_warning():
    check_op(None, torch.exp, shendu.exp, inputs=[np.array([100.0, -200.0], np.float32)], forward_only=True)
    check_op(None, torch.log, shendu.log, inputs=[np.array([0.0, -1.0, 1.0], np.float32)], forward_only=True)
    check_op(None, torch.sqrt, shendu.sqrt, inputs=[np.array([0.0, -1.0, 4.0], np.float32)], forward_only=True)


def test_sqrt_at_zero_has_an_infinite_gradient_like_torch():
    check_op(None, torch.sqrt, shendu.sqrt, inputs=[np.array([0.0, 4.0], np.float32)])


def test_logsumexp_of_all_minus_inf_row_is_minus_inf_like_torch():
    row = np.array([[-np.inf, -np.inf], [0.0, 1.0]], np.float32)
    check_op(None, lambda x: torch.logsumexp(x, 1), lambda x: shendu.logsumexp(x, 1), inputs=[row], forward_only=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_of_a_fully_masked_row_is_nan_without_warning_like_torch(name):
    masked = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0]], np.float32)
    out = check_op(
        None,
        lambda x: getattr(torch, name)(x, 1),
        lambda x: getattr(shendu, name)(x, 1),
        inputs=[masked],
        forward_only=True,
    )
    assert np.isnan(out[0].numpy()).all() and np.isfinite(out[1].numpy()[[0, 2]]).all()


def test_float64_keeps_precision_float32_does_not():
    tiny = 1e-10
    assert (shendu.tensor(1.0, dtype=shendu.float64) + tiny).item() != 1.0
    assert (shendu.tensor(1.0) + tiny).item() == 1.0
