"""The optional C kernel of an LSTM step (shendu.ops._lstm_cell) against the NumPy loop it replaces.

Forward: its exp and tanh are its own (Cephes, vectorised), so it is compared with float64 truth in
ulps and with the NumPy path within float32 rounding. Backward: the same operations in the same
order, so the same numbers bit for bit. PyTorch parity of the LSTM (test_recurrent.py) runs through
whichever path is active: the kernel, wherever pip could build it.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu import _compiled
from shendu.ops import recurrent

kernel = recurrent._lstm_cell
needs_kernel = pytest.mark.skipif(kernel is None, reason="shendu.ops._lstm_cell was not built")


def _ulps(got, exact):
    """|got − exact| in units of the float32 spacing at ``exact``."""
    spacing = np.spacing(np.abs(exact.astype(np.float32))).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def _forward(pre, c_prev=None):
    hn = pre.size // 4
    a = pre.astype(np.float32).copy()
    c_prev = np.zeros(hn, np.float32) if c_prev is None else c_prev
    c, tanh_c, h = (np.empty(hn, np.float32) for _ in range(3))
    kernel.forward_step(a, c_prev, c, tanh_c, h)
    return a, c, tanh_c, h


@needs_kernel
@pytest.mark.parametrize("scale", [1e-3, 0.3, 1.0, 4.0, 20.0])
def test_forward_gates_are_within_three_ulps_of_the_exact_values(scale):
    hn = 1 << 14
    pre = (np.random.default_rng(0).standard_normal(4 * hn) * scale).astype(np.float32)
    a, c, tanh_c, h = _forward(pre)
    x = pre.astype(np.float64)
    sigmoid = 1 / (1 + np.exp(x[: 3 * hn]))  # the sigmoid rows hold the negated pre-activation
    normal = sigmoid > np.finfo(np.float32).tiny  # below that, float32 flushes (as NumPy's float32 exp)
    assert _ulps(a[: 3 * hn][normal], sigmoid[normal]).max() <= 3
    assert _ulps(a[3 * hn :], np.tanh(x[3 * hn :])).max() <= 3
    # the cell update: c = f·0 + i·g, tanh(c), h = o·tanh(c), from the kernel's own gates
    o, i, f, g = (a[k * hn : (k + 1) * hn] for k in range(4))
    np.testing.assert_array_equal(c, f * np.float32(0) + i * g)
    assert _ulps(tanh_c, np.tanh(c.astype(np.float64))).max() <= 3
    np.testing.assert_array_equal(h, o * tanh_c)


@needs_kernel
def test_forward_handles_infinities_nan_and_signed_zero():
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 90.0, -90.0, 1e-30, -1e-30, 0.625, -0.625], np.float32)
    hn = special.size
    pre = np.zeros(4 * hn, np.float32)
    pre[:hn] = special  # a sigmoid row (holding -a)
    pre[3 * hn :] = special  # the tanh row
    a, *_ = _forward(pre)
    with np.errstate(over="ignore"):
        expected_sigmoid = 1 / (1 + np.exp(special))
    np.testing.assert_allclose(a[:hn], expected_sigmoid, rtol=3e-7, atol=0)  # inf → 0, -inf → 1, nan stays nan
    assert a[2] == 0 and a[3] == 1 and np.isnan(a[4]) and a[5] == 0 and a[6] == 1
    tanh = a[3 * hn :]
    np.testing.assert_allclose(tanh, np.tanh(special), rtol=3e-7, atol=0)
    assert np.signbit(tanh[1]) and not np.signbit(tanh[0])
    assert np.isnan(tanh[4]) and tanh[2] == 1 and tanh[3] == -1


def _lstm_run(compiled, batch_first, bidirectional, with_output_grad):
    previous = _compiled.set_enabled(compiled)
    try:
        shendu.manual_seed(3)
        lstm = shendu.nn.LSTM(6, 5, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
        rng = np.random.default_rng(4)
        shape = (3, 7, 6) if batch_first else (7, 3, 6)
        x = shendu.tensor(rng.uniform(-2, 2, shape).astype(np.float32), requires_grad=True)
        out, (h, c) = lstm(x)
        loss = (h * h).sum() + c.sum()
        if with_output_grad:
            loss = loss + (out * shendu.tensor(rng.standard_normal(out.shape).astype(np.float32))).sum()
        loss.backward()
        grads = [p.grad.numpy().copy() for p in lstm.parameters()]
        return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy()] + grads
    finally:
        _compiled.set_enabled(previous)


@needs_kernel
@pytest.mark.parametrize("batch_first, bidirectional", [(False, False), (True, True)])
@pytest.mark.parametrize("with_output_grad", [False, True])
def test_lstm_with_the_kernel_matches_the_numpy_loop(batch_first, bidirectional, with_output_grad):
    with_kernel = _lstm_run(True, batch_first, bidirectional, with_output_grad)
    without = _lstm_run(False, batch_first, bidirectional, with_output_grad)
    for mine, theirs in zip(with_kernel, without):
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-6)


@needs_kernel
def test_backward_step_equals_the_numpy_operations_bit_for_bit():
    rng = np.random.default_rng(5)
    hn = 333
    fd, f, dc, dh_rec, g = (rng.standard_normal(n * hn).astype(np.float32) for n in (5, 1, 1, 1, 1))
    for output_grad in (None, g):
        mine_fd, mine_dc = fd.copy(), dc.copy()
        kernel.backward_step(mine_fd, f, mine_dc, dh_rec, output_grad)
        rows, cell = fd.copy().reshape(5, hn), dc.copy()
        dh = dh_rec if output_grad is None else np.add(output_grad, dh_rec)
        np.multiply(dh, rows[:2], out=rows[:2])
        cell += rows[0]
        np.multiply(cell, rows[2:], out=rows[2:])
        cell *= f
        np.testing.assert_array_equal(mine_fd, rows.reshape(-1))
        np.testing.assert_array_equal(mine_dc, cell)


@needs_kernel
def test_the_kernel_refuses_arrays_it_cannot_use():
    ones = np.ones(8, np.float32)
    with pytest.raises(
        ValueError, match=r"forward_step: c_prev must be a C-contiguous array of 8 values of format 'f' like a"
    ):
        kernel.forward_step(np.ones(32, np.float32), np.ones(7, np.float32), ones.copy(), ones.copy(), ones.copy())
    with pytest.raises(TypeError, match=r"forward_step: a has format 'd'; expected one of 'f' \(f: float32"):
        kernel.forward_step(np.ones(32, np.float64), ones, ones.copy(), ones.copy(), ones.copy())
    with pytest.raises(ValueError, match=r"forward_step: a has 30 values; expected a multiple of 4"):
        kernel.forward_step(np.ones(30, np.float32), ones, ones.copy(), ones.copy(), ones.copy())
    with pytest.raises(
        ValueError, match=r"backward_step: g must be a C-contiguous array of 8 values of format 'f' like fd"
    ):
        kernel.backward_step(np.ones(40, np.float32), ones, ones.copy(), ones, np.ones(8, np.float64))
    with pytest.raises(ValueError, match="not C-contiguous"):
        kernel.forward_step(np.ones(64, np.float32)[::2], ones, ones.copy(), ones.copy(), ones.copy())
    with pytest.raises(TypeError):  # not a buffer, after others were taken: they are released, nothing runs
        kernel.backward_step(np.ones(40, np.float32), ones, ones.copy(), ones, [1.0] * 8)
    with pytest.raises(TypeError, match="forward_step expected 5 arguments, got 4"):
        kernel.forward_step(ones, ones, ones, ones)


def test_float64_and_switched_off_use_the_numpy_loop():
    assert recurrent._lstm_kernel(np.dtype(np.float64)) is None
    previous = _compiled.set_enabled(False)
    try:
        assert recurrent._lstm_kernel(np.dtype(np.float32)) is None
    finally:
        _compiled.set_enabled(previous)


def test_without_the_extension_the_lstm_runs_the_numpy_loop():
    code = (
        "import sys; sys.modules['shendu.ops._lstm_cell'] = None\n"  # makes importing it raise ImportError
        "import shendu\n"
        "from shendu.ops import recurrent\n"
        "shendu.manual_seed(0)\n"
        "out, (h, c) = shendu.nn.LSTM(3, 4)(shendu.randn(5, 2, 3))\n"
        "print(recurrent._lstm_cell, tuple(out.shape))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None (5, 2, 4)"
