"""Matrix products against PyTorch: matmul in 1-D, 2-D and batched forms, mm, bmm, dot, outer, linear, einsum."""

import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck

MATMUL_SHAPES = [
    [(4,), (4,)],
    [(3, 4), (4,)],
    [(4,), (4, 5)],
    [(3, 4), (4, 5)],
    [(2, 3, 4), (4, 5)],
    [(3, 4), (2, 4, 5)],
    [(2, 3, 4), (2, 4, 5)],
    [(2, 1, 3, 4), (5, 4, 2)],
    [(4,), (2, 4, 5)],
    [(2, 3, 4), (4,)],
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes):
    check_op(shapes, torch.matmul, shendu.matmul, atol=1e-5)
    check_op(shapes, lambda a, b: a @ b, atol=1e-5)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES[:6], ids=str)
def test_matmul_gradcheck_float64(shapes):
    gradcheck(shendu.matmul, shapes)


def test_matmul_method_and_reflected_operator():
    check_op([(3, 4), (4, 2)], lambda a, b: a.matmul(b), atol=1e-5)
    check_op([(3, 4), (4, 2)], lambda a, b: b.__rmatmul__(a), atol=1e-5)


def test_mm_bmm_dot_outer_match_torch():
    check_op([(3, 4), (4, 2)], torch.mm, shendu.mm, atol=1e-5)
    check_op([(2, 3, 4), (2, 4, 5)], torch.bmm, shendu.bmm, atol=1e-5)
    check_op([(4,), (4,)], torch.dot, shendu.dot, atol=1e-5)
    check_op([(3,), (4,)], torch.outer, shendu.outer)
    check_op([(3, 4), (4, 2)], lambda a, b: a.mm(b), atol=1e-5)
    check_op([(4,), (4,)], lambda a, b: a.dot(b), atol=1e-5)


@pytest.mark.parametrize("x_shape", [(5, 4), (4,), (2, 3, 4)], ids=str)
def test_linear_matches_torch(x_shape):
    check_op([x_shape, (3, 4), (3,)], torch.nn.functional.linear, shendu.linear, atol=1e-5)
    check_op([x_shape, (3, 4)], torch.nn.functional.linear, shendu.linear, atol=1e-5)


def test_linear_gradcheck_float64():
    gradcheck(shendu.linear, [(5, 4), (3, 4), (3,)])


def test_matrix_form_of_a_layer_sigma_of_w_a_plus_b():
    check_op(
        [(3, 4), (4, 2), (3, 1)],
        lambda W, a, b: torch.sigmoid(W @ a + b),
        lambda W, a, b: shendu.sigmoid(W @ a + b),
        atol=1e-5,
    )


EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ij->", [(3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("ij,j", [(3, 4), (4,)]),
    ("iij,k->jk", [(3, 3, 2), (4,)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_matches_torch_and_gradcheck(equation, shapes):
    check_op(shapes, lambda *xs: torch.einsum(equation, *xs), lambda *xs: shendu.einsum(equation, *xs), atol=1e-5)
    gradcheck(lambda *xs: shendu.einsum(equation, *xs), shapes)


def test_matmul_of_integer_tensors_stays_integer():
    out = shendu.tensor([[1, 2]]) @ shendu.tensor([[3], [4]])
    assert out.dtype == shendu.int64 and out.tolist() == [[11]]
