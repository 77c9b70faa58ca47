"""Gradient clipping and parameter vectors, against torch.nn.utils."""

import numpy as np
import pytest
import torch

import shendu
from shendu import nn
from shendu.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def _pair(scale=1.0, dtype=np.float64, shapes=SHAPES, with_grad=None):
    rng = np.random.default_rng(0)
    mine, theirs = [], []
    for i, shape in enumerate(shapes):
        value, grad = rng.standard_normal(shape).astype(dtype), (scale * rng.standard_normal(shape)).astype(dtype)
        p, q = nn.Parameter(value.copy()), torch.nn.Parameter(torch.tensor(value.copy()))
        if with_grad is None or i in with_grad:
            p.grad, q.grad = shendu.tensor(grad.copy()), torch.tensor(grad.copy())
        mine.append(p)
        theirs.append(q)
    return mine, theirs


def _total(params, norm_type):
    grads = np.concatenate([p.grad.numpy().ravel() for p in params if p.grad is not None])
    return np.linalg.norm(grads, ord=norm_type)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0, 0.5])
@pytest.mark.parametrize("scale, max_norm", [(10.0, 1.0), (0.01, 5.0), (1.0, 0.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type, scale, max_norm, dtype):
    mine, theirs = _pair(scale, dtype)
    before = _total(mine, norm_type)
    total = clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert isinstance(total, shendu.Tensor) and total.shape == () and total.numpy().dtype == dtype
    np.testing.assert_allclose(total.item(), total_theirs.item(), rtol=rtol)
    np.testing.assert_allclose(total.item(), before, rtol=rtol)
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=1e-12)
    assert _total(mine, norm_type) <= max_norm * (1 + 1e-6) or before <= max_norm


def test_gradients_already_small_are_left_exactly_alone():
    mine, _ = _pair(scale=0.01)
    grads = [p.grad.numpy().copy() for p in mine]
    clip_grad_norm_(mine, max_norm=10.0)
    for p, g in zip(mine, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_parameters_without_gradients_are_skipped():
    mine, theirs = _pair(scale=5.0, with_grad={0, 2})
    total = clip_grad_norm_(iter(mine), 1.0)
    total_theirs = torch.nn.utils.clip_grad_norm_(iter(theirs), 1.0)
    assert total.item() == pytest.approx(total_theirs.item(), rel=1e-12)
    assert mine[1].grad is None


def test_a_single_tensor_and_no_gradients_at_all():
    p = nn.Parameter(np.array([3.0, 4.0]))
    p.grad = shendu.tensor(np.array([3.0, 4.0]))
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), np.array([0.6, 0.8]) * 5 / (5 + 1e-6))
    empty = clip_grad_norm_([nn.Parameter(np.ones(2))], 1.0)
    assert empty.item() == 0.0 and empty.dtype == shendu.float32


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradients_raise_when_asked(bad):
    mine, theirs = _pair()
    mine[1].grad.numpy()[0] = bad
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_(mine, 1.0, error_if_nonfinite=True)
    theirs[1].grad[0] = bad
    total = clip_grad_norm_(mine, 1.0)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isnan(total.item()) == np.isnan(total_theirs.item()) and np.isinf(total.item()) == np.isinf(total_theirs.item())
    for p, q in zip(mine, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad.numpy()), np.isnan(q.grad.numpy()))


def test_clip_grad_value_matches_torch():
    mine, theirs = _pair(scale=3.0)
    assert clip_grad_value_(mine, 0.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(mine, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        assert np.abs(p.grad.numpy()).max() <= 0.5


def test_get_total_norm_and_clip_grads_with_norm_compose_into_clip_grad_norm_():
    mine, theirs = _pair(scale=4.0)
    total = get_total_norm([p.grad for p in mine], norm_type=2.0)
    clip_grads_with_norm_(mine, 2.0, total)
    torch.nn.utils.clip_grad_norm_(theirs, 2.0)
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clipping_inside_a_training_step_keeps_the_step_bounded():
    model = nn.Linear(3, 1, dtype=shendu.float64)
    x, y = shendu.tensor(np.full((4, 3), 100.0)), shendu.tensor(np.zeros((4, 1)))
    ((model(x) - y) ** 2).mean().backward()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
    shendu.optim.SGD(model.parameters(), lr=0.1).step()
    moved = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert norm.item() > 100 and moved <= 0.1 + 1e-9


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda p: clip_grad_norm_(5, 1.0), TypeError, "must be a Tensor or an iterable of Tensors; got int"),
        (lambda p: clip_grad_norm_([np.ones(2)], 1.0), TypeError, "must be Tensors; got ndarray"),
        (lambda p: clip_grad_norm_(p, float("nan")), ValueError, "max_norm must be a number"),
        (lambda p: clip_grad_value_(p, -1.0), ValueError, "clip_value must be >= 0; got -1.0"),
        (lambda p: vector_to_parameters(np.ones(5), p), TypeError, "expected a shendu Tensor, but got: ndarray"),
        (lambda p: vector_to_parameters(shendu.tensor(np.ones(4)), p), ValueError, "the vector has 4 values; the parameters need 5"),
        (lambda p: vector_to_parameters(shendu.tensor(np.ones((5, 1))), p), ValueError, "expects a 1-d vector"),
        (lambda p: parameters_to_vector([]), ValueError, "got no parameters"),
    ],
)
def test_bad_input_raises(call, error, message):
    params = [nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))]
    with pytest.raises(error, match=message):
        call(params)


def test_parameters_to_vector_and_back():
    mine, theirs = _pair()
    vec = parameters_to_vector(mine)
    np.testing.assert_array_equal(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
    (vec * shendu.tensor(np.arange(vec.shape[0], dtype=np.float64))).sum().backward()
    assert mine[0].grad is not None  # differentiable, like torch's (the old grads were accumulated into)
    vector_to_parameters(shendu.tensor(np.arange(vec.shape[0], dtype=np.float64)), mine)
    np.testing.assert_array_equal(mine[1].detach().numpy(), [12.0, 13.0, 14.0])
    np.testing.assert_array_equal(mine[2].detach().numpy().ravel(), np.arange(15, 23))
