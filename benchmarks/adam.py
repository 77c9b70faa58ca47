"""One Adam step over the seed MLP's parameters (784-500-10: 397,510 of them), shendu vs PyTorch.

Same float32 parameters and gradients in both, one process, the runs alternated; prints the
median and best µs per step of each and the ratios against PyTorch's fused and foreach Adam.

    python -m benchmarks.adam [--steps 200] [--repeats 15] [--threads N]
"""

import argparse
import json
import os
import time

import numpy as np


def _time(step, steps, repeats):
    """Median and best seconds per call of ``step`` over ``repeats`` runs of ``steps`` calls."""
    for _ in range(max(steps // 10, 3)):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        samples.append((time.perf_counter() - start) / steps)
    samples.sort()
    return samples[len(samples) // 2], samples[0]


def run(steps=200, repeats=15, threads=None):
    """Time the step in each implementation; return {name: (median µs, best µs)}."""
    import torch

    import shendu
    from shendu import nn, optim

    threads = threads or len(os.sched_getaffinity(0))
    os.environ["SHENDU_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    params = list(model.parameters())
    assert sum(p.numel() for p in params) == 397_510
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(p.shape).astype(np.float32) * 1e-2 for p in params]
    for p, g in zip(params, grads):
        p.grad = shendu.tensor(g)

    def torch_params():
        tp = [torch.nn.Parameter(torch.tensor(p.detach().numpy().copy())) for p in params]
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g)
        return tp

    candidates = {
        "shendu": optim.Adam(params, lr=1e-3).step,
        "torch fused": torch.optim.Adam(torch_params(), lr=1e-3, fused=True).step,
        "torch foreach": torch.optim.Adam(torch_params(), lr=1e-3, foreach=True).step,
    }
    results = {name: [] for name in candidates}
    for _ in range(3):  # alternate, so that a busy moment on the machine hits every candidate
        for name, step in candidates.items():
            results[name].append(_time(step, steps, max(repeats // 3, 3)))
    return {
        name: (float(np.median([m for m, _ in r])) * 1e6, float(min(b for _, b in r)) * 1e6)
        for name, r in results.items()
    }, threads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    results, threads = run(args.steps, args.repeats, args.threads)
    print(f"Adam step over 397,510 float32 parameters (784-500-10), {threads} thread(s)")
    print(f"{'':16}{'median µs':>12}{'best µs':>10}")
    for name, (median, best) in results.items():
        print(f"{name:16}{median:12.0f}{best:10.0f}")
    ours = results["shendu"]
    for other in ("torch fused", "torch foreach"):
        print(
            f"shendu / {other}: {ours[0] / results[other][0]:.2f}x (median), {ours[1] / results[other][1]:.2f}x (best)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": threads, "us_per_step": results}, f, indent=2)


if __name__ == "__main__":
    main()
