"""Margin, embedding and likelihood losses against PyTorch: values and float64 gradients, every reduction."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn

RNG = np.random.default_rng(0)
X1, X2 = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))
SIGNS = np.where(RNG.random(6) > 0.5, 1.0, -1.0)
CASES = [
    ("MarginRankingLoss", {"margin": 0.3}, [X1[:, 0], X2[:, 0], SIGNS]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [X1, X2, SIGNS]),
    ("HingeEmbeddingLoss", {"margin": 0.7}, [X1, np.where(RNG.random((6, 4)) > 0.5, 1.0, -1.0)]),
    ("TripletMarginLoss", {"margin": 0.5}, [X1, X2, RNG.standard_normal((6, 4))]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, [X1, X2, RNG.standard_normal((6, 4))]),
    ("SoftMarginLoss", {}, [X1, np.where(RNG.random((6, 4)) > 0.5, 1.0, -1.0)]),
    ("MultiLabelSoftMarginLoss", {}, [X1, (RNG.random((6, 4)) > 0.5).astype(float)]),
    ("PoissonNLLLoss", {}, [X1, RNG.poisson(2.0, (6, 4)).astype(float)]),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, [np.abs(X1) + 0.1, RNG.poisson(3.0, (6, 4)).astype(float)]),
    ("GaussianNLLLoss", {"full": True}, [X1, X2, np.abs(RNG.standard_normal((6, 4))) + 1e-7]),
    ("GaussianNLLLoss", {}, [X1, X2, np.abs(RNG.standard_normal((6, 1))) + 0.1]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs", "arrays"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_equal_pytorch(name, kwargs, arrays, reduction):
    reference = getattr(torch.nn, name)(reduction=reduction, **kwargs)
    ours = getattr(nn, name)(reduction=reduction, **kwargs)
    differentiable = {"MarginRankingLoss": (0, 1), "CosineEmbeddingLoss": (0, 1), "TripletMarginLoss": (0, 1, 2),
                      "GaussianNLLLoss": (0, 1, 2)}.get(name, (0,))  # fmt: skip
    grads = [i in differentiable for i in range(len(arrays))]
    t_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    s_in = [shendu.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    lt, ls = reference(*t_in), ours(*s_in)
    np.testing.assert_allclose(ls.detach().numpy(), lt.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = RNG.standard_normal(tuple(lt.shape))
    (lt * torch.tensor(weights)).sum().backward()
    (ls * shendu.tensor(weights)).sum().backward()
    for s, t in zip(s_in, t_in):
        if t.requires_grad:
            np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert repr(ours).split("(")[0] == repr(reference).split("(")[0]
