"""Seed CNN workload (W3): shendu against PyTorch, in one process, alternating.

Two measurements, both at the shapes of the seed CNN (batch 32 of 28×28 MNIST digits):

- ``conv``: the two convolution layers alone, forward + backward: Conv2d(1→32, 3×3) on
  (32, 1, 28, 28) and Conv2d(32→64, 3×3) on (32, 32, 13, 13) (whose input needs a gradient), each
  fed a contiguous NCHW input and a contiguous upstream gradient, as a PyTorch user would.
- ``step``: one whole training step of Conv(1→32, 3×3) + ReLU → MaxPool 2 → Conv(32→64, 3×3) +
  ReLU → MaxPool 2 → Flatten → Linear(1600→10), cross-entropy, Adam(1e-3): zero_grad, forward,
  loss, backward, update.

Both frameworks start from the same weights and see the same batches (the digits shipped with
shendu); PyTorch runs with ``torch.set_num_threads(threads)``, the same thread count as NumPy's
BLAS. The table gives the median and best milliseconds per step and the ratios shendu / PyTorch.

Run: ``python -m benchmarks.conv [--steps 20] [--rounds 7] [--threads 2] [--json out.json]``.
On a machine busy with other work, ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.conv --threads 1
--clock cpu`` compares the CPU time each framework spends, which the other load disturbs less.
"""

import argparse
import json
import statistics
import time

import numpy as np

import shendu
from shendu import nn

from .common import seed_cnn

BATCH = 32


def _batches(count):
    """``count`` batches of the embedded MNIST digits, scaled to [0, 1] (random digits if unavailable)."""
    try:
        from shendu.vision.datasets.mnist import load_digits

        (images, labels), _ = load_digits()
    except (ImportError, OSError):
        rng = np.random.default_rng(0)
        images, labels = rng.integers(0, 256, size=(count * BATCH, 28, 28)), rng.integers(0, 10, size=count * BATCH)
    images = (images[: count * BATCH].astype(np.float32) / 255).reshape(count, BATCH, 1, 28, 28)
    return images, labels[: count * BATCH].astype(np.int64).reshape(count, BATCH)


def _time(runners, steps, rounds, clock=time.perf_counter, pause=0.3):
    """Alternate the runners, ``rounds`` × ``steps`` calls each; ms per call for every round.

    NOTE: between rounds the process sleeps ``pause`` seconds, untimed: OpenBLAS's idle threads
    (NumPy) and OpenMP's (PyTorch) spin for a while after their last call, and on a 2-core machine
    that spinning would steal the CPU from whichever framework runs next.
    """
    for run in runners.values():  # warm-up
        for i in range(3):
            run(i)
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = clock()
            for i in range(steps):
                run(i)
            times[name].append((clock() - start) / steps * 1e3)
            time.sleep(pause)
    return times


def conv_runners(torch, steps):
    """Forward + backward of the two seed convolutions, in both frameworks, on the same data."""
    rng = np.random.default_rng(0)
    layers = {"shendu": [nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)]}
    layers["torch"] = [torch.nn.Conv2d(1, 32, 3), torch.nn.Conv2d(32, 64, 3)]
    for mine, theirs in zip(*layers.values()):
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    arrays = [
        rng.uniform(0, 1, size=(steps, BATCH, 1, 28, 28)).astype(np.float32),
        rng.uniform(0, 1, size=(steps, BATCH, 32, 13, 13)).astype(np.float32),
    ]
    grads = [
        rng.normal(size=(steps, BATCH, 32, 26, 26)).astype(np.float32),
        rng.normal(size=(steps, BATCH, 64, 11, 11)).astype(np.float32),
    ]
    s_in = [[shendu.tensor(a[i], requires_grad=j == 1) for i in range(steps)] for j, a in enumerate(arrays)]
    t_in = [[torch.tensor(a[i], requires_grad=j == 1) for i in range(steps)] for j, a in enumerate(arrays)]
    s_grad = [[shendu.tensor(g[i]) for i in range(steps)] for g in grads]
    t_grad = [[torch.tensor(g[i]) for i in range(steps)] for g in grads]

    def runner(conv_layers, inputs, gradients):
        def run(i):
            for layer, x, g in zip(conv_layers, inputs, gradients):
                layer.zero_grad()
                x[i].grad = None
                layer(x[i]).backward(g[i])

        return run

    return {
        "shendu": runner(layers["shendu"], s_in, s_grad),
        "torch": runner(layers["torch"], t_in, t_grad),
    }


