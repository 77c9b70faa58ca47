"""One Adam step over the seed MLP's parameters (784-500-10: 397,510 of them), shendu vs PyTorch.

Same float32 parameters and gradients in both, one process, the runs interleaved; prints the
median and the 10th percentile of the µs per step of each (the percentile is what a quiet machine
gives) and the ratios against shendu's NumPy kernel (the fallback when the C extension is not built)
and PyTorch's fused and foreach Adam.

    python -m benchmarks.adam [--steps 1000] [--threads N] [--json FILE]
"""

import argparse
import json
import os
import time

import numpy as np


def _time_alternating(candidates, steps, block=20, settle=3):
    """Per-step times of each candidate, run in alternating blocks of ``block`` steps.

    A busy moment of the machine then hits every candidate alike; the first ``settle`` steps of a
    block are not counted (PyTorch's OpenMP threads spin for a while after a parallel region, which
    would otherwise be charged to whichever candidate runs next).
    """
    for step in candidates.values():
        for _ in range(10):
            step()
    samples = {name: [] for name in candidates}
    clock = time.perf_counter
    for _ in range(max(1, steps // (block - settle))):
        for name, step in candidates.items():
            for i in range(block):
                start = clock()
                step()
                if i >= settle:
                    samples[name].append(clock() - start)
    return {name: np.asarray(values) * 1e6 for name, values in samples.items()}


def run(steps=1000, threads=None):
    """Time the step in each implementation; return ({name: (median µs, 10th percentile µs)}, threads)."""
    import torch

    import shendu
    from shendu import nn, optim
    from shendu.optim import _compiled

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

    def shendu_copy():
        copies = [nn.Parameter(shendu.tensor(p.detach().numpy().copy())) for p in params]
        for p, g in zip(copies, grads):
            p.grad = shendu.tensor(g)
        return copies

    numpy_adam = optim.Adam(shendu_copy(), lr=1e-3)

    def numpy_kernel_step():
        previous = _compiled.set_enabled(False)
        try:
            numpy_adam.step()
        finally:
            _compiled.set_enabled(previous)

    candidates = {
        "shendu": optim.Adam(params, lr=1e-3).step,  # the compiled kernel when it was built
        "shendu NumPy": numpy_kernel_step,
        "torch fused": torch.optim.Adam(torch_params(), lr=1e-3, fused=True).step,
        "torch foreach": torch.optim.Adam(torch_params(), lr=1e-3, foreach=True).step,
    }
    samples = _time_alternating(candidates, steps)
    return {name: (float(np.median(v)), float(np.percentile(v, 10))) for name, v in samples.items()}, threads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    results, threads = run(args.steps, args.threads)
    from shendu.optim import _compiled

    kernel = "compiled kernel (shendu/optim/_fused.c)" if _compiled.available() else "NumPy kernel (extension not built)"
    print(f"Adam step over 397,510 float32 parameters (784-500-10), {threads} thread(s); shendu: {kernel}")
    print(f"{'':16}{'median µs':>12}{'p10 µs':>10}")
    for name, (median, low) in results.items():
        print(f"{name:16}{median:12.0f}{low:10.0f}")
    ours = results["shendu"]
    for other in ("shendu NumPy", "torch fused", "torch foreach"):
        print(f"shendu / {other}: {ours[0] / results[other][0]:.2f}x (median), {ours[1] / results[other][1]:.2f}x (p10)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": threads, "us_per_step": results}, f, indent=2)


if __name__ == "__main__":
    main()
