"""The benchmark suite of issue 10 (``make bench``): the seed workloads W1–W6, shendu against PyTorch.

Prints the machine (CPU, cores, NumPy and its BLAS kernel, PyTorch, load average), then one table:
each workload's time in both frameworks and the ratio shendu / PyTorch against the goal, test
accuracy in both (goal: within 0.5 points), peak memory rise (W1–W4, a fresh process per framework),
import time and installed size (W5), inference latency (W6). The results also go to JSON
(``benchmarks/results/run-<time>.json`` unless ``--json PATH``); ``--update-doc`` rewrites the
results section of BENCHMARKS.md.

    python -m benchmarks.run_all [--quick] [--only W1,W3] [--threads N] [--json PATH] [--no-memory] [--update-doc]

See ``benchmarks/workloads.py`` for what each workload runs and ``BENCHMARKS.md`` for the method.
"""

import argparse
import json
import math
import os
import time
from pathlib import Path

from . import common, workloads

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- results:begin (written by python -m benchmarks.run_all --update-doc) -->", "<!-- results:end -->"


def run(cfg, only=None, log=print):
    """Run the chosen workloads; return {"machine", "config", "rows", "details", "load_average_during"}."""
    import torch  # noqa: F401  (so that set_threads reaches it)

    threads = common.set_threads(cfg.threads)
    cfg.threads = threads
    load = common.load_average()
    if threads > 1 and load and load[0] > common.usable_cpus():
        log(f"note: load average {load[0]} exceeds the {common.usable_cpus()} usable cores; {threads} BLAS threads "
            "that wait for each other lose their time slices here: --threads 1 gives steadier figures", flush=True)  # fmt: skip
    chosen = [w for w in workloads.WORKLOADS if only is None or w in only]
    results = {"machine": common.machine_info(), "config": {**vars(cfg), "workloads": chosen}, "rows": [],
               "details": {}, "load_average_during": {}}  # fmt: skip
    for name in chosen:
        log(f"running {name} ...", flush=True)
        start = time.perf_counter()
        rows, details = workloads.WORKLOADS[name](cfg)
        details["seconds"] = time.perf_counter() - start
        results["rows"].extend(rows)
        results["details"][name] = details
        results["load_average_during"][name] = common.load_average()
    results["machine"]["load_average_end"] = common.load_average()
    return results


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    return f"{value:.0f}" if magnitude >= 100 else f"{value:.3g}" if magnitude < 10 else f"{value:.1f}"


def _compare(r):
    if r["kind"] == "points":
        return f"{r['compare']:+.2f} pt"
    return f"{r['compare']:.2f}×"


def _goal(r):
    if r["goal"] is None:
        return ""
    if r["kind"] == "points":
        return f"±{r['goal']} pt"
    if r["kind"] == "limit":
        return f"≤ {r['goal']} {r['unit']}"
    return f"≤ {r['goal']}×"


def _met(r, markdown):
    return {True: "yes", False: "**no**" if markdown else "NO", None: ""}[r["met"]]


def table(rows, markdown=False):
    """The results as text (aligned columns) or a Markdown table."""
    header = ["workload", "measure", "unit", "shendu", "PyTorch", "shendu vs PyTorch", "goal", "met", "note"]
    body = []
    for r in rows:
        shendu, pytorch = r["shendu"], r["pytorch"]
        if r["unit"] == "%":
            shendu, pytorch = 100 * shendu, 100 * pytorch
        body.append([r["workload"], r["measure"], r["unit"], _number(shendu), _number(pytorch), _compare(r), _goal(r),
                     _met(r, markdown), r["note"]])  # fmt: skip
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in body])
    widths = [max(len(str(c)) for c in column) for column in zip(header, *body)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(cells) for cells in body])


def describe_machine(machine, during=None):
    blas = machine["blas"]
    lines = [
        f"- CPU: {machine['cpu']}, {machine['cores']} usable cores",
        f"- Python {machine['python']}, NumPy {machine['numpy']} with {blas.get('library')} {blas.get('version')} "
        f"(kernel {blas.get('kernel')}, {blas.get('threads')} threads), PyTorch {machine['torch']} "
        f"({machine['torch_threads']} threads), shendu {machine['shendu']}",
        f"- OPENBLAS_* environment: {machine['openblas_env'] or 'none set'}",
        f"- load average (1, 5, 15 min) at start {machine['load_average']}, at end {machine.get('load_average_end')}",
        f"- measured {machine['date']}",
    ]
    if during:
        lines.append("- load average after each workload: " + ", ".join(f"{k} {v[0]}" for k, v in during.items()))
    return "\n".join(lines)


def update_doc(results, path=DOC):
    """Replace the results section of BENCHMARKS.md with this run's machine and table."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no results markers ({BEGIN} ... {END})")
    config = results["config"]
    section = "\n".join([
        BEGIN, "",
        describe_machine(results["machine"], results["load_average_during"]),
        f"- command: `python -m benchmarks.run_all --threads {config['threads']}"
        f"{' --quick' if config['quick'] else ''}{' --only ' + ','.join(config['workloads']) if len(config['workloads']) < 6 else ''}`",
        "", table(results["rows"], markdown=True), "", END,
    ])  # fmt: skip
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + section + rest.split(END, 1)[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps of each workload (a smoke run)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W3")
    parser.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: all usable CPUs)")
    parser.add_argument("--json", help="write the results here (default: benchmarks/results/run-<time>.json)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "digits"], help="data of W1 and W2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settle", type=float, default=0.0, help="untimed seconds of pause before each round")
    parser.add_argument("--update-doc", action="store_true", help="rewrite the results section of BENCHMARKS.md")
    args = parser.parse_args(argv)
    only = None
    if args.only:
        only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
        unknown = sorted(set(only) - set(workloads.WORKLOADS))
        if unknown:
            parser.error(f"unknown workloads {unknown}; choose from {', '.join(workloads.WORKLOADS)}")
    cfg = workloads.Config(quick=args.quick, threads=args.threads, seed=args.seed, memory=not args.no_memory,
                           dataset=args.dataset, settle=args.settle)  # fmt: skip
    results = run(cfg, only)
    print()
    print(describe_machine(results["machine"], results["load_average_during"]))
    print()
    print(table(results["rows"]))
    path = Path(args.json) if args.json else RESULTS / time.strftime("run-%Y%m%d-%H%M%S.json")
    os.makedirs(path.parent, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {path}")
    if args.update_doc:
        update_doc(results)
        print(f"table written to {DOC}")
    return results


if __name__ == "__main__":
    main()
