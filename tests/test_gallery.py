"""The activation gallery: curves from shendu's forward and backward, and the PNG."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from shendu import gallery  # noqa: E402


def test_derivatives_from_backward_match_the_formulas():
    curves = gallery.activation_curves()
    assert list(curves) == list(gallery.ACTIVATIONS)
    x, s, ds = curves["Sigmoid"]
    np.testing.assert_allclose(ds, s * (1 - s), atol=1e-6)  # σ' = σ(1-σ)
    _, t, dt = curves["Tanh"]
    np.testing.assert_allclose(t, 2 / (1 + np.exp(-2 * x)) - 1, atol=1e-6)  # tanh = 2σ(2x) - 1
    np.testing.assert_allclose(dt, 1 - t**2, atol=1e-6)
    _, _, dsp = curves["Softplus"]
    np.testing.assert_allclose(dsp, s, atol=1e-6)  # softplus' = σ
    _, sm, dsm = curves["Softmax"]
    np.testing.assert_allclose(sm, s, atol=1e-6)  # softmax([x, 0])₀ = σ(x), so its derivative is σ'
    np.testing.assert_allclose(dsm, ds, atol=1e-6)
    _, _, dr = curves["ReLU"]
    assert set(np.unique(dr)) <= {0.0, 1.0}
    _, _, dp = curves["PReLU"]
    np.testing.assert_allclose(dp[x < 0], 0.25)


def test_gallery_writes_a_png(tmp_path):
    path = tmp_path / "activations.png"
    curves = gallery.activation_gallery(str(path), points=101)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(len(x) == 101 for x, _, _ in curves.values())


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="Sigmund"):
        gallery.activation_curves(["Sigmund"])
