"""The seed workloads W1–W6 of issue 10: shendu against PyTorch on the same data, weights and batch order.

- W1 seed MLP 784-500-10 ReLU, cross-entropy, Adam 1e-3, batch 100, 5 epochs of Fashion-MNIST
  (against the faster of PyTorch's default Adam and ``Adam(fused=True)``);
- W2 seed MLP 784-50-100-10 sigmoid, softmax/cross-entropy, SGD 0.1, batch 100, 5 epochs of Fashion-MNIST;
- W3 seed CNN (Conv 32 → pool → Conv 64 → pool → Linear 1600→10), Adam 1e-3, batch 32: ms per step
  over one epoch of the 8,000 embedded MNIST training digits, then accuracy on the 2,000 test digits;
- W4 seed LSTM Embedding(10000, 64) → LSTM(64→32) → Linear(32→2), sequences of 100, batch 32, Adam:
  ms per step over 240 steps (3 epochs) of English vs German fortunes (Debian's ``fortunes`` and
  ``fortunes-de``; tokenised to 10,000 words, padded to 100), then accuracy on held-out fortunes;
- W5 ``import`` time (fresh interpreter, best of several) and installed size;
- W6 inference latency (``model(x)`` under ``no_grad``, eval mode) for one sample and a batch of 256,
  with the W1 and W3 models.

Both frameworks run the same PyTorch-dialect loop (:func:`train_steps`). PyTorch's initial
``state_dict`` is copied into shendu. shendu reads batches through its ``DataLoader`` (shuffled by a
``numpy.random.Generator``); PyTorch indexes its tensors by the permutations an identically seeded
generator gives, so both see the same batches in the same order. Every workload returns a list of
table rows (see :func:`row`) and details; ``benchmarks/run_all.py`` prints and saves them.

Peak memory: ``python -m benchmarks.workloads memory W1 shendu`` trains in a fresh process and prints
its resident-set rise as JSON (see ``benchmarks/common.py``).
"""

import argparse
import dataclasses
import functools
import json
import math
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from . import common, lstm

GOALS = {"W1": 1.0, "W2": 0.7, "W3": 1.2, "W4": 1.0, "W6": 1.0}
MOONSHOTS = {"W1": 0.8, "W3": 1.0}
IMPORT_GOAL_S, INSTALL_GOAL_MB, ACCURACY_POINTS = 0.25, 100.0, 0.5


@dataclasses.dataclass
class Config:
    """How much to run: ``quick`` runs a handful of steps (the smoke test), ``memory`` the subprocess probes."""

    quick: bool = False
    threads: int = None
    seed: int = 0
    memory: bool = True
    dataset: str = "fashion"  # W1 and W2: "fashion" (Debian's dataset-fashion-mnist) or "digits" (embedded)
    settle: float = 0.0  # seconds of untimed pause before each round (see common.interleave)


def row(workload, measure, unit, shendu, pytorch, kind="ratio", goal=None, note=""):
    """One line of the results table.

    ``kind`` says how the two are compared: ``ratio`` (shendu / PyTorch, met when ≤ goal),
    ``points`` (accuracy difference in points, met when within ± goal), ``limit`` (shendu's value
    itself, met when ≤ goal; the ratio is still shown) or ``info`` (no goal).
    """
    if kind == "points":
        value = 100 * (shendu - pytorch)
        met = abs(value) <= goal
    else:
        value = common.ratio(shendu, pytorch)
        met = None if goal is None or kind == "info" else (shendu <= goal if kind == "limit" else value <= goal)
    return {
        "workload": workload, "measure": measure, "unit": unit, "shendu": shendu, "pytorch": pytorch,
        "kind": kind, "compare": value, "goal": goal, "met": met, "note": note,
    }  # fmt: skip


# ------------------------------------------------------------------------------------------------ data


def fashion_or_digits(cfg):
    """Flattened images in [0, 1] and int64 labels: ((x_train, y_train), (x_test, y_test), dataset name)."""
    if cfg.dataset == "fashion":
        from . import fashion_mlp

        try:
            return (*fashion_mlp.load(), "Fashion-MNIST (60,000 train / 10,000 test)")
        except (FileNotFoundError, OSError, RuntimeError) as error:
            print(f"Fashion-MNIST unavailable ({error}); using the embedded digits", file=sys.stderr)
    (x_train, y_train), (x_test, y_test) = digit_images()
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    return (flat(x_train), y_train), (flat(x_test), y_test), "embedded MNIST digits (8,000 train / 2,000 test)"