def step_runners(torch, steps):
    """One seed-CNN training step (Adam) in both frameworks, from the same weights and batches."""
    shendu.manual_seed(0)
    model = seed_cnn(shendu)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = shendu.optim.Adam(model.parameters(), lr=1e-3)
    images, labels = _batches(steps)
    s_x, s_y = [shendu.tensor(x) for x in images], [shendu.tensor(y) for y in labels]

    def shendu_step(i):
        model.zero_grad()
        loss = loss_fn(model(s_x[i]), s_y[i])
        loss.backward()
        optimizer.step()

    t_model = seed_cnn(torch)
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    t_loss = torch.nn.CrossEntropyLoss()
    t_x, t_y = [torch.tensor(x) for x in images], [torch.tensor(y) for y in labels]

    def torch_step(i):
        t_model.zero_grad()
        loss = t_loss(t_model(t_x[i]), t_y[i])
        loss.backward()
        t_opt.step()

    return {"shendu": shendu_step, "torch": torch_step}


def _summary(times):
    result = {}
    for name, values in times.items():
        result[f"{name}_ms_median"] = statistics.median(values)
        result[f"{name}_ms_best"] = min(values)
    result["ratio_median"] = result["shendu_ms_median"] / result["torch_ms_median"]
    result["ratio_best"] = result["shendu_ms_best"] / result["torch_ms_best"]
    return result


def run(steps=20, rounds=7, threads=2, workloads=("conv", "step"), clock="wall"):
    """Time the workloads; returns {workload: figures (ms per step and ratios)}.

    ``clock="cpu"`` measures process CPU time instead of wall time: on a loaded machine, with one
    thread on each side (``--threads 1`` and ``OPENBLAS_NUM_THREADS=1``), it compares the work done.
    """
    import torch

    torch.set_num_threads(threads)
    timer = time.process_time if clock == "cpu" else time.perf_counter
    results = {"threads": threads, "clock": clock}
    if "conv" in workloads:
        results["conv"] = _summary(_time(conv_runners(torch, steps), steps, rounds, timer))
        results["conv"]["workload"] = (
            "Conv2d(1→32, 3×3) on 32×1×28×28 + Conv2d(32→64, 3×3) on 32×32×13×13, forward + backward"
        )
    if "step" in workloads:
        results["step"] = _summary(_time(step_runners(torch, steps), steps, rounds, timer))
        results["step"]["workload"] = "W3 seed CNN training step, batch 32"
        results["step"]["loss"], results["step"]["optimizer"] = "nn.CrossEntropyLoss", "Adam(1e-3)"
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per framework")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (match NumPy's BLAS)")
    parser.add_argument("--only", choices=["conv", "step"], help="run one workload")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="wall time, or process CPU time")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    workloads = (args.only,) if args.only else ("conv", "step")
    results = run(args.steps, args.rounds, args.threads, workloads, args.clock)
    print(f"threads: {results['threads']}, clock: {results['clock']}")
    print(f"{'workload':10s} {'shendu ms':>10s} {'torch ms':>10s} {'ratio':>7s}   (median; best in brackets)")
    for key in ("conv", "step"):
        if key in results:
            r = results[key]
            print(
                f"{key:10s} {r['shendu_ms_median']:10.2f} {r['torch_ms_median']:10.2f} {r['ratio_median']:7.2f}"
                f"   ({r['shendu_ms_best']:.2f} / {r['torch_ms_best']:.2f} = {r['ratio_best']:.2f})"
            )
    if "step" in results:
        print(f"step: loss {results['step']['loss']}, optimizer {results['step']['optimizer']}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
