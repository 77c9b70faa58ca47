"""Per-op Python overhead, shendu vs PyTorch, in one process.

Tiny tensors make the array maths free, so what is timed is the framework itself: wrapping
arrays, recording the graph and walking it backward. Cases:

- ``add fwd``: a 1-element add of two tensors that require grad (the graph is recorded);
- ``add fwd+bwd``: the same add, then ``backward()``;
- ``linear fwd+bwd``: a Linear(4,4)-sized ``x @ W.T + b`` on a (4, 4) batch, ``.sum().backward()``;
- ``nn.Linear fwd+bwd``: the same through each framework's ``nn.Linear(4, 4)`` module.

The implementations are alternated and each sample is the mean over ``--number`` calls; the
median and best samples are printed with the ratio shendu / PyTorch (the goal is ≤ 3×).

    python -m benchmarks.overhead [--number 2000] [--repeats 15] [--json]
"""

import argparse
import json
import time

import numpy as np


def _sample(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _cases(torch, shendu):
    """{case: {framework: zero-argument callable}}."""
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(4, 4), (4, 4), (4,)])
    t_a, t_b = torch.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)
    s_a, s_b = shendu.ones(1, requires_grad=True), shendu.ones(1, requires_grad=True)
    t_x, t_w, t_bias = torch.tensor(x), torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    s_x, s_w, s_bias = shendu.tensor(x), shendu.tensor(w, requires_grad=True), shendu.tensor(b, requires_grad=True)
    t_layer, s_layer = torch.nn.Linear(4, 4), shendu.nn.Linear(4, 4)

    def reset(*tensors):
        for t in tensors:
            t.grad = None

    return {
        "add fwd": {"torch": lambda: t_a + t_b, "shendu": lambda: s_a + s_b},
        "add fwd+bwd": {
            "torch": lambda: ((t_a + t_b).backward(), reset(t_a, t_b)),
            "shendu": lambda: ((s_a + s_b).backward(), reset(s_a, s_b)),
        },
        "linear fwd+bwd": {
            "torch": lambda: ((t_x @ t_w.T + t_bias).sum().backward(), reset(t_w, t_bias)),
            "shendu": lambda: ((s_x @ s_w.T + s_bias).sum().backward(), reset(s_w, s_bias)),
        },
        "nn.Linear fwd+bwd": {
            "torch": lambda: (t_layer(t_x).sum().backward(), t_layer.zero_grad()),
            "shendu": lambda: (s_layer(s_x).sum().backward(), s_layer.zero_grad()),
        },
    }


def run(number=2000, repeats=15):
    """Time every case; return {case: {framework: {"median_us", "best_us"}, "ratio_median", "ratio_best"}}."""
    import torch

    import shendu

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead, in both frameworks
    results = {}
    for case, fns in _cases(torch, shendu).items():
        samples = {name: [] for name in fns}
        for fn in fns.values():  # warm up
            for _ in range(max(number // 10, 10)):
                fn()
        for _ in range(repeats):
            for name, fn in fns.items():
                samples[name].append(_sample(fn, number))
        row = {}
        for name, values in samples.items():
            values.sort()
            row[name] = {"median_us": values[len(values) // 2] * 1e6, "best_us": values[0] * 1e6}
        row["ratio_median"] = row["shendu"]["median_us"] / row["torch"]["median_us"]
        row["ratio_best"] = row["shendu"]["best_us"] / row["torch"]["best_us"]
        results[case] = row
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per sample")
    parser.add_argument("--repeats", type=int, default=15, help="samples per implementation")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.number, args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return results
    print(f"{'case':<20}{'torch µs':>18}{'shendu µs':>18}{'shendu/torch':>16}")
    print(f"{'':<20}{'median / best':>18}{'median / best':>18}{'median / best':>16}")
    for case, row in results.items():
        t, s = row["torch"], row["shendu"]
        print(
            f"{case:<20}{t['median_us']:>9.2f} /{t['best_us']:>7.2f}{s['median_us']:>9.2f} /{s['best_us']:>7.2f}"
            f"{row['ratio_median']:>9.2f}× /{row['ratio_best']:>5.2f}×"
        )
    return results


if __name__ == "__main__":
    main()
