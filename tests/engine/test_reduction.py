"""Reductions against PyTorch: sum/mean/var/std/max/min/prod/argmax/logsumexp with dim and keepdim."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck

DIMS = [None, 0, -1, (0, 2)]
KEEPDIM = [False, True]


def _call(module, name, dim, keepdim):
    def run(x):
        if dim is None and not keepdim:
            return getattr(module, name)(x)
        if dim is None:
            return getattr(module, name)(x, dim=tuple(range(x.ndim)), keepdim=True)
        return getattr(module, name)(x, dim=dim, keepdim=keepdim)

    return run


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "logsumexp"])
def test_reduction_function_matches_torch(name, dim, keepdim):
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    check_op([(2, 3, 4)], _call(torch, name, dim, keepdim), _call(shendu, name, dim, keepdim))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "prod", "amax", "amin"])
def test_reduction_method_on_scalar_and_broadcast_shapes(name):
    if name not in ("var", "std"):  # torch warns on the variance of one element
        check_op([()], lambda x: getattr(x, name)(), low=0.5, high=2)
    check_op([(45, 1)], lambda x: getattr(x, name)(0), low=0.5, high=2)
    if name not in ("var", "std"):
        check_op([(45, 1)], lambda x: getattr(x, name)(dim=1, keepdim=True), low=0.5, high=2)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "prod", "amax", "amin", "logsumexp"])
def test_reduction_gradcheck_float64(name):
    gradcheck(lambda x: getattr(shendu, name)(x, dim=1), [(3, 4)], low=0.5, high=2, seed=2)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction_and_unbiased_match_torch(correction):
    check_op(
        [(4, 5)],
        lambda x: torch.var(x, dim=1, correction=correction),
        lambda x: shendu.var(x, dim=1, correction=correction),
    )
    check_op(
        [(4, 5)],
        lambda x: torch.std(x, dim=0, correction=correction),
        lambda x: shendu.std(x, dim=0, correction=correction),
    )
    check_op([(4, 5)], lambda x: x.var(0, unbiased=False), lambda x: x.var(0, unbiased=False))


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices_like_torch(name, dim, keepdim):
    out = check_op(
        [(3, 4)],
        lambda x: getattr(torch, name)(x, dim, keepdim=keepdim),
        lambda x: getattr(shendu, name)(x, dim, keepdim=keepdim),
    )
    assert out.indices.dtype == shendu.int64
    values, indices = out
    assert values is out.values


def test_max_with_dim_ties_send_the_gradient_to_the_returned_index_like_torch():
    tied = [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32)]
    check_op(None, lambda x: torch.max(x, 1), lambda x: shendu.max(x, 1), inputs=tied)
    check_op(None, lambda x: torch.min(x, 1), lambda x: shendu.min(x, 1), inputs=tied)


def test_full_max_and_amax_ties_share_the_gradient_like_torch():
    tied = [np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 2.0]], np.float32)]
    check_op(None, torch.max, shendu.max, inputs=tied)
    check_op(None, torch.min, shendu.min, inputs=tied)
    check_op(None, lambda x: torch.amax(x, 1), lambda x: shendu.amax(x, 1), inputs=tied)
    check_op(None, lambda x: x.max(), inputs=tied)


def test_max_min_with_dim_method_form_and_gradcheck():
    check_op([(3, 4)], lambda x: x.max(1))
    check_op([(3, 4)], lambda x: x.min(dim=0, keepdim=True))
    check_op([(45, 1)], lambda x: x.max(0))
    gradcheck(lambda x: shendu.max(x, 1)[0], [(3, 4)])
    gradcheck(lambda x: shendu.min(x, 0, keepdim=True).values, [(3, 4)])


def test_max_of_two_tensors_is_elementwise_maximum():
    check_op([(3, 4), (4,)], torch.max, shendu.max)
    check_op([(3, 4), (4,)], torch.min, shendu.min)


def test_max_on_a_scalar_with_dim_matches_torch():
    check_op([()], lambda x: torch.max(x, 0), lambda x: shendu.max(x, 0))


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_torch_first_index_at_ties(name, dim, keepdim):
    tied = [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]], np.float32)]
    out = check_op(None, lambda x: getattr(x, name)(dim=dim, keepdim=keepdim), inputs=tied, forward_only=True)
    assert out.dtype == shendu.int64
    check_op(
        None,
        lambda x: getattr(torch, name)(x, dim=dim, keepdim=keepdim),
        lambda x: getattr(shendu, name)(x, dim=dim, keepdim=keepdim),
        inputs=tied,
        forward_only=True,
    )


def test_prod_matches_torch_including_zeros():
    check_op([(3, 4)], lambda x: torch.prod(x, 1), lambda x: shendu.prod(x, 1), low=0.5, high=1.5)
    with_zeros = [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0]], np.float32)]
    check_op(None, lambda x: torch.prod(x, 1), lambda x: shendu.prod(x, 1), inputs=with_zeros)
    check_op(None, torch.prod, shendu.prod, inputs=with_zeros)
    check_op(None, lambda x: x.prod(0, keepdim=True), inputs=with_zeros)


def test_sum_of_integers_and_bools_is_int64_like_torch():
    for values in ([1, 2, 3], [True, False, True]):
        assert shendu.tensor(values).sum().dtype == shendu.int64
        assert torch.tensor(values).sum().dtype == torch.int64
        assert shendu.tensor(values).sum().item() == torch.tensor(values).sum().item()


def test_sum_and_mean_with_dtype_argument():
    x = shendu.tensor([1, 2, 4])
    assert shendu.sum(x, dtype=shendu.float64).dtype == shendu.float64
    assert x.mean(dtype=shendu.float32).item() == pytest.approx(7 / 3)


def test_logsumexp_matches_torch_and_gradcheck():
    check_op([(3, 4)], lambda x: torch.logsumexp(x, 1), lambda x: shendu.logsumexp(x, 1))
    check_op([(3, 4)], lambda x: x.logsumexp(dim=0, keepdim=True))
    check_op([()], lambda x: torch.logsumexp(x, 0), lambda x: shendu.logsumexp(x, 0))


@pytest.mark.parametrize("p", [1, 2, 3, float("inf"), "fro"])
def test_norm_matches_torch(p):
    check_op([(3, 4)], lambda x: torch.norm(x, p=p, dim=1), lambda x: shendu.norm(x, p=p, dim=1), grad_atol=1e-3)
    check_op([(3, 4)], lambda x: x.norm())


def test_cumsum_matches_torch():
    check_op([(3, 4)], lambda x: torch.cumsum(x, 1), lambda x: shendu.cumsum(x, 1))
    check_op([(3, 4)], lambda x: x.cumsum(0))


def test_all_any_count_nonzero_match_torch():
    values = [np.array([[True, False], [True, True]])]
    for name in ("all", "any"):
        check_op(None, lambda x, name=name: getattr(x, name)(), inputs=values, forward_only=True)
        check_op(
            None,
            lambda x, name=name: getattr(torch, name)(x, 1),
            lambda x, name=name: getattr(shendu, name)(x, 1),
            inputs=values,
            forward_only=True,
        )
    check_op(
        None,
        lambda x: torch.count_nonzero(x, 0),
        lambda x: shendu.count_nonzero(x, 0),
        inputs=values,
        forward_only=True,
    )


def test_topk_sort_argsort_match_torch():
    values = [np.array([[3.0, 1.0, 2.0, 5.0], [0.5, 4.0, -1.0, 2.0]], np.float32)]
    check_op(None, lambda x: torch.topk(x, 2), lambda x: shendu.topk(x, 2), inputs=values)
    check_op(None, lambda x: x.topk(2, dim=0, largest=False), inputs=values)
    check_op(
        None, lambda x: torch.sort(x, 1, descending=True), lambda x: shendu.sort(x, 1, descending=True), inputs=values
    )
    check_op(None, lambda x: torch.argsort(x, 1), lambda x: shendu.argsort(x, 1), inputs=values, forward_only=True)


def test_mean_of_integer_tensor_raises_like_torch():
    with pytest.raises(RuntimeError, match="mean"):
        shendu.tensor([1, 2]).mean()


def test_reduction_dim_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match=r"dimension out of range.*got 2"):
        shendu.ones(3, 4).sum(2)
