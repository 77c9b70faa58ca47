"""Property tests (hypothesis): every binary op on mutually broadcastable shapes gives torch's values, and
gradients of the inputs' own shapes; dtype promotion matches torch for any pair of dtypes and ranks."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import shendu
from tests.helpers import check_op, make_inputs

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
SHAPES = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)

# name -> (torch function, shendu function, low, high)
BINARY = {
    "add": (torch.add, shendu.add, -2, 2),
    "sub": (torch.sub, shendu.sub, -2, 2),
    "mul": (torch.mul, shendu.mul, -2, 2),
    "div": (torch.div, shendu.div, 0.5, 2),
    "pow": (torch.pow, shendu.pow, 0.5, 2),
    "maximum": (torch.maximum, shendu.maximum, -2, 2),
    "minimum": (torch.minimum, shendu.minimum, -2, 2),
    "operator +": (lambda a, b: a + b, None, -2, 2),
    "operator *": (lambda a, b: a * b, None, -2, 2),
    "operator /": (lambda a, b: a / b, None, 0.5, 2),
    "operator **": (lambda a, b: a**b, None, 0.5, 2),
    "where": (lambda a, b: torch.where(a > b, a, b * 2), lambda a, b: shendu.where(a > b, a, b * 2), -2, 2),
    "clamp by tensors": (lambda a, b: torch.clamp(a, min=b), lambda a, b: shendu.clamp(a, min=b), -2, 2),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=SHAPES, seed=st.integers(0, 2**16))
def test_binary_op_on_broadcastable_shapes_matches_torch_with_input_shaped_grads(name, shapes, seed):
    torch_fn, shendu_fn, low, high = BINARY[name]
    check_op(list(shapes.input_shapes), torch_fn, shendu_fn, low=low, high=high, seed=seed)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or"])
@SETTINGS
@given(shapes=SHAPES, seed=st.integers(0, 2**16))
def test_comparison_on_broadcastable_shapes_matches_torch(name, shapes, seed):
    arrays = [np.round(a) for a in make_inputs(shapes.input_shapes, -2, 2, seed=seed)]  # ties are likely
    check_op(None, getattr(torch, name), getattr(shendu, name), inputs=arrays, forward_only=True)


@SETTINGS
@given(
    batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    n=st.integers(1, 4),
    k=st.integers(1, 4),
    m=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_batched_matmul_on_broadcastable_batch_shapes_matches_torch(batch, n, k, m, seed):
    a_shape, b_shape = batch.input_shapes
    check_op([a_shape + (n, k), b_shape + (k, m)], torch.matmul, shendu.matmul, atol=1e-5, seed=seed)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data())
def test_reductions_over_any_dims_match_torch(shape, data):
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple))
    keepdim = data.draw(st.booleans())
    for name in ("sum", "mean", "amax", "logsumexp"):
        check_op(
            [shape],
            lambda x, name=name: getattr(torch, name)(x, dims, keepdim=keepdim),
            lambda x, name=name: getattr(shendu, name)(x, dims, keepdim=keepdim),
        )


DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


@SETTINGS
@given(
    a_dtype=st.sampled_from(DTYPES),
    b_dtype=st.sampled_from(DTYPES),
    a_zero_dim=st.booleans(),
    b_zero_dim=st.booleans(),
    op=st.sampled_from(["add", "mul", "maximum", "eq"]),
)
def test_dtype_promotion_matches_torch_for_any_pair(a_dtype, b_dtype, a_zero_dim, b_zero_dim, op):
    a = np.ones(() if a_zero_dim else (2,), a_dtype)
    b = np.ones(() if b_zero_dim else (2,), b_dtype)
    theirs = getattr(torch, op)(torch.tensor(a), torch.tensor(b))
    mine = getattr(shendu, op)(shendu.tensor(a), shendu.tensor(b))
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert mine.shape == tuple(theirs.shape)


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), value=st.sampled_from([True, 3, 2.5]), reflected=st.booleans())
def test_python_scalar_promotion_matches_torch(dtype, value, reflected):
    a = np.ones((2,), dtype)
    t, s = torch.tensor(a), shendu.tensor(a)
    theirs = value * t if reflected else t * value
    mine = value * s if reflected else s * value
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
