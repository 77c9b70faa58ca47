"""Elementwise arithmetic against PyTorch: values, dtypes and gradients, scalars, broadcasting and kinks."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck

BINARY_SHAPES = [[(), ()], [(3, 4), (3, 4)], [(45, 1), (1, 6)], [(3, 1, 4), (2, 4)], [(), (2, 3)], [(5,), (4, 1)]]

# name, low, high: the input range keeps each op away from its poles
BINARY_OPS = [("add", -2, 2), ("sub", -2, 2), ("mul", -2, 2), ("div", 0.5, 2), ("maximum", -2, 2), ("minimum", -2, 2)]
OPERATORS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,low,high", BINARY_OPS)
def test_binary_function_matches_torch(name, low, high, shapes):
    check_op(shapes, getattr(torch, name), getattr(shendu, name), low=low, high=high)


@pytest.mark.parametrize("name,low,high", BINARY_OPS)
def test_binary_method_matches_torch(name, low, high):
    check_op([(45, 1), (1, 6)], lambda a, b: getattr(a, name)(b), low=low, high=high)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_binary_operator_and_reflected_operator_with_python_numbers(name):
    dunder = OPERATORS[name]
    check_op([(3, 4)], lambda a: getattr(a, dunder)(1.5), low=0.5, high=2)
    check_op([(3, 4)], lambda a: getattr(a, "__r" + dunder[2:])(1.5), low=0.5, high=2)


@pytest.mark.parametrize("name,low,high", BINARY_OPS)
def test_binary_gradcheck_float64(name, low, high):
    gradcheck(getattr(shendu, name), [(3, 1), (1, 4)], low=low, high=high, seed=3)


def test_add_and_sub_alpha_match_torch():
    check_op([(3, 4), (4,)], lambda a, b: torch.add(a, b, alpha=2.5), lambda a, b: shendu.add(a, b, alpha=2.5))
    check_op([(3, 4), (4,)], lambda a, b: torch.sub(a, b, alpha=-0.5), lambda a, b: shendu.sub(a, b, alpha=-0.5))


def test_maximum_minimum_ties_split_the_gradient_like_torch():
    values = [np.array([1.0, 2.0, 3.0, -1.0], np.float32), np.array([1.0, 0.0, 3.0, -1.0], np.float32)]
    check_op(None, torch.maximum, shendu.maximum, inputs=values)
    check_op(None, torch.minimum, shendu.minimum, inputs=values)


UNARY_OPS = [
    # name, low, high (domains kept away from poles and kinks)
    ("neg", -2, 2), ("exp", -2, 2), ("log", 0.5, 3), ("sqrt", 0.5, 3), ("abs", -2, 2), ("tanh", -2, 2),
    ("sigmoid", -3, 3), ("relu", -2, 2), ("sin", -3, 3), ("cos", -3, 3), ("log2", 0.5, 3), ("log10", 0.5, 3),
    ("log1p", -0.5, 2), ("expm1", -2, 2), ("rsqrt", 0.5, 3), ("square", -2, 2), ("reciprocal", 0.5, 3),
]  # fmt: skip


@pytest.mark.parametrize("shape", [(), (45, 1), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name,low,high", UNARY_OPS)
def test_unary_function_matches_torch(name, low, high, shape):
    check_op([shape], getattr(torch, name), getattr(shendu, name), low=low, high=high)


@pytest.mark.parametrize("name,low,high", UNARY_OPS)
def test_unary_method_matches_torch(name, low, high):
    check_op([(3, 4)], lambda x: getattr(x, name)(), low=low, high=high)


@pytest.mark.parametrize("name,low,high", UNARY_OPS)
def test_unary_gradcheck_float64(name, low, high):
    gradcheck(getattr(shendu, name), [(2, 3)], low=low, high=high, seed=5)


def test_unary_ops_keep_float64():
    x = shendu.tensor(np.array([0.5, 1.5]), requires_grad=True)
    for name, _, _ in UNARY_OPS:
        assert getattr(shendu, name)(x).dtype == shendu.float64, name


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1, -2.5, 0, 1])
def test_pow_scalar_exponent_matches_torch(exponent):
    check_op([(3, 4)], lambda x: x**exponent, low=0.5, high=2)
    check_op([()], lambda x: torch.pow(x, exponent), lambda x: shendu.pow(x, exponent), low=0.5, high=2)


def test_pow_tensor_exponent_matches_torch_with_broadcasting():
    check_op([(3, 4), (4,)], torch.pow, shendu.pow, low=0.5, high=2)
    check_op([(3, 1), ()], lambda a, b: a**b, low=0.5, high=2)
    gradcheck(shendu.pow, [(3, 1), (1, 2)], low=0.5, high=2)


def test_pow_with_a_number_as_base_matches_torch():
    check_op([(3, 4)], lambda x: 2.0**x)
    check_op([(3,)], lambda x: torch.pow(3, x), lambda x: shendu.pow(3, x))
    gradcheck(lambda x: 2.0**x, [(3,)])


def test_integer_pow_stays_integer():
    x = shendu.tensor([1, 2, 3])
    assert (x**2).dtype == shendu.int64
    assert (x**2).tolist() == [1, 4, 9]
    assert (x**0.5).dtype == shendu.float32
    assert (2**x).dtype == shendu.int64 and (2**x).tolist() == [2, 4, 8]
    assert (2.0**x).dtype == shendu.float32


def test_kinks_match_torch_choices():
    zeros_and_more = [np.array([-1.0, 0.0, 0.0, 2.0], np.float32)]
    check_op(None, torch.relu, shendu.relu, inputs=zeros_and_more)
    check_op(None, torch.abs, shendu.abs, inputs=zeros_and_more)
    check_op(None, lambda x: x.clamp(0.0, 2.0), inputs=zeros_and_more)
    check_op(None, lambda x: torch.clamp(x, min=-1.0), lambda x: shendu.clamp(x, min=-1.0), inputs=zeros_and_more)
    check_op(None, lambda x: torch.clamp(x, max=0.0), lambda x: shendu.clamp(x, max=0.0), inputs=zeros_and_more)


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.3), (-0.3, None)], ids=str)
def test_clamp_matches_torch(bounds):
    low, high = bounds
    check_op([(45, 1)], lambda x: torch.clamp(x, low, high), lambda x: shendu.clamp(x, low, high))
    check_op([()], lambda x: x.clamp(low, high))
    check_op([(3, 4)], lambda x: x.clip(low, high))
    gradcheck(lambda x: shendu.clamp(x, low, high), [(3, 4)], seed=11)


def test_clamp_with_tensor_bounds_matches_torch():
    check_op(
        [(3, 4), (4,), (3, 1)],
        lambda x, lo, hi: torch.clamp(x, lo, hi + 3),
        lambda x, lo, hi: shendu.clamp(x, lo, hi + 3),
    )


def test_where_matches_torch_with_broadcasting():
    condition = np.random.default_rng(0).random((3, 4)) > 0.5
    check_op(
        [(3, 1), (4,)],
        lambda a, b: torch.where(torch.tensor(condition), a, b),
        lambda a, b: shendu.where(shendu.tensor(condition), a, b),
    )
    check_op([(3, 4)], lambda a: torch.where(a > 0, a, 0.0), lambda a: shendu.where(a > 0, a, 0.0))
    check_op([()], lambda a: torch.where(a > 0, a, a * 2), lambda a: shendu.where(a > 0, a, a * 2))
    check_op([(3, 4), (3, 4)], lambda a, b: a.where(a > b, b))
    gradcheck(lambda a, b: shendu.where(shendu.tensor(condition), a, b), [(3, 1), (4,)])


def test_where_with_python_numbers_for_both_branches_matches_torch():
    for values in ((1.0, 0.0), (1, 0), (2, 0.5)):
        mine = shendu.where(shendu.tensor([1.0, -1.0]) > 0, *values)
        theirs = torch.where(torch.tensor([1.0, -1.0]) > 0, *values)
        assert mine.tolist() == theirs.tolist() and mine.dtype.name == str(theirs.dtype).split(".")[-1]


def test_where_with_only_a_condition_gives_indices():
    out = shendu.where(shendu.tensor([[True, False], [False, True]]))
    expected = torch.where(torch.tensor([[True, False], [False, True]]))
    assert [t.tolist() for t in out] == [t.tolist() for t in expected]


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_return_bool_tensors_like_torch(name):
    values = [np.array([[1.0, 2.0, 3.0]], np.float32), np.array([[1.0], [3.0]], np.float32)]
    out = check_op(None, getattr(torch, name), getattr(shendu, name), inputs=values, forward_only=True)
    assert out.dtype == shendu.bool
    dunder = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}[name]
    check_op(None, lambda a, b: getattr(a, dunder)(b), inputs=values, forward_only=True)
    check_op(None, lambda a: getattr(a, dunder)(2.0), inputs=values[:1], forward_only=True)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_match_torch(name):
    values = [np.array([True, True, False, False]), np.array([True, False, True, False])]
    check_op(None, getattr(torch, name), getattr(shendu, name), inputs=values, forward_only=True)
    check_op(
        None, lambda a: torch.logical_not(a), lambda a: shendu.logical_not(a), inputs=values[:1], forward_only=True
    )


def test_bitwise_operators_on_bool_tensors_match_torch():
    values = [np.array([True, True, False, False]), np.array([True, False, True, False])]
    for op in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a):
        check_op(None, op, inputs=values, forward_only=True)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign", "isnan", "isinf", "isfinite"])
def test_rounding_and_tests_match_torch(name):
    values = [np.array([-1.5, -0.5, 0.0, 0.4, 0.5, 1.5, 2.5, np.inf, -np.inf, np.nan], np.float32)]
    check_op(None, getattr(torch, name), getattr(shendu, name), inputs=values, forward_only=True)


def test_floor_divide_and_remainder_match_torch():
    values = [np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])]
    check_op(None, torch.floor_divide, shendu.floor_divide, inputs=values, forward_only=True)
    check_op(None, torch.remainder, shendu.remainder, inputs=values, forward_only=True)
    check_op(None, lambda a, b: a // b, inputs=values, forward_only=True)
    check_op(None, lambda a, b: a % b, inputs=values, forward_only=True)


def test_div_rounding_modes_match_torch():
    values = [np.array([7.0, -7.0, 7.5], np.float32), np.array([2.0, 2.0, -2.0], np.float32)]
    for mode in ("floor", "trunc"):
        check_op(
            None,
            lambda a, b, mode=mode: torch.div(a, b, rounding_mode=mode),
            lambda a, b, mode=mode: shendu.div(a, b, rounding_mode=mode),
            inputs=values,
            forward_only=True,
        )


def test_addcmul_and_lerp_match_torch():
    check_op(
        [(3, 4), (3, 4), (4,)],
        lambda a, b, c: torch.addcmul(a, b, c, value=0.5),
        lambda a, b, c: shendu.addcmul(a, b, c, value=0.5),
    )
    check_op([(3, 4), (3, 4)], lambda a, b: torch.lerp(a, b, 0.3), lambda a, b: shendu.lerp(a, b, 0.3))


def test_isclose_allclose_equal_match_torch():
    a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0 + 1e-7, 3.1])
    sa, sb = shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([1.0, 2.0 + 1e-7, 3.1])
    assert shendu.isclose(sa, sb).tolist() == torch.isclose(a, b).tolist()
    assert shendu.allclose(sa, sb) is False and shendu.allclose(sa, sa) is True
    assert shendu.equal(sa, sa) is True and shendu.equal(sa, sb) is False


def test_division_by_zero_gives_inf_without_warning_like_torch():
    check_op(
        None,
        torch.div,
        shendu.div,
        inputs=[np.array([1.0, -1.0, 0.0], np.float32), np.zeros(3, np.float32)],
        forward_only=True,
    )


def test_clone_is_differentiable_and_independent():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with shendu.no_grad():
        y.zero_()
    assert x.tolist() == [1.0, 2.0]
