"""Shared pieces of the benchmarks: threads, the machine's description, interleaved timing, peak memory.

Every comparison here runs shendu and PyTorch in one process, *interleaved*: a few steps of one,
then a few of the other, the order reversed every round, so that a busy moment on a shared
machine slows both alike. Each round records wall-clock time and the process's CPU time
(``time.process_time``, all threads): on a loaded machine the CPU time is the steadier measure
of the work done, the wall-clock time the one a user sees.

Peak memory is the rise of the resident set while a workload trains: ``/proc/self/clear_refs``
resets the kernel's high-water mark (VmHWM) once the framework is imported and the data loaded,
and VmHWM is read at the end. It runs in a fresh subprocess per framework and workload, so that
neither framework's allocator sees the other's (``tracemalloc`` would not see PyTorch's at all).
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

_blas_limiter = None  # keeps threadpoolctl's limit alive


# ---------------------------------------------------------------------------------------------- threads


def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_threads(threads=None):
    """Give NumPy's BLAS, shendu's optimiser pool and PyTorch the same thread count; return it.

    ``threads`` None means every usable CPU. PyTorch is set only if it is already imported.
    """
    global _blas_limiter
    threads = int(threads or usable_cpus())
    os.environ["SHENDU_NUM_THREADS"] = str(threads)  # read when a shendu optimiser is built
    try:
        from threadpoolctl import threadpool_limits

        _blas_limiter = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:  # the env vars only work before NumPy loads BLAS; say so in the report
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threads


def blas_info():
    """The BLAS NumPy runs: library, version, kernel (architecture) and threads, from threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"library": "unknown (pip install threadpoolctl)"}
    import numpy  # noqa: F401  (load BLAS before asking)

    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            return {
                "library": info.get("internal_api"),
                "version": info.get("version"),
                "kernel": info.get("architecture"),
                "threads": info.get("num_threads"),
                "threading_layer": info.get("threading_layer"),
            }
    return {"library": "not found"}


# ---------------------------------------------------------------------------------------------- machine


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine()


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info():
    """What the figures were measured on: CPU, cores, library versions, BLAS kernel, load."""
    import torch

    import shendu

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu": cpu_model(),
        "cores": usable_cpus(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "shendu": shendu.__version__,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "load_average": load_average(),
    }


# ---------------------------------------------------------------------------------------------- timing


def interleave(runners, rounds, settle=0.0):
    """Run every runner ``steps`` times per round, alternating, the order reversed on odd rounds.

    Args:
        runners: {name: iterator}; each ``next()`` is one step of work.
        rounds: the number of steps in each round (a list).
        settle: seconds to wait, untimed, before each round, so that the worker threads of the
            framework that ran before stop spinning (OpenBLAS's and OpenMP's idle threads poll
            for a while after each call: meanwhile they take a core from the next round).

    Returns:
        {name: [(wall seconds, CPU seconds) per round]}.
    """
    names = list(runners)
    samples = {name: [] for name in names}
    clock, cpu = time.perf_counter, time.process_time
    for k, steps in enumerate(rounds):
        for name in names if k % 2 == 0 else reversed(names):
            run = runners[name]
            if settle:
                time.sleep(settle)
            wall0, cpu0 = clock(), cpu()
            for _ in range(steps):
                next(run)
            samples[name].append((clock() - wall0, cpu() - cpu0))
    return samples


def repeat_calls(fn, count):
    """An endless iterator whose every step calls ``fn()`` ``count`` times (for latency rounds)."""
    while True:
        for _ in range(count):
            fn()
        yield


def median_per(samples, per):
    """Median and best of the (wall, CPU) samples, each divided by ``per``: {"wall", "wall_best", "cpu"}."""
    walls = [w / per for w, _ in samples]
    cpus = [c / per for _, c in samples]
    return {"wall": statistics.median(walls), "wall_best": min(walls), "cpu": statistics.median(cpus)}


def ratio(ours, theirs):
    return ours / theirs if theirs else float("nan")


# ---------------------------------------------------------------------------------------------- memory


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark to the current RSS; return the current RSS in MB (None off Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kb("VmRSS") / 1024
    except OSError:
        return None


def peak_rss_mb():
    try:
        return _status_kb("VmHWM") / 1024
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json_subprocess(module, args, timeout=3600):
    """Run ``python -m module *args`` in a fresh interpreter and parse the last line of its output as JSON."""
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- models


def seed_mlp(lib):
    """784-500-10 with ReLU (seed 000), in shendu or torch (same names, so state_dicts match)."""
    return lib.nn.Sequential(lib.nn.Linear(784, 500), lib.nn.ReLU(), lib.nn.Linear(500, 10))


def sigmoid_mlp(lib):
    """784-50-100-10 with two sigmoids (seed 003): 45,360 parameters; softmax lives in the loss."""
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 50), nn.Sigmoid(), nn.Linear(50, 100), nn.Sigmoid(), nn.Linear(100, 10))


def seed_cnn(lib):
    """The CNN of seed 004: Conv(1→32, 3×3)+ReLU, MaxPool 2, Conv(32→64, 3×3)+ReLU, MaxPool 2, Linear(1600→10)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 10),
    )  # fmt: skip


def copy_state(source, target):
    """Load ``source``'s state_dict (either framework) into ``target`` (either framework)."""
    arrays = {k: v.detach().numpy().copy() for k, v in source.state_dict().items()}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(target, torch.nn.Module):
        target.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
    else:
        import shendu

        target.load_state_dict({k: shendu.from_numpy(v) for k, v in arrays.items()})
    return target
