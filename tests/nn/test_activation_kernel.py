"""The optional C kernel of ReLU's backward (shendu.ops._activation) against the NumPy pass it replaces.

ReLU's backward on float32 arrays that share one memory order runs it (shared between threads by pieces); NumPy's
gy · (y > 0) is the oracle, and PyTorch's threshold_backward gives the same where gy holds NaN or infinities.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu
from shendu import _compiled
from shendu.ops import activation

kernels = activation._kernels
needs_kernel = pytest.mark.skipif(kernels is None, reason="shendu.ops._activation was not built")


def _relu_input_grad(x, gy, compiled):
    previous = _compiled.set_enabled(compiled)
    try:
        inputs = shendu.from_numpy(x).requires_grad_()
        shendu.relu(inputs).backward(shendu.from_numpy(gy))
        return inputs.grad.numpy()
    finally:
        _compiled.set_enabled(previous)


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), channels_last=st.booleans(), seed=st.integers(0, 9))
def test_relu_backward_kernel_matches_the_numpy_pass(shape, channels_last, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    x[rng.random(shape) < 0.2] = 0.0  # the kink: gradient 0, as PyTorch
    gy = rng.standard_normal(shape).astype(np.float32)
    if channels_last and len(shape) == 4:  # a convolution's output: NCHW view of channels-last memory
        x, gy = (np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) for a in (x, gy))
    np.testing.assert_array_equal(_relu_input_grad(x, gy, True), _relu_input_grad(x, gy, False))


@needs_kernel
def test_relu_backward_kernel_shared_between_threads_covers_every_element(monkeypatch):
    """An input big enough to be cut into pieces for two threads: every element written once, as the oracle."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 32, 45, 47)).astype(np.float32)  # 4.3 MB: two threads, pieces of an odd size
    gy = rng.standard_normal(x.shape).astype(np.float32)
    assert activation.pass_parts(x.nbytes) == 2
    np.testing.assert_array_equal(_relu_input_grad(x, gy, True), gy * (x > 0))


@needs_kernel
def test_relu_backward_kernel_gives_zero_where_the_input_was_not_positive_whatever_the_gradient():
    x = np.array([-1.0, 0.0, 2.0, np.nan, -np.inf, 3.0], np.float32)
    gy = np.array([np.nan, np.inf, np.nan, 5.0, -np.inf, -2.0], np.float32)
    expected = torch.ops.aten.threshold_backward(torch.from_numpy(gy), torch.relu(torch.from_numpy(x)), 0).numpy()
    got = np.empty_like(x)
    kernels.relu_grad(gy, np.maximum(x, 0), got, 0, x.size)
    np.testing.assert_array_equal(got, expected)


@needs_kernel
@pytest.mark.parametrize(
    "arrays, start, stop, error, message",
    [
        (lambda: (np.zeros(4, np.float32), np.zeros(3, np.float32), np.zeros(4, np.float32)), 0, 3, ValueError,
         "relu_grad: y must be a C-contiguous array of 4 values"),
        (lambda: (np.zeros(4), np.zeros(4), np.zeros(4)), 0, 4, TypeError, "relu_grad: gy has format 'd'"),
        (lambda: (np.zeros(4, np.float32),) * 3, 2, 9, ValueError, r"relu_grad: elements \[2, 9\) are not within the 4"),
        (lambda: (np.zeros(4, np.float32), np.zeros(4, np.float32), np.zeros(4, np.float32)[::-1]), 0, 4, ValueError,
         "contiguous"),
    ],
)  # fmt: skip
def test_relu_grad_kernel_rejects_arrays_that_do_not_fit(arrays, start, stop, error, message):
    with pytest.raises(error, match=message):
        kernels.relu_grad(*arrays(), start, stop)
