"""F.interpolate and nn.Upsample against PyTorch: outputs and gradients in float64, every mode and sizing rule."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F

CASES = [
    ("nearest", {"scale_factor": 2}), ("nearest", {"size": (7, 5)}), ("nearest", {"scale_factor": 2.5}),
    ("nearest", {"scale_factor": (0.5, 1.5)}), ("nearest-exact", {"size": (9, 4)}), ("nearest-exact", {"scale_factor": 1.7}),
    ("bilinear", {"scale_factor": 2}), ("bilinear", {"size": (8, 3)}), ("bilinear", {"scale_factor": 2.5, "align_corners": True}),
    ("bilinear", {"size": (4, 9), "align_corners": True}), ("bilinear", {"scale_factor": 0.6}),
    ("bilinear", {"scale_factor": 1.5, "recompute_scale_factor": True}), ("area", {"size": (2, 3)}),
]  # fmt: skip


@pytest.mark.parametrize(("mode", "kwargs"), CASES, ids=[f"{m}-{k}" for m, k in CASES])
def test_interpolate_2d_equals_pytorch(mode, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    xt, xs = torch.tensor(x, requires_grad=True), shendu.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, mode=mode, **kwargs)
    ys = F.interpolate(xs, mode=mode, **kwargs)
    assert tuple(ys.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (yt * torch.tensor(g)).sum().backward()
    (ys * shendu.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize(("mode", "kwargs"), [("nearest", {"scale_factor": 3}), ("linear", {"size": 11}), ("linear", {"scale_factor": 0.5, "align_corners": True})])
def test_interpolate_1d_equals_pytorch(mode, kwargs):
    x = np.random.default_rng(2).standard_normal((2, 3, 7))
    expected = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kwargs).numpy()
    np.testing.assert_allclose(F.interpolate(shendu.tensor(x), mode=mode, **kwargs).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_upsample_layers_equal_pytorchs():
    x = np.random.default_rng(3).standard_normal((1, 2, 3, 4)).astype(np.float32)
    for ours, theirs in ((nn.Upsample(scale_factor=2, mode="bilinear"), torch.nn.Upsample(scale_factor=2, mode="bilinear")),
                         (nn.UpsamplingNearest2d(size=(5, 7)), torch.nn.UpsamplingNearest2d(size=(5, 7))),
                         (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2))):  # fmt: skip
        np.testing.assert_allclose(ours(shendu.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
        assert repr(ours) == repr(theirs)


def test_interpolate_checks_its_arguments_as_pytorch():
    x = shendu.ones(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, scale_factor=2, mode="nearest", align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(shendu.ones(1, 1, 4), scale_factor=2, mode="bilinear")
