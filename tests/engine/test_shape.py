"""Shape ops against PyTorch: reshape/view, permute/transpose, squeeze/unsqueeze, flatten, expand, cat/stack/split/chunk, pad."""

import numpy as np
import pytest
import torch

import shendu
from tests.helpers import check_op, gradcheck

# (description, function run on both frameworks, input shapes)
SHAPE_CASES = [
    ("reshape", lambda x: x.reshape(4, 6), [(2, 3, 4)]),
    ("reshape -1", lambda x: x.reshape(-1, 3), [(2, 3, 4)]),
    ("reshape tuple", lambda x: x.reshape((6, 4)), [(2, 3, 4)]),
    ("reshape scalar", lambda x: x.reshape(1, 1), [()]),
    ("view", lambda x: x.view(3, 8), [(2, 3, 4)]),
    ("view -1", lambda x: x.view(-1), [(2, 3, 4)]),
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute tuple", lambda x: x.permute((1, 2, 0)), [(2, 3, 4)]),
    ("transpose", lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    ("transpose negative", lambda x: x.transpose(-1, -2), [(2, 3, 4)]),
    ("T", lambda x: x.T, [(3, 4)]),
    ("t", lambda x: x.t(), [(3, 4)]),
    ("mT", lambda x: x.mT, [(2, 3, 4)]),
    ("squeeze", lambda x: x.squeeze(), [(1, 3, 1, 4)]),
    ("squeeze dim", lambda x: x.squeeze(2), [(1, 3, 1, 4)]),
    ("squeeze non-1 dim", lambda x: x.squeeze(1), [(1, 3, 1, 4)]),
    ("unsqueeze", lambda x: x.unsqueeze(1), [(3, 4)]),
    ("unsqueeze -1", lambda x: x.unsqueeze(-1), [(3, 4)]),
    ("unsqueeze scalar", lambda x: x.unsqueeze(0), [()]),
    ("flatten", lambda x: x.flatten(), [(2, 3, 4)]),
    ("flatten start", lambda x: x.flatten(1), [(2, 3, 4)]),
    ("flatten range", lambda x: x.flatten(0, 1), [(2, 3, 4)]),
    ("flatten scalar", lambda x: x.flatten(), [()]),
    ("unflatten", lambda x: x.unflatten(1, (2, 2)), [(3, 4)]),
    ("expand", lambda x: x.expand(3, 4), [(3, 1)]),
    ("expand -1", lambda x: x.expand(2, -1, 4), [(3, 1)]),
    ("expand scalar", lambda x: x.expand(2, 3), [()]),
    (
        "expand_as",
        lambda x: x.expand_as(torch.zeros(5, 4) if isinstance(x, torch.Tensor) else shendu.zeros(5, 4)),
        [(4,)],
    ),
    ("split", lambda x: x.split(2, dim=1), [(3, 5)]),
    ("split sizes", lambda x: x.split([1, 4], dim=1), [(3, 5)]),
    ("chunk", lambda x: x.chunk(3, dim=0), [(7, 2)]),
    ("chunk more than length", lambda x: x.chunk(4, dim=1), [(2, 3)]),
    ("unbind", lambda x: x.unbind(1), [(2, 3)]),
    ("flip", lambda x: x.flip(0, 1) if isinstance(x, torch.Tensor) else x.flip((0, 1)), [(2, 3)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [(3, 4)]),
    ("tile", lambda x: x.tile((2,)), [(3, 4)]),
    ("narrow", lambda x: x.narrow(1, 1, 2), [(3, 4)]),
    ("movedim", lambda x: x.movedim(0, 2), [(2, 3, 4)]),
    ("swapaxes", lambda x: x.swapaxes(0, 1), [(2, 3)]),
]


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_shape_method_matches_torch(fn, shapes):
    check_op(shapes, fn)


FUNCTION_CASES = [
    ("reshape", lambda m, x: m.reshape(x, (4, -1))),
    ("permute", lambda m, x: m.permute(x, (1, 0, 2))),
    ("transpose", lambda m, x: m.transpose(x, 1, 2)),
    ("squeeze", lambda m, x: m.squeeze(m.unsqueeze(x, 0), 0)),
    ("flatten", lambda m, x: m.flatten(x, 1)),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (5, 2, 3, 4))),
    ("split", lambda m, x: m.split(x, 1, 1)),
    ("chunk", lambda m, x: m.chunk(x, 2, 2)),
]