def digit_images(cfg=None):
    """The embedded MNIST digits as float32 (N, 1, 28, 28) in [0, 1] and int64 labels."""
    from shendu.vision.datasets.mnist import load_digits

    (x_train, y_train), (x_test, y_test) = load_digits()
    scale = lambda x: (x.astype(np.float32) / 255).reshape(len(x), 1, 28, 28)  # noqa: E731
    data = (scale(x_train), y_train.astype(np.int64)), (scale(x_test), y_test.astype(np.int64))
    return data if cfg is None else (*data, "embedded MNIST digits (8,000 train / 2,000 test)")


FORTUNES = Path("/usr/share/games/fortunes")


def _fortunes(files, count, rng):
    """``count`` random fortunes (texts between lines of a single ``%``) of 40+ characters from ``files``."""
    texts = []
    for path in files:
        if path.suffix == ".u8" and not any(word in path.name for word in ("art", "banner")):
            texts += [t.strip() for t in path.read_text(errors="replace").split("\n%\n") if len(t.strip()) >= 40]
    return [texts[i] for i in rng.permutation(len(texts))[:count]]


def lstm_tokens(cfg):
    """English or German? Debian's fortunes (packages fortunes, fortunes-de) as 10,000-word token ids padded to 100.

    Without those packages: ``benchmarks.lstm``'s Zipf-distributed token ids with random labels (timing only).
    """
    from shendu.text import Tokenizer, pad_sequences

    rng = np.random.default_rng(cfg.seed)
    per_language = 64 if cfg.quick else 1600
    english = _fortunes(sorted(FORTUNES.glob("*.u8")), per_language, rng) if FORTUNES.is_dir() else []
    german = _fortunes(sorted(FORTUNES.glob("de/*.u8")), per_language, rng) if FORTUNES.is_dir() else []
    if min(len(english), len(german)) < per_language // 2:
        tokens, labels = lstm._batches(4 if cfg.quick else 32, seed=cfg.seed)
        data = (tokens.reshape(-1, lstm.SEQ), labels.reshape(-1))
        return data, data, "Zipf(1.3) token ids over 10,000 words, random labels (fortunes not installed)"
    n = min(len(english), len(german))
    texts, labels = english[:n] + german[:n], np.repeat(np.array([0, 1], dtype=np.int64), n)
    order = rng.permutation(2 * n)
    split = 2 * n * 4 // 5
    train, test = order[:split], order[split:]
    tokenizer = Tokenizer(num_words=lstm.VOCAB)
    tokenizer.fit_on_texts([texts[i] for i in train])
    ids = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=lstm.SEQ).astype(np.int64)
    return (
        (ids[train], labels[train]),
        (ids[test], labels[test]),
        (f"fortunes, English vs German ({len(train)} train / {len(test)} test), 10,000 words, padded to 100"),
    )


# ------------------------------------------------------------------------------------------------ training


@dataclasses.dataclass
class Training:
    """A training workload: model, optimiser, batch size, data and how its time is reported."""

    id: str
    title: str
    build: object  # lib -> model
    optimizer: object  # (lib, params, variant) -> optimizer
    batch: int
    data: object  # cfg -> (train, test, dataset description)
    per: str = "epoch"  # report seconds per epoch, or "step": milliseconds per step
    epochs: int = 1
    round_steps: int = 50
    steps: int = None  # per framework when per == "step" (None: one epoch)
    accuracy: bool = True
    torch_variants: tuple = ("",)


def _adam(lib, params, variant):
    return lib.optim.Adam(params, lr=1e-3, fused=True) if variant == "fused" else lib.optim.Adam(params, lr=1e-3)


def _sgd(lib, params, variant):
    return lib.optim.SGD(params, lr=0.1)


def _seed_lstm(lib):
    if lib.__name__ == "torch":
        return lstm._torch_model(lib, lstm.SeedLSTM())  # its weights are replaced below
    return lstm.SeedLSTM()


TRAINING = {
    "W1": Training("W1", "seed MLP 784-500-10 ReLU, Adam 1e-3, batch 100", common.seed_mlp, _adam, 100,
                   fashion_or_digits, epochs=5, torch_variants=("", "fused")),
    "W2": Training("W2", "seed MLP 784-50-100-10 sigmoid, SGD 0.1, batch 100", common.sigmoid_mlp, _sgd, 100,
                   fashion_or_digits, epochs=5),
    "W3": Training("W3", "seed CNN conv32-pool-conv64-pool-linear, Adam 1e-3, batch 32", common.seed_cnn, _adam, 32,
                   digit_images, per="step", round_steps=25),
    "W4": Training("W4", "seed LSTM Embedding(10000,64)-LSTM(32)-Linear(2), seq 100, Adam, batch 32", _seed_lstm,
                   _adam, 32, lstm_tokens, per="step", round_steps=10, steps=240),
}  # fmt: skip


