"""Data-parallel scaling on this machine: 1 process × 2 BLAS threads against 2 MPI processes × 1 thread.

For the seed MLP (W1's model: 784-500-10, Adam, batch 100) and the seed CNN (W3's: batch 64), it
trains the same number of steps on the same global batches both ways and prints samples per second,
the all-reduce time per step and its share of the step. The two-process run averages gradients with
``DistributedDataParallel``; its all-reduce time is measured inside the reducer on rank 0.

    python -m benchmarks.distributed [--steps 300] [--only mlp,cnn] [--json PATH]

Needs the [distributed] extra (mpi4py, Open MPI's mpiexec). See BENCHMARKS.md for the cost model.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from . import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {"mlp": {"batch": 100, "shape": (784,)}, "cnn": {"batch": 64, "shape": (1, 28, 28)}}


def _data(workload, steps):
    import shendu.vision.datasets as datasets

    x, y = datasets.load_digits()[0]
    x = (x.astype(np.float32) / 255.0).reshape((-1, *WORKLOADS[workload]["shape"]))
    need = steps * WORKLOADS[workload]["batch"]
    repeat = -(-need // len(x))
    return np.concatenate([x] * repeat)[:need], np.concatenate([y.astype(np.int64)] * repeat)[:need]


def _model(workload):
    import shendu

    shendu.manual_seed(0)
    return common.seed_mlp(shendu) if workload == "mlp" else common.seed_cnn(shendu)


def train(workload, steps, rank=0, world=1):
    """Train ``steps`` steps of the global batch (this rank's share of it); returns timings."""
    import shendu
    import shendu.nn.functional as F

    model = _model(workload)
    reduce_seconds = []
    if world > 1:
        from shendu.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model)
        reduce = model._reducer.reduce

        def timed_reduce():
            started = time.perf_counter()
            reduce()
            reduce_seconds.append(time.perf_counter() - started)

        model._reducer.reduce = timed_reduce
    optimizer = shendu.optim.Adam(model.parameters(), lr=1e-3)
    x, y = _data(workload, steps)
    batch = WORKLOADS[workload]["batch"]
    share = batch // world
    warmup = min(10, steps // 5)
    for step in range(steps):
        if step == warmup:
            if world > 1:
                shendu.distributed.barrier()
            started = time.perf_counter()
            reduce_seconds.clear()
        begin = step * batch + rank * share
        optimizer.zero_grad()
        F.cross_entropy(model(shendu.tensor(x[begin : begin + share])), shendu.tensor(y[begin : begin + share])).backward()
        optimizer.step()
    if world > 1:
        shendu.distributed.barrier()
    elapsed = time.perf_counter() - started
    timed = steps - warmup
    return {"samples_per_second": timed * batch / elapsed, "step_ms": 1e3 * elapsed / timed,
            "allreduce_ms": 1e3 * float(np.mean(reduce_seconds)) if reduce_seconds else 0.0}  # fmt: skip


def _worker(workload, steps):
    import shendu.distributed as dist

    dist.init_process_group("mpi")
    result = train(workload, steps, dist.get_rank(), dist.get_world_size())
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)


def _two_processes(workload, steps):
    from shendu.distributed.launch import mpiexec_command

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "SHENDU_NUM_THREADS": "1",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}  # fmt: skip
    command = mpiexec_command(2, [sys.executable, "-m", "benchmarks.distributed", "--worker", workload, "--steps", str(steps)])
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"the MPI run failed:\n{done.stderr[-3000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--only", default="mlp,cnn")
    parser.add_argument("--json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.steps)
        return
    common.set_threads(2)
    print(f"machine: {common.cpu_model()}, {common.usable_cpus()} usable cores, load average {common.load_average()}")
    rows = {}
    for workload in args.only.split(","):
        single = train(workload, args.steps)
        double = _two_processes(workload, args.steps)
        rows[workload] = {"1x2": single, "2x1": double}
        share = double["allreduce_ms"] / double["step_ms"]
        print(f"{workload}: 1 process x 2 threads {single['samples_per_second']:.0f} samples/s ({single['step_ms']:.2f} ms/step); "
              f"2 processes x 1 thread {double['samples_per_second']:.0f} samples/s ({double['step_ms']:.2f} ms/step), "
              f"speed-up {double['samples_per_second'] / single['samples_per_second']:.2f}x; all-reduce "
              f"{double['allreduce_ms']:.3f} ms/step = {100 * share:.1f} % of the step", flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
