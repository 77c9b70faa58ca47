"""shendu._parallel: the shared worker threads, how work is split, and the BLAS kept to one thread after them."""

import threading

import numpy as np
import pytest

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
