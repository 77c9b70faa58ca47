"""MaxUnpool1d/2d and LPPool1d/2d against PyTorch, values and gradients in float64."""

import numpy as np
import pytest
import torch

import shendu

RNG = np.random.default_rng(0)
X2, X1 = RNG.standard_normal((2, 3, 6, 7)), RNG.standard_normal((2, 3, 9))

CASES = {
    "unpool2d_output_size": lambda lib, t: lib.nn.MaxUnpool2d(2)(*lib.nn.MaxPool2d(2, return_indices=True)(t), output_size=t.size()),
    "unpool2d_stride": lambda lib, t: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(t, 3, 2, return_indices=True), 3, 2),
    "lppool2d": lambda lib, t: lib.nn.LPPool2d(2, 3, stride=2)(t.abs() + 0.1),
    "lppool2d_p3": lambda lib, t: lib.nn.functional.lp_pool2d(t.abs() + 0.1, 3, (2, 3)),
}  # fmt: skip
CASES_1D = {
    "unpool1d": lambda lib, t: lib.nn.MaxUnpool1d(3)(*lib.nn.MaxPool1d(3, return_indices=True)(t)),
    "lppool1d": lambda lib, t: lib.nn.LPPool1d(2, 2)(t.abs() + 0.1),
}


@pytest.mark.parametrize("name", list(CASES) + list(CASES_1D))
def test_equal_to_pytorch_with_gradients(name):
    fn, x = (CASES[name], X2) if name in CASES else (CASES_1D[name], X1)
    results = []
    for lib in (torch, shendu):
        t = lib.tensor(x, requires_grad=True)
        out = fn(lib, t)
        weights = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        (out * weights).sum().backward()
        results.append((out.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-14)


def test_bad_indices_are_named():
    pooled, indices = shendu.nn.MaxPool2d(2, return_indices=True)(shendu.randn(1, 1, 4, 4))
    with pytest.raises(ValueError, match="found an invalid max index 99"):
        shendu.nn.MaxUnpool2d(2)(pooled, shendu.full((1, 1, 2, 2), 99))
    with pytest.raises(ValueError, match="indices of shape \\[1, 1, 1, 2\\] do not match"):
        shendu.nn.MaxUnpool2d(2)(pooled, indices[:, :, :1])
