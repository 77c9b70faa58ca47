"""Acceptance audit: PyTorch spellings a PyTorch user (or a test written from PyTorch) reaches for."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F


def test_randint_takes_high_and_size_as_torch_does():
    x = shendu.randint(10, (5,))
    assert x.shape == (5,) and x.dtype == shendu.int64 and 0 <= int(x.min()) and int(x.max()) < 10
    assert shendu.randint(3, 5, (4,)).shape == (4,)


def test_tensor_constructor_from_a_list_is_float32_like_torch_Tensor():
    assert shendu.Tensor([1, 2]).dtype == shendu.float32 == shendu.get_default_dtype()
    assert torch.Tensor([1, 2]).dtype == torch.float32
    assert shendu.Tensor(np.array([1, 2])).dtype == shendu.int64  # arrays keep their dtype
    assert shendu.tensor([1, 2]).dtype == shendu.int64


def test_typed_tensor_constructors_and_isinstance():
    assert shendu.FloatTensor([1, 2]).dtype == shendu.float32
    assert shendu.LongTensor([1.0, 2.0]).dtype == shendu.int64
    assert shendu.DoubleTensor([1]).dtype == shendu.float64
    assert shendu.BoolTensor([1, 0]).tolist() == [True, False]
    assert shendu.FloatTensor(2, 3).shape == (2, 3)
    assert isinstance(shendu.ones(2), shendu.FloatTensor) and not isinstance(shendu.ones(2), shendu.LongTensor)
    assert isinstance(shendu.tensor([1]), shendu.LongTensor)


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
def test_norm_of_a_zero_row_has_zero_gradient_as_in_torch(p):
    x = np.random.default_rng(0).standard_normal((3, 4))
    x[1] = 0
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (a.norm(p=p, dim=1) * shendu.tensor([1.0, 2.0, 3.0], dtype=shendu.float64)).sum().backward()
    (t.norm(p=p, dim=1) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-12)
    z = shendu.zeros(3, requires_grad=True)
    z.norm().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]


def test_functional_normalize_matches_torch_with_a_zero_row():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    x[1] = 0
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    for kwargs in ({}, {"p": 1.0, "dim": 0}):
        a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = F.normalize(a, **kwargs), torch.nn.functional.normalize(t, **kwargs)
        (out * shendu.tensor(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-6)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-5)
    v = shendu.randn(3, 4, dtype=shendu.float64, requires_grad=True)
    assert shendu.autograd.gradcheck(lambda v: (F.normalize(v) * v).sum(), (v,))


def test_swish_accepts_learnable_as_the_issue_spells_it():
    swish = nn.Swish(beta=0.5, learnable=True)
    assert [name for name, _ in swish.named_parameters()] == ["beta"]
    assert nn.Swish(beta=0.0, learnable=False)(shendu.tensor([4.0])).tolist() == [2.0]


@pytest.mark.parametrize(
    "dtype, name",
    [("float32", "FloatTensor"), ("float64", "DoubleTensor"), ("float16", "HalfTensor"), ("int64", "LongTensor"),
     ("int32", "IntTensor"), ("int16", "ShortTensor"), ("int8", "CharTensor"), ("uint8", "ByteTensor"),
     ("bool", "BoolTensor")],
)  # fmt: skip
def test_type_without_argument_names_the_tensor_type_as_torch_does(dtype, name):
    x = shendu.zeros(2, dtype=getattr(shendu, dtype))
    assert x.type() == f"shendu.{name}"
    assert torch.zeros(2, dtype=getattr(torch, dtype)).type() == f"torch.{name}"


def test_type_with_an_argument_still_converts():
    x = shendu.tensor([1.5, -2.5])
    assert x.type(shendu.float64).dtype == shendu.float64
    assert x.type("shendu.DoubleTensor").dtype == shendu.float64
    assert x.type("torch.LongTensor").type() == "shendu.LongTensor"
    assert x.type(shendu.IntTensor).tolist() == torch.tensor([1.5, -2.5]).type(torch.IntTensor).tolist()
