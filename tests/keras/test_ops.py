"""``shendu.keras.ops`` gives real Keras 3's values and dtypes (torch backend) and shendu gradients equal torch's."""

import os
import warnings

import numpy as np
import pytest
import torch

import shendu
from shendu.keras import ops

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - the backend must be chosen first

assert keras.backend.backend() == "torch"

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
B = rng.standard_normal((4, 5)).astype(np.float32)
P = rng.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
LABELS = np.array([2.0, 0.0, 3.0])
INTS = np.arange(12, dtype=np.int32).reshape(3, 4)

CASES = [
    ("zeros", ((2, 3),), {}), ("ones", ((4,),), {"dtype": "int32"}), ("full", ((2, 2), 7.0), {}),
    ("arange", (5,), {}), ("arange", (0.0, 1.0, 0.25), {}), ("linspace", (0, 1, 5), {}), ("eye", (3,), {}),
    ("zeros_like", (A,), {}), ("ones_like", (INTS,), {}), ("full_like", (A, 2.0), {}),
    ("convert_to_tensor", ([1.0, 2.0],), {}), ("convert_to_tensor", ([1, 2],), {}), ("convert_to_tensor", (INTS,), {}),
    ("cast", (A, "int32"), {}), ("cast", (INTS, "float32"), {}),
    ("stack", ([A, A],), {"axis": 1}), ("concatenate", ([A, A],), {"axis": -1}), ("one_hot", (LABELS, 4), {}),
    ("one_hot", (np.array([1, -1]), 3), {}), ("take", (A, [0, 2]), {"axis": 1}), ("take", (A, [5, 11]), {}), ("take", (A, [-1, 1]), {"axis": 1}),
    ("take_along_axis", (A, np.argsort(A, axis=1)), {"axis": 1}),
    ("matmul", (A, B), {}), ("dot", (A, B), {}), ("einsum", ("ij,jk->ik", A, B), {}),
    ("mean", (A,), {}), ("mean", (A,), {"axis": 0, "keepdims": True}), ("mean", (INTS,), {}),
    ("sum", (A,), {"axis": (0, 1)}), ("sum", (INTS,), {"axis": 1}), ("max", (A,), {"axis": -1}), ("min", (A,), {}),
    ("prod", (A,), {"axis": 0}), ("std", (A,), {"axis": 1}), ("var", (A,), {}), ("any", (A > 1,), {"axis": 0}),
    ("all", (A > -3,), {}), ("argmax", (A,), {"axis": 1}), ("argmax", (A,), {}), ("argmin", (A,), {"axis": 0}),
    ("exp", (A,), {}), ("log", (P,), {}), ("sqrt", (P,), {}), ("square", (A,), {}), ("abs", (A,), {}),
    ("tanh", (A,), {}), ("sign", (A,), {}), ("round", (A * 3,), {}), ("floor", (A,), {}), ("exp", (INTS,), {}),
    ("add", (A, 1.0), {}), ("subtract", (A, A.T[:3, :1]), {}), ("multiply", (A, A), {}), ("divide", (INTS, 2), {}),
    ("power", (P, 2.0), {}), ("maximum", (A, 0.0), {}), ("minimum", (A, P), {}), ("equal", (INTS, 3), {}),
    ("greater", (A, 0), {}), ("logical_and", (A > 0, P > 0.5), {}), ("logical_not", (A > 0,), {}),
    ("where", (A > 0, A, 0.0), {}), ("clip", (A, -0.5, 0.5), {}),
    ("reshape", (A, (2, -1)), {}), ("transpose", (A,), {}), ("transpose", (A[None], (2, 0, 1)), {}),
    ("expand_dims", (A, 1), {}), ("squeeze", (A[:, None],), {}), ("squeeze", (A[None, :, None],), {"axis": 0}),
    ("moveaxis", (A[None], 0, -1), {}), ("swapaxes", (A, 0, 1), {}), ("tile", (A, (2, 1)), {}),
    ("repeat", (A, 2), {"axis": 0}), ("repeat", (A, 2), {}), ("flip", (A,), {"axis": 1}), ("roll", (A, 1), {"axis": 0}),
    ("pad", (A, ((1, 0), (0, 2))), {}), ("cumsum", (A,), {"axis": 1}), ("cumsum", (A,), {}),
    ("cumprod", (P,), {"axis": 0}), ("sort", (A,), {}), ("argsort", (A,), {"axis": 0}), ("tril", (A,), {}),
    ("triu", (A, 1), {}), ("diag", (A[:3, :3],), {}), ("trace", (A,), {}), ("outer", (A[0], B[0]), {}),
    ("tensordot", (A, B), {"axes": 1}), ("isnan", (np.array([np.nan, 1.0, -np.inf], np.float32),), {}),
    ("nan_to_num", (np.array([np.nan, np.inf, 1.0], np.float32),), {}), ("broadcast_to", (A[0], (2, 4)), {}),
    ("average", (A,), {"axis": 1, "weights": np.arange(1.0, 5.0, dtype=np.float32)}),
    ("logaddexp", (A, P), {}), ("append", (A, A), {}), ("vstack", ([A, A],), {}), ("hstack", ([A, A],), {}),
    ("relu", (A,), {}), ("relu6", (A * 8,), {}), ("sigmoid", (A,), {}), ("softplus", (A,), {}), ("softsign", (A,), {}),
    ("silu", (A,), {}), ("log_sigmoid", (A,), {}), ("leaky_relu", (A,), {}), ("hard_sigmoid", (A * 4,), {}),
    ("hard_silu", (A * 4,), {}), ("elu", (A,), {}), ("selu", (A,), {}), ("gelu", (A,), {}),
    ("gelu", (A,), {"approximate": False}), ("softmax", (A,), {}), ("softmax", (A,), {"axis": 0}),
    ("log_softmax", (A,), {}), ("categorical_crossentropy", (np.eye(4, dtype=np.float32)[[2, 0, 3]], P), {}),
    ("categorical_crossentropy", (np.eye(4, dtype=np.float32)[[2, 0, 3]], A), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (LABELS, A), {"from_logits": True}),
    ("binary_crossentropy", ((P > 0.5).astype(np.float32), P), {}),
    ("binary_crossentropy", ((P > 0.5).astype(np.float32), A), {"from_logits": True}),
    ("norm", (A,), {}), ("norm", (A,), {"axis": 1}), ("norm", (A,), {"ord": 1, "axis": -1}),
    ("logsumexp", (A,), {"axis": 1}), ("erf", (A,), {}), ("rsqrt", (P,), {}),
    ("segment_sum", (A, np.array([0, 1, 0])), {"num_segments": 2}),
    ("scatter", (np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], np.float32), (3, 4)), {}),
    ("scatter_update", (A, np.array([[0, 0], [2, 1]]), np.array([9.0, 8.0], np.float32)), {}),
    ("slice", (A, (1, 1), (2, 2)), {}), ("slice_update", (A, (1, 2), np.ones((2, 2), np.float32)), {}),
]  # fmt: skip


