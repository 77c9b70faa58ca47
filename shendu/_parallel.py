"""The worker threads shared by shendu's kernels that release the GIL (the optimisers' flat updates, the
direct convolution), and how many of them to use."""

import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["num_threads", "get_pool", "run_split"]

_state: dict = {"pool": None, "size": 0, "pid": None}


def num_threads():
    """Threads for a large job: SHENDU_NUM_THREADS, else OMP_NUM_THREADS, else the usable CPUs (at most 8)."""
    for name in ("SHENDU_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.strip().isdigit() and int(value) > 0:
            return min(int(value), 8)
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


def run_split(job, total, parts):
    """Call ``job(k, start, stop)`` for ``parts`` consecutive ranges covering [0, total), part 0 in this thread
    and the others in the pool; returns when all are done (re-raising the first error)."""
    parts = max(1, min(parts, total))
    bounds = [total * k // parts for k in range(parts + 1)]
    if parts == 1:
        job(0, 0, total)
        return
    futures = [get_pool(parts - 1).submit(job, k, bounds[k], bounds[k + 1]) for k in range(1, parts)]
    job(0, bounds[0], bounds[1])
    for future in futures:
        future.result()
