"""One epoch of mini-batches over 60,000×784 float32 (batch 100, shuffled): shendu vs PyTorch, in one process.

Three figures, best of several epochs each:
- shendu ``DataLoader`` over a ``TensorDataset`` (its fast path: one gather per batch);
- PyTorch ``DataLoader`` over a ``TensorDataset`` (per-sample indexing, then ``default_collate``);
- PyTorch indexing by hand (``x[perm[i:i + 100]]``), the floor a loader can hope for.

Run: ``python -m benchmarks.dataloader``.
"""

import time

import numpy as np

N, FEATURES, BATCH, REPEATS = 60_000, 784, 100, 5


def _best_epoch(epoch, repeats=REPEATS):
    epoch()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return min(times)


def run(repeats=REPEATS):
    """Seconds per epoch for each contender, as a dict."""
    import torch
    import torch.utils.data as tud

    import shendu
    from shendu.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)  # a fair, single-threaded comparison (NumPy's gathers are single-threaded too)
    rng = np.random.default_rng(0)
    x = rng.random((N, FEATURES), dtype=np.float32)
    y = rng.integers(0, 10, N)
    shendu.manual_seed(0)
    torch.manual_seed(0)

    ours = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    theirs = tud.DataLoader(tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH, shuffle=True)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def consume(loader):
        def epoch():
            count = 0
            for _, yb in loader:
                count += len(yb)
            assert count == N

        return epoch

    def torch_indexing():
        perm = torch.randperm(N)
        for i in range(0, N, BATCH):
            idx = perm[i : i + BATCH]
            tx[idx], ty[idx]

    return {
        "shendu DataLoader": _best_epoch(consume(ours), repeats),
        "torch DataLoader": _best_epoch(consume(theirs), repeats),
        "torch indexing": _best_epoch(torch_indexing, repeats),
    }


def main():
    results = run()
    print(f"One epoch, {N:,}×{FEATURES} float32, batch {BATCH}, shuffled (best of {REPEATS}):")
    for name, seconds in results.items():
        print(f"  {name:<20} {seconds:8.4f} s")
    ours = results["shendu DataLoader"]
    print(f"  ratio torch DataLoader / shendu: {results['torch DataLoader'] / ours:.1f}×")
    print(f"  ratio torch indexing / shendu:   {results['torch indexing'] / ours:.2f}×")
    return results


if __name__ == "__main__":
    main()
