"""shendu._parallel: the shared worker threads, how work is split, and the BLAS kept to one thread after them."""

import threading

import numpy as np
import pytest

import shendu
from shendu import _parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_run_split_covers_the_range_once_in_consecutive_parts():
    seen, lock = [], threading.Lock()

    def job(k, start, stop):
        with lock:
            seen.append((k, start, stop))

    _parallel.run_split(job, 10, 3)
    assert sorted(seen) == [(0, 0, 3), (1, 3, 6), (2, 6, 10)]
    seen.clear()
    _parallel.run_split(job, 2, 5)  # never more parts than items
    assert sorted(seen) == [(0, 0, 1), (1, 1, 2)]


def test_run_split_raises_what_a_part_raised():
    def job(k, start, stop):
        if k == 1:
            raise ValueError("part 1 failed")

    with pytest.raises(ValueError, match="part 1 failed"):
        _parallel.run_split(job, 4, 2)


def test_blas_runs_on_one_thread_only_right_after_threaded_kernels(monkeypatch):
    def blas_threads():
        return max(pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas")

    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        monkeypatch.setitem(_parallel._state, "threaded_until", 0.0)
        with _parallel.quiet_blas():
            assert blas_threads() == 2  # no kernel shared work lately: as set
        _parallel.run_split(lambda k, start, stop: None, 4, 2)
        with _parallel.quiet_blas():
            assert blas_threads() == 1
        assert blas_threads() == 2  # restored


def test_flat_in_memory_views_contiguous_blocks_in_memory_order():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 4, 5, 3).transpose(0, 3, 1, 2)  # channels-last NCHW
    flat = _parallel.flat_in_memory(x)
    assert flat is not None and np.shares_memory(flat, x)
    np.testing.assert_array_equal(flat, np.arange(x.size))
    assert _parallel.flat_in_memory(x[:, :, 1:]) is None  # a crop is no single block


def _single_then_shared(monkeypatch, run, threads="2"):
    """``run()``'s arrays on one thread, then on ``threads`` with every pass over memory cut into pieces: equal, each
    to each. Returns the shared run's."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "1")
    single = run()
    monkeypatch.setattr(_parallel, "PASS_PIECE_BYTES", 64)
    monkeypatch.setenv("SHENDU_NUM_THREADS", threads)
    shared = run()
    for a, b in zip(shared, single):
        np.testing.assert_array_equal(a, b)
    return shared


def test_shared_relu_and_padding_equal_the_one_thread_passes(monkeypatch):
    import shendu
    import shendu.nn.functional as F
    from shendu.ops import conv

    x = np.random.default_rng(0).standard_normal((4, 8, 30, 30)).astype(np.float32).transpose(0, 2, 3, 1).copy()
    x = x.transpose(0, 3, 1, 2)  # channels-last, as conv outputs are

    def relu_and_grad():
        t = shendu.from_numpy(x).requires_grad_()
        y = F.relu(t)
        y.backward(shendu.from_numpy(np.cos(x)))
        return y.detach().numpy(), t.grad.numpy(), conv.pad_spatial(x, (1, 2, 2, 1))

    shared = _single_then_shared(monkeypatch, relu_and_grad)
    assert shared[0].transpose(0, 2, 3, 1).flags.c_contiguous  # the output keeps the input's layout


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pooling_shared_by_samples_equals_one_thread(monkeypatch, kernel, stride, padding):
    import shendu
    import shendu.nn.functional as F

    x = np.random.default_rng(1).standard_normal((6, 8, 17, 17)).astype(np.float32)
    x[:, :, ::3, ::3] = x[:, :, 1::3, 1::3][:, :, : x[:, :, ::3, ::3].shape[2], : x[:, :, ::3, ::3].shape[3]]  # ties

    def pool_and_grad():
        t = shendu.from_numpy(x).requires_grad_()
        y = F.max_pool2d(t, kernel, stride, padding)
        y.backward(shendu.from_numpy(np.sin(y.detach().numpy())))
        return y.detach().numpy(), t.grad.numpy()

    _single_then_shared(monkeypatch, pool_and_grad, threads="3")


def test_a_cnn_trained_twice_on_two_threads_ends_bit_identical(monkeypatch):
    """manual_seed's promise with the kernels' threads: pieces taken by whichever thread is free write disjoint
    outputs, partial sums are per part, and the BLAS thread switch does not change a GEMM's numbers."""
    import shendu
    import shendu.nn as nn

    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    monkeypatch.setattr("shendu.ops.conv.DIRECT_MACS_PER_THREAD", 1)  # share even these small layers

    def train():
        shendu.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))  # fmt: skip
        optimizer = shendu.optim.Adam(model.parameters(), 1e-3)
        rng = np.random.default_rng(0)
        for _ in range(4):
            x = shendu.from_numpy(rng.standard_normal((16, 3, 16, 16)).astype(np.float32))
            y = shendu.from_numpy(rng.integers(0, 10, 16))
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    first, second = train(), train()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_shared_add_equals_numpy_and_keeps_the_memory_order(monkeypatch):
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((8, 64, 64, 32)).astype(np.float32).transpose(0, 3, 1, 2) for _ in range(2))
    assert _parallel.pass_parts(a.nbytes) == 2
    total = _parallel.shared_add(a, b)
    assert total.strides == a.strides
    np.testing.assert_array_equal(total, a + b)
    c = np.ascontiguousarray(b)  # another memory order: NumPy's a + b, the same numbers
    np.testing.assert_array_equal(_parallel.shared_add(a, c), a + b)


def test_residual_adds_shared_between_threads_stay_quiet_and_give_gradients(monkeypatch):
    """Worker threads run in the caller's context: an overflow inside shendu stays silent there too (the suite turns
    warnings into errors), as PyTorch's 3e38 + 3e38 = inf."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    big = np.full((8, 32, 64, 64), 3e38, np.float32)  # 4.2 MB: two threads
    a, b = shendu.tensor(big, requires_grad=True), shendu.tensor(big, requires_grad=True)
    total = a + b
    assert np.isposinf(total.detach().numpy()).all()
    (total + a).sum().backward()  # a feeds two branches: its gradients summed by shared_add
    np.testing.assert_array_equal(a.grad.numpy(), np.full(big.shape, 2, np.float32))


def test_leaky_relu_shared_by_samples_equals_one_thread(monkeypatch):
    import shendu.nn.functional as F

    x = np.random.default_rng(0).standard_normal((6, 30, 30, 8)).astype(np.float32).transpose(0, 3, 1, 2)

    def forward_and_grad():
        t = shendu.from_numpy(x).requires_grad_()
        y = F.leaky_relu(t, 0.2)
        y.backward(shendu.from_numpy(np.cos(x)))
        return y.detach().numpy(), t.grad.numpy()

    shared = _single_then_shared(monkeypatch, forward_and_grad)
    np.testing.assert_array_equal(shared[0], np.where(x > 0, x, np.float32(0.2) * x))