def shendu_batches(x, y, batch, seed):
    """Endless shuffled epochs through shendu's DataLoader (its one-gather fast path)."""
    from shendu.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, generator=np.random.default_rng(seed))
    while True:
        yield from loader


def torch_batches(x, y, batch, seed):
    """The same batches as :func:`shendu_batches`, gathered with ``index_select`` (PyTorch's fastest in-memory path:
    ``x[index]`` takes about four times as long for a batch of 100 rows of 784)."""
    import torch

    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(seed)
    while True:
        order = torch.from_numpy(rng.permutation(len(x)))
        for i in range(0, len(x), batch):
            index = order[i : i + batch]
            yield tx.index_select(0, index), ty.index_select(0, index)


def train_steps(model, loss_fn, optimizer, batches):
    """The PyTorch-dialect training loop, identical for both frameworks; yields after every step."""
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        yield


def accuracy(lib, model, x, y, batch=1000):
    """Fraction of ``x`` classified as ``y`` (eval mode, no graph)."""
    model.eval()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(x), batch):
            logits = model(lib.from_numpy(np.ascontiguousarray(x[i : i + batch])))
            correct += int((logits.argmax(1).numpy() == y[i : i + batch]).sum())
    model.train()
    return correct / len(x)


def _libraries():
    import torch

    import shendu

    return shendu, torch


def _contender(lib, spec, variant, x, y, seed, reference=None):
    """(model, step iterator) for one framework, starting from ``reference``'s weights when given."""
    model = spec.build(lib)
    if reference is not None:
        common.copy_state(reference, model)
    optimizer = spec.optimizer(lib, model.parameters(), variant)
    batches = shendu_batches if lib.__name__ == "shendu" else torch_batches
    return model, train_steps(model, lib.nn.CrossEntropyLoss(), optimizer, batches(x, y, spec.batch, seed))