def _numpy(value):
    if isinstance(value, shendu.Tensor):
        return value.detach().numpy()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def _case_id(case):
    return case[0]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES, ids=[_case_id(c) for c in CASES])
def test_op_matches_keras(name, args, kwargs):
    expected = getattr(keras.ops, name)(*args, **kwargs)
    got = getattr(ops, name)(*args, **kwargs)
    expected_array, got_array = _numpy(expected), _numpy(got)
    assert got_array.shape == expected_array.shape
    assert got_array.dtype == expected_array.dtype, f"{name}: dtype {got_array.dtype} != Keras {expected_array.dtype}"
    np.testing.assert_allclose(got_array, expected_array, rtol=2e-6, atol=2e-6)


def test_multi_valued_ops_match_keras():
    for name, args in [("top_k", (A, 2)), ("moments", (A, (0,))), ("split", (A.T, 2)), ("split", (A, [1, 2])), ("unstack", (A,))]:
        # Keras's torch unstack calls .unbind on its argument, so it gets a torch tensor
        keras_args = (torch.from_numpy(args[0]), *args[1:]) if name == "unstack" else args
        expected, got = getattr(keras.ops, name)(*keras_args), getattr(ops, name)(*args)
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert _numpy(g).dtype == _numpy(e).dtype
            np.testing.assert_allclose(_numpy(g), _numpy(e), rtol=2e-6, atol=2e-6)
    assert ops.shape(A) == keras.ops.shape(A) == (3, 4)
    assert ops.in_top_k(np.array([0, 1, 2]), A, 2).numpy().tolist() == _numpy(keras.ops.in_top_k([0, 1, 2], A, 2)).tolist()
    assert ops.is_tensor(ops.zeros(2)) and not ops.is_tensor(A)
    with warnings.catch_warnings():  # Keras's torch backend calls x.T on 0-d tensors here
        warnings.simplefilter("ignore", UserWarning)
        expected = _numpy(keras.ops.count_nonzero(A > 0, axis=0))
    np.testing.assert_array_equal(ops.count_nonzero(A > 0, axis=0).numpy(), expected)


