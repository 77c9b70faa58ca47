"""The optional C kernels of ReLU (shendu.ops._activation) against the NumPy passes they replace.

ReLU's forward (also in place) and backward on float32 arrays that share one memory order run them (shared between
threads by pieces); NumPy's maximum(x, 0) and gy · (y > 0) are the oracles, and PyTorch's relu and
threshold_backward give the same where the arrays hold NaN or infinities. Arrays below
``activation.KERNEL_MIN_SIZE`` keep NumPy's pass; the tests lower it to reach the kernels with small arrays.
"""

import contextlib

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


@contextlib.contextmanager
def _kernels_on(compiled):
    """The kernels switched on (for every size: small arrays otherwise keep NumPy's pass) or off."""
    previous, smallest = _compiled.set_enabled(compiled), activation.KERNEL_MIN_SIZE
    activation.KERNEL_MIN_SIZE = 1
    try:
        yield
    finally:
        _compiled.set_enabled(previous)
        activation.KERNEL_MIN_SIZE = smallest


def _relu_input_grad(x, gy, compiled):
    with _kernels_on(compiled):
        inputs = shendu.from_numpy(x).requires_grad_()
        shendu.relu(inputs).backward(shendu.from_numpy(gy))
        return inputs.grad.numpy()


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


def _relu_forward(x, compiled, in_place=False):
    with _kernels_on(compiled):
        tensor = shendu.from_numpy(x.copy(order="K"))
        return (tensor.relu_() if in_place else shendu.relu(tensor)).numpy()


@needs_kernel
@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), elements=st.floats(width=32)),
       in_place=st.booleans())  # fmt: skip
def test_relu_forward_kernel_matches_numpy_and_torch_nan_and_infinities_included(x, in_place):
    got = _relu_forward(x, True, in_place)
    np.testing.assert_array_equal(got, _relu_forward(x, False, in_place))
    np.testing.assert_array_equal(got, torch.relu(torch.from_numpy(x)).numpy())


@needs_kernel
def test_relu_forward_kernel_keeps_a_channels_last_layout_and_shares_threads(monkeypatch):
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    x = np.random.default_rng(0).standard_normal((16, 45, 47, 32)).astype(np.float32).transpose(0, 3, 1, 2)
    out = shendu.relu(shendu.from_numpy(x)).numpy()
    assert out.strides == x.strides
    np.testing.assert_array_equal(out, np.maximum(x, 0))


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


@needs_kernel
def test_relu_kernel_rejects_arrays_that_do_not_fit():
    with pytest.raises(ValueError, match=r"relu: y must be a C-contiguous array of 4 values"):
        kernels.relu(np.zeros(4, np.float32), np.zeros(5, np.float32), 0, 4)
    with pytest.raises(ValueError, match=r"relu: elements \[0, 5\) are not within the 4 there are"):
        kernels.relu(np.zeros(4, np.float32), np.zeros(4, np.float32), 0, 5)
    with pytest.raises(ValueError, match="contiguous"):
        kernels.relu(np.zeros(4, np.float32), np.zeros(4, np.float32)[::-1], 0, 4)


@needs_kernel
@pytest.mark.parametrize("threads", ["1", "2"])
def test_relu_backward_kernel_takes_a_gradient_laid_out_otherwise(monkeypatch, threads):
    """gy cropped out of a larger array (as a depthwise convolution's input gradient) against a channels-last y."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 66, 66, 32)).astype(np.float32)[:, 1:-1, 1:-1, :].copy().transpose(0, 3, 1, 2)
    grid = rng.standard_normal((16, 66, 66, 32)).astype(np.float32)
    gy = grid[:, 1:-1, 1:-1, :].transpose(0, 3, 1, 2)  # not one block of memory
    got = _relu_input_grad(x, gy, True)
    np.testing.assert_array_equal(got, gy * (x > 0))
    np.testing.assert_array_equal(got, _relu_input_grad(x, gy, False))


@needs_kernel
@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), elements=st.floats(width=32)),
       slope=st.sampled_from([0.01, 0.2, 1.0, 0.0, 1.5, -0.1]))  # fmt: skip
def test_leaky_relu_kernels_match_torch_nan_infinities_and_any_slope_included(x, slope):
    gy = np.cos(np.nan_to_num(x, posinf=1, neginf=-1)).astype(np.float32)
    with _kernels_on(True):
        inputs = shendu.from_numpy(x).requires_grad_()
        out = shendu.nn.functional.leaky_relu(inputs, slope)
        out.backward(shendu.from_numpy(gy))
    reference = torch.from_numpy(x).requires_grad_()
    expected = torch.nn.functional.leaky_relu(reference, slope)
    expected.backward(torch.from_numpy(gy))
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(inputs.grad.numpy(), reference.grad.numpy())


@needs_kernel
@pytest.mark.parametrize("threads", ["1", "2"])
def test_leaky_relu_kernels_agree_with_the_numpy_passes_in_any_layout(monkeypatch, threads):
    monkeypatch.setenv("SHENDU_NUM_THREADS", threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 64, 64, 32)).astype(np.float32).transpose(0, 3, 1, 2)  # channels-last, 8.4 MB
    cropped = rng.standard_normal((16, 66, 66, 32)).astype(np.float32)[:, 1:-1, 1:-1, :].transpose(0, 3, 1, 2)
    for gy in (np.ascontiguousarray(np.cos(x).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2), cropped):
        results = []
        for compiled in (True, False):
            with _kernels_on(compiled):
                inputs = shendu.from_numpy(x).requires_grad_()
                out = shendu.nn.functional.leaky_relu(inputs, 0.2)
                out.backward(shendu.from_numpy(gy))
                results.append((out.detach().numpy(), inputs.grad.numpy()))
        assert results[0][0].strides == x.strides
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want)


@needs_kernel
def test_leaky_relu_kernels_reject_arrays_that_do_not_fit():
    a, b = np.zeros(4, np.float32), np.zeros(5, np.float32)
    with pytest.raises(ValueError, match=r"leaky_relu: y must be a C-contiguous array of 4 values"):
        kernels.leaky_relu(a, b, 0.2, 0, 4)
    with pytest.raises(ValueError, match=r"leaky_relu_grad: elements \[0, 9\) are not within the 4 there are"):
        kernels.leaky_relu_grad(a, a, a.copy(), 0.2, 0, 9)
    with pytest.raises(TypeError, match="must be real number"):
        kernels.leaky_relu(a, a.copy(), "0.2", 0, 4)