@pytest.mark.parametrize("fn", [c[1] for c in FUNCTION_CASES], ids=[c[0] for c in FUNCTION_CASES])
def test_shape_function_matches_torch(fn):
    check_op([(2, 3, 4)], lambda x: fn(torch, x), lambda x: fn(shendu, x))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_match_torch(dim):
    check_op(
        [(2, 3), (2, 3), (2, 3)],
        lambda *xs: torch.cat(xs, dim) if dim != 1 else torch.cat(xs, 1),
        lambda *xs: shendu.cat(xs, dim),
    )
    check_op([(2, 3), (2, 3)], lambda *xs: torch.stack(xs, dim), lambda *xs: shendu.stack(xs, dim))
    check_op([(), ()], lambda *xs: torch.stack(xs), lambda *xs: shendu.stack(xs))


def test_cat_of_different_lengths_and_promotes_dtype():
    check_op([(2, 3), (4, 3)], lambda a, b: torch.cat([a, b]), lambda a, b: shendu.cat([a, b]))
    ints = shendu.tensor([1, 2])
    assert shendu.cat([ints, shendu.tensor([0.5])]).dtype == shendu.float32
    assert shendu.concat([ints, ints]).tolist() == [1, 2, 1, 2]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_torch(mode):
    import torch.nn.functional as F

    kwargs = {"value": 1.5} if mode == "constant" else {}
    out = check_op(
        [(2, 3, 5)],
        lambda x: F.pad(x, (1, 2), mode=mode, **kwargs),
        lambda x: shendu.pad(x, (1, 2), mode=mode, **kwargs),
    )
    assert out.shape == (2, 3, 8)


def test_pad_two_dimensions_constant_matches_torch():
    import torch.nn.functional as F

    check_op([(2, 3, 4)], lambda x: F.pad(x, (1, 0, 2, 1)), lambda x: shendu.pad(x, (1, 0, 2, 1)))


SHAPE_GRADCHECKS = [
    lambda x: x.reshape(4, 3).T * 2,
    lambda x: x.permute(1, 0).unsqueeze(0).expand(2, 4, 3),
    lambda x: shendu.cat([x, x * 2], 1),
    lambda x: shendu.stack(x.split(1, 0), 2),
    lambda x: shendu.pad(x, (1, 1)),
    lambda x: x.flip((1,)).repeat(2, 1),
    lambda x: shendu.stack(x.chunk(2, 1), 0).transpose(0, 2).flatten(1),
    lambda x: x.unsqueeze(1).squeeze(1).broadcast_to((2, 3, 4)),
    lambda x: x.tile((2,)).narrow(1, 1, 5).movedim(0, 1),
    lambda x: shendu.pad(x, (1, 2, 0, 1), mode="reflect"),
]


@pytest.mark.parametrize("fn", SHAPE_GRADCHECKS)
def test_shape_ops_gradcheck_float64(fn):
    gradcheck(fn, [(3, 4)])


def test_view_shares_storage_like_torch():
    x = shendu.zeros(2, 3)
    v = x.view(6)
    with shendu.no_grad():
        v[0] = 5.0
    assert x[0, 0].item() == 5.0


def test_size_shape_ndim_numel_dim():
    x = shendu.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert isinstance(x.shape, tuple) and x.shape.numel() == 24
    assert repr(x.shape) == "shendu.Size([2, 3, 4])"


def test_split_on_an_integer_tensor_has_no_grad():
    pieces = shendu.arange(6).split(2)
    assert [p.tolist() for p in pieces] == [[0, 1], [2, 3], [4, 5]]


def test_reshape_noop_and_view_as():
    x = shendu.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
    y = x.view_as(shendu.zeros(2, 3))
    y.sum().backward()
    assert y.shape == (2, 3) and x.grad.shape == (6,)