DIFFERENTIABLE = [
    ("softmax", lambda o, x: o.softmax(x) * o.arange(4.0)), ("logsumexp", lambda o, x: o.logsumexp(x, axis=1)),
    ("norm", lambda o, x: o.norm(x, axis=0)), ("take", lambda o, x: o.take(x, [0, 0, 2], axis=1)),
    ("stack_mean", lambda o, x: o.mean(o.stack([x, o.square(x)], axis=0), axis=(0, 2))),
    ("where_clip", lambda o, x: o.where(x > 0, o.clip(x, -0.5, 0.5), o.exp(x))),
    ("crossentropy", lambda o, x: o.categorical_crossentropy(o.one_hot([1, 0, 3], 4), x, from_logits=True)),
    ("scatter", lambda o, x: o.scatter([[0, 0], [0, 0], [1, 2]], o.reshape(x, (-1,))[:3], (2, 3))),
    ("slice_update", lambda o, x: o.slice_update(x, (1, 1), o.sigmoid(x[:2, :2]))),
    ("std_gelu", lambda o, x: o.std(o.gelu(x), axis=1)), ("top_k", lambda o, x: o.top_k(x, 2)[0]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "function"), DIFFERENTIABLE, ids=[d[0] for d in DIFFERENTIABLE])
def test_gradients_through_ops_match_torch(name, function):
    weights = np.linspace(-1, 1, 64)
    x = shendu.tensor(A.astype(np.float64), requires_grad=True)
    out = function(ops, x)
    (out * shendu.tensor(weights[: out.numel()].reshape(tuple(out.shape)))).sum().backward()
    xt = torch.tensor(A.astype(np.float64), requires_grad=True)
    out_t = function(keras.ops, xt)
    (out_t * torch.tensor(weights[: out_t.numel()].reshape(tuple(out_t.shape)))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)  # Keras computes some ops in float32


def test_control_flow_and_bad_input():
    assert ops.cond(True, lambda: 1, lambda: 2) == keras.ops.cond(True, lambda: 1, lambda: 2)
    assert int(ops.fori_loop(0, 5, lambda i, v: v + i, 0)) == 10
    assert ops.while_loop(lambda a, b: a < 5, lambda a, b: (a + 1, b * 2), (0, 1)) == (5, 32)
    with pytest.raises(ValueError, match="Invalid dtype: 'float33'"):
        ops.cast(A, "float33")
    with pytest.raises(ValueError, match="Cannot squeeze axis 0 of size 3"):
        ops.squeeze(A, axis=0)