def _schedule(spec, cfg, n_train):
    """Steps per round for the whole run, and how many rounds make one epoch (None when timed per step)."""
    steps_per_epoch = math.ceil(n_train / spec.batch)
    if cfg.quick:
        return [3, 3], None
    if spec.per == "epoch":
        rounds = [spec.round_steps] * (steps_per_epoch // spec.round_steps)
        if steps_per_epoch % spec.round_steps:
            rounds.append(steps_per_epoch % spec.round_steps)
        return rounds * spec.epochs, len(rounds)
    steps = spec.steps or steps_per_epoch
    return [spec.round_steps] * (steps // spec.round_steps), None


def run_training(spec, cfg):
    """Train ``spec`` in both frameworks, interleaved; rows for time, accuracy and (if asked) peak memory."""
    shendu, torch = _libraries()
    common.set_threads(cfg.threads)
    (x_train, y_train), (x_test, y_test), dataset = spec.data(cfg)
    if cfg.quick:
        x_test, y_test = x_test[:300], y_test[:300]
    torch.manual_seed(cfg.seed)
    reference = spec.build(torch)
    models, runners = {}, {}
    models["shendu"], runners["shendu"] = _contender(shendu, spec, "", x_train, y_train, cfg.seed, reference)
    for variant in spec.torch_variants:
        name = "pytorch" + (f" {variant}" if variant else "")
        models[name], runners[name] = _contender(torch, spec, variant, x_train, y_train, cfg.seed, reference)
    rounds, rounds_per_epoch = _schedule(spec, cfg, len(x_train))
    samples = common.interleave(runners, rounds, cfg.settle)

    timing = {}
    for name, values in samples.items():
        if rounds_per_epoch:  # seconds per epoch: each epoch's rounds added up
            epochs = [values[i : i + rounds_per_epoch] for i in range(0, len(values), rounds_per_epoch)]
            walls = [sum(w for w, _ in e) for e in epochs]
            cpus = [sum(c for _, c in e) for e in epochs]
            timing[name] = {"wall": statistics.median(walls), "wall_best": min(walls), "cpu": statistics.median(cpus),
                            "per_epoch_wall": walls}  # fmt: skip
        else:  # milliseconds per step
            per_step = [(w * 1e3 / n, c * 1e3 / n) for (w, c), n in zip(values, rounds)]
            timing[name] = common.median_per(per_step, 1)
    torch_name = min((n for n in timing if n.startswith("pytorch")), key=lambda n: timing[n]["wall"])
    unit = "s/epoch" if rounds_per_epoch else "ms/step"
    variant_note = f"PyTorch {torch_name[8:] or 'default'} Adam (the faster)" if len(spec.torch_variants) > 1 else ""
    rows = [
        row(spec.id, "train time", unit, timing["shendu"]["wall"], timing[torch_name]["wall"], goal=GOALS[spec.id],
            note=variant_note),
        row(spec.id, "train CPU time", unit, timing["shendu"]["cpu"], timing[torch_name]["cpu"], kind="info",
            note="process CPU seconds, all threads"),
    ]  # fmt: skip
    details = {"title": spec.title, "dataset": dataset, "timing": timing, "pytorch_compared": torch_name,
               "steps_per_framework": sum(rounds), "rounds": len(rounds)}  # fmt: skip
    if spec.accuracy:
        accuracies = {name: accuracy(shendu if name == "shendu" else torch, model, x_test, y_test)
                      for name, model in models.items()}  # fmt: skip
        details["accuracy"] = accuracies
        rows.append(row(spec.id, "test accuracy", "%", accuracies["shendu"], accuracies[torch_name], kind="points",
                        goal=ACCURACY_POINTS, note=f"after {sum(rounds)} steps"))  # fmt: skip
    if cfg.memory:
        memory = {name: memory_probe_subprocess(spec.id, name, cfg) for name in timing}
        details["memory"] = memory
        smallest = min((n for n in memory if n.startswith("pytorch")), key=lambda n: memory[n]["rise_mb"])
        goal = 1.0 if spec.id in ("W1", "W3") else None
        rows.append(row(spec.id, "peak memory rise", "MB", memory["shendu"]["rise_mb"], memory[smallest]["rise_mb"],
                        kind="ratio" if goal else "info", goal=goal, note="fresh process per framework"))  # fmt: skip
    return rows, details


# ------------------------------------------------------------------------------------------------ memory


def memory_probe(workload, name, cfg):
    """Peak resident-set rise (MB) while one framework trains ``workload`` (and evaluates), in this process."""
    spec = TRAINING[workload]
    lib_name, _, variant = name.partition(" ")
    if lib_name == "shendu":
        import shendu as lib
    else:
        import torch as lib
    common.set_threads(cfg.threads)
    (x_train, y_train), (x_test, y_test), _ = spec.data(cfg)
    baseline = common.reset_peak_rss()
    model, steps = _contender(lib, spec, variant, x_train, y_train, cfg.seed)
    for _ in range(6 if cfg.quick else min(200, math.ceil(len(x_train) / spec.batch))):
        next(steps)
    if spec.accuracy:
        n_test = 300 if cfg.quick else len(x_test)
        accuracy(lib, model, x_test[:n_test], y_test[:n_test])
    peak = common.peak_rss_mb()
    return {"baseline_mb": baseline, "peak_mb": peak, "rise_mb": None if baseline is None else peak - baseline}


def memory_probe_subprocess(workload, name, cfg):
    args = ["memory", workload, name, "--seed", str(cfg.seed), "--dataset", cfg.dataset]
    args += ["--quick"] * cfg.quick + (["--threads", str(cfg.threads)] if cfg.threads else [])
    return common.run_json_subprocess("benchmarks.workloads", args)


# ------------------------------------------------------------------------------------------------ W5


def import_seconds(module):
    """(wall seconds, CPU seconds) to import ``module`` in a fresh interpreter."""
    code = (
        f"import time; w, c = time.perf_counter(), time.process_time(); import {module}; "
        "print(time.perf_counter() - w, time.process_time() - c)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    wall, cpu = out.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def _requirements(dist):
    from packaging.requirements import Requirement

    for text in dist.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            yield requirement.name


def _shendu_core():
    """shendu's package folder (without ``__pycache__``) and its core requirements from pyproject.toml.

    Measured from the source tree, so that an editable install, or none, counts the same as a wheel.
    """
    import tomllib

    import shendu
    from packaging.requirements import Requirement

    files = [p for p in Path(shendu.__file__).parent.rglob("*") if "__pycache__" not in p.parts]
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    return files, [Requirement(r).name for r in pyproject["project"]["dependencies"]]


def installed_mb(names, follow=True):
    """MB on disk of the distributions ``names`` (files from their RECORD) and, if ``follow``, all they require."""
    seen, todo, total = set(), list(names), 0.0
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        if name == "shendu":
            files, requires = _shendu_core()
        else:
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
            files, requires = [Path(dist.locate_file(f)) for f in dist.files or []], _requirements(dist)
        total += sum(f.stat().st_size for f in files if f.is_file()) / 1e6
        if follow:
            todo.extend(requires)
    return total, sorted(seen)


def run_startup(cfg):
    repeats = 1 if cfg.quick else 7
    times = {"shendu": [], "torch": []}
    for k in range(repeats):
        for module in ("shendu", "torch") if k % 2 == 0 else ("torch", "shendu"):
            times[module].append(import_seconds(module))
    best = {m: min(w for w, _ in v) for m, v in times.items()}
    best_cpu = {m: min(c for _, c in v) for m, v in times.items()}
    shendu_mb, shendu_dists = installed_mb(["shendu"])
    torch_mb, torch_dists = installed_mb(["torch"])
    torch_alone, _ = installed_mb(["torch"], follow=False)
    rows = [
        row("W5", "import time", "s", best["shendu"], best["torch"], kind="limit", goal=IMPORT_GOAL_S,
            note=f"best of {repeats}, fresh interpreter"),
        row("W5", "import CPU time", "s", best_cpu["shendu"], best_cpu["torch"], kind="info",
            note="process CPU seconds of the import"),
        row("W5", "installed size", "MB", shendu_mb, torch_mb, kind="limit", goal=INSTALL_GOAL_MB,
            note=f"shendu + {', '.join(d for d in shendu_dists if d != 'shendu')}; torch alone {torch_alone:.0f} MB"),
    ]  # fmt: skip
    details = {"import_seconds_wall_cpu": times, "shendu_distributions": shendu_dists,
               "torch_distributions": torch_dists, "torch_alone_mb": torch_alone}  # fmt: skip
    return rows, details


# ------------------------------------------------------------------------------------------------ W6


def _predict(lib, model, x):
    with lib.no_grad():
        return model(x).numpy()


def run_inference(cfg):
    """Latency of ``model(x)`` under no_grad in eval mode: one sample and a batch of 256, W1 and W3 models."""
    shendu, torch = _libraries()
    common.set_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    rows, details = [], {}
    for label, build, shape in (("W1 MLP", common.seed_mlp, (784,)), ("W3 CNN", common.seed_cnn, (1, 28, 28))):
        reference = build(torch).eval()
        ours = common.copy_state(reference, build(shendu)).eval()
        for batch, count in ((1, 200), (256, 10)):
            count = 2 if cfg.quick else count
            x = rng.random((batch, *shape), dtype=np.float32)
            runners = {
                "shendu": common.repeat_calls(functools.partial(_predict, shendu, ours, shendu.from_numpy(x)), count),
                "pytorch": common.repeat_calls(
                    functools.partial(_predict, torch, reference, torch.from_numpy(x)), count
                ),
            }
            samples = common.interleave(runners, [1] * (2 if cfg.quick else 15))
            unit, scale = ("µs", 1e6) if batch == 1 else ("ms", 1e3)
            timing = {n: common.median_per(s, count / scale) for n, s in samples.items()}
            measure = f"{label}, {'1 sample' if batch == 1 else 'batch 256'}"
            details[measure] = timing
            cpu_ratio = common.ratio(timing["shendu"]["cpu"], timing["pytorch"]["cpu"])
            rows.append(row("W6", measure, unit, timing["shendu"]["wall"], timing["pytorch"]["wall"], goal=GOALS["W6"],
                            note=f"CPU-time ratio {cpu_ratio:.2f}×"))  # fmt: skip
    return rows, details


# ------------------------------------------------------------------------------------------------ all


WORKLOADS = {
    "W1": lambda cfg: run_training(TRAINING["W1"], cfg),
    "W2": lambda cfg: run_training(TRAINING["W2"], cfg),
    "W3": lambda cfg: run_training(TRAINING["W3"], cfg),
    "W4": lambda cfg: run_training(TRAINING["W4"], cfg),
    "W5": run_startup,
    "W6": run_inference,
}


def main(argv=None):
    """``python -m benchmarks.workloads memory W1 shendu``: the peak-memory probe, one JSON line."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["memory"])
    parser.add_argument("workload", choices=sorted(TRAINING))
    parser.add_argument("framework", help="shendu, pytorch or 'pytorch fused'")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "digits"])
    args = parser.parse_args(argv)
    cfg = Config(quick=args.quick, threads=args.threads, seed=args.seed, memory=False, dataset=args.dataset)
    print(json.dumps(memory_probe(args.workload, args.framework, cfg)))


if __name__ == "__main__":
    main()
