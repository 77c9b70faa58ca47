"""median, kthvalue, quantile, aminmax, nansum/nanmean, index_add, scatter_add, rot90/flipud/fliplr, Tensor.unfold,
cross, sgn/signbit/copysign, stride/storage_offset: equal to PyTorch in float64, values and gradients."""

import numpy as np
import pytest
import torch

import shendu

RNG = np.random.default_rng(0)
A = RNG.permutation(24).reshape(4, 6).astype(np.float64) + RNG.uniform(0, 0.5, (4, 6))  # distinct values: no ties
B = RNG.standard_normal((4, 3))
C = RNG.standard_normal((2, 5, 3))
WITH_NAN = A.copy()
WITH_NAN[1, 2] = WITH_NAN[3, 0] = np.nan
INDEX = np.array([2, 0, 2])
SCATTER_INDEX = RNG.integers(0, 4, (3, 6))

CASES = {
    "median_all": (lambda lib, a: lib.median(a), [A]),
    "median_dim": (lambda lib, a: a.median(dim=1).values + a.median(dim=1).indices, [A]),
    "median_keepdim": (lambda lib, a: lib.median(a, 0, keepdim=True).values, [A]),
    "kthvalue": (lambda lib, a: lib.cat([a.kthvalue(2, dim=0).values, a.kthvalue(5).values, a.kthvalue(1).indices * 1.0]), [A]),
    "quantile_scalar": (lambda lib, a: lib.quantile(a, 0.3), [A]),
    "quantile_dim": (lambda lib, a: lib.quantile(a, lib.tensor([0.1, 0.5, 0.95], dtype=lib.float64), dim=1), [A]),
    "quantile_keepdim": (lambda lib, a: lib.quantile(a, 0.75, dim=0, keepdim=True), [A]),
    "quantile_lower": (lambda lib, a: lib.quantile(a, 0.4, dim=1, interpolation="lower"), [A]),
    "quantile_higher": (lambda lib, a: lib.quantile(a, 0.4, dim=1, interpolation="higher"), [A]),
    "quantile_midpoint": (lambda lib, a: lib.quantile(a, 0.4, dim=1, interpolation="midpoint"), [A]),
    "quantile_nearest": (lambda lib, a: lib.quantile(a, 0.5, dim=0, interpolation="nearest"), [A]),
    "quantile_nan": (lambda lib, a: lib.quantile(a, 0.5, dim=1), [WITH_NAN]),
    "nanquantile": (lambda lib, a: lib.nanquantile(a, 0.5, dim=1), [WITH_NAN]),
    "aminmax": (lambda lib, a: lib.aminmax(a, dim=1).min + lib.aminmax(a, dim=1).max, [A]),
    "nansum": (lambda lib, a: lib.nansum(a, dim=1) + lib.nansum(a), [WITH_NAN]),
    "nanmean": (lambda lib, a: lib.nanmean(a, dim=0), [WITH_NAN]),
    "index_add": (lambda lib, a, s: a.index_add(0, lib.tensor(INDEX), s, alpha=2.5), [A, RNG.standard_normal((3, 6))]),
    "index_add_dim1": (lambda lib, a, s: lib.index_add(a, 1, lib.tensor(INDEX), s), [A, RNG.standard_normal((4, 3))]),
    "scatter_add": (lambda lib, a, s: a.scatter_add(0, lib.tensor(SCATTER_INDEX), s), [A, RNG.standard_normal((3, 6))]),
    "rot90_1": (lambda lib, a: lib.rot90(a), [A]),
    "rot90_3": (lambda lib, c: lib.rot90(c, 3, [2, 1]), [C]),
    "rot90_2": (lambda lib, c: lib.rot90(c, -2, (0, 2)), [C]),
    "flipud_fliplr": (lambda lib, a: lib.flipud(a) * 2 + lib.fliplr(a), [A]),
    "unfold": (lambda lib, a: a.unfold(1, 3, 2), [A]),
    "unfold_dim0": (lambda lib, c: c.unfold(1, 2, 1), [C]),
    "cross_last": (lambda lib, b, c: lib.cross(b, c, dim=-1), [B, RNG.standard_normal((4, 3))]),
    "cross_dim": (lambda lib, b, c: lib.cross(b, c, dim=0), [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))]),
    "copysign": (lambda lib, a, b: lib.copysign(a, b), [RNG.standard_normal(8), RNG.standard_normal(8)]),
    "sgn": (lambda lib, a: lib.sgn(a) * a, [RNG.standard_normal(6)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_equal_to_pytorch_with_gradients(name):
    fn, arrays = CASES[name]
    outputs, grads = [], []
    for lib in (torch, shendu):
        tensors = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = fn(lib, *tensors)
        out_array = out.detach().numpy()
        outputs.append(out_array)
        weights = RNG.standard_normal(out_array.shape) if lib is torch else weights  # noqa: F821 - set on the torch pass
        (out * lib.tensor(np.nan_to_num(weights))).nansum().backward() if np.isnan(out_array).any() else (
            out * lib.tensor(weights)).sum().backward()
        grads.append([None if t.grad is None else t.grad.numpy() for t in tensors])
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-12, atol=1e-12, equal_nan=True)
    for ours, theirs, array in zip(grads[1], grads[0], arrays):
        zeros = np.zeros_like(array)  # no gradient is a zero gradient (copysign's sign argument)
        np.testing.assert_allclose(zeros if ours is None else ours, zeros if theirs is None else theirs, rtol=1e-12, atol=1e-12)


def test_cross_defaults_to_the_first_dimension_of_size_3_as_torch_cross():
    b, c = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(shendu.cross(shendu.tensor(b), shendu.tensor(c)).numpy(), np.cross(b, c), rtol=1e-12)


def test_in_place_adds_signbit_strides_and_offsets():
    for lib in (torch, shendu):
        x = lib.zeros(4, 3, dtype=lib.float64)
        x.index_add_(0, lib.tensor([1, 1, 3]), lib.ones(3, 3, dtype=lib.float64))
        x.scatter_add_(1, lib.tensor([[0, 0], [2, 1], [1, 1], [0, 2]]), lib.ones(4, 2, dtype=lib.float64))
        if lib is torch:
            expected = x.numpy()
        else:
            np.testing.assert_array_equal(x.numpy(), expected)
    assert shendu.signbit(shendu.tensor([-0.0, 0.0, -2.0, 3.0])).tolist() == [True, False, True, False]
    t, s = torch.arange(24.0).reshape(2, 3, 4), shendu.arange(24.0).reshape(2, 3, 4)
    assert s.stride() == t.stride() and s.stride(1) == t.stride(1)
    assert s.transpose(0, 2).stride() == t.transpose(0, 2).stride()
    assert s[1, 1:].storage_offset() == t[1, 1:].storage_offset() == 16


def test_bad_arguments_are_named():
    x = shendu.ones(3, 4)
    with pytest.raises(IndexError, match="kthvalue\\(\\): selected number k out of range"):
        x.kthvalue(5, dim=0)
    with pytest.raises(RuntimeError, match="quantile\\(\\) q values must be in the range \\[0, 1\\]"):
        shendu.quantile(x, 1.5)
    with pytest.raises(ValueError, match="quantile\\(\\) interpolation must be one of linear"):
        shendu.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(IndexError, match="index_add_\\(\\): index out of range for dimension 0 of size 3"):
        x.index_add(0, shendu.tensor([3]), shendu.ones(1, 4))
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 1 is 4 but size is 5"):
        x.unfold(1, 5, 1)
    with pytest.raises(RuntimeError, match="inputs dimension 1 must have length 3"):
        shendu.cross(x, x, dim=1)
