"""AlphaDropout and FeatureAlphaDropout: PyTorch's constants (dropped value, gradient scale) and statistics."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn.functional as F


def _run(lib, layer, x):
    t = lib.tensor(x, requires_grad=True)
    y = layer.train()(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_has_pytorchs_values_gradients_and_moments(p):
    x = np.random.default_rng(0).standard_normal(200_000).astype(np.float32)
    shendu.manual_seed(0)
    torch.manual_seed(0)
    (ty, tg), (sy, sg) = (_run(lib, lib.nn.AlphaDropout(p), x) for lib in (torch, shendu))
    for y, g in ((ty, tg), (sy, sg)):
        assert abs((g == 0).mean() - p) < 0.01 and abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    np.testing.assert_allclose(np.unique(sg[sg != 0]), np.unique(tg[tg != 0]), rtol=1e-6)  # the scale a
    np.testing.assert_allclose(np.unique(sy[sg == 0]), np.unique(ty[tg == 0]), rtol=1e-5)  # a·α′ + b
    kept = sg != 0
    a, dropped_value = sg[kept][0], sy[~kept][0]
    b = dropped_value - a * -1.7580993408473766  # dropped units are a·α′ + b, kept ones a·x + b
    np.testing.assert_allclose(sy[kept], a * x[kept] + b, rtol=1e-5, atol=1e-6)


def test_feature_alpha_dropout_drops_whole_channels_and_eval_is_the_identity():
    shendu.manual_seed(1)
    x = shendu.randn(8, 16, 5, 5)
    y = shendu.nn.FeatureAlphaDropout(0.5).train()(x).numpy()
    dropped = np.isclose(y, y[..., :1, :1]).all(axis=(2, 3))  # a dropped channel holds one value
    assert 0.3 < dropped.mean() < 0.7
    layer = shendu.nn.AlphaDropout(0.5).eval()
    assert layer(x) is x and F.alpha_dropout(x, 0.5) is x  # the functional form defaults to training=False
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        shendu.nn.AlphaDropout(1.5)
