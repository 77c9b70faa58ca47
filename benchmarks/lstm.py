"""Seed LSTM workload (W4): shendu against PyTorch, one training step, in one process.

Embedding(10000, 64) → LSTM(64 → 32) → last hidden state → Linear(32 → 2), sequences of
100 tokens, batch 32, cross-entropy, forward + backward + Adam(1e-3). Both frameworks start
from the same weights and see the same batches; they run alternately, and the table gives the
median (and best) milliseconds per step and the ratio shendu / PyTorch.

Run: ``python -m benchmarks.lstm [--steps 20] [--rounds 7] [--json out.json]``. Besides wall-clock
time it reports CPU time per step (all threads of the process); on a loaded machine, a
single-threaded run (``OPENBLAS_NUM_THREADS=1 python -m benchmarks.lstm --threads 1``) compared
in CPU time is the steadier measure.
"""

import argparse
import json
import statistics
import time

import numpy as np

import shendu
from shendu import nn

VOCAB, EMBED, HIDDEN, CLASSES, SEQ, BATCH = 10000, 64, 32, 2, 100, 32


class SeedLSTM(nn.Module):
    """The text classifier of the seed documents: Embedding → LSTM(32) → Dense on the last state."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, CLASSES)

    def forward(self, tokens):
        _, (h_n, _) = self.lstm(self.embedding(tokens))
        return self.fc(h_n[0])


def _torch_model(torch, source):
    class TorchSeedLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMBED)
            self.lstm = torch.nn.LSTM(EMBED, HIDDEN, batch_first=True)
            self.fc = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, tokens):
            _, (h_n, _) = self.lstm(self.embedding(tokens))
            return self.fc(h_n[0])

    model = TorchSeedLSTM()
    model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in source.state_dict().items()})
    return model


def _batches(count, seed=0):
    rng = np.random.default_rng(seed)
    # Zipf-like token ids, with padding (0) at the start of short sequences, as padded text looks
    tokens = np.minimum(rng.zipf(1.3, size=(count, BATCH, SEQ)), VOCAB - 1).astype(np.int64)
    lengths = rng.integers(SEQ // 4, SEQ + 1, size=(count, BATCH))
    tokens[np.arange(SEQ)[None, None, :] < (SEQ - lengths)[..., None]] = 0
    labels = rng.integers(0, CLASSES, size=(count, BATCH)).astype(np.int64)
    return tokens, labels


def run(steps=20, rounds=7, threads=2, with_torch=True):
    """Time ``rounds`` × ``steps`` training steps per framework, alternating; return the figures (ms/step)."""
    shendu.manual_seed(0)
    model = SeedLSTM()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = shendu.optim.Adam(model.parameters(), lr=1e-3)
    tokens, labels = _batches(steps)
    s_tokens = [shendu.tensor(t) for t in tokens]
    s_labels = [shendu.tensor(y) for y in labels]

    def shendu_step(i):
        optimizer.zero_grad()
        loss = loss_fn(model(s_tokens[i]), s_labels[i])
        loss.backward()
        optimizer.step()
        return loss

    runners = {"shendu": shendu_step}
    if with_torch:
        import torch

        torch.set_num_threads(threads)
        t_model = _torch_model(torch, model)
        t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
        t_loss = torch.nn.CrossEntropyLoss()
        t_tokens = [torch.tensor(t) for t in tokens]
        t_labels = [torch.tensor(y) for y in labels]

        def torch_step(i):
            t_opt.zero_grad()
            loss = t_loss(t_model(t_tokens[i]), t_labels[i])
            loss.backward()
            t_opt.step()
            return loss

        runners["torch"] = torch_step

    for step in runners.values():  # warm-up
        for i in range(3):
            step(i)
    times = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    for _ in range(rounds):
        for name, step in runners.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for i in range(steps):
                step(i)
            times[name].append((time.perf_counter() - start) / steps * 1e3)
            cpu[name].append((time.process_time() - start_cpu) / steps * 1e3)
    result = {
        "workload": "W4 seed LSTM: Embedding(10000,64) → LSTM(64→32) → Linear(32→2), seq 100, batch 32",
        "optimizer": "Adam" if optimizer is not None else "none (shendu.optim.Adam missing; torch uses Adam)",
        "threads": threads,
    }
    for name, values in times.items():
        result[f"{name}_ms_median"] = statistics.median(values)
        result[f"{name}_ms_best"] = min(values)
        result[f"{name}_cpu_ms_median"] = statistics.median(cpu[name])
    if with_torch:
        result["ratio_median"] = result["shendu_ms_median"] / result["torch_ms_median"]
        result["ratio_best"] = result["shendu_ms_best"] / result["torch_ms_best"]
        result["ratio_cpu_median"] = result["shendu_cpu_ms_median"] / result["torch_cpu_ms_median"]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per framework")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (match NumPy's BLAS)")
    parser.add_argument("--no-torch", action="store_true", help="time shendu only")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args.steps, args.rounds, args.threads, not args.no_torch)
    print(result["workload"])
    print(f"optimizer: {result['optimizer']}")
    print(f"{'':8s} {'median ms/step':>15s} {'best ms/step':>13s} {'CPU ms/step':>12s}")
    for name in ("shendu", "torch"):
        if f"{name}_ms_median" in result:
            row = [result[f"{name}_ms_median"], result[f"{name}_ms_best"], result[f"{name}_cpu_ms_median"]]
            print(f"{name:8s} {row[0]:15.2f} {row[1]:13.2f} {row[2]:12.2f}")
    if "ratio_median" in result:
        print(
            f"ratio shendu/torch: {result['ratio_median']:.2f} (median), {result['ratio_best']:.2f} (best), "
            f"{result['ratio_cpu_median']:.2f} (CPU time)"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
