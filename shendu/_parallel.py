"""The worker threads shared by shendu's kernels that release the GIL (the optimisers' flat updates, the
direct convolution), and how many of them to use."""

import contextlib
import contextvars
import functools
import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy

__all__ = ["num_threads", "get_pool", "run_split", "run_shared", "run_split_sum", "quiet_blas", "flat_in_memory",
           "pass_parts", "shared_add"]
PIECES_PER_THREAD = 3  # run_shared cuts a job into this many pieces per thread, taken by whichever thread is free

_state: dict = {"pool": None, "size": 0, "pid": None, "threaded_until": 0.0, "blas": None}
QUIET_SECONDS = 0.5  # after a kernel shared its work between threads, BLAS calls run on one thread this long


def num_threads():
    """Threads for a large job: SHENDU_NUM_THREADS, else OMP_NUM_THREADS, else the usable CPUs (at most 8)."""
    for name in ("SHENDU_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.strip().isdigit() and int(value) > 0:
            return min(int(value), 8)
    return _usable_cpus(os.getpid())


@functools.lru_cache(maxsize=4)
def _usable_cpus(pid):
    """The CPUs this process may run on, at most 8, asked once a process. NOTE: a system call each time, for each of
    the ~130 kernels and passes of a resnet18 forward."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    return max(1, min(count, 8))


def get_pool(workers):
    """The worker threads (made again in a forked child, which inherits the pool but not its threads)."""
    if _state["pool"] is None or _state["size"] < workers or _state["pid"] != os.getpid():
        _state["pool"] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shendu-worker")
        _state["size"], _state["pid"] = workers, os.getpid()
    return _state["pool"]


def _run_together(calls):
    """Run the first of ``calls`` in this thread and the others in the pool; return when all are done (re-raising
    the first error). Marks the moment for :func:`quiet_blas`."""
    _state["threaded_until"] = time.monotonic() + QUIET_SECONDS
    # each worker runs in a copy of this thread's context: NumPy's error state (quiet inside shendu) goes along
    futures = [get_pool(len(calls) - 1).submit(contextvars.copy_context().run, call) for call in calls[1:]]
    calls[0]()
    for future in futures:
        future.result()


def run_split(job, total, parts):
    """Call ``job(k, start, stop)`` for ``parts`` consecutive ranges covering [0, total), part 0 in this thread
    and the others in the pool; returns when all are done (re-raising the first error)."""
    parts = max(1, min(parts, total))
    if parts == 1:
        job(0, 0, total)
        return
    bounds = [total * k // parts for k in range(parts + 1)]
    _run_together([functools.partial(job, k, bounds[k], bounds[k + 1]) for k in range(parts)])


def run_shared(job, total, threads, pieces=None):
    """Call ``job(start, stop)`` on pieces of [0, total) taken in turn by ``threads`` threads (this one and the pool's):
    a thread that finishes its piece takes the next, so a worker that woke late or was preempted does not leave the
    others waiting. Only for jobs whose pieces write disjoint outputs (the result does not depend on who ran what).
    ``pieces``: how many (``PIECES_PER_THREAD`` a thread unless given), at most ``total``.

    NOTE: with one fixed range per thread, ResNet-20's main thread waited for the worker ~30 ms a step (of ~330).
    """
    threads = max(1, min(threads, total))
    if threads == 1:
        job(0, total)
        return
    count = min(total, pieces or threads * PIECES_PER_THREAD)
    bounds = [total * k // count for k in range(count + 1)]
    taken = itertools.count()  # next() is atomic under the GIL

    def work():
        while (index := next(taken)) < count:
            job(bounds[index], bounds[index + 1])

    _run_together([work] * threads)


def flat_in_memory(array):
    """A 1-d view of ``array``'s elements in memory order when they fill one contiguous block (C order or any
    permutation of it, such as a channels-last NCHW view), else None."""
    if array.flags.c_contiguous:
        return array.reshape(-1)
    order = sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))
    permuted = array.transpose(order)
    return permuted.reshape(-1) if permuted.flags.c_contiguous else None


PASS_PIECE_BYTES = 1 << 21  # a pass over memory (ReLU, padding copy, pooling) is shared in pieces at least this big


def pass_parts(nbytes, most=None):
    """How many threads share a pass over ``nbytes`` of memory (1 below two pieces' worth), at most ``most``."""
    threads = num_threads()
    return max(1, min(threads, nbytes // PASS_PIECE_BYTES, most or threads))


def shared_add(a, b):
    """a + b; two large float arrays of one dtype, shape and memory order are added in pieces shared between threads
    (NumPy's ufuncs release the GIL). NOTE: a residual network's adds (forward, and the gradients autograd sums where
    a tensor feeds two branches) were single passes on one core between the threaded kernels."""
    if (type(a) is numpy.ndarray and type(b) is numpy.ndarray and a.dtype == b.dtype and a.dtype.kind == "f"
            and a.shape == b.shape and a.strides == b.strides):  # fmt: skip
        parts = pass_parts(a.nbytes)
        flat_a, flat_b = (flat_in_memory(a), flat_in_memory(b)) if parts > 1 else (None, None)
        if flat_a is not None and flat_b is not None:
            out = numpy.empty_like(a)  # a's memory order, which b shares
            flat_out = flat_in_memory(out)
            run_shared(lambda start, stop: numpy.add(flat_a[start:stop], flat_b[start:stop], out=flat_out[start:stop]),
                       flat_a.size, parts)  # fmt: skip
            return out
    return a + b


def run_split_sum(job, total, parts, shape, dtype):
    """Σ over ``parts`` consecutive ranges of [0, total) of ``job(out, start, stop)``, which adds its range's share
    into ``out`` (a zeroed array of ``shape`` per part, so that the threads never write the same memory)."""
    parts = max(1, min(parts, total))
    size = int(numpy.prod(shape, dtype=numpy.int64))
    # NOTE: each part's sums sit 128 bytes past the previous part's, never on the same cache line: with the parts
    # side by side, batch norm's Σx on two threads took longer than on one (0.26 vs 0.20 ms for 131072 × 16).
    gap = 128 // numpy.dtype(dtype).itemsize
    partial = numpy.zeros((parts, size + gap), dtype)
    sums = [partial[k, :size].reshape(shape) for k in range(parts)]
    run_split(lambda k, start, stop: job(sums[k], start, stop), total, parts)
    return sums[0] if parts == 1 else partial[:, :size].sum(axis=0).reshape(shape)


def _blas_controllers():
    """threadpoolctl's handles on the BLAS libraries NumPy loaded (an empty list without threadpoolctl)."""
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _state["blas"] = []
        else:
            _state["blas"] = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    return _state["blas"]


@contextlib.contextmanager
def quiet_blas():
    """The BLAS calls inside run on one thread when shendu's kernels shared work between threads in the last
    ``QUIET_SECONDS`` (a convolutional network's step), otherwise as the BLAS is set.

    NOTE: after a threaded call OpenBLAS's idle threads spin for about 2^28 cycles (~70 ms), on the cores the
    convolution and batch-norm kernels' threads want next: the small classifier GEMMs of a CNN (~0.1 ms each,
    0.05 ms faster on two threads) cost its step far more than they save. Measured alone at two threads: the
    digit CNN with BatchNorm 102 → 79 ms a step with one BLAS thread, the VGG network of W7 275 → 208 ms.
    A multilayer perceptron's GEMMs (no kernel threads) keep the BLAS threads.
    """
    controllers = _blas_controllers() if time.monotonic() < _state["threaded_until"] else []
    previous = [lib.get_num_threads() for lib in controllers]
    for lib in controllers:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(controllers, previous):
            lib.set_num_threads(count)
