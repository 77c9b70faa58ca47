"""Indexing against PyTorch: slices, integer and boolean arrays (backward scatter-adds), setitem, gather, masked_fill, one_hot."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck


def _index(key_np):
    """A key usable by both frameworks: arrays become the framework's own tensors."""

    def run(x):
        make = torch.tensor if isinstance(x, torch.Tensor) else shendu.tensor
        parts = key_np if isinstance(key_np, tuple) else (key_np,)
        key = tuple(make(k) if isinstance(k, np.ndarray) else k for k in parts)
        return x[key if isinstance(key_np, tuple) else key[0]]

    return run


INDEX_CASES = [
    ("int", 1),
    ("negative int", -1),
    ("slice", slice(1, 3)),
    ("step slice", slice(None, None, 2)),
    ("negative step bounds", slice(-3, -1)),
    ("tuple", (1, slice(None), 2)),
    ("ellipsis", (Ellipsis, 1)),
    ("None", (None, 0)),
    ("int array", np.array([0, 2, 2])),
    ("repeated int array", np.array([[1, 1], [0, 1]])),
    ("int arrays pair", (np.array([0, 1, 1]), np.array([2, 2, 0]))),
    ("array and slice", (slice(None), np.array([3, 0, 3]))),
    ("bool mask rows", np.array([True, False, True])),
]


@pytest.mark.parametrize("key", [c[1] for c in INDEX_CASES], ids=[c[0] for c in INDEX_CASES])
def test_getitem_matches_torch_and_backward_scatter_adds(key):
    check_op([(3, 4, 5)] if isinstance(key, tuple) and len(key) == 3 else [(3, 4)], _index(key))


def test_boolean_mask_of_full_shape_matches_torch():
    mask = np.random.default_rng(1).random((3, 4)) > 0.4
    check_op([(3, 4)], _index(mask))
    check_op([(3, 4)], lambda x: x[x > 0])


def test_index_with_python_list_and_scalar_tensor_matches_torch():
    check_op([(5, 2)], lambda x: x[[0, 4, 0]])
    check_op([(5, 2)], lambda x: x[torch.tensor(3) if isinstance(x, torch.Tensor) else shendu.tensor(3)])


def test_index_on_scalar_shapes():
    check_op([()], lambda x: x[None])
    check_op([()], lambda x: x[...])


def test_indexing_gradcheck_float64():
    gradcheck(lambda x: x[shendu.tensor([0, 2, 2, 1])] * x[1:3].sum(), [(3, 2)])
    gradcheck(lambda x: x[:, 1:] ** 2, [(3, 4)])


def test_setitem_on_a_tensor_without_grad_matches_torch():
    t, s = torch.zeros(3, 4), shendu.zeros(3, 4)
    for key, value in [((0, 1), 5.0), ((slice(None), 2), torch.tensor([1.0, 2.0, 3.0])), ((2,), 7)]:
        t[key] = value
        s[key] = value.numpy() if isinstance(value, torch.Tensor) else value
    t[t > 4] = -1.0
    s[s > 4] = -1.0
    s[shendu.tensor([1, 1])] = 9.0
    t[torch.tensor([1, 1])] = 9.0
    np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_setitem_on_a_tensor_that_requires_grad_raises_unless_no_grad():
    x = shendu.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x[0] = 1.0
    with shendu.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_setitem_with_a_tensor_value_keeps_the_target_dtype():
    x = shendu.zeros(3)
    x[1] = shendu.tensor(2.5, dtype=shendu.float64)
    assert x.dtype == shendu.float32 and x.tolist() == [0.0, 2.5, 0.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_torch(dim):
    index = np.random.default_rng(0).integers(0, 3, (3, 3))
    check_op(
        [(3, 3)],
        lambda x: torch.gather(x, dim, torch.tensor(index)),
        lambda x: shendu.gather(x, dim, shendu.tensor(index)),
    )
    check_op([(3, 3)], lambda x: x.gather(dim, (torch.tensor if isinstance(x, torch.Tensor) else shendu.tensor)(index)))


def test_gather_with_repeated_indices_gradcheck():
    index = shendu.tensor([[0, 0, 1], [2, 2, 2]])
    gradcheck(lambda x: shendu.gather(x, 1, index), [(2, 3)])


def test_masked_fill_matches_torch():
    mask = np.array([[True, False, False, True]])
    check_op(
        [(3, 4)],
        lambda x: x.masked_fill(torch.tensor(mask), -1e9),
        lambda x: x.masked_fill(shendu.tensor(mask), -1e9),
    )
    check_op([(3, 4)], lambda x: torch.masked_fill(x, x > 0, 0.0), lambda x: shendu.masked_fill(x, x > 0, 0.0))
    gradcheck(lambda x: shendu.masked_fill(x, shendu.tensor(mask), 2.0), [(3, 4)])


def test_one_hot_matches_torch():
    labels = np.array([0, 2, 1, 2])
    expected = torch.nn.functional.one_hot(torch.tensor(labels))
    out = shendu.one_hot(shendu.tensor(labels))
    assert out.dtype == shendu.int64 and out.tolist() == expected.tolist()
    assert shendu.one_hot(shendu.tensor(labels), num_classes=5).shape == (4, 5)
    assert (
        shendu.one_hot(shendu.tensor([[1], [0]]), 3).tolist()
        == torch.nn.functional.one_hot(torch.tensor([[1], [0]]), 3).tolist()
    )


def test_index_select_matches_torch():
    index = np.array([2, 0, 2])
    check_op(
        [(3, 4)],
        lambda x: torch.index_select(x, 0, torch.tensor(index)),
        lambda x: shendu.index_select(x, 0, shendu.tensor(index)),
    )
    check_op(
        [(3, 4)], lambda x: x.index_select(1, (torch.tensor if isinstance(x, torch.Tensor) else shendu.tensor)(index))
    )


def test_nonzero_matches_torch():
    values = np.array([[0.0, 1.0], [2.0, 0.0]], np.float32)
    assert shendu.nonzero(shendu.tensor(values)).tolist() == torch.nonzero(torch.tensor(values)).tolist()
    assert [t.tolist() for t in shendu.tensor(values).nonzero(as_tuple=True)] == [
        t.tolist() for t in torch.tensor(values).nonzero(as_tuple=True)
    ]


def test_scatter_matches_torch():
    index = torch.tensor([[0, 1], [1, 0]])
    src = torch.tensor([[5.0, 6.0], [7.0, 8.0]])
    expected = torch.zeros(2, 2).scatter(1, index, src)
    out = shendu.zeros(2, 2).scatter(1, shendu.tensor(index.numpy()), shendu.tensor(src.numpy()))
    assert out.tolist() == expected.tolist()


def test_iterating_a_tensor_yields_rows_with_gradients():
    x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    total = sum(row.sum() * (i + 1) for i, row in enumerate(x))
    total.backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]
