"""The optional C kernels of batch normalisation (shendu.ops._batch_norm) against the NumPy passes they replace.

Training batch norm on channels-last float32 inputs runs them; the NumPy path over the same (M, C) rows
(``_forward_rows``/``_backward_rows``) is the oracle: outputs, all three gradients and the running
statistics agree within float32 rounding, and both agree with float64. PyTorch parity of BatchNorm
(test_normalization.py and the model tests) runs through whichever path is active.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from shendu import _compiled, _parallel
from shendu.ops import normalization

kernels = normalization._kernels
needs_kernel = pytest.mark.skipif(kernels is None, reason="shendu.ops._batch_norm was not built")


def _channels_last(array):
    return np.ascontiguousarray(np.moveaxis(array, 1, -1)).transpose(0, array.ndim - 1, *range(1, array.ndim - 1))


def _train_step(x, affine, compiled, dtype=np.float32):
    """Output, ∂L/∂x, ∂L/∂γ, ∂L/∂β and the running statistics after one training forward and backward."""
    previous = _compiled.set_enabled(compiled)
    try:
        layer = (shendu.nn.BatchNorm2d if x.ndim == 4 else shendu.nn.BatchNorm1d)(x.shape[1], affine=affine)
        if dtype == np.float64:
            layer = layer.double()
        if affine:
            rng = np.random.default_rng(3)
            layer.weight.data = shendu.tensor(rng.uniform(0.5, 2, x.shape[1]).astype(dtype))
            layer.bias.data = shendu.tensor(rng.standard_normal(x.shape[1]).astype(dtype))
        inputs = shendu.from_numpy(_channels_last(x.astype(dtype)) if x.ndim == 4 else x.astype(dtype))
        inputs.requires_grad_()
        out = layer(inputs)
        assert out.grad_fn.compiled == (compiled and dtype == np.float32)
        seed = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        (out * shendu.tensor(seed)).sum().backward()
        grads = [inputs.grad.numpy()] + ([layer.weight.grad.numpy(), layer.bias.grad.numpy()] if affine else [])
        return [out.detach().numpy()] + grads + [layer.running_mean.numpy(), layer.running_var.numpy()]
    finally:
        _compiled.set_enabled(previous)


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 19), h=st.integers(1, 7), w=st.integers(1, 6), affine=st.booleans(),
       flat=st.booleans(), offset=st.sampled_from([0.0, 30.0]))  # fmt: skip
def test_batch_norm_kernels_match_the_numpy_passes_and_float64(n, c, h, w, affine, flat, offset):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n * h * w, c) if flat else (n, c, h, w)) * 2 + offset
    compiled, plain = _train_step(x, affine, True), _train_step(x, affine, False)
    exact = _train_step(x, affine, False, np.float64)
    for got, oracle, truth in zip(compiled, plain, exact):
        # a channel whose few values nearly coincide is ill-conditioned in float32 for both paths: the kernels
        # must be as close to float64 as the NumPy passes they replace, or within float32 rounding of it
        scale = max(1.0, float(np.abs(truth).max()))
        rounding = 2e-6 * scale * (1 + offset) * np.sqrt(x.size)
        assert np.abs(got - truth).max() <= 2 * np.abs(oracle - truth).max() + rounding


@needs_kernel
def test_the_kernels_run_for_channels_last_float32_training_only():
    x = shendu.from_numpy(_channels_last(np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)))
    layer = shendu.nn.BatchNorm2d(3)
    assert layer(x).grad_fn.compiled
    assert not layer.double()(x.double()).grad_fn.compiled
    layer.float().eval()
    with shendu.no_grad():
        layer(x)  # the inference path: no Function
    assert not layer(x).grad_fn.compiled


@needs_kernel
def test_threads_share_the_rows(monkeypatch):
    x = np.random.default_rng(5).standard_normal((8, 6, 9, 9))
    monkeypatch.setattr(_parallel, "PASS_PIECE_BYTES", 64)
    monkeypatch.setenv("SHENDU_NUM_THREADS", "1")
    single = _train_step(x, True, True)
    monkeypatch.setenv("SHENDU_NUM_THREADS", "3")
    shared = _train_step(x, True, True)
    for a, b in zip(shared, single):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * max(1.0, float(np.abs(b).max())))


@needs_kernel
def test_the_kernels_refuse_arrays_that_do_not_fit():
    rows, mean, out = np.zeros((6, 4), np.float32), np.zeros(4, np.float32), np.zeros(4)
    kernels.moments(rows, None, out, 0, 6)
    with pytest.raises(TypeError, match="moments: out must be float64; got format 'f'"):
        kernels.moments(rows, None, out.astype(np.float32), 0, 6)
    with pytest.raises(ValueError, match="moments: mean must hold 4 values; got 3"):
        kernels.moments(rows, mean[:3], out, 0, 6)
    with pytest.raises(ValueError, match=r"moments: rows \[2, 7\) are not within the 6 there are"):
        kernels.moments(rows, None, out, 2, 7)
    with pytest.raises(ValueError, match=r"moments: x must be an \(M, C\) matrix; got 1 dimensions"):
        kernels.moments(rows.reshape(-1), None, out, 0, 6)
    with pytest.raises(ValueError, match=r"normalize: y has shape \(6, 3\); expected \(6, 4\)"):
        kernels.normalize(rows, mean, mean, mean, np.zeros((6, 3), np.float32), 0, 6)
    with pytest.raises(ValueError, match="grad_moments: out must hold 8 values; got 4"):
        kernels.grad_moments(rows, rows, mean, out, 0, 6)


@needs_kernel
@pytest.mark.parametrize("affine", [True, False])
def test_inference_kernel_matches_the_numpy_passes(affine):
    """Eval mode under no_grad: (x − μ)·a + β in one pass of the kernel, against x·a + (β − μ·a) in NumPy."""
    rng = np.random.default_rng(7)
    layer = shendu.nn.BatchNorm2d(6, affine=affine)
    layer.running_mean.data = shendu.tensor(rng.standard_normal(6).astype(np.float32) * 3)
    layer.running_var.data = shendu.tensor(rng.uniform(0.2, 4, 6).astype(np.float32))
    layer.eval()
    x = shendu.from_numpy(_channels_last(rng.standard_normal((3, 6, 5, 4)).astype(np.float32)))
    results = []
    for compiled in (True, False):
        previous = _compiled.set_enabled(compiled)
        try:
            with shendu.no_grad():
                results.append(layer(x).numpy())
        finally:
            _compiled.set_enabled(previous)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-5)
    assert results[0].transpose(0, 2, 3, 1).flags.c_contiguous
